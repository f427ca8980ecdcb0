package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestClusterOutput builds the example and its worker binaries side by
// side, as a user would, runs it, and checks what it prints: the
// tutorial's sink lines in order, from a worker started with nothing but
// the NATS server's URL, and the numbers squared by two different
// processes, the replicas, none of them this test's or the example's. When
// it has exited, none of the processes it started is left.
func TestClusterOutput(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "cluster"))
	cmd.Env = append(os.Environ(), "SGN_WORKER_DIR=") // workers must be found next to the executable
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cluster: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	defer func() {
		if t.Failed() {
			fmt.Printf("output:\n%s", out)
		}
	}()

	all := func(re string) [][]string {
		var found [][]string
		for _, m := range regexp.MustCompile(`(?m)^`+re+`$`).FindAllStringSubmatch(string(out), -1) {
			found = append(found, m[1:])
		}
		return found
	}
	pids := func(re string) []int {
		var found []int
		for _, m := range all(re) {
			n, _ := strconv.Atoi(m[len(m)-1])
			found = append(found, n)
		}
		return found
	}
	mains := pids(`Main process ID: (\d+)`)
	workers := pids(`Worker (cluster-square|cluster-logger) started, process ID: (\d+)`)
	transforms := pids(`Transform subprocess started, process ID: (\d+)`)
	sinks := pids(`Sink subprocess started, process ID: (\d+)`)
	if len(mains) != 1 || len(workers) != 3 || len(transforms) != 2 || len(sinks) != 1 {
		t.Fatalf("found %d main, %d worker, %d transform and %d sink process IDs; want 1, 3, 2 and 1", len(mains), len(workers), len(transforms), len(sinks))
	}
	everyone := slices.Concat(mains, workers, transforms, sinks, []int{os.Getpid()})
	if n := len(slices.Compact(slices.Sorted(slices.Values(everyone)))); n != len(everyone) {
		t.Errorf("the processes %v are not %d different ones", everyone, len(everyone))
	}

	var squares, received []string
	for i := 1; i <= 10; i++ {
		squares = append(squares, strconv.Itoa(i*i))
	}
	for _, m := range all(`Sink received on result: (\d+)`) {
		received = append(received, m[0])
	}
	if diff := cmp.Diff(squares, received); diff != "" {
		t.Errorf("sink lines (-want +got):\n%s", diff)
	}
	eos := regexp.MustCompile(`(?m)^Sink received EOS on result$`).FindAllIndex(out, -1)
	last := regexp.MustCompile(`(?m)^Sink received on result: 100$`).FindIndex(out)
	if len(eos) != 1 || last == nil || eos[0][0] < last[0] {
		t.Errorf("want one EOS line after the last frame")
	}

	// Who squared what: each replica some, together every number once.
	var numbers []int
	squarers := map[int]bool{}
	for _, m := range all(`Process (\d+) squared ([\d, ]+)`) {
		pid, _ := strconv.Atoi(m[0])
		if !slices.Contains(transforms, pid) {
			t.Errorf("process %d squared %s, and is not a transform's", pid, m[1])
		}
		squarers[pid] = true
		for _, n := range strings.Split(m[1], ", ") {
			k, _ := strconv.Atoi(n)
			numbers = append(numbers, k)
		}
	}
	if len(squarers) != 2 {
		t.Errorf("%d processes squared numbers; want the two replicas", len(squarers))
	}
	slices.Sort(numbers)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, numbers); diff != "" {
		t.Errorf("the numbers squared (-want +got):\n%s", diff)
	}

	// No orphans: the workers, and the processes they ran the elements in,
	// are gone.
	for _, pid := range slices.Concat(workers, transforms, sinks) {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d is still there after the example exited (kill -0: %v)", pid, err)
		}
	}
}
