// Package metrics serves a pipeline's statistics over HTTP, in the text
// format that Prometheus scrapes, so that a monitoring system can follow
// the pipeline while it runs:
//
//	p := sgn.NewPipeline(sgn.MeasureBusy())
//	// ... Insert and Link the elements ...
//	srv, err := metrics.Listen(p, ":9090") // serves /metrics until srv.Close()
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer srv.Close()
//	err = p.Run(ctx)
//
// Listen serves at /metrics; Handler is the same handler, for a server of
// one's own (mux.Handle("/metrics", metrics.Handler(p))), and NewCollector
// the metrics alone, for an application that registers its Prometheus
// metrics in a registry of its own. Each scrape takes a snapshot of the
// pipeline with [sgn.Pipeline.Stats]; between scrapes, nothing is done.
// They all work before, during and after Run, once the pipeline is built:
// it must not be changed (Insert, Link) while it may be scraped.
//
// # Metrics
//
// Labels: element is the element's name in the pipeline, pad the pad's
// name on its element, direction "in" for a sink pad and "out" for a
// source pad. A replicated element (see [sgn.Replicas]) has the series of
// an element in this process, for the element as a whole, and each of its
// replicas has its own under its name, element="square[0]", with the
// sgn_worker_ series if it runs in a worker.
//
//	sgn_pad_frames_total{element,pad,direction}      counter  frames through the pad
//	sgn_pad_bytes_total{element,pad,direction}       counter  their encoded bytes, for frames that crossed processes
//	sgn_pad_queue_frames{element,pad}                gauge    frames queued on a sink pad, the one in work included
//	sgn_pad_queue_bound_frames{element,pad}          gauge    the most that queue holds
//	sgn_element_state{element,state}                 gauge    1 for the element's state, 0 for the others
//	sgn_element_busy_seconds_total{element}          counter  time in New, Process or Consume, if measured
//	sgn_worker_restarts_total{element}               counter  restarts of the element's worker
//	sgn_worker_pid{element}                          gauge    its worker's process ID
//	sgn_worker_cpu_seconds_total{element}            counter  its worker's CPU time, user and system
//	sgn_worker_resident_memory_bytes{element}        gauge    its worker's resident memory
//
// The states are those of [sgn.State]: pending, starting, running,
// restarting, done, failed, stopped; every element has a series for each,
// so that a query need not know which states exist. Busy time is there
// only if the pipeline measures it: with [sgn.MeasureBusy] or
// [sgn.OnStats]. The sgn_worker_ metrics are there only for elements in
// workers, and, except restarts, only while the worker's process runs; a
// restarted worker's CPU time starts again from zero, which Prometheus'
// rate() takes for the counter reset it is. A queue's metrics are there
// once the pipeline knows its bound (for a worker's sink pad, once Run has
// connected the worker).
//
// Rates are for Prometheus to compute from the counters, over the window
// one asks for: rate(sgn_pad_frames_total[1m]) is frames per second,
// rate(sgn_element_busy_seconds_total[1m]) the fraction of the time an
// element is busy, sgn_pad_queue_frames / sgn_pad_queue_bound_frames how
// full a queue is. The pipeline's own one-second rates (PadStats.Rate) are
// not exported: they would be a second, coarser answer to the same
// question.
//
// Besides the sgn_ metrics, Handler and Listen serve those of the process
// that runs the pipeline, as the Prometheus client library names them:
// go_ (the Go runtime: memory, goroutines, garbage collection) and
// process_ (CPU time, resident memory, open files). A worker's process has
// no endpoint of its own: the pipeline reads its CPU time and memory from
// /proc.
//
// # Why Prometheus
//
// Prometheus' text exposition format is what monitoring systems scrape:
// Prometheus itself, and the agents of many others (OpenTelemetry's
// collector, Grafana's, VictoriaMetrics') read it as it is.
// expvar's JSON, the standard library's own, has no notion of counters,
// gauges or labels, and would need an adapter on the monitoring side.
// The package uses Prometheus' client library, github.com/prometheus/client_golang,
// for the format and its content negotiation rather than writing the text
// by hand. The library is a dependency of this package alone: package sgn
// does not import it, and a program pays for it only if it imports
// metrics.
package metrics
