package sgn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sgn-go/sgn/runtime"
)

// DefaultQueueSize is the number of frames that may be in flight on one link
// before its sender waits: SGN's queue_maxsize.
const DefaultQueueSize = 100

// A Pipeline is a graph of elements joined by links between their pads.
// Insert elements, Link their pads, then Run it. A Pipeline is not safe for
// concurrent use while it is being built.
type Pipeline struct {
	nodes  []*node
	byName map[string]*node
	errs   []error // insertion mistakes, reported by Check
	ran    bool

	mu           sync.Mutex
	eos          chan struct{}     // closed by RequestEOS
	eosRequested bool              // under mu
	workers      []*runtime.Worker // running, under mu

	queueSize     int
	workerDir     string
	stopTimeout   time.Duration
	handleSignals bool
}

// node is an inserted element.
type node struct {
	name     string
	elem     Element
	spec     Spec
	inWorker bool
}

// A PipelineOption configures a Pipeline.
type PipelineOption func(*Pipeline)

// QueueSize sets how many frames may be in flight on each link (SGN's
// queue_maxsize); a sender waits while its consumer has this many queued.
// The default is DefaultQueueSize.
func QueueSize(n int) PipelineOption { return func(p *Pipeline) { p.queueSize = max(1, n) } }

// WorkerDir sets the directory where worker binaries are found. Without it,
// the directory named by $SGN_WORKER_DIR is used, or else the directory of the
// running executable.
func WorkerDir(dir string) PipelineOption { return func(p *Pipeline) { p.workerDir = dir } }

// StopTimeout sets how long a worker that is told to stop may take to exit
// before it is killed. The default is runtime.DefaultStopTimeout.
func StopTimeout(d time.Duration) PipelineOption { return func(p *Pipeline) { p.stopTimeout = d } }

// HandleSignals makes Run handle SIGINT (Ctrl+C) and SIGTERM as SGN does:
// the first asks the sources to end their streams (RequestEOS), so the
// pipeline drains and ends normally; the second stops it at once, and Run
// returns ErrInterrupted. Workers ignore SIGINT either way: the pipeline
// decides. The signals' previous handling is restored when Run returns.
func HandleSignals() PipelineOption { return func(p *Pipeline) { p.handleSignals = true } }

// ErrInterrupted is what Run returns when a second SIGINT or SIGTERM stopped
// the pipeline (see HandleSignals).
var ErrInterrupted = errors.New("sgn: interrupted: a second SIGINT or SIGTERM stopped the pipeline")

// NewPipeline returns an empty pipeline.
func NewPipeline(opts ...PipelineOption) *Pipeline {
	p := &Pipeline{byName: map[string]*node{}, queueSize: DefaultQueueSize, eos: make(chan struct{})}
	for _, o := range opts {
		o(p)
	}
	return p
}

// An ElementOption says how an inserted element runs.
type ElementOption func(*node)

// InWorker runs the element in its own worker process, started from the
// binary that sgngen generated for its type.
func InWorker() ElementOption { return func(n *node) { n.inWorker = true } }

// Insert adds an element under a name that is unique in the pipeline. By
// default the element runs in this process; InWorker moves it to a worker
// process. Mistakes (a duplicate name, an element inserted twice) are
// reported by Check and Run.
func (p *Pipeline) Insert(name string, e Element, opts ...ElementOption) {
	spec := e.SGNElement()
	n := &node{name: name, elem: e, spec: spec}
	for _, o := range opts {
		o(n)
	}
	switch {
	case name == "":
		p.errs = append(p.errs, fmt.Errorf("insert %s: the element name is empty", spec.Type))
		return
	case p.byName[name] != nil:
		p.errs = append(p.errs, fmt.Errorf("insert %s: an element named %q is already in the pipeline", spec.Type, name))
		return
	}
	for _, pad := range append(spec.Sinks[:len(spec.Sinks):len(spec.Sinks)], spec.Sources...) {
		if other := pad.base().node; other != nil {
			p.errs = append(p.errs, fmt.Errorf("insert %s: this %s value is already inserted as %q", name, spec.Type, other.name))
			return
		}
	}
	for _, pad := range spec.Sinks {
		pad.base().node = n
	}
	for _, pad := range spec.Sources {
		pad.base().node = n
	}
	p.byName[name] = n
	p.nodes = append(p.nodes, n)
}

// Check reports every mistake in the pipeline's construction: duplicate
// names, unlinked pads, a sink pad linked twice, a link to an element that is
// not in this pipeline, a pipeline without elements. It is called by Run.
func (p *Pipeline) Check() error {
	errs := append([]error(nil), p.errs...)
	if len(p.nodes) == 0 {
		errs = append(errs, errors.New("the pipeline has no elements"))
	}
	for _, n := range p.nodes {
		for _, pad := range n.spec.Sinks {
			from, extra := pad.(sinkPad).upstream()
			switch {
			case from == nil:
				errs = append(errs, fmt.Errorf("%s: sink pad is not linked", pad.FullName()))
			case from.base().node == nil:
				errs = append(errs, fmt.Errorf("%s: linked from a source pad of an element that is not in the pipeline; insert that element too", pad.FullName()))
			case p.byName[from.base().node.name] != from.base().node:
				errs = append(errs, fmt.Errorf("%s: linked from %s, which belongs to another pipeline", pad.FullName(), from.FullName()))
			}
			for _, x := range extra {
				errs = append(errs, fmt.Errorf("%s: linked from %s and again from %s; a sink pad has one upstream", pad.FullName(), from.FullName(), x.FullName()))
			}
		}
		for _, pad := range n.spec.Sources {
			if len(pad.(sourcePad).downstream()) == 0 {
				errs = append(errs, fmt.Errorf("%s: source pad is not linked", pad.FullName()))
			}
		}
	}
	return errors.Join(errs...)
}

// Run checks the pipeline, starts its worker processes, and streams frames
// until every element has finished: sources after sending EOS, sinks after
// receiving it. If an element fails, Run stops all the others (workers are
// told to stop, then killed after the stop timeout) and returns an
// *ElementError for the element that failed first, joined with any other
// failures that were not caused by the stop. Run always waits for every
// goroutine and worker process it started. A pipeline runs once.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.ran {
		return errors.New("the pipeline has already run; elements keep their state, so build a new pipeline with new elements")
	}
	if err := p.Check(); err != nil {
		return err
	}
	p.ran = true
	workers := map[*node]string{}
	var errs []error
	for _, n := range p.nodes {
		if n.inWorker {
			path, err := p.findWorker(n)
			if err != nil {
				errs = append(errs, err)
			}
			workers[n] = path
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	for _, n := range p.nodes {
		for _, pad := range n.spec.Sinks {
			pad.(sinkPad).open(p.queueSize)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if p.handleSignals {
		stop := p.onSignals(cancel)
		defer stop()
	}
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		failures    []error
		interrupted bool // an element was stopped before it finished
	)
	for _, n := range p.nodes {
		wg.Go(func() {
			c := &Context{Context: ctx, element: n.name, eos: p.eos}
			var err error
			if n.inWorker {
				err = p.runWorker(c, n, workers[n])
			} else {
				err = runElement(c, n.elem, &n.spec)
			}
			for _, pad := range n.spec.Sinks {
				pad.(sinkPad).close()
			}
			if err == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
				interrupted = true // by another failure, or by the caller
				return
			}
			err = &ElementError{Element: n.name, Err: err}
			failures = append(failures, err)
			cancel(err)
		})
	}
	wg.Wait()
	switch {
	case len(failures) > 0:
		return errors.Join(failures...)
	case interrupted:
		return context.Cause(ctx) // the caller's cancellation
	}
	return nil
}

// RequestEOS asks every source to end its stream: each sends a last frame
// with EOS set, and the pipeline drains and ends as usual. It may be called
// from any goroutine, before or during Run, any number of times. Sources
// written with New do this by themselves; see Context.EOSRequested for the
// others.
func (p *Pipeline) RequestEOS() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eosRequested {
		return
	}
	p.eosRequested = true
	close(p.eos)
	for _, w := range p.workers {
		w.RequestEOS()
	}
}

// addWorker registers a running worker, so that RequestEOS reaches it.
func (p *Pipeline) addWorker(w *runtime.Worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.workers = append(p.workers, w)
	if p.eosRequested {
		w.RequestEOS()
	}
}

// onSignals turns the first SIGINT or SIGTERM into RequestEOS and the second
// into cancel(ErrInterrupted), until the returned function is called.
func (p *Pipeline) onSignals(cancel context.CancelCauseFunc) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 1; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 1 {
				p.RequestEOS()
				continue
			}
			cancel(ErrInterrupted)
			return
		}
	})
	return func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}
}
