package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/metrics"
)

// workerDir holds the worker binaries of the test elements these tests
// run in workers, built once by TestMain.
var workerDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sgn-metrics-workers-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	const workers = "github.com/sgn-go/sgn/internal/testelems/sgnworkers/"
	out, err := exec.Command("go", "build", "-o", dir+"/", workers+"testelems-affine", workers+"testelems-scale").CombinedOutput()
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

// scrape is one scrape of a /metrics endpoint: the value of each series,
// by its name and labels, as "name{a=x,b=y}" with labels in order.
type scrape map[string]float64

// get scrapes addr's /metrics and parses the text format.
func get(t *testing.T, addr string) scrape {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want Prometheus' text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	s := scrape{}
	for name, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s[key] = m.Counter.GetValue()
			case dto.MetricType_GAUGE:
				s[key] = m.Gauge.GetValue()
			case dto.MetricType_UNTYPED:
				s[key] = m.Untyped.GetValue()
			}
		}
		if strings.HasPrefix(name, "sgn_") && f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
	}
	return s
}

// value returns the series' value, failing the test if it is absent.
func (s scrape) value(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := s[series]
	if !ok {
		t.Fatalf("no series %s in the scrape", series)
	}
	return v
}

// state returns the state whose sgn_element_state series is 1 for element,
// failing the test unless exactly one is.
func (s scrape) state(t *testing.T, element string) string {
	t.Helper()
	var on []string
	for _, st := range []string{"pending", "starting", "running", "restarting", "done", "failed", "stopped"} {
		if s.value(t, "sgn_element_state{element="+element+",state="+st+"}") == 1 {
			on = append(on, st)
		}
	}
	if len(on) != 1 {
		t.Fatalf("%s is in states %v", element, on)
	}
	return on[0]
}

func frames(element, pad, direction string) string {
	return "sgn_pad_frames_total{direction=" + direction + ",element=" + element + ",pad=" + pad + "}"
}

func bytes(element, pad, direction string) string {
	return "sgn_pad_bytes_total{direction=" + direction + ",element=" + element + ",pad=" + pad + "}"
}

// A pipeline with a worker, scraped over HTTP before, during and after its
// run: counters grow while it runs and end at the frames it sent, the
// worker's process is there while it runs, queues stay within their
// bounds.
func TestScrapeARunningPipeline(t *testing.T) {
	const n = 1500
	src := &testelems.Ramp{Len: 8, Count: n}
	x := &testelems.Affine{Mul: 1}
	snk := &testelems.Verify{Len: 8, Mul: 1, Delay: time.Millisecond} // about 2 s in all
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(10), sgn.MeasureBusy())
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)

	srv, err := metrics.Listen(p, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("Addr %s, want the port the system chose", srv.Addr())
	}
	pads := [][3]string{{"src", "out", "out"}, {"x", "in", "in"}, {"x", "out", "out"}, {"snk", "in", "in"}}

	before := get(t, srv.Addr())
	for _, e := range []string{"src", "x", "snk"} {
		if st := before.state(t, e); st != "pending" {
			t.Errorf("before Run, %s is %s", e, st)
		}
	}
	for _, pad := range pads {
		if v := before.value(t, frames(pad[0], pad[1], pad[2])); v != 0 {
			t.Errorf("before Run, %s is %v", frames(pad[0], pad[1], pad[2]), v)
		}
	}
	if v, ok := before["sgn_worker_pid{element=x}"]; ok {
		t.Errorf("before Run, the worker's pid is %v", v)
	}
	if _, ok := before["process_cpu_seconds_total{}"]; !ok {
		t.Error("no process_cpu_seconds_total: the main process's metrics are missing")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	// Wait for frames to reach the sink, then scrape twice, while it runs.
	var first scrape
	for first == nil || first.value(t, frames("snk", "in", "in")) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Run returned %v before a frame reached the sink", err)
		case <-time.After(20 * time.Millisecond):
		}
		first = get(t, srv.Addr())
	}
	time.Sleep(200 * time.Millisecond)
	second := get(t, srv.Addr())
	for i, s := range []scrape{first, second} {
		for _, e := range []string{"src", "x", "snk"} {
			// The source may have sent its last frame already; the
			// others wait for the slow sink.
			if st := s.state(t, e); st != "running" && (e != "src" || st != "done") {
				t.Errorf("scrape %d: %s is %s, want running", i+1, e, st)
			}
		}
		for _, pad := range pads {
			if v := s.value(t, frames(pad[0], pad[1], pad[2])); v <= 0 || v >= n && pad[0] != "src" {
				t.Errorf("scrape %d: %s is %v while the pipeline runs", i+1, frames(pad[0], pad[1], pad[2]), v)
			}
		}
		q, bound := s.value(t, "sgn_pad_queue_frames{element=snk,pad=in}"), s.value(t, "sgn_pad_queue_bound_frames{element=snk,pad=in}")
		if bound != 11 || q < 0 || q > bound {
			t.Errorf("scrape %d: snk's queue holds %v of %v, want at most 11", i+1, q, bound)
		}
		if v := s.value(t, bytes("x", "in", "in")); v < s.value(t, frames("x", "in", "in"))*8*8 {
			t.Errorf("scrape %d: %v bytes into the worker, for frames of 8 float64s", i+1, v)
		}
		pid := s.value(t, "sgn_worker_pid{element=x}")
		if pid <= 0 || int(pid) == os.Getpid() || syscall.Kill(int(pid), 0) != nil {
			t.Errorf("scrape %d: the worker's pid %v is not a process of its own", i+1, pid)
		}
		if rss := s.value(t, "sgn_worker_resident_memory_bytes{element=x}"); rss < 1<<20 {
			t.Errorf("scrape %d: the worker's resident memory is %v bytes", i+1, rss)
		}
		if cpu := s.value(t, "sgn_worker_cpu_seconds_total{element=x}"); cpu < 0 {
			t.Errorf("scrape %d: the worker's CPU time is %v s", i+1, cpu)
		}
		if r := s.value(t, "sgn_worker_restarts_total{element=x}"); r != 0 {
			t.Errorf("scrape %d: %v restarts", i+1, r)
		}
	}
	if second.value(t, "sgn_worker_pid{element=x}") != first.value(t, "sgn_worker_pid{element=x}") {
		t.Error("the worker's pid changed without a restart")
	}
	for _, pad := range pads[1:] {
		if a, b := first.value(t, frames(pad[0], pad[1], pad[2])), second.value(t, frames(pad[0], pad[1], pad[2])); b <= a {
			t.Errorf("%s went from %v to %v in 200 ms of a running pipeline", frames(pad[0], pad[1], pad[2]), a, b)
		}
	}
	// The sink sleeps 1 ms a frame, so it has spent at least that long in
	// Consume for each frame it has finished: those into its pad, less
	// those still queued.
	busy, f := second.value(t, "sgn_element_busy_seconds_total{element=snk}"), second.value(t, frames("snk", "in", "in"))
	if finished := f - second.value(t, "sgn_pad_queue_bound_frames{element=snk,pad=in}"); busy < finished*0.001 {
		t.Errorf("snk was busy %v s, with %v frames of 1 ms finished", busy, finished)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before the second scrape was checked: the scrapes may not have been during the run", err)
	default:
	}

	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := get(t, srv.Addr())
	for _, pad := range pads {
		if v := after.value(t, frames(pad[0], pad[1], pad[2])); v != n {
			t.Errorf("after Run, %s is %v, want %d", frames(pad[0], pad[1], pad[2]), v, n)
		}
		// Frames cross processes into and out of the worker, not between
		// x and snk's in-process sink pad.
		if v := after.value(t, bytes(pad[0], pad[1], pad[2])); (v > 0) != (pad[0] != "snk") {
			t.Errorf("after Run, %s is %v", bytes(pad[0], pad[1], pad[2]), v)
		}
	}
	for _, e := range []string{"src", "x", "snk"} {
		if st := after.state(t, e); st != "done" {
			t.Errorf("after Run, %s is %s", e, st)
		}
	}
	if v, ok := after["sgn_worker_pid{element=x}"]; ok {
		t.Errorf("after Run, the worker's pid is still %v", v)
	}
	if got := snk.Frames(); got != n {
		t.Errorf("the sink checked %d frames, want %d", got, n)
	}
}

// A worker that crashes and is restarted is counted, and one that fails
// for good is shown failed.
func TestScrapeRestartsAndFailure(t *testing.T) {
	dir := t.TempDir()
	src := &testelems.Count{From: 1, To: 50}
	x := &testelems.Scale{Factor: 2, Crash: testelems.Crash{At: 10, How: "exit", Once: dir + "/crashed"}}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Logger(quiet()))
	p.Insert("count", src)
	p.Insert("x", x, sgn.InWorker(), sgn.Restart(3, time.Minute))
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	srv, err := metrics.Listen(p, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := get(t, srv.Addr())
	if r := s.value(t, "sgn_worker_restarts_total{element=x}"); r != 1 {
		t.Errorf("%v restarts, want 1", r)
	}
	if v := s.value(t, frames("sink", "in", "in")); v != 50 {
		t.Errorf("%s is %v after a restart, want 50", frames("sink", "in", "in"), v)
	}
	if _, ok := s["sgn_worker_restarts_total{element=count}"]; ok {
		t.Error("an element in this process has a restart count")
	}

	src = &testelems.Count{From: 1, To: 50}
	x = &testelems.Scale{Factor: 2, FailAt: 10}
	snk = &testelems.Collect{}
	p = sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Logger(quiet()))
	p.Insert("count", src)
	p.Insert("x", x, sgn.InWorker())
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	srv2, err := metrics.Listen(p, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if err := p.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded, though x fails at 10")
	}
	s = get(t, srv2.Addr())
	if st := s.state(t, "x"); st != "failed" {
		t.Errorf("x is %s, want failed", st)
	}
	if _, ok := s["sgn_element_busy_seconds_total{element=x}"]; ok {
		t.Error("busy time is reported, though the pipeline does not measure it")
	}
}

// Close stops the server: the address no longer answers, and closing
// again is harmless. Listen reports an address it cannot listen on, and
// the server serves nothing but /metrics.
func TestServer(t *testing.T) {
	p := sgn.NewPipeline()
	src := &testelems.Count{From: 1, To: 3}
	snk := &testelems.Collect{}
	p.Insert("count", src)
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &snk.In)
	srv, err := metrics.Listen(p, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Listen(p, srv.Addr()); err == nil {
		t.Errorf("a second Listen on %s succeeded", srv.Addr())
	}
	resp, err := http.Get("http://" + srv.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %s, want 404", resp.Status)
	}
	if v := get(t, srv.Addr()).value(t, frames("count", "out", "out")); v != 0 {
		t.Errorf("before Run, %v frames", v)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	if resp, err := http.Get("http://" + srv.Addr() + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after Close: %s", resp.Status)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after Close: %v, want the connection refused", err)
	}
}

// The collector describes every metric it collects, with consistent
// labels, as a pedantic registry checks; and an application registers it
// in a registry of its own.
func TestCollectorInARegistry(t *testing.T) {
	src := &testelems.Count{From: 1, To: 7}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.MeasureBusy())
	p.Insert("count", src)
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &snk.In)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(metrics.NewCollector(p)); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("before Run: %v", err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("after Run: %v", err)
	}
	var sent float64 = -1
	for _, f := range families {
		if f.GetName() != "sgn_pad_frames_total" {
			continue
		}
		for _, m := range f.Metric {
			var element string
			for _, l := range m.Label {
				if l.GetName() == "element" {
					element = l.GetValue()
				}
			}
			if element == "count" {
				sent = m.Counter.GetValue()
			}
		}
	}
	if sent != 7 {
		t.Errorf("count sent %v frames, want 7", sent)
	}
}

// quiet is a logger for pipelines whose workers are meant to fail.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A replicated element has its series, and each replica its own, under
// its name: its frames, its state, and, in a worker, its restarts.
func TestScrapeReplicas(t *testing.T) {
	const n = 400
	dir := t.TempDir()
	src := &testelems.Count{From: 1, To: n}
	x := &testelems.Scale{Factor: 2, Crash: testelems.Crash{At: 50, How: "exit", Once: dir + "/crashed"}}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Logger(quiet()), sgn.QueueSize(4))
	p.Insert("count", src)
	p.Insert("x", x, sgn.Replicas(2, sgn.InWorker()), sgn.Restart(3, time.Minute))
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	srv, err := metrics.Listen(p, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := get(t, srv.Addr())
	if v := s.value(t, frames("x", "out", "out")); v != n {
		t.Errorf("x sent %v frames, want %d", v, n)
	}
	var in, restarts float64
	for _, r := range []string{"x[0]", "x[1]"} {
		v := s.value(t, frames(r, "in", "in"))
		if v == 0 {
			t.Errorf("%s got no frames", r)
		}
		in += v
		restarts += s.value(t, "sgn_worker_restarts_total{element="+r+"}")
		if st := s.state(t, r); st != "done" {
			t.Errorf("%s is %s, want done", r, st)
		}
	}
	// The last frame carries EOS; the other replica gets an empty one.
	if in != n+1 {
		t.Errorf("the replicas got %v frames, want %d", in, n+1)
	}
	if restarts != 1 {
		t.Errorf("the replicas were restarted %v times, want once", restarts)
	}
	if st := s.state(t, "x"); st != "done" {
		t.Errorf("x is %s, want done", st)
	}
}
