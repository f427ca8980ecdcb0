package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTutorialOutput builds the example and its worker binaries side by
// side, as a user would, runs it, and checks that it prints what SGN's
// tutorial prints, from three different processes.
func TestTutorialOutput(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(bin, "numbers"))
	cmd.Env = append(os.Environ(), "SGN_WORKER_DIR=") // workers must be found next to the executable
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("numbers: %v\n%s", err, out)
	}

	pid := func(re string) int {
		m := regexp.MustCompile(`(?m)^`+re+`: (\d+)$`).FindAllSubmatch(out, -1)
		if len(m) != 1 {
			t.Fatalf("want one line %q, found %d in:\n%s", re, len(m), out)
		}
		n, _ := strconv.Atoi(string(m[0][1]))
		return n
	}
	main := pid("Main process ID")
	transform := pid("Transform subprocess started, process ID")
	sink := pid("Sink subprocess started, process ID")
	if pids := []int{main, transform, sink, os.Getpid()}; len(slices.Compact(slices.Sorted(slices.Values(pids)))) != 4 {
		t.Errorf("main, transform, sink and test processes are not four different processes: %v", pids)
	}

	var squares, transformed, received []string
	for i := 1; i <= 10; i++ {
		squares = append(squares, strconv.Itoa(i*i))
	}
	for _, m := range regexp.MustCompile(`(?m)^Transform: (\d+)$`).FindAllSubmatch(out, -1) {
		transformed = append(transformed, string(m[1]))
	}
	for _, m := range regexp.MustCompile(`(?m)^Sink received on result: (\d+)$`).FindAllSubmatch(out, -1) {
		received = append(received, string(m[1]))
	}
	if diff := cmp.Diff(squares, transformed); diff != "" {
		t.Errorf("transform lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(squares, received); diff != "" {
		t.Errorf("sink lines (-want +got):\n%s", diff)
	}
	eos := regexp.MustCompile(`(?m)^Sink received EOS on result$`).FindAllIndex(out, -1)
	last := regexp.MustCompile(`(?m)^Sink received on result: 100$`).FindIndex(out)
	if len(eos) != 1 || last == nil || eos[0][0] < last[0] {
		t.Errorf("want one EOS line after the last frame, in:\n%s", out)
	}
	if t.Failed() {
		fmt.Printf("output:\n%s", out)
	}
}
