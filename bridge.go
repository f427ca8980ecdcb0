package sgn

import (
	"context"
	"fmt"
	"io"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// This file joins typed pads to the runtime's pipes. Across a process
// boundary a link has a sink pad's queue at each end: the sender's outlet
// reads one queue and encodes its frames; the receiver's inlet decodes them
// into the other.

// outlet reads a sink pad's queue and encodes each frame for the pipe.
type outlet[T any] struct {
	pad  *Sink[T]
	cur  Frame[T] // the frame Wait took
	meta []byte   // cur's metadata, encoded
}

func (p *Sink[T]) outlet() runtime.Outlet { return &outlet[T]{pad: p} }

// Wait takes the next frame from the queue (runtime.Outlet).
func (o *outlet[T]) Wait(ctx context.Context) error {
	select {
	case f, ok := <-o.pad.ch:
		return o.took(f, ok)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Poll takes the next frame if the queue has one (runtime.Outlet).
func (o *outlet[T]) Poll() (bool, error) {
	select {
	case f, ok := <-o.pad.ch:
		if err := o.took(f, ok); err != nil {
			return false, err
		}
		return true, nil
	default:
		return false, nil
	}
}

func (o *outlet[T]) took(f Frame[T], ok bool) error {
	if !ok {
		return io.EOF
	}
	meta, err := encodeMeta(f.Meta)
	if err != nil {
		return fmt.Errorf("%s: %w", o.pad.FullName(), err)
	}
	o.cur, o.meta = f, meta
	return nil
}

// AppendFrame encodes the frame Wait took (runtime.Outlet).
func (o *outlet[T]) AppendFrame(b []byte) ([]byte, bool) {
	b = o.pad.codec.appendFrame(b, &o.cur, o.meta)
	eos := o.cur.EOS
	o.cur = Frame[T]{}
	return b, eos
}

// inlet decodes frames from the pipe into a sink pad's queue.
type inlet[T any] struct {
	pad *Sink[T]
	dec wire.Decoder
	f   Frame[T] // the frame being decoded
}

func (p *Sink[T]) inlet() runtime.Inlet { return &inlet[T]{pad: p} }

// SetRelease sets the function the pad's Recv calls for each frame it takes
// (runtime.Inlet).
func (in *inlet[T]) SetRelease(release func()) { in.pad.release = release }

// Deliver decodes a frame into the queue (runtime.Inlet).
func (in *inlet[T]) Deliver(body []byte) error {
	if err := in.pad.codec.decodeFrame(&in.dec, body, &in.f); err != nil {
		return fmt.Errorf("%s: %w", in.pad.FullName(), err)
	}
	select {
	case in.pad.ch <- in.f:
		return nil
	default:
		return fmt.Errorf("%s: %w: frame beyond the credit window", in.pad.FullName(), runtime.ErrProtocol)
	}
}

func (p *Source[T]) attach(capacity int) runtime.Outlet {
	s := &Sink[T]{padBase: padBase{name: p.name, kind: "snk", node: p.node}, codec: p.codec}
	s.open(capacity)
	Link(p, s)
	return s.outlet()
}

func (p *Source[T]) relay(capacity int) (runtime.Inlet, func(*Context) error) {
	s := &Sink[T]{padBase: padBase{name: p.name, kind: "src", node: p.node}, codec: p.codec}
	s.open(capacity)
	return s.inlet(), func(ctx *Context) error {
		return RunTransform(ctx, s, p, func(_ *Context, f Frame[T]) (Frame[T], error) { return f, nil })
	}
}
