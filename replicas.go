package sgn

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sgn-go/sgn/wire"
)

// Replicas runs the element as n replicas, placed by where: in this
// process (goroutines) without a placement, each in a worker process of
// its own with InWorker, each in a worker on another host with Remote.
// Giving Replicas more than once adds replicas with other placements:
// Replicas(2), Replicas(2, InWorker()) is four replicas, two in this
// process and two in workers; Replicas(2, Remote(l)), Replicas(1,
// InWorker()) is three, two on other hosts and one in a worker here.
//
//	p.Insert("square", &Square{}, sgn.Replicas(4, sgn.InWorker()))
//	p.Insert("square", &Square{}, sgn.Replicas(4, sgn.Remote(l)))
//
// Only an element whose work is per frame, a transform with Process (one
// output frame for each input frame), can be replicated; Check refuses
// others, and a count below one. Each replica is a new value of the
// element's type, given the element's configuration (its exported fields
// that are not pads) as a worker is: the value given to Insert does not run.
//
// Frames are spread by credit: each goes to the replica with the fewest
// frames in hand among those with room (a link's worth, see Queue), so a
// slow replica gets fewer. The element's output keeps its input's order
// exactly, whatever the replicas' speeds. After the last input frame,
// every replica gets EOS: the one that takes the last frame gets it with
// that frame, the others an empty EOS frame (a gap), whose output is
// dropped; the element's output ends with one EOS frame, the output of the
// last input frame. A Process that sets EOS on its output ends the
// element's stream there, as it would without replicas: the outputs of
// later input frames, which other replicas may have made, are dropped.
//
// The element's frames pass through this process, which spreads them and
// puts their outputs back in order; large slices stay in shared memory on
// the way, and are not copied (a replica on another host gets them in its
// messages, as any element there does; and a pipeline that shares
// segments can have none there). Each replica is supervised as any element
// is: one that fails fails the run, with an ElementError whose Element
// names the replica, "square[2]" (replicas are numbered from 0 in the
// order they were given), and Restart, with workers (here or on other
// hosts), restarts a replica without losing or repeating an output. Status, Stats and Progress show
// the element once, as inserted, with its replicas under it; DOT and
// Mermaid draw one box that counts them.
//
// Options other than a placement are given to Insert: Queue sizes the
// element's input and each replica's, Restart restarts each replica on its
// own, DrainTimeout is the element's as a whole, and counts the frames
// given to replicas among those it held.
func Replicas(n int, where ...ElementOption) ElementOption {
	return func(nd *node) { nd.groups = append(nd.groups, replicaGroup{n: n, where: where}) }
}

// A replicaGroup is one Replicas option: n replicas placed alike.
type replicaGroup struct {
	n     int
	where []ElementOption
}

// placementOnly reports whether the options only place an element: they
// change nothing else a node has.
func placementOnly(where []ElementOption) bool {
	probe := &node{queue: -1}
	for _, o := range where {
		o(probe)
	}
	return probe.queue == -1 && probe.restart == nil && probe.drain == nil && probe.groups == nil
}

// replicaMistakes returns what is wrong with n's Replicas options, if
// anything, for Check.
func (n *node) replicaMistakes(p *Pipeline) []string {
	if len(n.groups) == 0 {
		return nil
	}
	var bad []string
	if n.spec.Method != "Process" || len(n.spec.Sinks) != 1 || len(n.spec.Sources) != 1 {
		method := n.spec.Method
		if method == "" {
			method = "no method"
		}
		bad = append(bad, fmt.Sprintf("Replicas needs a transform whose work is per frame (Process: one sink pad, one source pad); %s has %s", n.spec.Type, method))
	}
	if reflect.TypeOf(n.elem).Kind() != reflect.Pointer {
		bad = append(bad, fmt.Sprintf("Replicas makes new values of the element's type, and %s is not a pointer type", reflect.TypeOf(n.elem)))
	}
	for _, g := range n.groups {
		if g.n < 1 {
			bad = append(bad, fmt.Sprintf("Replicas(%d): give at least one replica", g.n))
		}
		if !placementOnly(g.where) {
			bad = append(bad, fmt.Sprintf("Replicas(%d, ...): only a placement (InWorker or Remote) goes in Replicas; give Queue, Restart and the other options to Insert", g.n))
		}
	}
	switch {
	case n.remote != nil:
		bad = append(bad, "Remote places the element itself, but its replicas run where Replicas says: Replicas(n, Remote(l))")
	case n.inWorker:
		bad = append(bad, "InWorker places the element itself, but its replicas run where Replicas says: Replicas(n, InWorker())")
	}
	if n.restart != nil {
		for _, r := range n.replicas {
			if !r.inWorker {
				bad = append(bad, fmt.Sprintf("Restart is for elements in workers, and replica %s runs in this process; place every replica in a worker, or drop Restart", r.name))
				break
			}
		}
	}
	for _, r := range n.replicas {
		if other := p.byName[r.name]; other != nil {
			bad = append(bad, fmt.Sprintf("%s is the name of a replica, and of an element inserted at %s; rename that element", r.name, other.at))
		}
	}
	return bad
}

// makeReplicas makes n's replica nodes, if its Replicas options are sound
// (Check reports them otherwise), and the pads of this process that feed
// them and take their output.
func (n *node) makeReplicas() {
	if len(n.groups) == 0 || n.spec.Method != "Process" || len(n.spec.Sinks) != 1 || len(n.spec.Sources) != 1 {
		return
	}
	t := reflect.TypeOf(n.elem)
	if t.Kind() != reflect.Pointer {
		return
	}
	for _, g := range n.groups {
		if g.n < 1 || !placementOnly(g.where) {
			return
		}
	}
	var sinks, sources []Pad
	for _, g := range n.groups {
		for range g.n {
			e := reflect.New(t.Elem()).Interface().(Element) // *T, as n.elem is
			r := &node{name: fmt.Sprintf("%s[%d]", n.name, len(n.replicas)), at: n.at, elem: e, spec: e.SGNElement(),
				queue: n.queue, restart: n.restart, parent: n}
			for _, o := range g.where {
				o(r)
			}
			for i, pad := range r.spec.Sinks {
				pad.base().node, pad.base().index = r, i
			}
			for i, pad := range r.spec.Sources {
				pad.base().node, pad.base().index = r, i
			}
			n.replicas = append(n.replicas, r)
			sinks = append(sinks, r.spec.Sinks[0])
			sources = append(sources, r.spec.Sources[0])
		}
	}
	n.split = n.spec.Sinks[0].(sinkPad).spread(n, sinks)
	n.merge = n.spec.Sources[0].(sourcePad).gather(n, sources)
}

// passedOn returns, for a replica, how many of its outputs may wait
// beyond the merger, which passes them on as they are (in their slots) to
// the element's consumers: the largest of their windows. Its slots must
// last for those too, as well as for the outputs queued for the merger.
// It returns 0 for a node that is not a replica.
func (n *node) passedOn() int {
	if n.parent == nil {
		return 0
	}
	w := 0
	for _, pad := range n.parent.spec.Sources {
		for _, to := range pad.(sourcePad).downstream() {
			w = max(w, to.base().node.window())
		}
	}
	return w
}

// configureReplicas gives each replica the element's configuration, as it
// is when the run starts, as a worker is given it.
func (n *node) configureReplicas() error {
	if n.spec.EncodeConfig == nil || n.spec.DecodeConfig == nil {
		return nil
	}
	w := wire.NewEncoder(nil, nil)
	n.spec.EncodeConfig(w)
	for _, r := range n.replicas {
		d := wire.NewDecoder(w.Buf())
		r.spec.DecodeConfig(d)
		if err := d.Err(); err != nil {
			return fmt.Errorf("%s: configuring %s: %w", n.name, r.name, err)
		}
	}
	return nil
}

// replicaSummary counts n's replicas by where they run, as DOT and
// Mermaid say it: "3 replicas: 2 on other hosts, 1 in this process",
// "2 replicas in worker processes"; "" if n is not replicated.
func (n *node) replicaSummary() string {
	if len(n.replicas) == 0 {
		return ""
	}
	var remote, workers, here int
	for _, r := range n.replicas {
		switch {
		case r.remote != nil:
			remote++
		case r.inWorker:
			workers++
		default:
			here++
		}
	}
	var where []string
	for _, c := range []struct {
		k           int
		one, places string
	}{
		{remote, "on another host", "on other hosts"},
		{workers, "in a worker process", "in worker processes"},
		{here, "in this process", "in this process"},
	} {
		switch {
		case c.k == 1:
			where = append(where, "1 "+c.one)
		case c.k > 1:
			where = append(where, fmt.Sprintf("%d %s", c.k, c.places))
		}
	}
	total := fmt.Sprintf("%d replica%s", len(n.replicas), plural(len(n.replicas)))
	if len(where) == 1 {
		_, place, _ := strings.Cut(where[0], " ") // "2 on ..." → "on ..."
		return total + " " + place
	}
	return total + ": " + strings.Join(where, ", ")
}

// runNodes returns what runs when p runs: its elements, each followed by
// its replicas, if it has some.
func (p *Pipeline) runNodes() []*node {
	var out []*node
	for _, n := range p.nodes {
		out = append(out, n)
		out = append(out, n.replicas...)
	}
	return out
}

// runSinks returns n's sink pads for a run: the element's, and, for a
// replicated element, those that take its replicas' output.
func (n *node) runSinks() []Pad {
	if n.merge == nil {
		return n.spec.Sinks
	}
	return append(n.spec.Sinks[:len(n.spec.Sinks):len(n.spec.Sinks)], n.merge.pads()...)
}

// runSources returns n's source pads for a run: the element's, and, for a
// replicated element, those that feed its replicas.
func (n *node) runSources() []Pad {
	if n.split == nil {
		return n.spec.Sources
	}
	return append(n.spec.Sources[:len(n.spec.Sources):len(n.spec.Sources)], n.split.pads()...)
}

// A splitLoop spreads a replicated element's input over its replicas; its
// frame type is the element's sink pad's.
type splitLoop interface {
	pads() []Pad // the source pads that feed the replicas, in order
	run(ctx *Context, r *replication, ended func() bool, last *Context) error
}

// A mergeLoop puts the replicas' output back in order on the element's
// source pad.
type mergeLoop interface {
	pads() []Pad // the sink pads that take the replicas' output, in order
	run(ctx *Context, r *replication, endEarly func()) error
	// counted makes each of its sink pads tell r of the frames that
	// arrive on it.
	counted(r *replication)
}

// spread makes a source pad for each of the replicas' sink pads, which
// are Sink[T]s too, linked to it and owned by n.
func (p *Sink[T]) spread(n *node, to []Pad) splitLoop {
	s := &splitter[T]{in: p}
	for k, pad := range to {
		out := &Source[T]{}
		out.Init("to "+n.replicas[k].name, p.codec)
		out.node, out.index = n, len(n.spec.Sources)+k
		Link(out, pad.(*Sink[T]))
		s.outs = append(s.outs, out)
	}
	return s
}

// gather makes a sink pad for each of the replicas' source pads, which
// are Source[T]s too, linked from it and owned by n.
func (p *Source[T]) gather(n *node, from []Pad) mergeLoop {
	m := &merger[T]{out: p}
	for k, pad := range from {
		in := &Sink[T]{}
		in.Init("from "+n.replicas[k].name, p.codec)
		in.node, in.index = n, len(n.spec.Sinks)+k
		Link(pad.(*Source[T]), in)
		m.ins = append(m.ins, in)
	}
	return m
}

// A replication is the state a replicated element's splitter and merger
// share during a run: how many frames each replica has in hand, and the
// order in which they were given out.
//
// A replica has in hand the frames sent to it whose output has not
// arrived in this process yet: those queued for it and the one it works
// on. The splitter gives a frame to the replica with the fewest, among
// those with room: fewer than their window (what the link into them
// holds), and not waiting to be restarted (a frame for it would wait as
// long). When none has room, it waits until one is down to its low mark,
// an eighth of its window below it, and then fills it up again, frame
// after frame, as long as it has the fewest: frames go out in bursts,
// which cross a pipe in one write, rather than one by one as outputs come
// back. The order queue says, for each frame in the element's input
// order, which replica has it; the merger takes that replica's next
// output.
//
// Credit is counted from the splitter to the arrival of the output in
// this process, not with the links' own credits: a replica has room or
// not in the same way whatever carries its frames, and one whose outputs
// wait in this process for a slower one's still gets frames.
type replication struct {
	window  []int64        // per replica: frames it may have in hand
	low     []int64        // per replica: its low mark
	sent    []atomic.Int64 // per replica: frames sent to it, by the splitter
	arrived []atomic.Int64 // per replica: its outputs that arrived
	status  []*status      // per replica: its state
	next    int            // where the splitter's search starts: the one after the last chosen
	last    int            // the replica the splitter is filling, if it has room; -1: none

	waiting atomic.Bool   // the splitter waits for room
	room    chan struct{} // capacity 1: wakes it
	order   *queue[int]   // the replica of each frame in flight, in order; EOS marks the last
}

func newReplication(n *node) *replication {
	r := &replication{
		window:  make([]int64, len(n.replicas)),
		low:     make([]int64, len(n.replicas)),
		sent:    make([]atomic.Int64, len(n.replicas)),
		arrived: make([]atomic.Int64, len(n.replicas)),
		last:    -1,
		room:    make(chan struct{}, 1),
	}
	bound := 0
	for k, rep := range n.replicas {
		r.status = append(r.status, &rep.status)
		r.window[k] = int64(rep.window())
		r.low[k] = r.window[k] - max(1, r.window[k]/8)
		// In flight for a replica: what it has in hand, and its outputs
		// queued for the merger.
		bound += rep.window() + n.window()
	}
	r.order = newQueue[int](bound)
	return r
}

// arrive records that an output of replica k arrived, and wakes the
// splitter if it waits and the replica is down to its low mark.
func (r *replication) arrive(k int) {
	a := r.arrived[k].Add(1)
	if r.waiting.Load() && r.sent[k].Load()-a <= r.low[k] {
		wake(r.room)
	}
}

// changed wakes the splitter, if it waits, after a replica's state
// changed: one that is back from a restart may have room.
func (r *replication) changed() {
	if r.waiting.Load() {
		wake(r.room)
	}
}

// pick returns the replica with the fewest frames in hand among those
// with room (the one it fills, or one down to its low mark), and counts a
// frame sent to it; -1 if none has room.
func (r *replication) pick() int {
	best, fewest := -1, int64(0)
	for i := range r.sent {
		k := (r.next + i) % len(r.sent)
		inHand := r.sent[k].Load() - r.arrived[k].Load()
		if inHand >= r.window[k] || k != r.last && inHand > r.low[k] || State(r.status[k].state.Load()) == StateRestarting {
			continue
		}
		if best < 0 || inHand < fewest {
			best, fewest = k, inHand
		}
	}
	if best >= 0 {
		r.sent[best].Add(1)
		r.next = (best + 1) % len(r.sent)
		r.last = best
	}
	return best
}

// choose picks a replica for the next frame, waiting until one has room.
func (r *replication) choose(ctx context.Context) (int, error) {
	for {
		if k := r.pick(); k >= 0 {
			return k, nil
		}
		r.last = -1 // all full: wait for one to be down to its low mark
		r.waiting.Store(true)
		if k := r.pick(); k >= 0 {
			r.waiting.Store(false)
			return k, nil
		}
		select {
		case <-r.room:
		case <-ctx.Done():
			r.waiting.Store(false)
			return -1, context.Cause(ctx)
		}
		r.waiting.Store(false)
	}
}

// held returns the frames given out and not yet merged.
func (r *replication) held() int { return r.order.len() }

// splitter spreads the frames of a replicated element's sink pad over its
// replicas.
type splitter[T any] struct {
	in   *Sink[T]
	outs []*Source[T]
}

func (s *splitter[T]) pads() []Pad {
	out := make([]Pad, len(s.outs))
	for i, o := range s.outs {
		out[i] = o
	}
	return out
}

// run gives each input frame to a replica, noting which in the order
// queue before it sends it, until the EOS frame, and then sends EOS to
// the other replicas. If ended reports true once ctx is done, the merger
// has ended the element early: every replica is sent EOS, with last, a
// context that lives on.
func (s *splitter[T]) run(ctx *Context, r *replication, ended func() bool, last *Context) error {
	fail := func(err error) error {
		if ended() {
			return s.endAll(last, -1)
		}
		return err
	}
	for {
		f, err := s.in.Recv(ctx)
		if err != nil {
			return fail(err)
		}
		k, err := r.choose(ctx)
		if err != nil {
			return fail(err)
		}
		it := item[int]{f: Frame[int]{Data: k, EOS: f.EOS}}
		if !r.order.tryPut(it) {
			if _, err := r.order.putWait(ctx, nil, it); err != nil {
				return fail(err)
			}
		}
		if err := s.outs[k].Send(ctx, f); err != nil {
			return fail(err)
		}
		s.in.doneWith(false) // its slots are held by the link now
		if f.EOS {
			if err := s.endAll(ctx, k); err != nil {
				return fail(err) // the merger may have ended the element meanwhile
			}
			return nil
		}
	}
}

// endAll sends an empty EOS frame to every replica but the one numbered
// except.
func (s *splitter[T]) endAll(ctx *Context, except int) error {
	for k, o := range s.outs {
		if k != except && !o.eos {
			if err := o.Send(ctx, Frame[T]{EOS: true, Gap: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// merger puts the outputs of a replicated element's replicas back in the
// order of their inputs, on the element's source pad.
type merger[T any] struct {
	ins []*Sink[T]
	out *Source[T]
}

func (m *merger[T]) pads() []Pad {
	out := make([]Pad, len(m.ins))
	for i, in := range m.ins {
		out[i] = in
	}
	return out
}

func (m *merger[T]) counted(r *replication) {
	for k, in := range m.ins {
		in.arrived = func() { r.arrive(k) }
	}
}

// run takes, for each entry of the order queue, the next output of its
// replica and sends it on, until the output of the last input frame; then
// it takes the others' EOS. An output with EOS before the last input
// frame's ends the element there: endEarly tells the splitter, and what
// the replicas still send is dropped.
func (m *merger[T]) run(ctx *Context, r *replication, endEarly func()) error {
	for {
		it, ok := r.order.tryTake()
		if !ok {
			var err error
			if it, err = r.order.takeWait(ctx); err != nil {
				return err
			}
		}
		k, last := it.f.Data, it.f.EOS
		f, err := m.ins[k].Recv(ctx)
		if err != nil {
			return err
		}
		early := f.EOS && !last
		if early {
			endEarly()
		}
		f.EOS = f.EOS || last
		err = m.out.Send(ctx, f)
		m.ins[k].doneWith(false)
		if err != nil {
			return err
		}
		if f.EOS {
			return m.drain(ctx)
		}
	}
}

// drain takes and drops what the replicas still send, until each has sent
// EOS.
func (m *merger[T]) drain(ctx *Context) error {
	for _, in := range m.ins {
		for !in.eos {
			if _, err := in.Recv(ctx); err != nil {
				return err
			}
		}
		in.doneWith(false)
	}
	return nil
}

// runReplicated runs a replicated element's part in this process: its
// splitter and its merger; its replicas run as elements of their own.
func (r *run) runReplicated(ctx *Context, n *node) error {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sctx, endSplit := context.WithCancelCause(rctx)
	defer endSplit(nil)
	var early atomic.Bool
	ended := func() bool { return early.Load() && rctx.Err() == nil }
	endEarly := func() {
		early.Store(true)
		endSplit(errEndedEarly)
	}
	sub := func(c context.Context) *Context {
		return &Context{Context: c, element: n.name, eos: ctx.eos, segments: ctx.segments, pool: ctx.pool, budget: ctx.budget}
	}
	var (
		wg       sync.WaitGroup
		splitErr error
	)
	wg.Go(func() {
		splitErr = n.split.run(sub(sctx), n.rep, ended, sub(rctx))
		if splitErr != nil {
			cancel(splitErr)
		}
	})
	mergeErr := n.merge.run(sub(rctx), n.rep, endEarly)
	if mergeErr != nil {
		cancel(mergeErr)
	}
	wg.Wait()
	// The first to fail is the cause; the other ended because of it.
	if err := context.Cause(rctx); err != nil && !errors.Is(err, context.Canceled) {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	return errors.Join(splitErr, mergeErr)
}

// errEndedEarly stops the splitter of an element whose output has ended.
var errEndedEarly = errors.New("the element's output has ended")
