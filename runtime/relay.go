package runtime

import (
	"sync"
	"sync/atomic"

	"github.com/sgn-go/sgn/wire"
)

// A Relay passes on, in the main process, the frames of one source pad of
// a worker's element: as they are (no decoding) to the sink pads of other
// workers' elements, and, decoded once by its local In, to sink pads of
// elements in the main process. It is the In of that pad on the worker's
// Conn.
//
// The worker's credits for the pad are the relay's to give back: a frame
// is credited once every destination has consumed it, so the pad's window
// bounds the frames in flight on the whole path, and no destination's
// queue can overflow however the others lag. A destination that has
// finished counts as having consumed everything.
type Relay struct {
	src   *Conn // the worker's Conn
	pad   int   // the source pad's number on it
	local Local // decodes for the main process's sink pads; nil if there are none
	dests []*Out

	mu       sync.Mutex
	done     []int64 // per destination: frames it is done with; finished ones are left out of the count
	finished []bool
	received int64 // frames the worker sent
	returned int64 // frames credited back to the worker

	// For a worker that is restarted (see RestartPolicy): answered is the
	// Out whose kept frames each frame of this relay answers; skip is how
	// many of its next frames repeat what a predecessor sent.
	answered *Out
	skip     int64

	frames, bytes atomic.Int64 // passed on, for statistics
}

// A Local takes a relay's frames for the sink pads of the main process:
// it decodes one (body is only valid during the call) and queues it for
// each. Every queued copy holds a reference to each of slots, the frame's
// slots (see Pool.Hold), until its consumer is done with it. It must not
// block.
type Local func(flags uint64, body []byte, slots []uint32) error

// NewRelay returns the relay of pad i of the worker at the other end of
// src, and makes it that pad's In.
func NewRelay(src *Conn, i int) *Relay {
	r := &Relay{src: src, pad: i}
	src.SetIn(i, r)
	return r
}

// AddRemote makes o, a pad of another worker's Conn, a destination.
func (r *Relay) AddRemote(o *Out) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.relay, o.dest = r, len(r.done)
	r.dests = append(r.dests, o)
	r.done = append(r.done, 0)
	r.finished = append(r.finished, false)
}

// AddLocal adds a destination in the main process, and returns the
// function its consumer calls when it is done with n frames, and the one
// that says it has finished.
func (r *Relay) AddLocal() (consumed func(n int), finished func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := len(r.done)
	r.done = append(r.done, 0)
	r.finished = append(r.finished, false)
	return func(n int) { r.consumed(k, int64(n)) }, func() { r.finish(k) }
}

// SetLocal sets what decodes frames for the main process's destinations.
func (r *Relay) SetLocal(local Local) { r.local = local }

// Deliver passes one frame on (In).
func (r *Relay) Deliver(flags uint64, body []byte) error {
	if r.skip > 0 {
		return r.skipOne(flags, body)
	}
	var slots []wire.Slot
	var held []uint32
	if flags&FlagSlots != 0 {
		if err := wire.WalkSlots(body, func(s wire.Slot) error { slots = append(slots, s); return nil }); err != nil {
			return err
		}
		var err error
		if held, err = r.src.ledger.accept(r.src, r.src.budget, slots); err != nil {
			return err
		}
		defer r.src.ledger.release(held)
	}
	for _, o := range r.dests {
		o.Forward(flags, body, slots) // a failure means that worker is gone; its own end says why
	}
	if r.local != nil {
		if err := r.local(flags, body, held); err != nil {
			return err
		}
	}
	if r.answered != nil {
		r.answered.finish(1) // only now: a frame that could not be passed on is not an answer
	}
	r.frames.Add(1)
	r.bytes.Add(int64(len(body)))
	r.consumed(-1, 0)
	return nil
}

// consumed records that destination k (-1: none; a frame arrived) is done
// with n more frames, and credits the worker with the frames that every
// destination is done with.
func (r *Relay) consumed(k int, n int64) {
	r.mu.Lock()
	if k < 0 {
		r.received++
	} else {
		r.done[k] += n
	}
	low := r.received // what a destination that has finished is done with
	for k, d := range r.done {
		if !r.finished[k] {
			low = min(low, d)
		}
	}
	give := low - r.returned
	if give <= 0 {
		r.mu.Unlock()
		return
	}
	r.returned = low
	// Under the lock, so that restartCredits sees every credit either given
	// or owed.
	r.src.Consumed(r.pad, int(give), false)
	r.mu.Unlock()
}

// finish records that destination k will consume nothing more: it counts
// as having consumed everything.
func (r *Relay) finish(k int) {
	r.mu.Lock()
	r.finished[k] = true
	r.mu.Unlock()
	r.consumed(k, 0)
}

// Passed returns the frames the relay passed on, and their bodies' bytes.
func (r *Relay) Passed() (frames, bytes int64) { return r.frames.Load(), r.bytes.Load() }

// restartCredits returns the credits a restarted worker starts with on
// the relay's pad: its window, less what the links still hold of its
// predecessor's frames. Credits owed to the predecessor are forgotten:
// they are in this count. With skip, the relay drops as many of the
// worker's first frames as it has passed on so far: a restarted source
// repeats them. r.mu is held.
func (r *Relay) restartCredits(window int, skip bool) int {
	o := &r.src.owed[r.pad]
	o.mu.Lock()
	o.n = 0
	o.mu.Unlock()
	if skip {
		r.skip = r.received
	}
	return window - int(r.received-r.returned)
}

// skipOne drops a repeated frame: its slots are checked and released, and
// its credit goes straight back to the worker.
func (r *Relay) skipOne(flags uint64, body []byte) error {
	r.skip--
	if flags&FlagSlots != 0 {
		var slots []wire.Slot
		if err := wire.WalkSlots(body, func(s wire.Slot) error { slots = append(slots, s); return nil }); err != nil {
			return err
		}
		held, err := r.src.ledger.accept(r.src, r.src.budget, slots)
		if err != nil {
			return err
		}
		r.src.ledger.release(held)
	}
	r.src.Consumed(r.pad, 1, flags&FlagSlots != 0)
	return nil
}
