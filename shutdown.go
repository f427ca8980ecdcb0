package sgn

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Shutdown asks the pipeline to end, as RequestEOS does, and gives it
// timeout to do so: SGN's sub_process_shutdown(timeout), for the whole
// pipeline. If the pipeline has not ended when the time is up, what is left
// of it is stopped, and Run returns a *ShutdownError that names the elements
// that had not finished and the frames each still held, which were
// dropped. Called before Run, it takes effect when Run starts.
//
// For one element, see DrainTimeout.
func (p *Pipeline) Shutdown(timeout time.Duration) {
	p.RequestEOS()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shutdown != nil {
		return
	}
	p.shutdown = &deadline{timeout: timeout}
	if p.expire != nil {
		p.shutdown.start(func() { p.expire(nil, timeout) })
	}
}

// DrainTimeout gives the element d to finish once EOS has reached all its
// sink pads (for a source: once the pipeline asked for EOS), that is, to
// drain what is queued for it and end: SGN's sub_process_shutdown(timeout),
// for one element. If it has not finished by then, the run is stopped and
// returns a *ShutdownError that names it and the frames it still held,
// which were dropped.
func DrainTimeout(d time.Duration) ElementOption {
	return func(n *node) { n.drain = &deadline{timeout: d} }
}

// A ShutdownError says that elements did not finish in the time they were
// given: by Pipeline.Shutdown (Element is empty) or by an element's
// DrainTimeout (Element names it).
type ShutdownError struct {
	Element    string
	Timeout    time.Duration
	Unfinished []Unfinished // those that had not finished when the time was up
}

// Unfinished is an element that had not finished, and the frames it held:
// queued for it, and the one it was working on.
type Unfinished struct {
	Element string
	Held    int
}

func (e *ShutdownError) Error() string {
	var b strings.Builder
	if e.Element == "" {
		fmt.Fprintf(&b, "shutdown: the pipeline did not end within %v", e.Timeout)
	} else {
		fmt.Fprintf(&b, "%s: did not finish within its drain timeout of %v after EOS", e.Element, e.Timeout)
	}
	held := 0
	for i, u := range e.Unfinished {
		if i == 0 {
			b.WriteString("; unfinished: ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d frame%s held)", u.Element, u.Held, plural(u.Held))
		held += u.Held
	}
	fmt.Fprintf(&b, "; %d frame%s dropped", held, plural(held))
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// A deadline is a timeout that starts once, and can be stopped.
type deadline struct {
	timeout time.Duration
	once    sync.Once
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func (d *deadline) start(expire func()) {
	d.once.Do(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if !d.stopped {
			d.timer = time.AfterFunc(d.timeout, expire)
		}
	})
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.timer != nil {
		d.timer.Stop()
	}
}

// unfinished returns the elements of the run that have not finished, with
// the frames each holds; with only set, that element alone.
func (p *Pipeline) unfinished(only *node) []Unfinished {
	var out []Unfinished
	for _, n := range p.nodes {
		if only != nil && n != only {
			continue
		}
		switch n.state() {
		case StateDone, StateFailed, StateStopped:
			continue
		}
		out = append(out, Unfinished{Element: n.name, Held: n.held()})
	}
	return out
}

// held returns the frames n holds: those queued on its sink pads and the
// one it works on, wherever it runs.
func (n *node) held() int {
	held := 0
	if n.rep != nil {
		held += n.rep.held() // given to replicas, not yet merged
	}
	for i, pad := range n.spec.Sinks {
		if n.inWorker {
			held += n.conn.Out(i).InFlight()
		} else {
			held += pad.(sinkPad).held()
		}
	}
	return held
}
