package sgn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sgn-go/sgn/remote"
	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/shm"
)

// DefaultQueueSize is the number of frames a link queues for its consumer
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
	eos          chan struct{}              // closed by RequestEOS
	eosRequested bool                       // under mu
	workers      []*runtime.Worker          // running, under mu
	shutdown     *deadline                  // set by Shutdown, under mu
	expire       func(*node, time.Duration) // while Run runs: stops it for a passed deadline, under mu

	queueSize     int
	workerDir     string
	stopTimeout   time.Duration
	handleSignals bool
	slots         int // per element whose frames cross processes; 0: see slotsFor
	slotSize      int
	logger        *slog.Logger
	logStdout     bool
	busy          bool // measure elements' busy time
	watchers      []watcher
	rates         rates
	segments      map[string]*shared
	lastPool      poolReport
}

// node is an inserted element.
type node struct {
	name     string
	at       string // where it was inserted, file:line
	elem     Element
	spec     Spec
	inWorker bool
	remote   *remote.Launcher // its workers run on other hosts (Remote)
	queue    int              // frames each link into it queues: the pipeline's QueueSize, or its own
	restart  *restartPolicy
	drain    *deadline
	status   status
	eosIn    func() // for a drain deadline: EOS reached one of its sink pads

	relays   []*runtime.Relay // a worker's: one per source pad
	busy     atomic.Int64     // nanoseconds in its method (in a worker: as last reported)
	busyBase atomic.Int64     // a restarted worker's predecessors' busy time

	// For a run.
	conn        *runtime.Conn   // a worker's connection
	budget      *runtime.Budget // its slots, if its frames may travel in slots
	fedByWorker bool            // a sink pad is linked from a worker's element

	// A replicated element (see Replicas) runs its splitter and merger in
	// this process, and its replicas as elements of their own, each with a
	// node whose parent it is.
	groups   []replicaGroup // its Replicas options
	replicas []*node
	parent   *node
	split    splitLoop
	merge    mergeLoop
	rep      *replication // for a run
}

// A PipelineOption configures a Pipeline.
type PipelineOption func(*Pipeline)

// QueueSize sets how many frames each link queues for its consumer (SGN's
// queue_maxsize), besides the one the consumer is working on; a sender
// waits while the queue is full, wherever the two elements run. The
// default is DefaultQueueSize.
func QueueSize(n int) PipelineOption { return func(p *Pipeline) { p.queueSize = max(1, n) } }

// WorkerDir sets the directory where worker binaries are found. Without it,
// the directory named by $SGN_WORKER_DIR is used, or else the directory of the
// running executable.
func WorkerDir(dir string) PipelineOption { return func(p *Pipeline) { p.workerDir = dir } }

// StopTimeout sets how long a worker that is told to stop may take to exit
// before it is killed. The default is runtime.DefaultStopTimeout.
func StopTimeout(d time.Duration) PipelineOption { return func(p *Pipeline) { p.stopTimeout = d } }

// DefaultSlotSize is the size of a slot of the pool (see Slots).
const DefaultSlotSize = 4 << 20

// Slots sets the shape of the pool of shared memory in which large frame
// payloads cross process boundaries: n slots of size bytes for each
// element that sends frames to another process (rounded up to whole memory
// pages). A byte or numeric slice of 16 KiB or more travels in a slot, and
// the receiver reads the sender's memory; one larger than a slot is copied
// through the pipe instead, and so is one whose element's n slots are all in
// frames that their consumers have not finished with: slots never make an
// element wait (the links' queues do).
//
// By default, an element gets twice as many slots as its links hold frames
// (twice QueueSize+1), and at least 8, of DefaultSlotSize bytes: enough for
// every frame in flight to travel in a slot, also when the transform it
// feeds passes the frame on in place. A replica (see Replicas) gets twice
// as many as its link to the merger and its element's consumers' links
// hold together, since the merger passes its outputs on in their slots.
// Slots cost memory only once they are used, and the slot freed last is
// the one used next, so an element touches only as many as its frames in
// flight need.
func Slots(n, size int) PipelineOption {
	return func(p *Pipeline) { p.slots, p.slotSize = max(1, n), max(1, size) }
}

// slotsFor returns the size of n's budget of slots.
func (p *Pipeline) slotsFor(n *node) int {
	if p.slots > 0 {
		return p.slots
	}
	w := 0
	for _, pad := range n.spec.Sources {
		for _, to := range pad.(sourcePad).downstream() {
			w = max(w, to.base().node.window())
		}
	}
	// A replicated element sends each replica frames of its own.
	for _, r := range n.replicas {
		w += r.window()
	}
	w += n.passedOn()
	return max(8, 2*w)
}

// Logger sets where the pipeline logs: every line its workers write on
// stderr (at level Info), and its workers' events: failed (Error),
// restarting and killed (Warn), started, finished and stopped (Debug).
// Each record has the element's name ("element") and the worker's process
// ID ("pid"); a line has its stream ("stream"), an event its error or
// durations. The default is slog.Default(). A worker never waits long for
// a slow logger: its lines are queued, and if the queue overflows, the
// oldest are dropped and a record says how many. The last lines of a worker that fails are in its
// error.
func Logger(l *slog.Logger) PipelineOption { return func(p *Pipeline) { p.logger = l } }

// LogWorkerStdout sends what workers print on stdout through the Logger
// too, as records with the element's name. Without it, their stdout lines
// are copied, whole, to this process's stdout, as the output of a program
// whose output is the product (the tutorial's numbers example).
func LogWorkerStdout() PipelineOption { return func(p *Pipeline) { p.logStdout = true } }

// HandleSignals makes Run handle SIGINT (Ctrl+C) and SIGTERM as SGN does:
// the first asks the sources to end their streams (RequestEOS), so the
// pipeline drains and ends normally; the second stops it at once (worker
// processes are killed, not asked), and Run returns ErrInterrupted once the
// elements of this process have returned. From the second on, the signals
// have their usual effect again: a third ends the program, whatever its
// elements are doing. Workers ignore SIGINT either way: the pipeline
// decides. The signals' previous handling is restored when Run returns.
func HandleSignals() PipelineOption { return func(p *Pipeline) { p.handleSignals = true } }

// ErrInterrupted is what Run returns when a second SIGINT or SIGTERM stopped
// the pipeline (see HandleSignals).
var ErrInterrupted = errors.New("sgn: interrupted: a second SIGINT or SIGTERM stopped the pipeline")

// NewPipeline returns an empty pipeline.
func NewPipeline(opts ...PipelineOption) *Pipeline {
	p := &Pipeline{byName: map[string]*node{}, queueSize: DefaultQueueSize, eos: make(chan struct{}),
		slotSize: DefaultSlotSize}
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

// Remote runs the element in worker processes on other hosts, as InWorker
// does on this one: l claims a free worker of the element's type over
// NATS, and the frames travel as NATS messages (see package remote and the
// README's "Workers on other hosts"). Large payloads travel in the
// messages, not in shared memory; a pipeline with shared segments (Share)
// cannot have elements on other hosts.
func Remote(l *remote.Launcher) ElementOption {
	return func(n *node) { n.inWorker, n.remote = true, l }
}

// Queue sets how many frames each link into the element queues for it,
// besides the one it is working on, in place of the pipeline's QueueSize:
// SGN's queue_maxsize, which is per element.
func Queue(n int) ElementOption { return func(nd *node) { nd.queue = max(1, n) } }

// Insert adds an element under a name that is unique in the pipeline and
// has no ':' (which separates the parts of a pad's full name). By default
// the element runs in this process; InWorker moves it to a worker process.
// Mistakes (a duplicate name, an element inserted twice) are reported by
// Check and Run, at the line of the Insert.
func (p *Pipeline) Insert(name string, e Element, opts ...ElementOption) {
	spec := e.SGNElement()
	n := &node{name: name, at: callerAt(0), elem: e, spec: spec, queue: p.queueSize}
	for _, o := range opts {
		o(n)
	}
	fail := func(format string, args ...any) {
		p.errs = append(p.errs, errors.New(at(n.at, fmt.Sprintf(format, args...))))
	}
	switch {
	case name == "":
		fail("insert %s: the element name is empty", spec.Type)
		return
	case strings.Contains(name, ":"):
		fail("insert %s: the element name %q has a ':', which separates the parts of a pad's full name (element:src:pad); choose a name without one", spec.Type, name)
		return
	case p.byName[name] != nil:
		fail("insert %s: an element named %q is already in the pipeline, inserted at %s; choose another name", spec.Type, name, p.byName[name].at)
		return
	}
	for _, pad := range append(spec.Sinks[:len(spec.Sinks):len(spec.Sinks)], spec.Sources...) {
		if other := pad.base().node; other != nil {
			fail("insert %s: this %s value is already inserted as %q, at %s; insert a new value (&T{...}) for each element", name, spec.Type, other.name, other.at)
			return
		}
	}
	for i, pad := range spec.Sinks {
		pad.base().node, pad.base().index = n, i
	}
	for i, pad := range spec.Sources {
		pad.base().node, pad.base().index = n, i
	}
	n.makeReplicas()
	p.byName[name] = n
	p.nodes = append(p.nodes, n)
}

// Check reports every mistake in the pipeline's construction: duplicate
// names, a name with ':', an element inserted twice, unlinked pads, a sink
// pad linked twice, a link to an element that is not in this pipeline, a
// pipeline without elements. Each error starts with the position, file:line,
// of the call that made the mistake: the Insert of the element (an unlinked
// pad's too), or the Link. It is called by Run.
func (p *Pipeline) Check() error {
	errs := append([]error(nil), p.errs...)
	if len(p.nodes) == 0 {
		errs = append(errs, errors.New("the pipeline has no elements"))
	}
	for _, n := range p.nodes {
		// Mistakes of an element are reported where it was inserted;
		// those of a link, where it was linked.
		fail := func(pos, format string, args ...any) {
			errs = append(errs, errors.New(at(pos, fmt.Sprintf(format, args...))))
		}
		if len(p.segments) > 0 {
			segments := strings.Join(slices.Sorted(maps.Keys(p.segments)), ", ")
			var remote []string // its replicas on other hosts
			for _, r := range n.replicas {
				if r.remote != nil {
					remote = append(remote, r.name)
				}
			}
			switch {
			case n.remote != nil:
				fail(n.at, "%s: runs on another host (Remote), where the pipeline's shared segments (%s) cannot reach: shared memory does not cross hosts; run it with InWorker, or share no segments",
					n.name, segments)
			case len(remote) == 1:
				fail(n.at, "%s: replica %s runs on another host (Replicas with Remote), where the pipeline's shared segments (%s) cannot reach: shared memory does not cross hosts; place it with InWorker, or share no segments",
					n.name, remote[0], segments)
			case len(remote) > 1:
				fail(n.at, "%s: replicas %s run on other hosts (Replicas with Remote), where the pipeline's shared segments (%s) cannot reach: shared memory does not cross hosts; place them with InWorker, or share no segments",
					n.name, strings.Join(remote, ", "), segments)
			}
		}
		for _, msg := range n.replicaMistakes(p) {
			fail(n.at, "%s: %s", n.name, msg)
		}
		if n.restart != nil {
			switch {
			case !n.inWorker && len(n.groups) == 0: // replicaMistakes checks where replicas run
				fail(n.at, "%s: Restart is for elements in workers; add InWorker, or drop Restart", n.name)
			case n.runtimePolicy() == nil:
				fail(n.at, "%s: Restart needs an element whose work is per frame (New, Process or Consume); %s has %s, and keeps its state its own way", n.name, n.spec.Type, n.spec.Method)
			case n.restart.max < 1 || n.restart.within <= 0:
				fail(n.at, "%s: Restart(%d, %v): allow at least one restart within a positive span", n.name, n.restart.max, n.restart.within)
			}
		}
		for _, pad := range n.spec.Sinks {
			from, extra := pad.(sinkPad).upstream()
			switch {
			case from == nil:
				fail(n.at, "%s: sink pad is not linked", pad.FullName())
			case from.base().node == nil:
				fail(linkPosition(pad, from), "%s: linked from a source pad of an element that is not in the pipeline; insert that element too", pad.FullName())
			case p.byName[from.base().node.name] != from.base().node:
				fail(linkPosition(pad, from), "%s: linked from %s, which belongs to another pipeline", pad.FullName(), from.FullName())
			}
			for _, x := range extra {
				fail(linkPosition(pad, x), "%s: linked from %s and again from %s; a sink pad has one upstream", pad.FullName(), from.FullName(), x.FullName())
			}
		}
		for _, pad := range n.spec.Sources {
			to := pad.(sourcePad).downstream()
			if len(to) == 0 {
				fail(n.at, "%s: source pad is not linked", pad.FullName())
			}
			for _, s := range to {
				switch {
				case s.base().node == nil && s.Name() == "":
					fail(linkPosition(s, pad), "%s: linked to a sink pad of an element that is not in the pipeline; insert that element too", pad.FullName())
				case s.base().node == nil:
					fail(linkPosition(s, pad), "%s: linked to sink pad %q of an element that is not in the pipeline; insert that element too", pad.FullName(), s.Name())
				case p.byName[s.base().node.name] != s.base().node:
					fail(linkPosition(s, pad), "%s: linked to %s, which belongs to another pipeline", pad.FullName(), s.FullName())
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Run checks the pipeline, starts its worker processes, and streams frames
// until every element has finished: sources after sending EOS, sinks after
// receiving it. Once every sink has finished, sources still sending (their
// frames would reach no sink: a transform ended its stream early) are asked
// to end their streams, as by RequestEOS. If an element fails, Run stops
// all the others (workers are told to stop, then killed after the stop
// timeout) and returns an *ElementError for the element that failed
// first, joined with any other failures that were not caused by the stop.
// Run always waits for every goroutine and worker process it started. A
// pipeline runs once.
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
		if err := n.configureReplicas(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range p.runNodes() {
		if n.inWorker && n.remote == nil {
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

	p.rates.mu.Lock() // Stats reads what prepare sets
	r, err := p.prepare()
	p.rates.mu.Unlock()
	if err != nil {
		return err
	}
	defer r.close()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if p.handleSignals {
		stop := p.onSignals(cancel)
		defer stop()
	}
	stopDeadlines := p.startDeadlines(cancel)
	defer stopDeadlines()
	watching := make(chan struct{})
	waitWatchers := p.watch(watching)
	defer func() {
		close(watching)
		waitWatchers()
	}()
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		failures    []error
		interrupted bool // an element was stopped before it finished
		sinks       int  // sinks (elements without source pads) not yet finished
	)
	for _, n := range p.nodes {
		if len(n.spec.Sources) == 0 {
			sinks++
		}
	}
	for _, n := range p.runNodes() {
		wg.Go(func() {
			c := &Context{Context: ctx, element: n.name, eos: p.eos, segments: r.segments, pool: r.pool, budget: n.budget}
			if p.busy {
				c.busy = &n.busy
			}
			var err error
			switch {
			case n.inWorker:
				err = r.runWorker(c, n, workers[n])
			case n.replicas != nil:
				n.status.set(StateRunning, 0, "")
				err = r.runReplicated(c, n)
				for _, pad := range n.runSinks() {
					pad.(sinkPad).close()
				}
			default:
				n.status.set(StateStarting, 0, "")
				err = runElement(c, n.elem, &n.spec, func() { n.status.set(StateRunning, 0, "") })
				for _, pad := range n.spec.Sinks {
					pad.(sinkPad).close()
				}
			}
			if err == nil {
				n.status.set(StateDone, 0, "")
				if n.parent == nil && len(n.spec.Sources) == 0 {
					mu.Lock()
					sinks--
					if sinks == 0 {
						// Every stream has reached its end: sources
						// that still send, feeding nothing, end theirs.
						p.RequestEOS()
					}
					mu.Unlock()
				}
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
				n.status.set(StateStopped, 0, "")
				interrupted = true // by another failure, or by the caller
				return
			}
			n.status.set(StateFailed, 0, "")
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
	if p.expire != nil {
		p.startSourceDrains()
	}
}

// startDeadlines arms the run's deadlines: Shutdown's, and the elements'
// drain timeouts, each of which stops the run with a ShutdownError when it
// passes. The returned function disarms them.
func (p *Pipeline) startDeadlines(cancel context.CancelCauseFunc) (stop func()) {
	expire := func(only *node, timeout time.Duration) {
		err := &ShutdownError{Timeout: timeout, Unfinished: p.unfinished(only)}
		if only != nil {
			if len(err.Unfinished) == 0 {
				return // it finished meanwhile
			}
			err.Element = only.name
		}
		cancel(err)
	}
	for _, n := range p.nodes {
		if n.drain == nil {
			continue
		}
		n.eosIn = nil
		if len(n.spec.Sinks) == 0 {
			continue // sources drain from RequestEOS
		}
		var mu sync.Mutex
		left := len(n.spec.Sinks)
		n.eosIn = func() {
			mu.Lock()
			left--
			all := left == 0
			mu.Unlock()
			if all {
				n.drain.start(func() { expire(n, n.drain.timeout) })
			}
		}
		if n.inWorker {
			for i := range n.spec.Sinks {
				n.conn.Out(i).OnEOS(n.eosIn)
			}
		}
	}
	p.mu.Lock()
	p.expire = expire
	if p.shutdown != nil {
		p.shutdown.start(func() { expire(nil, p.shutdown.timeout) })
	}
	if p.eosRequested {
		p.startSourceDrains()
	}
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.expire = nil
		if p.shutdown != nil {
			p.shutdown.stop()
		}
		p.mu.Unlock()
		for _, n := range p.nodes {
			if n.drain != nil {
				n.drain.stop()
			}
		}
	}
}

// startSourceDrains arms the drain timeouts of the sources, which start
// when EOS is requested; p.mu is held.
func (p *Pipeline) startSourceDrains() {
	expire := p.expire
	for _, n := range p.nodes {
		if n.drain != nil && len(n.spec.Sinks) == 0 {
			n.drain.start(func() { expire(n, n.drain.timeout) })
		}
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

// onSignals turns the first SIGINT or SIGTERM into RequestEOS, and the
// second into a hard stop: cancel(ErrInterrupted), and every worker killed
// at once. Then it stops listening, so that a third signal has its default
// effect (the program ends) even if an element of this process ignores
// the cancellation. The returned function stops it earlier.
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
				signal.Stop(sigs)
				return
			}
			if n == 1 {
				p.RequestEOS()
				continue
			}
			signal.Stop(sigs)
			cancel(ErrInterrupted)
			p.killWorkers()
			return
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// killWorkers kills every worker process at once.
func (p *Pipeline) killWorkers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		w.Kill()
	}
}

// run is what one Run of a pipeline needs beyond the pipeline itself.
type run struct {
	p    *Pipeline
	pool *runtime.Pool // nil if no frame can travel in slots

	segments      map[string]*shm.Segment // for the main process's elements
	segmentList   []*shm.Segment          // for workers, in the order of segmentHellos
	segmentHellos []runtime.SegmentHello
}

// prepare places every link of the pipeline (see bridge.go) and makes the
// slot pool, if any frame that crosses a process boundary can hold slices.
func (p *Pipeline) prepare() (*run, error) {
	r := &run{p: p, segments: map[string]*shm.Segment{}}
	for _, name := range slices.Sorted(maps.Keys(p.segments)) {
		s := p.segments[name]
		r.segments[name] = s.seg
		r.segmentList = append(r.segmentList, s.seg)
		r.segmentHellos = append(r.segmentHellos, runtime.SegmentHello{Name: name, Size: s.seg.Len(), Meta: s.meta})
	}
	nodes := p.runNodes()
	for _, n := range nodes {
		n.conn, n.budget, n.fedByWorker = nil, nil, false
	}
	for _, n := range nodes {
		if !n.inWorker {
			continue
		}
		// A link holds its consumer's queue and the frame it works on. A
		// worker's source pad feeds its links at once (see runtime.Relay),
		// so its window is the smallest of theirs.
		sinks := make([]int, len(n.spec.Sinks))
		for i := range sinks {
			sinks[i] = n.window()
		}
		var sources []int
		for _, pad := range n.spec.Sources {
			w := 0
			for _, to := range pad.(sourcePad).downstream() {
				if dw := to.base().node.window(); w == 0 || dw < w {
					w = dw
				}
			}
			sources = append(sources, w)
		}
		n.conn = runtime.NewConn(sinks, sources)
		if n.remote != nil {
			n.conn.InlineSlots()
		}
	}
	// An element needs slots if it sends frames that can hold slices to
	// another process: a worker's element sends all its frames to this
	// one.
	var needs []*node
	for _, n := range nodes {
		for _, pad := range n.runSinks() {
			if from, _ := pad.(sinkPad).upstream(); from.base().node.inWorker {
				n.fedByWorker = true
			}
		}
		for _, pad := range n.runSources() {
			src := pad.(sourcePad)
			if !src.hasSlices() {
				continue
			}
			crosses := n.inWorker && n.remote == nil // a worker on another host has no slots
			for _, to := range src.downstream() {
				crosses = crosses || to.base().node.inWorker
			}
			if crosses {
				needs = append(needs, n)
				break
			}
		}
	}
	if len(needs) > 0 {
		total := 0
		for _, n := range needs {
			total += p.slotsFor(n)
		}
		mem, err := shm.NewPool(fmt.Sprintf("slots-%d", os.Getpid()), total, p.slotSize)
		if err != nil {
			return nil, fmt.Errorf("making the pool of shared memory for large payloads: %w", err)
		}
		r.pool = runtime.NewPool(mem, runtime.DefaultInline)
		for _, n := range needs {
			newBudget := r.pool.NewBudget
			if n.inWorker {
				newBudget = r.pool.NewWorkerBudget
			}
			b, err := newBudget(p.slotsFor(n))
			if err != nil {
				mem.Close()
				return nil, err
			}
			n.budget = b
		}
	}
	for _, n := range nodes {
		if n.conn != nil {
			n.conn.Account(r.pool, n.budget)
		}
		for _, pad := range n.runSources() {
			pad.(sourcePad).connect(r)
		}
	}
	for _, n := range p.nodes {
		if n.replicas != nil {
			n.rep = newReplication(n)
			n.merge.counted(n.rep)
		}
	}
	return r, nil
}

// window is the frames in flight on a link into n: its queue, and the frame
// it works on.
func (n *node) window() int { return n.queue + 1 }

// close releases what the run made. Slices of the slot pool that elements
// of this process kept beyond their frames' lifetimes are invalid from now
// on.
func (r *run) close() {
	if r.pool != nil {
		r.p.lastPool = poolReport{slots: r.pool.Mem().Count(), held: r.pool.Held()}
		r.pool.Mem().Close()
	}
}

// poolReport is what the tests see of a run's slot pool after it ended.
type poolReport struct {
	slots int // slots in the pool; 0 if there was none
	held  int // slots that frames still held when the run ended: a leak
}
