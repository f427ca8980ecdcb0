package sgn

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Stats is a snapshot of a running pipeline, element by element.
type Stats struct {
	At       time.Time
	Elements []ElementStats // in the order they were inserted
}

// ElementStats is what Stats reports of one element. Counts are of frames
// that passed through the element's pads since Run started; in a worker,
// as the main process sees them going in and out.
type ElementStats struct {
	ElementStatus
	Sinks   []PadStats
	Sources []PadStats

	// Busy is the time the element has spent in its New, Process or
	// Consume method (not measured for an element with Run), when the
	// pipeline measures it: with OnStats, Progress or MeasureBusy.
	Busy time.Duration
	// BusyMeasured says whether Busy is measured: the pipeline measures
	// it, and the element has a New, Process or Consume method.
	BusyMeasured bool

	// For an element in a worker on this host, the worker process's CPU
	// time (user and system) and resident memory, as /proc says while it
	// runs.
	CPU time.Duration
	RSS int64

	// A replicated element's replicas (see Replicas), each reported as an
	// element is, under its own name, "square[0]"; nil for others. The
	// element's pads count the frames into and out of it as a whole, and
	// its Busy, CPU and RSS are its replicas' totals (CPU and RSS of those
	// on this host: replicas on other hosts have none).
	Replicas []ElementStats
}

// PadStats is what Stats reports of one pad.
type PadStats struct {
	Pad    string  // its full name: element:snk:pad, element:src:pad
	Frames int64   // frames that went through it
	Bytes  int64   // their encoded bytes, for frames that crossed a process boundary
	Rate   float64 // frames per second over the last second; 0 once Run has returned

	// A sink pad's queue: the frames waiting for the element and the one
	// it works on, against the most the link may hold.
	Queue, Bound int
}

// Total returns the frames through the pads.
func total(pads []PadStats) (frames int64, rate float64) {
	for _, p := range pads {
		frames += p.Frames
		rate += p.Rate
	}
	return frames, rate
}

// OnStats calls fn with a snapshot of the pipeline every period while Run
// runs, and once more when it ends. It also measures the time elements
// spend in their methods (see ElementStats.Busy). fn runs on a goroutine
// of its own; a slow fn delays the next call, not the pipeline.
func OnStats(period time.Duration, fn func(Stats)) PipelineOption {
	return func(p *Pipeline) {
		p.busy = true
		p.watchers = append(p.watchers, watcher{period: period, fn: fn})
	}
}

// MeasureBusy makes the pipeline measure the time elements spend in their
// methods (see ElementStats.Busy), as OnStats and Progress do. It costs
// two readings of the monotonic clock per call of the method (tens of
// nanoseconds; make bench shows it as small_inproc_observed_fps next to
// small_inproc_fps); without it, nothing is measured
// beyond counting frames.
func MeasureBusy() PipelineOption { return func(p *Pipeline) { p.busy = true } }

// A watcher is a function the pipeline gives snapshots to while it runs.
type watcher struct {
	period time.Duration
	fn     func(Stats)
}

// Stats returns a snapshot of the pipeline: for each element, its state,
// the frames through its pads, its queues and, for a worker, its process's
// CPU time and memory. It may be called from any goroutine, at any time;
// counting frames costs the pipeline next to nothing whether or not anyone
// asks.
func (p *Pipeline) Stats() Stats {
	st := Stats{At: time.Now()}
	p.rates.mu.Lock()
	defer p.rates.mu.Unlock()
	for _, n := range p.nodes {
		st.Elements = append(st.Elements, p.statsOf(n))
	}
	return st
}

// statsOf returns n's part of Stats; p.rates.mu is held.
func (p *Pipeline) statsOf(n *node) ElementStats {
	es := ElementStats{ElementStatus: n.statusOf(), Busy: time.Duration(n.busy.Load() + n.busyBase.Load())}
	es.BusyMeasured = p.busy && slices.Contains([]string{"New", "Process", "Consume"}, n.spec.Method)
	for i, pad := range n.spec.Sinks {
		ps := PadStats{Pad: pad.FullName()}
		switch {
		case n.inWorker && n.conn != nil:
			o := n.conn.Out(i)
			ps.Frames, ps.Bytes = o.Sent()
			ps.Queue, ps.Bound = o.InFlight(), o.Window()
		case !n.inWorker:
			sp := pad.(sinkPad)
			ps.Frames = sp.count()
			ps.Queue, ps.Bound = sp.held(), n.window()
		}
		ps.Rate = p.rates.rate(ps.Pad)
		es.Sinks = append(es.Sinks, ps)
	}
	for i, pad := range n.spec.Sources {
		ps := PadStats{Pad: pad.FullName()}
		switch {
		case n.inWorker && i < len(n.relays) && n.relays[i] != nil:
			ps.Frames, ps.Bytes = n.relays[i].Passed()
		case !n.inWorker:
			ps.Frames, ps.Bytes = pad.(sourcePad).count()
		}
		ps.Rate = p.rates.rate(ps.Pad)
		es.Sources = append(es.Sources, ps)
	}
	if es.InWorker && es.PID > 0 && n.remote == nil { // /proc knows only this host's processes
		es.CPU, es.RSS = procUsage(es.PID)
	}
	for _, r := range n.replicas {
		rs := p.statsOf(r)
		es.Busy += rs.Busy
		es.CPU += rs.CPU
		es.RSS += rs.RSS
		es.Replicas = append(es.Replicas, rs)
	}
	return es
}

// statusOf returns n's part of Pipeline.Status.
func (n *node) statusOf() ElementStatus {
	s := ElementStatus{
		Name:     n.name,
		State:    n.state(),
		InWorker: n.inWorker,
		PID:      int(n.status.pid.Load()),
		Restarts: int(n.status.restarts.Load()),
	}
	if h := n.status.host.Load(); h != nil {
		s.Host = *h
	}
	for _, r := range n.replicas {
		rs := r.statusOf()
		s.Restarts += rs.Restarts
		s.Replicas = append(s.Replicas, rs)
	}
	return s
}

// rates keeps, for each pad, its frame count a second ago and the rate
// over the second before, sampled by a goroutine while Run runs.
type rates struct {
	mu     sync.Mutex
	last   map[string]int64
	per    map[string]float64
	lastAt time.Time
}

func (r *rates) rate(pad string) float64 { return r.per[pad] }

// sample records the pads' counts now, and the rates since the last
// sample.
func (r *rates) sample(st Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last, r.per = map[string]int64{}, map[string]float64{}
	}
	dt := st.At.Sub(r.lastAt).Seconds()
	for _, e := range withReplicas(st.Elements) {
		for _, pads := range [][]PadStats{e.Sinks, e.Sources} {
			for _, ps := range pads {
				if !r.lastAt.IsZero() && dt > 0 {
					r.per[ps.Pad] = float64(ps.Frames-r.last[ps.Pad]) / dt
				}
				r.last[ps.Pad] = ps.Frames
			}
		}
	}
	r.lastAt = st.At
}

// watch samples rates every second and gives snapshots to the watchers
// until done is closed; then it gives each a last one.
func (p *Pipeline) watch(done <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		p.rates.sample(p.Stats())
		for {
			select {
			case <-t.C:
				p.rates.sample(p.Stats())
			case <-done:
				return
			}
		}
	})
	for _, w := range p.watchers {
		wg.Go(func() {
			t := time.NewTicker(w.period)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					w.fn(p.Stats())
				case <-done:
					w.fn(p.Stats())
					return
				}
			}
		})
	}
	return func() {
		wg.Wait()
		p.rates.reset() // nothing flows once Run has returned
	}
}

// reset forgets the counts and rates: every rate is 0 until the next
// samples.
func (r *rates) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.per, r.lastAt = nil, nil, time.Time{}
}

// withReplicas returns the elements, each followed by its replicas.
func withReplicas(elems []ElementStats) []ElementStats {
	var out []ElementStats
	for _, e := range elems {
		out = append(out, e)
		out = append(out, e.Replicas...)
	}
	return out
}

// procUsage returns the CPU time and resident memory of process pid, as
// /proc says; zeros if it cannot tell.
func procUsage(pid int) (cpu time.Duration, rss int64) {
	dir := "/proc/" + strconv.Itoa(pid)
	if stat, err := os.ReadFile(dir + "/stat"); err == nil {
		// pid (comm) state ppid ...: utime and stime are fields 14 and 15,
		// counted from the one after the command's closing parenthesis.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
			f := bytes.Fields(stat[i+1:])
			if len(f) > 12 {
				utime, _ := strconv.ParseInt(string(f[11]), 10, 64)
				stime, _ := strconv.ParseInt(string(f[12]), 10, 64)
				cpu = time.Duration(utime+stime) * time.Second / clockTicks
			}
		}
	}
	if statm, err := os.ReadFile(dir + "/statm"); err == nil {
		if f := bytes.Fields(statm); len(f) > 1 {
			pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return cpu, rss
}

// clockTicks is the unit of CPU times in /proc: USER_HZ, 100 on every
// architecture Linux runs Go on.
const clockTicks = 100
