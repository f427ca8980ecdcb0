package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// build builds the example and its workers side by side, as a user would.
func build(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "arrays"), args...)
	cmd.Env = append(os.Environ(), "SGN_WORKER_DIR=") // workers must be found next to the executable
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arrays %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// floats parses "[0.5 1 2.25]".
func floats(t *testing.T, s string) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(strings.Trim(s, "[]")) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("bad number %q in %q", f, s)
		}
		v = append(v, x)
	}
	return v
}

// TestTutorialOutput runs the example and checks that it prints what the
// tutorial's NumPy example prints, from three processes, with numbers that
// agree: each processed array is the square of a generated one, each sum
// the sum of a processed one; and that the shared array changed in the
// worker is seen changed by the main process.
func TestTutorialOutput(t *testing.T) {
	out := run(t, build(t))
	lines := func(re string) [][]string {
		return regexp.MustCompile(`(?m)^`+re+`$`).FindAllStringSubmatch(out, -1)
	}
	var pids []int
	for _, who := range []string{"Main process ID", "Transform subprocess started, process ID", "Sink subprocess started, process ID"} {
		m := lines(who + `: (\d+)`)
		if len(m) != 1 {
			t.Fatalf("want one line %q in:\n%s", who, out)
		}
		pid, _ := strconv.Atoi(m[0][1])
		pids = append(pids, pid)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(append(pids, os.Getpid()))))) != 4 {
		t.Errorf("main, transform, sink and test are not four processes: %v", pids)
	}

	generated := lines(`Source: Generated array (\d): (\[.*\])`)
	processed := lines(`Transform: Processed array: (\[.*\])`)
	sums := lines(`Sink: Received array on result, sum: (\S+)`)
	if len(generated) != 5 || len(processed) != 5 || len(sums) != 5 {
		t.Fatalf("%d generated, %d processed, %d summed arrays, want 5 of each, in:\n%s", len(generated), len(processed), len(sums), out)
	}
	for i := range 5 {
		if generated[i][1] != strconv.Itoa(i+1) {
			t.Errorf("array %d is numbered %s", i+1, generated[i][1])
		}
		g, p := floats(t, generated[i][2]), floats(t, processed[i][1])
		if len(g) != 5 || len(p) != 5 {
			t.Fatalf("array %d: %v then %v, want 5 values each", i+1, g, p)
		}
		var sum float64
		for j := range g {
			if p[j] != g[j]*g[j] {
				t.Errorf("array %d value %d: %v squared is not %v", i+1, j, g[j], p[j])
			}
			sum += p[j]
		}
		if s, _ := strconv.ParseFloat(sums[i][1], 64); math.Abs(s-sum) > 1e-12 {
			t.Errorf("array %d: sum %v, want %v", i+1, s, sum)
		}
	}
	eos := regexp.MustCompile(`(?m)^Sink: Received EOS on result`).FindAllStringIndex(out, -1)
	last := strings.LastIndex(out, "Sink: Received array on result")
	if len(eos) != 1 || eos[0][0] < last {
		t.Errorf("want one EOS line after the last array, in:\n%s", out)
	}
	for _, want := range []string{"Shared array: [1 2 3 4 5]", "Modified array: [2 3 4 5 6]", "Main: shared array after the run: [2 3 4 5 6]"} {
		if len(lines(regexp.QuoteMeta(want))) != 1 {
			t.Errorf("want the line %q in:\n%s", want, out)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// With -size and -frames, the example sends large arrays and reports the
// throughput.
func TestLargeArrays(t *testing.T) {
	out := run(t, build(t), "-size", "65536", "-frames", "50")
	m := regexp.MustCompile(`(?m)^Sink: Received EOS on result \(50 arrays, total (\S+)\)$`).FindStringSubmatch(out)
	var want float64 // each array holds 0, 1, 2, ..., squared on the way
	for i := range 65536 {
		want += float64(i) * float64(i)
	}
	if m == nil {
		t.Fatalf("the sink did not report 50 arrays:\n%s", out)
	}
	if total, _ := strconv.ParseFloat(m[1], 64); math.Abs(total-50*want) > 1e-9*want {
		t.Errorf("the sink's total is %v, want %v", total, 50*want)
	}
	if !regexp.MustCompile(`(?m)^Moved 50 arrays of 65536 float64 \(25\.0 MiB\) through two workers, .* GB/s$`).MatchString(out) {
		t.Errorf("no throughput line:\n%s", out)
	}
	if strings.Contains(out, "Source: Generated") {
		t.Errorf("large arrays are printed:\n%s", out)
	}
}
