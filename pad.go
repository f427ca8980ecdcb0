package sgn

import (
	"context"
	"errors"
	"fmt"

	"github.com/sgn-go/sgn/runtime"
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
	name string
	kind string // "src" or "snk"
	node *node  // the element it belongs to, once inserted
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
	to    []*Sink[T]
	eos   bool // an EOS frame was sent
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

	ch      chan Frame[T] // frames from upstream; closed after its EOS frame
	done    chan struct{} // closed when the owning element has finished
	release func()        // set when a worker's pipe feeds ch: returns a credit
	eos     bool          // the EOS frame was received
}

// Link connects a source pad to a sink pad: frames sent on from arrive at
// to. It is SGN's link_map entry {to: from}. A source pad may feed any number
// of sink pads (each gets every frame); a sink pad has exactly one upstream.
// Pads of different frame types do not link: that is a compile error.
//
// Mistakes that only show when the whole pipeline is known, such as linking
// a sink pad twice, are reported by Pipeline.Check and Pipeline.Run.
func Link[T any](from *Source[T], to *Sink[T]) {
	switch {
	case to.from == nil:
		to.from = from
		from.to = append(from.to, to)
	case to.from != from:
		to.extra = append(to.extra, from)
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
func (p *Source[T]) Send(ctx *Context, f Frame[T]) error {
	if p.eos {
		return fmt.Errorf("%s: %w: Send after an EOS frame", p.FullName(), ErrEOS)
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	default:
	}
	for _, s := range p.to {
		select {
		case s.ch <- f:
			continue
		default:
		}
		select {
		case s.ch <- f:
		case <-s.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if f.EOS {
		p.closeLinks()
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

func (p *Source[T]) closeLinks() {
	p.eos = true
	for _, s := range p.to {
		close(s.ch)
	}
}

// Recv returns the next frame. After the frame that carries EOS it returns
// ErrEOS. It returns the context's cause if the pipeline is stopping.
func (p *Sink[T]) Recv(ctx *Context) (Frame[T], error) {
	if p.eos {
		return Frame[T]{}, fmt.Errorf("%s: %w", p.FullName(), ErrEOS)
	}
	select {
	case f, ok := <-p.ch:
		return p.took(f, ok)
	default:
	}
	select {
	case f, ok := <-p.ch:
		return p.took(f, ok)
	case <-ctx.Done():
		return Frame[T]{}, context.Cause(ctx)
	}
}

func (p *Sink[T]) took(f Frame[T], ok bool) (Frame[T], error) {
	if !ok { // only closed after the EOS frame, which set p.eos
		return f, fmt.Errorf("%s: %w", p.FullName(), ErrEOS)
	}
	if p.release != nil {
		p.release()
	}
	p.eos = f.EOS
	return f, nil
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
	outlet() runtime.Outlet
	inlet() runtime.Inlet
}

// sourcePad is a Source[T] with T erased.
type sourcePad interface {
	Pad
	downstream() []Pad
	finish(ctx *Context) error
	// attach links p to the pipe: what the element sends on p is queued,
	// up to capacity frames, for the returned outlet. A worker attaches each
	// of its element's source pads.
	attach(capacity int) runtime.Outlet
	// relay returns an inlet with a queue of capacity frames, and a function
	// that sends its frames on p until EOS. The parent relays a worker's
	// output to the worker's links this way.
	relay(capacity int) (runtime.Inlet, func(ctx *Context) error)
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
	p.ch = make(chan Frame[T], capacity)
	p.done = make(chan struct{})
	p.eos = false
}

func (p *Sink[T]) close() { close(p.done) }

func (p *Source[T]) downstream() []Pad {
	out := make([]Pad, len(p.to))
	for i, s := range p.to {
		out[i] = s
	}
	return out
}
