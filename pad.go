package sgn

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// A Pad is a named input or output of an element. Its full name is SGN's
// "element:src:name" for a source pad and "element:snk:name" for a sink pad.
type Pad interface {
	Name() string     // the pad's short name, from its field's sgn tag
	FullName() string // element:src:name or element:snk:name
	base() *padBase
}

// padBase is what every pad has, whatever its frame type.
type padBase struct {
	name  string
	kind  string // "src" or "snk"
	node  *node  // the element it belongs to, once inserted
	index int    // its place among the element's pads of its kind
}

func (p *padBase) Name() string { return p.name }

func (p *padBase) FullName() string {
	switch {
	case p.node != nil:
		return p.node.name + ":" + p.kind + ":" + p.name
	case p.name != "":
		return "(not inserted):" + p.kind + ":" + p.name
	}
	return "a pad of an element that is not inserted"
}

func (p *padBase) base() *padBase { return p }

// ErrEOS is returned by Sink.Recv once the pad's EOS frame has been received,
// and by Source.Send after an EOS frame was sent.
var ErrEOS = errors.New("sgn: pad is past EOS")

// A Source is a source pad: the element sends frames of type T through it.
// Declare it as a field of an element struct with an sgn tag that names it:
//
//	Out sgn.Source[int64] `sgn:"output"`
type Source[T any] struct {
	padBase
	codec Codec[T]
	to    []*Sink[T] // its links
	eos   bool       // an EOS frame was sent

	// Where its frames go in this process's run, set by connect: sink pads
	// of this process, and pads of connections to workers.
	local  []*Sink[T]
	remote []*runtime.Out
	scan   bool // its frames may hold slices of the slot pool, to be accounted for
	enc    encoding
	data   T // the data being encoded (see encode)

	// For Pipeline.Stats, atomic (not atomic.Int64: elements may be
	// copied before they run): frames sent, and their encoded bytes when
	// they went to another process.
	frames, bytes int64
}

// A Sink is a sink pad: the element receives frames of type T from it.
// Declare it as a field of an element struct with an sgn tag that names it:
//
//	In sgn.Sink[int64] `sgn:"input"`
type Sink[T any] struct {
	padBase
	codec Codec[T]
	from  *Source[T]
	extra []*Source[T] // further upstreams linked by mistake, reported by Check

	fromAt  string   // where Link linked from, file:line
	extraAt []string // where Link linked each of extra

	q       *queue[T]     // frames from upstream
	done    chan struct{} // closed when the owning element has finished
	_       cacheLine     // the fields below are the consumer's, written for every frame
	eos     bool          // the EOS frame was received
	cur     []uint32      // the slots of the frame the consumer is working on
	holding bool          // the consumer is working on a frame (from its last Recv)
	frames  int64         // frames received
	seen    int64         // for other goroutines (Pipeline.Stats): frames<<1, | 1 while holding; atomic, as elements may be copied before they run

	// Set when frames arrive from another process: pool releases the
	// slots of a frame the consumer is done with, and consumed gives its
	// credit back (urgently if it held slots, which the sender may be
	// waiting for); finished says the element will take no more frames.
	pool     *runtime.Pool
	consumed func(urgent bool)
	finished func()

	// arrived, if set, is told of each frame queued: the pad takes a
	// replica's output (see Replicas).
	arrived func()
}

// An item is a queued frame and the slots its data lies in, each of which
// holds a reference for it.
type item[T any] struct {
	f     Frame[T]
	slots []uint32
}

// Link connects a source pad to a sink pad: frames sent on from arrive at
// to. It is SGN's link_map entry {to: from}. A source pad may feed any number
// of sink pads (each gets every frame); a sink pad has exactly one upstream.
// Pads of different frame types do not link: that is a compile error.
//
// Mistakes that only show when the whole pipeline is known, such as linking
// a sink pad twice, are reported by Pipeline.Check and Pipeline.Run, at the
// line of the Link.
func Link[T any](from *Source[T], to *Sink[T]) {
	switch {
	case to.from == nil:
		to.from, to.fromAt = from, callerAt(0)
		from.to = append(from.to, to)
	case to.from != from:
		to.extra = append(to.extra, from)
		to.extraAt = append(to.extraAt, callerAt(0))
	}
}

// Init names the pad and gives it its codec. Generated code calls it; users
// do not.
func (p *Source[T]) Init(name string, c Codec[T]) Pad {
	p.name, p.kind, p.codec = name, "src", c
	return p
}

// Init names the pad and gives it its codec. Generated code calls it; users
// do not.
func (p *Sink[T]) Init(name string, c Codec[T]) Pad {
	p.name, p.kind, p.codec = name, "snk", c
	return p
}

// Send sends f to every sink pad linked to p, in order, waiting while a
// consumer's queue is full. A frame with EOS set is the pad's last: after
// it, Send returns ErrEOS. Frames for an element that has already finished
// are dropped.
//
// Once Send returns, the frame belongs to its consumers: its data may be
// theirs to change (in this process) or be travelling to another. Do not
// change it afterwards.
func (p *Source[T]) Send(ctx *Context, f Frame[T]) error {
	if p.eos {
		return fmt.Errorf("%s: %w: Send after an EOS frame", p.FullName(), ErrEOS)
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	default:
	}
	e := &p.enc
	if len(p.remote) > 0 || p.scan {
		if err := p.encode(ctx, &f); err != nil {
			return fmt.Errorf("%s: %w", p.FullName(), err)
		}
		defer e.sent(ctx)
		if len(ctx.allocs) > 0 {
			defer ctx.allocsSent(e.found)
		}
	}
	for _, s := range p.local {
		if err := s.put(ctx, item[T]{f, e.found}); err != nil {
			return err
		}
	}
	atomic.AddInt64(&p.frames, 1)
	if len(p.remote) > 0 {
		atomic.AddInt64(&p.bytes, int64(len(e.body)))
	}
	flags := frameFlags(&f)
	for _, o := range p.remote {
		if err := o.Send(ctx, flags, e.body, e.slots); err != nil {
			return err
		}
	}
	if f.EOS {
		p.eos = true
	}
	return nil
}

// finish sends an EOS frame, marked as a gap, if the element ended without
// sending one, so that downstream elements end too.
func (p *Source[T]) finish(ctx *Context) error {
	if p.eos {
		return nil
	}
	return p.Send(ctx, Frame[T]{EOS: true, Gap: true})
}

// put queues it, holding its slots for it, unless the element has
// finished, and waits while the queue is full.
func (p *Sink[T]) put(ctx *Context, it item[T]) error {
	if it.f.EOS && p.node.eosIn != nil {
		p.node.eosIn()
	}
	if err := p.pool.Hold(it.slots); err != nil {
		return fmt.Errorf("%s: %w", p.FullName(), err)
	}
	if !p.q.tryPut(it) {
		queued, err := p.q.putWait(ctx, p.done, it)
		if !queued {
			p.pool.Release(it.slots)
			return err
		}
	}
	if p.arrived != nil {
		p.arrived()
	}
	if len(it.slots) > 0 {
		select {
		case <-p.done: // finished meanwhile: nobody will take it
			p.drain()
		default:
		}
	}
	return nil
}

// Recv returns the next frame. After the frame that carries EOS it returns
// ErrEOS. It returns the context's cause if the pipeline is stopping.
//
// The frame is the element's until its next Recv (or, for Process and
// Consume, until the method returns): a slice in its data may be memory
// shared with another process, which is reused once the element is done
// with the frame. To keep data longer, copy it (slices.Clone).
func (p *Sink[T]) Recv(ctx *Context) (Frame[T], error) {
	p.doneWith(false)
	if p.eos {
		p.publish()
		return Frame[T]{}, fmt.Errorf("%s: %w", p.FullName(), ErrEOS)
	}
	select {
	case <-ctx.Done(): // a stopping pipeline does not drain
		p.publish()
		return Frame[T]{}, context.Cause(ctx)
	default:
	}
	it, ok := p.q.tryTake()
	if !ok {
		p.publish() // not holding while it waits
		var err error
		if it, err = p.q.takeWait(ctx); err != nil {
			return Frame[T]{}, err
		}
	}
	p.cur, p.holding = it.slots, true
	p.frames++
	p.publish()
	p.eos = it.f.EOS
	return it.f, nil
}

// publish shows other goroutines the frames received and whether the
// consumer holds one: one atomic store per frame for both.
func (p *Sink[T]) publish() {
	seen := p.frames << 1
	if p.holding {
		seen |= 1
	}
	atomic.StoreInt64(&p.seen, seen)
}

// doneWith releases the frame the consumer was working on, if any. It
// shows that at once if publish, or if the frame's credit goes back now
// (the sender may then fill the queue); otherwise Recv shows it with the
// next frame.
func (p *Sink[T]) doneWith(publish bool) {
	if !p.holding {
		return
	}
	p.holding = false
	if publish || p.consumed != nil {
		p.publish()
	}
	p.pool.Release(p.cur)
	if p.consumed != nil {
		p.consumed(len(p.cur) > 0)
	}
	p.cur = nil
}

func (p *Sink[T]) held() int {
	if p.q == nil {
		return 0
	}
	n := p.q.len()
	if atomic.LoadInt64(&p.seen)&1 != 0 {
		n++
	}
	return n
}

// AtEOS reports whether the pad has received its EOS frame.
func (p *Sink[T]) AtEOS() bool { return p.eos }

// The methods below let the pipeline and the runtime handle pads whatever
// their frame type.

// sinkPad is a Sink[T] with T erased.
type sinkPad interface {
	Pad
	upstream() (first Pad, extra []Pad)
	open(capacity int)
	close() // the owning element has finished
	// inlet makes the pad, of a worker's element, receive the frames of
	// its incoming pad on c, and give their credits back there.
	inlet(c *runtime.Conn, pool *runtime.Pool)
	// held returns the frames queued for the pad's element of this
	// process, and the one it works on.
	held() int
	// spread makes the splitter of n, a replicated element whose sink
	// pad this is, feeding to, its replicas' sink pads.
	spread(n *node, to []Pad) splitLoop
	// count returns the frames received.
	count() int64
}

// sourcePad is a Source[T] with T erased.
type sourcePad interface {
	Pad
	downstream() []Pad
	finish(ctx *Context) error
	// connect places the pad's links for a run of the main process.
	connect(r *run)
	// attach makes the pad, of a worker's element, send on c.
	attach(c *runtime.Conn)
	// hasSlices reports whether its frames can hold slices that may travel
	// in slots.
	hasSlices() bool
	// gather makes the merger of n, a replicated element whose source pad
	// this is, fed by from, its replicas' source pads.
	gather(n *node, from []Pad) mergeLoop
	// count returns the frames sent, and their bytes when encoded.
	count() (frames, bytes int64)
}

func (p *Sink[T]) upstream() (Pad, []Pad) {
	var extra []Pad
	for _, s := range p.extra {
		extra = append(extra, s)
	}
	if p.from == nil {
		return nil, extra
	}
	return p.from, extra
}

func (p *Sink[T]) open(capacity int) {
	p.q = newQueue[T](capacity)
	p.done = make(chan struct{})
	p.eos, p.cur, p.holding, p.frames = false, nil, false, 0
	atomic.StoreInt64(&p.seen, 0)
	p.pool, p.consumed, p.finished = nil, nil, nil
}

// close releases what the pad holds once its element has finished: the
// frame it was working on and the frames still queued.
func (p *Sink[T]) close() {
	close(p.done)
	p.doneWith(true)
	p.drain()
	if p.finished != nil {
		p.finished()
	}
}

// drain releases the frames left in the queue of a finished element.
func (p *Sink[T]) drain() {
	p.q.drainMu.Lock()
	defer p.q.drainMu.Unlock()
	for {
		it, ok := p.q.tryTake()
		if !ok {
			return
		}
		p.pool.Release(it.slots)
	}
}

func (p *Source[T]) downstream() []Pad {
	out := make([]Pad, len(p.to))
	for i, s := range p.to {
		out[i] = s
	}
	return out
}

// frameFlags returns f's flags as the runtime sends them.
func frameFlags[T any](f *Frame[T]) uint64 {
	var flags uint64
	if f.EOS {
		flags |= runtime.FlagEOS
	}
	if f.Gap {
		flags |= runtime.FlagGap
	}
	return flags
}

// A slotResolver resolves a frame's slot descriptors and remembers which
// slots they were in.
type slotResolver struct {
	pool  *runtime.Pool
	slots []uint32
}

func (r *slotResolver) Resolve(s wire.Slot) ([]byte, error) {
	b, err := r.pool.Resolve(s)
	if err == nil && !containsSlot(r.slots, s.Index) {
		r.slots = append(r.slots, s.Index)
	}
	return b, err
}

func containsSlot(s []uint32, i uint32) bool {
	for _, j := range s {
		if j == i {
			return true
		}
	}
	return false
}

func (p *Source[T]) hasSlices() bool { return hasSlices[T]() }

func (p *Sink[T]) count() int64 { return atomic.LoadInt64(&p.seen) >> 1 }

func (p *Source[T]) count() (int64, int64) {
	return atomic.LoadInt64(&p.frames), atomic.LoadInt64(&p.bytes)
}
