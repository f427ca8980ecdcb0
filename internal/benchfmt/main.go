// Command benchfmt turns `go test -bench` output on stdin into the lines
// `make bench` promises: one "BENCH <name> <value> <unit>" per figure. The
// figures the project is judged by have the names of the table below;
// any other is named after its benchmark, without the "Benchmark" prefix
// and the GOMAXPROCS suffix, one line per metric. Other lines are dropped.
//
// With -table FILE, it also writes the named figures as the README's
// results tables: each figure next to what it is judged against in the
// same run, the ratio, the target, and Python SGN's figure.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// figures maps a benchmark and one of its metrics to the figure's name.
var figures = map[[2]string]string{
	{"InProcessInt64", "frames/s"}:           "small_inproc_fps",
	{"WorkerInt64", "frames/s"}:              "small_worker_fps",
	{"Worker2Int64", "frames/s"}:             "small_worker2_fps",
	{"InProcessInt64Observed", "frames/s"}:   "small_inproc_observed_fps",
	{"WorkerInt64Observed", "frames/s"}:      "small_worker_observed_fps",
	{"LargeWorker", "GB/s"}:                  "large_worker_gbps",
	{"LargeWorkerStruct", "GB/s"}:            "large_worker_struct_gbps",
	{"LargeWorkerCopied", "GB/s"}:            "large_worker_copied_gbps",
	{"RoundTrip", "µs-p50"}:                  "rtt_us_p50",
	{"RoundTrip", "µs-p99"}:                  "rtt_us_p99",
	{"Shutdown", "ms"}:                       "shutdown_ms",
	{"WorkerStart", "ms"}:                    "worker_start_ms",
	{"Chain/workers=1", "frames/s"}:          "chain_1_workers_fps",
	{"Chain/workers=2", "frames/s"}:          "chain_2_workers_fps",
	{"Chain/workers=4", "frames/s"}:          "chain_4_workers_fps",
	{"Chain/workers=8", "frames/s"}:          "chain_8_workers_fps",
	{"Chain/workers=16", "frames/s"}:         "chain_16_workers_fps",
	{"Pipelines/pipelines=1", "frames/s"}:    "pipelines_1_fps",
	{"Pipelines/pipelines=2", "frames/s"}:    "pipelines_2_fps",
	{"Pipelines/pipelines=4", "frames/s"}:    "pipelines_4_fps",
	{"Pipelines/pipelines=8", "frames/s"}:    "pipelines_8_fps",
	{"PipeMessages", "msgs/s"}:               "floor_pipe_msgs",
	{"PipeBatchedMessages", "msgs/s"}:        "floor_pipe_batched_msgs",
	{"PipeRoundTrip", "µs-p50"}:              "floor_pipe_rtt_us",
	{"Memcpy1MiB", "GB/s"}:                   "floor_memcpy_gbps",
	{"CodecEncode", "ns/op"}:                 "codec_encode_ns",
	{"CodecEncode", "allocs/op"}:             "codec_encode_allocs",
	{"CodecDecode", "ns/op"}:                 "codec_decode_ns",
	{"CodecReflectEncode", "ns/op"}:          "codec_reflect_encode_ns",
	{"CodecReflectDecode", "ns/op"}:          "codec_reflect_decode_ns",
	{"Generate50", "s/op"}:                   "sgngen_generate_50_s",
	{"NATSWorkerInt64", "frames/s"}:          "nats_worker_fps",
	{"NATSWorkerInt64Queue1000", "frames/s"}: "nats_worker_q1000_fps",
	{"NATSReplicasInt64", "frames/s"}:        "nats_replicas_fps",
	{"NATSPubSub64", "msgs/s"}:               "floor_nats_msgs",
	{"NATSRoundTrip", "µs-p50"}:              "nats_rtt_us_p50",
	{"NATSRoundTrip", "µs-p99"}:              "nats_rtt_us_p99",
	{"Replicas/worker", "frames/s"}:          "work_worker_fps",
	{"Replicas/replicas=1", "frames/s"}:      "replicas_1_fps",
	{"Replicas/replicas=2", "frames/s"}:      "replicas_2_fps",
	{"Replicas/replicas=4", "frames/s"}:      "replicas_4_fps",
	{"Replicas/here=2", "frames/s"}:          "replicas_here_2_fps",
	{"Replicas/worker", "cpu-µs/frame"}:      "work_worker_cpu_us",
	{"Replicas/replicas=4", "cpu-µs/frame"}:  "replicas_4_cpu_us",
	{"Replicas/here=2", "cpu-µs/frame"}:      "replicas_here_2_cpu_us",
}

var procs = regexp.MustCompile(`-\d+$`)

// quantile is the suffix that tells two metrics of one unit apart
// ("µs-p50"); the figure's name says it instead.
var quantile = regexp.MustCompile(`-p\d+$`)

func main() {
	table := flag.String("table", "", "also write the results as Markdown tables to this `file`")
	flag.Parse()
	figs := map[string]figure{}
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
				unit := quantile.ReplaceAllString(f[i+1], "")
				fmt.Printf("BENCH %s %s %s\n", name, f[i], unit)
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					figs[name] = figure{v, unit}
				}
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
	if *table != "" {
		var b strings.Builder
		writeTable(&b, figs)
		if err := os.WriteFile(*table, []byte(b.String()), 0o666); err != nil {
			fmt.Fprintln(os.Stderr, "benchfmt:", err)
			os.Exit(1)
		}
	}
}
