package sgn_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/runtime"
)

// workerDir holds the test elements' worker binaries, built once by TestMain.
var workerDir string

func TestMain(m *testing.M) {
	if dir := os.Getenv("SGN_TEST_DOOMED_PARENT"); dir != "" {
		doomedParent(dir) // never returns
	}
	if dir := os.Getenv("SGN_TEST_DOOMED_SHARER"); dir != "" {
		doomedSharer(dir) // never returns
	}
	if mode := os.Getenv("SGN_BENCH_PEER"); mode != "" {
		benchPeer(mode) // never returns
	}
	if url := os.Getenv("SGN_TEST_DOOMED_REMOTE"); url != "" {
		doomedRemoteParent(url) // never returns
	}
	if dir := os.Getenv("SGN_TEST_SIGNALLED"); dir != "" {
		signalledPipeline(dir) // never returns
	}
	dir, err := os.MkdirTemp("", "sgn-workers-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out, err := exec.Command("go", "build", "-o", dir+"/", "./internal/testelems/sgnworkers/...").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the test workers: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	workerDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// collected reads what a Collect sink with File set wrote: the numbers, the
// process IDs that wrote them, and whether EOS arrived.
func collected(t *testing.T, path string) (nums []int64, pids map[int]bool, eos bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pids = map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pid, val, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.Atoi(pid)
		if err != nil {
			t.Fatalf("bad line %q in %s", sc.Text(), path)
		}
		pids[n] = true
		if val == "EOS" {
			eos = true
			continue
		}
		v, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			t.Fatalf("bad line %q in %s", sc.Text(), path)
		}
		nums = append(nums, v)
	}
	return nums, pids, eos
}

// chain builds src → scale → sink, with the scale and the sink placed as
// asked.
func chain(t *testing.T, n int64, scale *testelems.Scale, scaleInWorker, sinkInWorker bool, opts ...sgn.PipelineOption) (*sgn.Pipeline, *testelems.Collect) {
	t.Helper()
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	p := sgn.NewPipeline(append([]sgn.PipelineOption{sgn.WorkerDir(workerDir)}, opts...)...)
	p.Insert("src", src)
	p.Insert("scale", scale, where(scaleInWorker)...)
	p.Insert("sink", snk, where(sinkInWorker)...)
	sgn.Link(&src.Out, &scale.In)
	sgn.Link(&scale.Out, &snk.In)
	return p, snk
}

func where(inWorker bool) []sgn.ElementOption {
	if inWorker {
		return []sgn.ElementOption{sgn.InWorker()}
	}
	return nil
}

func TestWorkersStreamEveryFrameInOrder(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		scaleInWorker, sinkInWorker bool
	}{
		{"transform in a worker", true, false},
		{"sink in a worker", false, true},
		{"transform and sink in workers", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 20000
			p, snk := chain(t, n, &testelems.Scale{Factor: 3}, tc.scaleInWorker, tc.sinkInWorker, sgn.QueueSize(7))
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			nums, pids, eos := collected(t, snk.File)
			if diff := cmp.Diff(scaled(seq(1, n), 3), nums); diff != "" {
				t.Errorf("sink received (-want +got):\n%s", diff)
			}
			if !eos {
				t.Error("the sink never saw EOS")
			}
			if len(pids) != 1 {
				t.Fatalf("sink ran in processes %v, want one", pids)
			}
			for pid := range pids {
				if inTest := pid == os.Getpid(); inTest == tc.sinkInWorker {
					t.Errorf("sink ran in pid %d, the test is %d; sink in worker: %v", pid, os.Getpid(), tc.sinkInWorker)
				}
				if tc.sinkInWorker && processExists(pid) {
					t.Errorf("the sink's worker %d is still alive after Run", pid)
				}
			}
		})
	}
}

func TestWorkerConfigurationArrives(t *testing.T) {
	src := &testelems.Count{From: 5, To: 8}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(5, 8), snk.Got()); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

func TestFlowControlKeepsOnePadsBacklogFromStallingAnother(t *testing.T) {
	a, b := &testelems.Count{From: 1, To: 2000}, &testelems.Count{From: 5001, To: 7000}
	cat := &testelems.Concat{}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(4))
	p.Insert("a", a)
	p.Insert("b", b)
	p.Insert("cat", cat, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&a.Out, &cat.A)
	sgn.Link(&b.Out, &cat.B)
	sgn.Link(&cat.Out, &snk.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(seq(1, 2000), seq(5001, 7000)...), snk.Got()); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

func TestWorkerFailuresNameTheElement(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scale *testelems.Scale
		want  []string // in the error message, in order
		panic bool
	}{
		{
			name:  "returned error",
			scale: &testelems.Scale{Factor: 1, FailAt: 40},
			want:  []string{"scale: scale refuses 40 (worker pid ", ", exit status 1)"},
		},
		{
			name:  "panic",
			scale: &testelems.Scale{Factor: 1, PanicAt: 40},
			want:  []string{"scale: panic: scale cannot bear 40 (worker pid ", ", exit status 1)"},
			panic: true,
		},
		{
			name:  "crash",
			scale: &testelems.Scale{Factor: 1, ExitAt: 40},
			want:  []string{"scale: worker stopped before EOS (worker pid ", ", exit status 3); last lines of its stderr:\n\tscale: exiting at 40"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := chain(t, 1_000_000, tc.scale, true, true)
			err := p.Run(context.Background())
			var ee *sgn.ElementError
			if !errors.As(err, &ee) || ee.Element != "scale" {
				t.Fatalf("Run() = %v, want an ElementError for scale", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", err, w)
				}
				msg = msg[i+len(w):]
			}
			var we *runtime.WorkerError
			if !errors.As(err, &we) {
				t.Fatalf("error %v does not wrap a runtime.WorkerError", err)
			}
			if we.Panic != tc.panic {
				t.Errorf("WorkerError.Panic = %v, want %v", we.Panic, tc.panic)
			}
			if processExists(we.PID) {
				t.Errorf("failed worker %d is still alive", we.PID)
			}
		})
	}
}

func TestMissingWorkerBinarySaysHowToBuildIt(t *testing.T) {
	dir := t.TempDir()
	p, _ := chain(t, 3, &testelems.Scale{}, true, false, sgn.WorkerDir(dir))
	err := p.Run(context.Background())
	want := "scale: worker binary testelems-scale not found in " + dir + " (the WorkerDir option); build it with:\n\tgo build -o " + dir + "/ github.com/sgn-go/sgn/internal/testelems/sgnworkers/testelems-scale"
	if err == nil || err.Error() != want {
		t.Fatalf("Run() = %v\nwant %s", err, want)
	}
}

// A worker binary that is there but cannot be run is reported as what it
// is, not as missing.
func TestUnrunnableWorkerBinarySaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"not executable", func(path string) error { return os.WriteFile(path, []byte("binary"), 0o644) },
			"is not executable (mode -rw-r--r--); make it executable with chmod +x "},
		{"a directory", func(path string) error { return os.Mkdir(path, 0o755) },
			"is a directory, not a program; remove it and build the worker with:\n\tgo build -o "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.make(filepath.Join(dir, "testelems-scale")); err != nil {
				t.Fatal(err)
			}
			p, _ := chain(t, 3, &testelems.Scale{}, true, false, sgn.WorkerDir(dir))
			err := p.Run(context.Background())
			want := "scale: worker binary testelems-scale in " + dir + " (the WorkerDir option) " + tc.want
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Run() = %v\nwant it to start with %s", err, want)
			}
		})
	}
}

func TestWorkerDirFromEnvironment(t *testing.T) {
	t.Setenv(sgn.WorkerDirEnv, workerDir)
	src := &testelems.Count{From: 1, To: 3}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("src", src, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(1, 3), snk.Got()); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

func TestCancellingStopsWorkersAndWaitsForThem(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1 << 62}
	x := &testelems.Scale{Factor: 1}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	var pids []int
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.StopTimeout(time.Hour)) // a worker that ignored stop would hang the test
	p.Insert("src", src, sgn.InWorker())
	p.Insert("scale", x, sgn.InWorker())
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the sink has written something: frames are flowing.
		for {
			if st, err := os.Stat(snk.File); err == nil && st.Size() > 0 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := p.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	_, snkPIDs, _ := collected(t, snk.File)
	for pid := range snkPIDs {
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		if processExists(pid) {
			t.Errorf("worker %d is still alive after Run returned", pid)
		}
	}
}

// processExists reports whether pid names a live (not zombie) process.
func processExists(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(stat), ") Z ")
}

func TestStaleWorkerBinaryIsReported(t *testing.T) {
	// A binary that serves another element type, under the scale's name.
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(workerDir, "testelems-count"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "testelems-scale"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	p, _ := chain(t, 3, &testelems.Scale{}, true, false, sgn.WorkerDir(dir))
	err = p.Run(context.Background())
	for _, want := range []string{
		"scale: worker binary ", "testelems-scale serves github.com/sgn-go/sgn/internal/testelems.Count",
		"but the pipeline expects github.com/sgn-go/sgn/internal/testelems.Scale", "rebuild the worker binaries",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Run() = %v, want it to say %q", err, want)
		}
	}
}

func TestWorkerBinaryRunByHandExplainsItself(t *testing.T) {
	cmd := exec.Command(filepath.Join(workerDir, "testelems-count"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != runtime.ExitUsage {
		t.Fatalf("running a worker by hand: %v, want exit status %d", err, runtime.ExitUsage)
	}
	if !strings.Contains(string(out), "is an sgn worker: a pipeline starts it") {
		t.Errorf("worker run by hand says:\n%s", out)
	}
}

func TestStructFramesAndMetadataCrossWorkers(t *testing.T) {
	src := &testelems.Count{From: 1, To: 300}
	desc := &testelems.Describe{Label: "r"}
	relabel := &testelems.Relabel{Suffix: "+w"}
	snk := &testelems.Readings{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(5))
	p.Insert("src", src)
	p.Insert("describe", desc, sgn.InWorker())
	p.Insert("relabel", relabel, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &desc.In)
	sgn.Link(&desc.Out, &relabel.In)
	sgn.Link(&relabel.Out, &snk.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := snk.Got()
	if len(got) != 300 {
		t.Fatalf("sink got %d frames, want 300", len(got))
	}
	for i, f := range got {
		n := int64(i + 1)
		want := sgn.Frame[testelems.Reading]{
			Data: testelems.Reading{Seq: n, Values: []float64{float64(n), float64(n) / 2}, Label: "r+w", Raw: []byte{byte(n)}, Ok: n%2 == 0},
			EOS:  n == 300,
			Meta: map[string]any{"seq": n, "pid": f.Meta["pid"]},
		}
		if diff := cmp.Diff(want, f); diff != "" {
			t.Fatalf("frame %d (-want +got):\n%s", i, diff)
		}
		if pid, ok := f.Meta["pid"].(int64); !ok || pid == int64(os.Getpid()) {
			t.Fatalf("frame %d: relabel ran in pid %v, want a worker's", i, f.Meta["pid"])
		}
	}
}
