package runtime

import (
	"context"
	"fmt"
	"io"
	"sync"
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
		p.credits[i] = &credit{n: window, more: make(chan struct{}, 1)}
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

// pump sends outlet i's frames until it has sent EOS. An error of the
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
		b = wire.AppendUint(b, uint64(i))
		b, eos := o.AppendFrame(b)
		if err := p.w.end(b); err != nil {
			return err
		}
		if eos {
			return nil
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

// credit counts the frames an outlet may still send.
type credit struct {
	mu   sync.Mutex
	n    int
	more chan struct{} // capacity 1: n may have grown
}

func (c *credit) take(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.n > 0 {
			c.n--
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *credit) add(n int) {
	c.mu.Lock()
	c.n += n
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}
