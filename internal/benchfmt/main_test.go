package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The lines go test -bench prints become BENCH lines, and the named ones
// the results table, with ratios to their floors and the targets judged.
func TestBenchLinesAndTable(t *testing.T) {
	in := strings.Join([]string{
		"goos: linux",
		"BenchmarkInProcessInt64-2   \t 37299810\t        95.50 ns/op\t  10471680 frames/s",
		"BenchmarkWorkerInt64-2      \t 1243093\t      1021 ns/op\t    979125 frames/s",
		"BenchmarkPipeMessages-2     \t 2479810\t       954.8 ns/op\t   1000000 msgs/s",
		"BenchmarkRoundTrip-2        \t 64402\t     58242 ns/op\t        31.89 µs-p50\t       390.2 µs-p99",
		"BenchmarkPipeRoundTrip-2    \t 326724\t      8119 ns/op\t         7.331 µs-p50",
		"BenchmarkChain/workers=2-2  \t 1311763\t      1849 ns/op\t    540766 frames/s",
		"BenchmarkSomethingElse-2    \t 100\t      12 ns/op\t 3 widgets",
		"PASS",
	}, "\n")
	table := filepath.Join(t.TempDir(), "bench.md")
	cmd := exec.Command("go", "run", ".", "-table", table)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"BENCH small_inproc_fps 10471680 frames/s",
		"BENCH small_worker_fps 979125 frames/s",
		"BENCH floor_pipe_msgs 1000000 msgs/s",
		"BENCH rtt_us_p50 31.89 µs",
		"BENCH rtt_us_p99 390.2 µs",
		"BENCH floor_pipe_rtt_us 7.331 µs",
		"BENCH chain_2_workers_fps 540766 frames/s",
		"BENCH SomethingElse 12 ns/op",
		"BENCH SomethingElse 3 widgets",
	}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	md, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| `small_inproc_fps` | int64 frames, source → transform → sink, in-process | 10.5 M frames/s |  |  | ≥ 10 M ✓ | 13.6 k | × 770 |",
		"| `small_worker_fps` | the same, the transform in a worker | 979 k frames/s | `small_inproc_fps` 10.5 M frames/s | 1/11 | ≥ 0.5 × small_inproc_fps ✗ | 5.1 k | × 192 |",
		"| `rtt_us_p50` | one frame main → worker → main, median | 31.9 µs | `floor_pipe_rtt_us` 7.33 µs | × 4.35 | ≤ 2 × floor_pipe_rtt_us ✗ |  |  |",
		"| frames/s | | 541 k frames/s | | | |",
	} {
		if !strings.Contains(string(md), line+"\n") {
			t.Errorf("the table has no line\n%s\nit is\n%s", line, md)
		}
	}
}
