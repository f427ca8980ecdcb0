// Command benchfmt turns `go test -bench` output on stdin into the lines
// `make bench` promises: one "BENCH <name> <value> <unit>" per figure. The
// figures the project is judged by have the names of the table below;
// any other is named after its benchmark, without the "Benchmark" prefix
// and the GOMAXPROCS suffix, one line per metric. Other lines are dropped.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// figures maps a benchmark and one of its metrics to the figure's name.
var figures = map[[2]string]string{
	{"InProcessInt64", "frames/s"}:   "small_inproc_fps",
	{"WorkerInt64", "frames/s"}:      "small_worker_fps",
	{"LargeWorker", "GB/s"}:          "large_worker_gbps",
	{"LargeWorkerStruct", "GB/s"}:    "large_worker_struct_gbps",
	{"LargeWorkerCopied", "GB/s"}:    "large_worker_copied_gbps",
	{"Memcpy1MiB", "GB/s"}:           "floor_memcpy_gbps",
	{"WorkerStartToFinish", "ns/op"}: "worker_run_ns",
	{"CodecEncode", "ns/op"}:         "codec_encode_ns",
	{"CodecEncode", "allocs/op"}:     "codec_encode_allocs",
	{"CodecDecode", "ns/op"}:         "codec_decode_ns",
	{"CodecReflectEncode", "ns/op"}:  "codec_reflect_encode_ns",
	{"CodecReflectDecode", "ns/op"}:  "codec_reflect_decode_ns",
	{"Generate50", "s/op"}:           "sgngen_generate_50_s",
}

var procs = regexp.MustCompile(`-\d+$`)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		bench := procs.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		named := false
		for i := 2; i+1 < len(f); i += 2 {
			if name, ok := figures[[2]string{bench, f[i+1]}]; ok {
				fmt.Printf("BENCH %s %s %s\n", name, f[i], f[i+1])
				named = true
			}
		}
		if named {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			if f[i] != "0" || f[i+1] != "ns/op" {
				fmt.Printf("BENCH %s %s %s\n", bench, f[i], f[i+1])
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "benchfmt:", err)
		os.Exit(1)
	}
}
