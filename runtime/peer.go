package runtime

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/sgn-go/sgn/wire"
)

// An Outlet is a pad whose frames this process sends over the pipe: in the
// parent, a worker element's sink pad; in the worker, its source pad.
type Outlet interface {
	// Wait blocks until the pad has a frame to send. It returns io.EOF if
	// the pad will never have one (its upstream ended without EOS), or the
	// context's error.
	Wait(ctx context.Context) error
	// Poll makes the next frame ready, as Wait does, if one is there now;
	// it never blocks, and reports false if there is none.
	Poll() (bool, error)
	// AppendFrame appends the frame that Wait made ready, as a CBOR
	// sequence of flags, data and, if present, metadata. It reports whether
	// the frame carried EOS. It must not block.
	AppendFrame(b []byte) (out []byte, eos bool)
}

// An Inlet is a pad whose frames arrive over the pipe: in the parent, a
// worker element's source pad; in the worker, its sink pad.
type Inlet interface {
	// SetRelease is called once, before any Deliver, with the function the
	// pad's consumer must call each time it takes a frame from the queue,
	// so that the sender gets its credit back.
	SetRelease(release func())
	// Deliver decodes one frame (the CBOR sequence an Outlet appended) and
	// queues it. It must not block: the sender held a credit for the frame,
	// so a queue of Window frames always has room. frame is only valid
	// during the call.
	Deliver(frame []byte) error
}

// peer is the half of a connection that both sides share: a reader, a
// batching writer, credits for the outlets and credit accounting for the
// inlets.
type peer struct {
	r       *reader
	w       *writer
	outlets []Outlet
	inlets  []Inlet
	credits []*credit      // per outlet: frames it may still send
	owed    []atomic.Int64 // per inlet: frames consumed but not yet credited back
	batch   int64          // credits are returned in batches of this many
	dec     wire.Decoder   // the reader goroutine's
}

func newPeer(r *reader, w *writer, outlets []Outlet, inlets []Inlet, window int) *peer {
	p := &peer{
		r:       r,
		w:       w,
		outlets: outlets,
		inlets:  inlets,
		credits: make([]*credit, len(outlets)),
		owed:    make([]atomic.Int64, len(inlets)),
		batch:   int64(max(1, window/2)),
	}
	for i := range p.credits {
		p.credits[i] = &credit{more: make(chan struct{}, 1)}
		p.credits[i].add(window)
	}
	for i, in := range inlets {
		in.SetRelease(func() { p.consumed(i) })
	}
	return p
}

// consumed records that inlet i's consumer took a frame, and returns
// credits to the sender once a batch of them is owed.
func (p *peer) consumed(i int) {
	if p.owed[i].Add(1) < p.batch {
		return
	}
	n := p.owed[i].Swap(0)
	if n == 0 {
		return
	}
	b, err := p.w.begin(msgCredit)
	if err != nil {
		return // the connection is going away; nobody waits for credits
	}
	b = wire.AppendUint(b, uint64(i))
	b = wire.AppendUint(b, uint64(n))
	p.w.end(b)
}

// maxBatch bounds how many frames a pump appends under one lock of the
// writer.
const maxBatch = 256

// pump sends outlet i's frames until it has sent EOS. Frames that are ready
// together are appended under one lock of the writer. An error of the
// outlet's own (not io.EOF, not the context's) comes back as an
// *outletError; any other error is the writer's: the pipe is gone.
func (p *peer) pump(ctx context.Context, i int) error {
	o, c := p.outlets[i], p.credits[i]
	for {
		if err := o.Wait(ctx); err != nil {
			if err != io.EOF && ctx.Err() == nil {
				return &outletError{Err: err}
			}
			return err
		}
		if err := c.take(ctx); err != nil {
			return err
		}
		b, err := p.w.begin(msgFrame)
		if err != nil {
			return err
		}
		eos, err := p.appendReady(b, i)
		if err != nil || eos {
			return err
		}
	}
}

// appendReady appends the frame Wait made ready and then, while credits
// last, every frame outlet i has ready now; it ends the writer's lock.
func (p *peer) appendReady(b []byte, i int) (eos bool, err error) {
	o, c := p.outlets[i], p.credits[i]
	for n := 1; ; n++ {
		b = wire.AppendUint(b, uint64(i))
		b, eos = o.AppendFrame(b)
		if eos || n == maxBatch || !c.tryTake() {
			return eos, p.w.end(b)
		}
		ready, err := o.Poll()
		if err != nil || !ready {
			c.add(1) // the credit taken above is not used
			endErr := p.w.end(b)
			if err == io.EOF {
				return false, err
			}
			if err != nil {
				return false, &outletError{Err: err}
			}
			return false, endErr
		}
		if b, err = p.w.next(b, msgFrame); err != nil {
			p.w.end(b)
			return false, err
		}
	}
}

// handleData handles the messages both sides receive: frames and credits.
// It reports false for any other type, for the caller to handle.
func (p *peer) handleData(typ byte, body []byte) (bool, error) {
	switch typ {
	case msgFrame:
		d := &p.dec
		d.Reset(body)
		i := d.Uint(32)
		if d.Err() != nil || i >= uint64(len(p.inlets)) {
			return true, fmt.Errorf("%w: frame for pad %d of %d: %v", ErrProtocol, i, len(p.inlets), d.Err())
		}
		return true, p.inlets[i].Deliver(body[d.Offset():])
	case msgCredit:
		d := &p.dec
		d.Reset(body)
		i, n := d.Uint(32), d.Uint(32)
		if d.Err() != nil || i >= uint64(len(p.credits)) {
			return true, fmt.Errorf("%w: credit for pad %d of %d: %v", ErrProtocol, i, len(p.credits), d.Err())
		}
		p.credits[i].add(int(n))
		return true, nil
	}
	return false, nil
}

// An outletError is a frame that could not be sent because of the frame
// itself (its metadata does not encode, say), not because of the pipe.
type outletError struct{ Err error }

func (e *outletError) Error() string { return e.Err.Error() }
func (e *outletError) Unwrap() error { return e.Err }

// credit counts the frames an outlet may still send. Only the outlet's pump
// takes credits; the reader adds them.
type credit struct {
	n    atomic.Int64
	more chan struct{} // capacity 1: n may have grown
}

// tryTake takes a credit if one is left.
func (c *credit) tryTake() bool {
	for {
		v := c.n.Load()
		if v <= 0 {
			return false
		}
		if c.n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// take waits for a credit and takes it.
func (c *credit) take(ctx context.Context) error {
	for !c.tryTake() {
		select {
		case <-c.more:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

func (c *credit) add(n int) {
	c.n.Add(int64(n))
	select {
	case c.more <- struct{}{}:
	default:
	}
}
