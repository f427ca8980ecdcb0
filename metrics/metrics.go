package metrics

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sgn-go/sgn"
)

// The metrics' descriptions. Labels: element is the element's name in the
// pipeline, pad the pad's name on the element (its tag), direction "in"
// for a sink pad and "out" for a source pad.
var (
	padFrames = prometheus.NewDesc("sgn_pad_frames_total",
		"Frames that went through the pad since the pipeline started.",
		[]string{"element", "pad", "direction"}, nil)
	padBytes = prometheus.NewDesc("sgn_pad_bytes_total",
		"Encoded bytes of the frames that went through the pad between processes (0 for a pad whose frames stay in one process).",
		[]string{"element", "pad", "direction"}, nil)
	padQueue = prometheus.NewDesc("sgn_pad_queue_frames",
		"Frames queued on the sink pad for its element, the one it works on included.",
		[]string{"element", "pad"}, nil)
	padBound = prometheus.NewDesc("sgn_pad_queue_bound_frames",
		"The most frames the sink pad's queue holds, the one its element works on included; its sender waits while the queue is full.",
		[]string{"element", "pad"}, nil)
	elementState = prometheus.NewDesc("sgn_element_state",
		"What the element is doing: 1 for its current state, 0 for the others.",
		[]string{"element", "state"}, nil)
	elementBusy = prometheus.NewDesc("sgn_element_busy_seconds_total",
		"Time the element spent in its New, Process or Consume method; present only when the pipeline measures it (sgn.MeasureBusy, sgn.OnStats).",
		[]string{"element"}, nil)
	workerRestarts = prometheus.NewDesc("sgn_worker_restarts_total",
		"Times the element's worker process was restarted after a failure.",
		[]string{"element"}, nil)
	workerPID = prometheus.NewDesc("sgn_worker_pid",
		"Process ID of the element's worker, while its process runs.",
		[]string{"element"}, nil)
	workerCPU = prometheus.NewDesc("sgn_worker_cpu_seconds_total",
		"User and system CPU time of the element's worker process, while it runs; a restarted worker counts from zero.",
		[]string{"element"}, nil)
	workerRSS = prometheus.NewDesc("sgn_worker_resident_memory_bytes",
		"Resident memory of the element's worker process, while it runs.",
		[]string{"element"}, nil)
)

// states are the values of sgn_element_state's state label, one series
// each.
var states = []sgn.State{
	sgn.StatePending, sgn.StateStarting, sgn.StateRunning, sgn.StateRestarting,
	sgn.StateDone, sgn.StateFailed, sgn.StateStopped,
}

// collector renders a pipeline's Stats as Prometheus metrics.
type collector struct{ p *sgn.Pipeline }

// NewCollector returns a prometheus.Collector of p's metrics, for a
// registry of one's own: each collection takes a snapshot of p with
// Stats. Handler and Listen use it; an application that already exposes
// Prometheus metrics registers it instead. Call it once p is built: p
// must not be changed (Insert, Link) while it may be collected.
func NewCollector(p *sgn.Pipeline) prometheus.Collector { return collector{p} }

// Describe sends the descriptions of every metric the collector makes.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{padFrames, padBytes, padQueue, padBound,
		elementState, elementBusy, workerRestarts, workerPID, workerCPU, workerRSS} {
		ch <- d
	}
}

// Collect sends the metrics of one snapshot of the pipeline.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		for i, l := range labels {
			if !utf8.ValidString(l) { // refused by the library, which would panic
				labels[i] = strings.ToValidUTF8(l, "\uFFFD")
			}
		}
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	for _, e := range withReplicas(c.p.Stats().Elements) {
		for _, dir := range []struct {
			pads []sgn.PadStats
			kind string // in the pads' full names
			name string // the direction label
		}{{e.Sinks, "snk", "in"}, {e.Sources, "src", "out"}} {
			for _, ps := range dir.pads {
				pad := strings.TrimPrefix(ps.Pad, e.Name+":"+dir.kind+":")
				metric(padFrames, prometheus.CounterValue, float64(ps.Frames), e.Name, pad, dir.name)
				metric(padBytes, prometheus.CounterValue, float64(ps.Bytes), e.Name, pad, dir.name)
				if dir.kind == "snk" && ps.Bound > 0 {
					metric(padQueue, prometheus.GaugeValue, float64(ps.Queue), e.Name, pad)
					metric(padBound, prometheus.GaugeValue, float64(ps.Bound), e.Name, pad)
				}
			}
		}
		for _, s := range states {
			v := 0.0
			if e.State == s {
				v = 1
			}
			metric(elementState, prometheus.GaugeValue, v, e.Name, s.String())
		}
		if e.BusyMeasured {
			metric(elementBusy, prometheus.CounterValue, e.Busy.Seconds(), e.Name)
		}
		if !e.InWorker {
			continue
		}
		metric(workerRestarts, prometheus.CounterValue, float64(e.Restarts), e.Name)
		if e.PID > 0 {
			metric(workerPID, prometheus.GaugeValue, float64(e.PID), e.Name)
			metric(workerCPU, prometheus.CounterValue, e.CPU.Seconds(), e.Name)
			metric(workerRSS, prometheus.GaugeValue, float64(e.RSS), e.Name)
		}
	}
}

// Handler returns an HTTP handler that serves p's metrics in Prometheus'
// text exposition format (or its protocol-buffer format, if the scraper
// asks for that), taking a snapshot of p at each request. Besides the sgn_ metrics, it
// serves those of this process, as the Prometheus client library names
// them: go_ (the Go runtime's memory, goroutines, garbage collector) and
// process_ (CPU time, memory, open files). Call it once p is built; it
// serves before, during and after p's Run.
func Handler(p *sgn.Pipeline) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(p), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// withReplicas returns the elements, each followed by its replicas, which
// have series of their own.
func withReplicas(elems []sgn.ElementStats) []sgn.ElementStats {
	var out []sgn.ElementStats
	for _, e := range elems {
		out = append(out, e)
		out = append(out, e.Replicas...)
	}
	return out
}
