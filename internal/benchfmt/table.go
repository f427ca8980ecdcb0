package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// A row of the results table: a figure, what it is judged against (its
// floor or its twin, measured by the same run), the target, and Python
// SGN's figure for the same scenario.
type row struct {
	name, what string
	against    string // a figure of the same run, or ""
	target     string // as the README says it, or ""
	met        func(v, against float64) bool
	python     float64 // in the figure's unit; 0 if there is none
	pythonText string
}

// rows are the table's rows. Python SGN's figures were measured on a
// machine of the same kind: 13.6 k frames/s in-process, 5.1 k through a
// worker, 0.36 GB/s for 1 MiB frames, 6 s to shut down.
var rows = []row{
	{name: "small_inproc_fps", what: "int64 frames, source → transform → sink, in-process",
		target: "≥ 10 M", met: func(v, _ float64) bool { return v >= 10e6 }, python: 13.6e3, pythonText: "13.6 k"},
	{name: "small_inproc_observed_fps", what: "the same, watched (OnStats: busy time measured)", against: "small_inproc_fps"},
	{name: "small_worker_fps", what: "the same, the transform in a worker", against: "small_inproc_fps",
		target: "≥ 0.5 × small_inproc_fps", met: func(v, a float64) bool { return v >= a/2 }, python: 5.1e3, pythonText: "5.1 k"},
	{name: "small_worker_fps", what: "the same, against one write per message", against: "floor_pipe_msgs",
		target: "≥ 2 × floor_pipe_msgs", met: func(v, a float64) bool { return v >= 2*a }},
	{name: "small_worker_observed_fps", what: "the same, watched", against: "small_worker_fps"},
	{name: "small_worker2_fps", what: "transform and sink in workers", against: "small_worker_fps"},
	{name: "large_worker_gbps", what: "1 MiB `[]float64` frames through a worker transform, `sgn.Alloc`", against: "floor_memcpy_gbps",
		target: "≥ 0.5 × floor_memcpy_gbps", met: func(v, a float64) bool { return v >= a/2 }, python: 0.36, pythonText: "0.36 GB/s"},
	{name: "large_worker_struct_gbps", what: "the same as a struct with a 1 MiB `[]float32`", against: "floor_memcpy_gbps"},
	{name: "large_worker_copied_gbps", what: "the same from ordinary slices (one copy)", against: "floor_memcpy_gbps"},
	{name: "rtt_us_p50", what: "one frame main → worker → main, median", against: "floor_pipe_rtt_us",
		target: "≤ 2 × floor_pipe_rtt_us", met: func(v, a float64) bool { return v <= 2*a }},
	{name: "rtt_us_p99", what: "the same, 99th percentile", against: "floor_pipe_rtt_us"},
	{name: "shutdown_ms", what: "last frame out of the source to `Run` returning, two workers",
		target: "≤ 10", met: func(v, _ float64) bool { return v <= 10 }, python: 6000, pythonText: "6 s"},
	{name: "worker_start_ms", what: "`Run` to the first frame out of a worker",
		target: "≤ 10", met: func(v, _ float64) bool { return v <= 10 }},
	{name: "codec_encode_ns", what: "generated encoder, 1024 `float32` + scalars", against: "codec_reflect_encode_ns",
		target: "≤ codec_reflect_encode_ns / 10", met: func(v, a float64) bool { return v <= a/10 }},
	{name: "codec_encode_allocs", what: "its allocations",
		target: "0", met: func(v, _ float64) bool { return v == 0 }},
	{name: "codec_decode_ns", what: "generated decoder", against: "codec_reflect_decode_ns"},
	{name: "sgngen_generate_50_s", what: "`sgngen generate`, 50 elements"},
	{name: "work_worker_fps", what: "a transform of about 4 µs of arithmetic per frame, in a worker"},
	{name: "replicas_1_fps", what: "the same as 1 replica in a worker", against: "work_worker_fps"},
	{name: "replicas_2_fps", what: "the same as 2 replicas in workers", against: "work_worker_fps"},
	{name: "replicas_4_fps", what: "the same as 4 replicas in workers", against: "work_worker_fps"},
	{name: "replicas_here_2_fps", what: "the same as 2 replicas in this process", against: "work_worker_fps"},
	{name: "work_worker_cpu_us", what: "CPU time of every process of the run per frame, the transform in a worker"},
	{name: "replicas_4_cpu_us", what: "the same, 4 replicas in workers", against: "work_worker_cpu_us"},
	{name: "replicas_here_2_cpu_us", what: "the same, 2 replicas in this process", against: "work_worker_cpu_us"},
	{name: "nats_worker_fps", what: "int64 frames through a transform in a worker on another host (NATS, loopback)", against: "floor_nats_msgs",
		target: "≥ 0.5 × floor_nats_msgs", met: func(v, a float64) bool { return v >= a/2 }},
	{name: "nats_worker_q1000_fps", what: "the same, queues of 1000 frames", against: "floor_nats_msgs"},
	{name: "nats_replicas_fps", what: "the same transform as 4 replicas on other hosts", against: "nats_worker_fps"},
	{name: "nats_rtt_us_p50", what: "one frame main → worker on another host → main, median", against: "rtt_us_p50"},
}

// scaling are the figures of the scaling table.
var scaling = []struct {
	title, format string
	ns            []int
}{
	{"a chain of N worker transforms", "chain_%d_workers_fps", []int{1, 2, 4, 8, 16}},
	{"N pipelines at once, a worker transform each", "pipelines_%d_fps", []int{1, 2, 4, 8}},
}

// A figure is one BENCH line's value and unit.
type figure struct {
	value float64
	unit  string
}

// writeTable writes the results table, and the scaling table, of the
// figures in Markdown.
func writeTable(w io.Writer, figs map[string]figure) {
	fmt.Fprintln(w, "| figure | what | value | against (same run) | ratio | target | Python SGN | × Python |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		f, ok := figs[r.name]
		if !ok {
			continue
		}
		cells := []string{"`" + r.name + "`", r.what, show(f), "", "", r.target, r.pythonText, ""}
		var a float64
		if g, ok := figs[r.against]; ok {
			a = g.value
			cells[3] = "`" + r.against + "` " + show(g)
			cells[4] = ratio(f.value / a)
		}
		if r.met != nil {
			if r.met(f.value, a) {
				cells[5] += " ✓"
			} else {
				cells[5] += " ✗"
			}
		}
		if r.python > 0 {
			x := f.value / r.python
			if strings.HasSuffix(r.name, "_ms") {
				x = r.python / f.value // less is better
			}
			cells[7] = ratio(x)
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	for _, s := range scaling {
		head, rule, cells := "| "+s.title+" |", "|---|", "| frames/s |"
		some := false
		for _, n := range s.ns {
			head += fmt.Sprintf(" N = %d |", n)
			rule += "---|"
			if f, ok := figs[fmt.Sprintf(s.format, n)]; ok {
				cells += " " + show(f) + " |"
				some = true
			} else {
				cells += " |"
			}
		}
		if some {
			fmt.Fprintf(w, "\n%s\n%s\n%s\n", head, rule, cells)
		}
	}
}

// show writes a figure with three significant digits and its unit.
func show(f figure) string {
	v, unit := f.value, f.unit
	switch {
	case unit == "frames/s" || unit == "msgs/s":
		switch {
		case v >= 1e6:
			return trim(v/1e6) + " M " + unit
		case v >= 1e3:
			return trim(v/1e3) + " k " + unit
		}
	case strings.HasSuffix(unit, "/op"):
		unit = strings.TrimSuffix(unit, "/op")
	}
	return trim(v) + " " + unit
}

func trim(v float64) string {
	if v == 0 {
		return "0"
	}
	digits := max(0, 2-int(math.Floor(math.Log10(math.Abs(v)))))
	return strconv.FormatFloat(v, 'f', digits, 64)
}

func ratio(x float64) string {
	if x > 0 && x < 0.1 {
		return "1/" + strconv.FormatFloat(math.Round(1/x), 'f', -1, 64)
	}
	if x >= 10 {
		return "× " + strconv.FormatFloat(math.Round(x), 'f', -1, 64)
	}
	return "× " + strconv.FormatFloat(x, 'f', 2, 64)
}
