package sgn

import (
	"fmt"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// A Frame is one unit of data on a pad: SGN's Frame(data, EOS, is_gap,
// metadata).
//
// Frames are passed by value; Data is not copied, so a slice or map in it is
// shared by every consumer of an in-process link (as SGN shares its frame
// objects). A frame that crosses a process boundary is a copy, except for
// large byte and numeric slices, which travel in shared memory: the
// receiver's slice is the memory the sender filled (see Sink.Recv for how
// long it may be used).
type Frame[T any] struct {
	Data T
	EOS  bool           // the last frame on its pad
	Gap  bool           // Data holds no meaningful values for this span
	Meta map[string]any // optional metadata; must be CBOR-encodable to cross a process boundary
}

// Metadata that crosses a process boundary is decoded into these Go types:
// integers as int64, floats as float64, text as string, byte strings as
// []byte, arrays as []any and maps as map[string]any.

// A Codec encodes and decodes values of one frame or configuration type as
// CBOR. sgngen generates one for every type that a pad carries; users do not
// write them.
type Codec[T any] struct {
	Encode func(w *wire.Encoder, v *T)
	Decode func(d *wire.Decoder, v *T)
}

// encoding is a source pad's encoder, reused from frame to frame: the body
// of the frame being sent (its data, then its metadata if any) and the slots
// its slices travel in.
type encoding struct {
	w      wire.Encoder
	buf    []byte
	body   []byte
	slots  []wire.Slot // the descriptors in body
	found  []uint32    // slots the frame's data lay in already; a new slice per frame, as queued frames keep it
	placed []wire.Slot // slots its data was copied into, which its receivers own once it is sent
	placer placer
}

// encode encodes f for p's remote destinations, putting large slices in
// slots of ctx's pool (copying them into the element's slots if they are
// not there yet), or, if p has none, only finds the slots f's data lies
// in.
func (p *Source[T]) encode(ctx *Context, f *Frame[T]) error {
	e := &p.enc
	e.slots, e.found, e.placed = e.slots[:0], nil, e.placed[:0]
	var pl wire.Placer
	if ctx.pool != nil {
		e.placer = placer{ctx: ctx, e: e, copy: len(p.remote) > 0}
		pl = &e.placer
	}
	if len(p.remote) == 0 {
		// Only this process's sink pads: nothing to encode, only the slots
		// the frame's slices lie in to find.
		e.w.Scan(pl)
		p.data = f.Data
		p.codec.Encode(&e.w, &p.data)
		var zero T
		p.data = zero
		return e.w.Err()
	}
	e.w.Reset(e.buf[:0], pl)
	// The codec is a function value, whose arguments escape: encoding a
	// copy kept in the pad keeps the frame itself off the heap.
	p.data = f.Data
	p.codec.Encode(&e.w, &p.data)
	var zero T
	p.data = zero
	b := e.w.Buf()
	if err := e.w.Err(); err != nil {
		e.unplace(ctx)
		return err
	}
	meta, err := runtime.EncodeMeta(f.Meta)
	if err != nil {
		e.unplace(ctx)
		return err
	}
	e.buf = append(b, meta...)
	e.body = e.buf
	return nil
}

// sent ends the sending of a frame: the slots it was copied into now
// belong to its receivers.
func (e *encoding) sent(ctx *Context) {
	for _, s := range e.placed {
		ctx.pool.Release([]uint32{s.Index}) // the placer's reference; in a worker, the main process keeps the accounts
	}
	e.placed = e.placed[:0]
	e.found, e.body = nil, nil
	if cap(e.buf) > keepEncoded {
		e.buf = nil // grown for an outsized frame: give it back
	}
}

// keepEncoded is the largest encoding buffer a source pad keeps from one
// frame to the next.
const keepEncoded = 4 << 20

// unplace gives back the slots a frame that will not be sent was copied
// into.
func (e *encoding) unplace(ctx *Context) {
	for _, s := range e.placed {
		ctx.budget.Give(s)
	}
	e.placed, e.found, e.body = e.placed[:0], nil, nil
}

// A placer decides, for the encoder, where the slices of one frame travel
// (wire.Placer).
type placer struct {
	ctx  *Context
	e    *encoding
	copy bool // copy slices that are not in the pool yet into the element's slots
}

func (pl *placer) Place(mem []byte) (wire.Slot, bool, error) {
	var budget *runtime.Budget
	if pl.copy {
		budget = pl.ctx.budget
	}
	s, placed, ok := pl.ctx.pool.Place(mem, budget)
	if !ok {
		return s, false, nil
	}
	e := pl.e
	e.slots = append(e.slots, s)
	switch {
	case placed:
		e.placed = append(e.placed, s)
	case !containsSlot(e.found, s.Index):
		e.found = append(e.found, s.Index)
	}
	return s, true, nil
}

// decodeFrame decodes a frame's body into f, with d, which it resets (and
// leaves holding nothing, so that the message's buffer can go). Slot
// descriptors are resolved with res, in a frame whose flags say it holds
// some; anywhere else they are an error.
func (c *Codec[T]) decodeFrame(d *wire.Decoder, res wire.Resolver, flags uint64, body []byte, f *Frame[T]) error {
	*f = Frame[T]{EOS: flags&runtime.FlagEOS != 0, Gap: flags&runtime.FlagGap != 0}
	d.Reset(body)
	if flags&runtime.FlagSlots == 0 {
		res = nil
	}
	d.SetResolver(res)
	defer d.Reset(nil)
	c.Decode(d, &f.Data)
	if err := d.Err(); err != nil {
		return fmt.Errorf("decoding frame: %w", err)
	}
	if d.Len() == 0 {
		return nil
	}
	meta, err := runtime.DecodeMeta(d.Raw())
	if err == nil && d.Len() > 0 {
		err = fmt.Errorf("decoding frame: %d bytes left over", d.Len())
	}
	f.Meta = meta
	return err
}
