package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sgn-go/sgn/wire"
)

// A Conn is one end of the connection between the main process and a
// worker: the messages of both directions over a pair of pipes, and the
// frames of each pad, with credit-based flow control. Both processes use
// one; package sgn attaches its pads to it.
//
// Pads are numbered per direction, in the order of the Hello: the frames of
// [Out] i arrive at the other end's [In] i.
type Conn struct {
	outs  []*Out
	ins   []In
	inWin []int  // per in pad: frames in flight at most
	owed  []owed // per in pad: frames consumed, not yet credited back

	r *reader
	w atomic.Pointer[writer] // replaced when a restarted worker gets new pipes

	// Main process only: the slot accounts, how many references to each
	// slot this Conn's worker holds through frames it was sent, and the
	// budget of the worker's element.
	pool   *Pool
	ledger *Ledger
	held   []int32 // under ledger.mu
	budget *Budget

	freed  func(slot, gen uint32) // worker only: a slot of its budget is free again
	prompt bool                   // worker only: credit every frame at once (see Hello.Prompt)

	finishOnCredit bool // main process, with RedeliverUnconsumed: a credited frame is done with
	inline         bool // main process: the worker does not share memory (see InlineSlots)
}

// owed counts the frames an in pad's consumer has released since the last
// credit message.
type owed struct {
	mu sync.Mutex
	n  int
}

// NewConn returns an unconnected Conn with an outgoing pad for each of
// outs and an incoming one for each of ins, each number the pad's window:
// the frames it may have in flight.
func NewConn(outs, ins []int) *Conn {
	// The writer exists from the start, so that frames can be queued for
	// a worker that is not running yet; start gives it the pipe.
	c := &Conn{ins: make([]In, len(ins)), owed: make([]owed, len(ins))}
	c.w.Store(newWriter(nil))
	for i, w := range outs {
		c.outs = append(c.outs, &Out{c: c, pad: i, window: max(1, w), more: make(chan struct{}, 1)})
	}
	for _, w := range ins {
		c.inWin = append(c.inWin, max(1, w))
	}
	return c
}

// Account makes the main process's c keep the accounts of the slots its
// frames hold in pool, and check the descriptors its worker sends against
// budget, the worker's element's slots (nil if it has none). It must be
// called before any frame is sent on c.
func (c *Conn) Account(pool *Pool, budget *Budget) {
	if pool != nil {
		c.pool, c.ledger = pool, pool.ledger
	}
	c.budget = budget
}

// InlineSlots makes the main process's c send every payload that lies in
// a slot in the message instead, copied: for a worker that does not map
// this process's memory (see Launcher.SharesMemory). It must be called
// before any frame is sent on c.
func (c *Conn) InlineSlots() { c.inline = true }

// Out returns outgoing pad i.
func (c *Conn) Out(i int) *Out { return c.outs[i] }

// SetIn makes in receive the frames of incoming pad i.
func (c *Conn) SetIn(i int, in In) { c.ins[i] = in }

// InWindow returns the number of frames incoming pad i may have in flight.
func (c *Conn) InWindow(i int) int { return c.inWin[i] }

// Windows returns the windows of c's outgoing and incoming pads.
func (c *Conn) Windows() (outs, ins []int) {
	for _, o := range c.outs {
		outs = append(outs, o.window)
	}
	return outs, slices.Clone(c.inWin)
}

// start connects c to the pipes, reading with r and writing to w, and
// starts its writer. Each Out gets a full window of credits: until then,
// Send waits.
func (c *Conn) start(r *reader, w io.Writer) {
	c.r = r
	wr := c.w.Load()
	wr.w = w
	go wr.run()
	wr.poke() // for what was queued before
	for _, o := range c.outs {
		o.credits.Store(int64(o.window))
		o.wake()
	}
}

// writer returns the writer of the current pipe.
func (c *Conn) writer() *writer { return c.w.Load() }

// An In is a pad whose frames arrive over a Conn. Deliver is called, in
// order, for each frame; body is only valid during the call, and Deliver
// must not block: the sender held a credit for the frame, so a queue of
// Window frames has room for it. The pad's consumer calls [Conn.Consumed]
// for each frame it is done with.
type In interface {
	Deliver(flags uint64, body []byte) error
}

// Frame flags, as sent on the wire.
const (
	FlagEOS   uint64 = 1 << iota // the frame is its pad's last
	FlagGap                      // the frame is a gap: its data is not meaningful
	FlagSlots                    // the frame's body holds slot descriptors
)

// Consumed records that the consumer of incoming pad i is done with n
// frames, and gives their credits back, in batches of half a window, or at
// once if urgent (the frames held slots, which the sender may be waiting
// for).
func (c *Conn) Consumed(i, n int, urgent bool) {
	o := &c.owed[i]
	o.mu.Lock()
	o.n += n
	if o.n < max(1, c.inWin[i]/creditBatches) && !urgent && !c.prompt {
		o.mu.Unlock()
		return
	}
	n, o.n = o.n, 0
	o.mu.Unlock()
	w := c.writer()
	b, err := w.begin(msgCredit, false)
	if err != nil {
		return // the connection is going away; nobody waits for credits
	}
	b = wire.AppendUint(b, uint64(i))
	b = wire.AppendUint(b, uint64(n))
	w.end(b)
	if c.prompt {
		// The main process must know before the element goes on: if the
		// worker dies now, this frame is not given to its successor.
		w.flush()
	}
}

// serve handles the messages that arrive until the other end closes its
// pipe (nil) or one cannot be handled. Frames, credits and freed slots are
// handled here; other messages go to control.
func (c *Conn) serve(control func(typ byte, body []byte) error) error {
	var d wire.Decoder
	for {
		typ, body, err := c.r.next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		d.Reset(body)
		err = c.handle(&d, typ, body, control)
		d.Reset(nil) // hold no message: the reader may give its buffer back
		if err != nil {
			return err
		}
	}
}

// handle handles one message, which d reads.
func (c *Conn) handle(d *wire.Decoder, typ byte, body []byte, control func(typ byte, body []byte) error) error {
	switch typ {
	case msgFrame:
		i, flags := d.Uint(32), d.Uint(64)
		if d.Err() != nil {
			return fmt.Errorf("%w: frame message: %v", ErrProtocol, d.Err())
		}
		if i >= uint64(len(c.ins)) || c.ins[i] == nil {
			return fmt.Errorf("%w: frame for pad %d, which does not exist (there are %d)", ErrProtocol, i, len(c.ins))
		}
		if err := c.ins[i].Deliver(flags, body[d.Offset():]); err != nil {
			return err
		}
	case msgCredit:
		i, n := d.Uint(32), d.Uint(32)
		if d.Err() != nil {
			return fmt.Errorf("%w: credit message: %v", ErrProtocol, d.Err())
		}
		if i >= uint64(len(c.outs)) {
			return fmt.Errorf("%w: credit for pad %d, which does not exist (there are %d)", ErrProtocol, i, len(c.outs))
		}
		if err := c.outs[i].credited(int64(n)); err != nil {
			return err
		}
	case msgFreed:
		if c.freed == nil {
			return fmt.Errorf("%w: unexpected freed message", ErrProtocol)
		}
		for d.Len() > 0 && d.Err() == nil {
			slot, gen := d.Uint(32), d.Uint(32)
			if d.Err() == nil {
				c.freed(uint32(slot), uint32(gen))
			}
		}
		if d.Err() != nil {
			return fmt.Errorf("%w: freed message: %v", ErrProtocol, d.Err())
		}
	default:
		return control(typ, body)
	}
	return nil
}

// send writes a control message; body, if not nil, appends its body.
func (c *Conn) send(typ byte, body func([]byte) []byte) error { return c.writer().send(typ, body) }

// An Out is a pad whose frames this side sends over a Conn.
type Out struct {
	c      *Conn
	pad    int
	window int

	credits atomic.Int64  // frames it may still send
	more    chan struct{} // capacity 1: credits may have grown, or the pad closed
	closed  atomic.Bool   // the receiving element has finished: frames are dropped

	// relay, if set, is owed the credits instead: the Out forwards a
	// worker's frames, whose sender gets them once every destination has
	// consumed the frame (see Relay).
	relay *Relay
	dest  int // the Out's index among the relay's destinations

	// Frames sent and credited, for the slot accounts; under the ledger's
	// lock in the main process.
	sent, done int64
	holds      []hold

	inFlight atomic.Int64 // frames sent and not credited back
	frames   atomic.Int64 // frames sent, for statistics
	bytes    atomic.Int64 // their bodies' bytes
	onEOS    func()
	eosSent  atomic.Bool

	// With retain set (a worker that may be restarted), the frames sent
	// are kept until the worker is done with them, to be sent again to
	// its successor. mu orders keeping and writing a frame against a
	// restart.
	retain bool
	mu     sync.Mutex
	kept   []kept

	// With a receiver that answers each frame (RedeliverUnanswered), a
	// frame's credit is only given to senders once the receiver has both
	// credited and answered it: until then it may have to be sent again,
	// and it must fit the successor's window. Under mu; counts since the
	// worker's last start.
	gated               bool
	credN, ansN, givenN int64
}

// A kept frame is one sent to a worker that may have to be sent again. Its
// slices travel in the message (see wire.Inline): the worker may have
// changed its slots in place before it died, and its successor must be
// given the frame as it was.
type kept struct {
	flags uint64
	body  []byte
}

// A hold is a frame sent with slots that the receiver has not credited
// back yet.
type hold struct {
	seq   int64
	slots []uint32
}

// ErrClosed is returned by Out.Send for a pad whose receiving element has
// finished, and whose frames are dropped.
var ErrClosed = errors.New("the receiving element has finished")

// Send sends one frame: its flags and body (a CBOR sequence of data and,
// optionally, metadata), whose slot descriptors are slots. It waits for a
// credit, and while the pipe is far behind. After the receiving element
// has finished, or its process has ended, frames are dropped and Send
// returns nil: what became of the process is its supervisor's to report.
func (o *Out) Send(ctx context.Context, flags uint64, body []byte, slots []wire.Slot) error {
	for !o.take() {
		if o.closed.Load() {
			return nil
		}
		select {
		case <-o.more:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if o.closed.Load() {
		o.credits.Add(1)
		return nil
	}
	return o.write(flags, body, slots, true)
}

// Forward sends a frame without waiting for a credit or for the pipe: the
// caller, a Relay, holds the credits of the whole path, so the receiver has
// room.
func (o *Out) Forward(flags uint64, body []byte, slots []wire.Slot) error {
	if o.closed.Load() {
		return nil
	}
	return o.write(flags, body, slots, false)
}

func (o *Out) write(flags uint64, body []byte, slots []wire.Slot, wait bool) error {
	if len(slots) > 0 && o.c.inline {
		inlined, err := wire.Inline(body, o.c.pool.Resolve)
		if err != nil {
			return err
		}
		body, slots = inlined, nil
	}
	if flags&FlagEOS != 0 && o.onEOS != nil && !o.eosSent.Swap(true) {
		o.onEOS()
	}
	flags &^= FlagSlots
	if len(slots) > 0 {
		flags |= FlagSlots
	}
	o.frames.Add(1)
	o.bytes.Add(int64(len(body)))
	if o.retain {
		o.mu.Lock()
		defer o.mu.Unlock()
		k := kept{flags: flags &^ FlagSlots, body: slices.Clone(body)}
		if len(slots) > 0 {
			var err error
			if k.body, err = wire.Inline(body, o.c.pool.Resolve); err != nil {
				return err
			}
		}
		o.kept = append(o.kept, k)
	}
	return o.put(o.c.writer(), flags, body, slots, wait)
}

// put appends a frame message to w, and accounts for it.
func (o *Out) put(w *writer, flags uint64, body []byte, slots []wire.Slot, wait bool) error {
	if l := o.c.ledger; l != nil {
		if ok, err := l.sent(o, slots); !ok {
			return err // nil: o closed meanwhile, and the frame is dropped
		}
	}
	o.inFlight.Add(1)
	b, err := w.begin(msgFrame, wait)
	if err != nil {
		return nil // the pipe is closed: the process is gone or going, and its supervisor says why
	}
	b = wire.AppendUint(b, uint64(o.pad))
	b = wire.AppendUint(b, flags)
	return w.end(append(b, body...))
}

// InFlight returns the frames sent on o that the receiver has not credited
// back: queued for it, or being worked on.
func (o *Out) InFlight() int { return int(o.inFlight.Load()) }

// Window returns the frames o may have in flight.
func (o *Out) Window() int { return o.window }

// Sent returns the frames sent on o, and the bytes of their bodies.
func (o *Out) Sent() (frames, bytes int64) { return o.frames.Load(), o.bytes.Load() }

// OnEOS makes o call f the first time it sends a frame with EOS.
func (o *Out) OnEOS(f func()) { o.onEOS = f }

// finish records that the receiver is done with its oldest n kept frames:
// a restarted worker will not be given them again.
func (o *Out) finish(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n < 0 || n > len(o.kept) {
		n = len(o.kept) // all
	}
	clear(o.kept[:n])
	o.kept = o.kept[n:]
	if o.gated {
		o.ansN += int64(n)
		o.give()
	}
}

// give makes available to senders the credits of frames both credited and
// answered; o.mu is held.
func (o *Out) give() {
	if n := min(o.credN, o.ansN) - o.givenN; n > 0 {
		o.givenN += n
		o.release(n)
	}
}

// release gives n credits to whom they are owed: the relay, or o's
// senders.
func (o *Out) release(n int64) {
	if o.relay != nil {
		o.relay.consumed(o.dest, n)
		return
	}
	o.credits.Add(n)
	o.wake()
}

// take takes a credit if one is left.
func (o *Out) take() bool {
	for {
		v := o.credits.Load()
		if v <= 0 {
			return false
		}
		if o.credits.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

func (o *Out) credited(n int64) error {
	if l := o.c.ledger; l != nil {
		l.credited(o, n)
	}
	o.inFlight.Add(-n)
	if o.retain && o.c.finishOnCredit {
		o.finish(int(n))
	}
	if o.gated {
		o.mu.Lock()
		o.credN += n
		o.give()
		o.mu.Unlock()
		return nil
	}
	if o.relay != nil {
		o.relay.consumed(o.dest, n)
		return nil
	}
	if o.credits.Add(n) > int64(o.window) {
		return fmt.Errorf("%w: credits for pad %d beyond its window of %d", ErrProtocol, o.pad, o.window)
	}
	o.wake()
	return nil
}

func (o *Out) wake() {
	select {
	case o.more <- struct{}{}:
	default:
	}
}

// Close drops the frames of a pad whose receiving element has finished:
// Send returns at once from then on, and the slots of frames in flight are
// released.
func (o *Out) Close() {
	if o.closed.Swap(true) {
		return
	}
	o.finish(-1)
	if l := o.c.ledger; l != nil {
		l.drop(o)
	}
	if o.relay != nil {
		o.relay.finish(o.dest)
	}
	o.wake()
}

// pause readies c for a new process after its worker died, when it will be
// restarted: frames its Outs send meanwhile are kept, not written, Send
// waits, and the frames that were in flight are accounted for. Those the
// worker was done with, though it had not credited them back yet, are
// credited now; the kept ones are sent again by restart.
func (c *Conn) pause() {
	c.w.Store(closedWriter())
	for _, o := range c.outs {
		o.mu.Lock()
		o.credits.Store(0)
		done := o.inFlight.Load() - int64(len(o.kept))
		if o.gated {
			// Answered and not credited: done with.
			done = o.ansN - o.givenN
			o.givenN = o.ansN
		}
		o.inFlight.Store(0)
		if l := o.c.ledger; l != nil {
			l.drop(o)
		}
		o.mu.Unlock()
		if o.relay != nil && done > 0 {
			o.relay.consumed(o.dest, done)
		}
	}
}

// restart connects c to a restarted worker's pipes: hello first, then
// every kept frame, in order, then whatever comes. Each Out may send a
// window of frames, less the kept ones. The worker's source pads may send
// their windows less what their links still hold of its predecessor's
// frames (with skip, whose repeats the relays drop): the hello says so.
func (c *Conn) restart(r *reader, w io.Writer, hello Hello, skip bool) {
	var relays []*Relay
	hello.SourceCredits = slices.Clone(hello.SourceWindows)
	for i, in := range c.ins {
		if rl, ok := in.(*Relay); ok {
			// Held until the new writer is in place, so that no credit
			// goes to the old one, and none is counted twice.
			rl.mu.Lock()
			relays = append(relays, rl)
			hello.SourceCredits[i] = rl.restartCredits(hello.SourceWindows[i], skip)
		}
	}
	defer func() {
		for _, rl := range relays {
			rl.mu.Unlock()
		}
	}()
	for _, o := range c.outs {
		o.mu.Lock()
	}
	nw := newWriter(w)
	nw.prepend(msgHello, marshal(hello))
	for _, o := range c.outs {
		// Forget what was written to no one while the worker was down: it
		// is all kept.
		o.inFlight.Store(0)
		if l := o.c.ledger; l != nil {
			l.drop(o)
		}
		for _, k := range o.kept {
			o.put(nw, k.flags, k.body, nil, false)
		}
	}
	c.r = r
	c.w.Store(nw)
	for _, o := range c.outs {
		o.credits.Store(int64(o.window - len(o.kept)))
		o.credN, o.ansN, o.givenN = 0, 0, 0
		o.mu.Unlock()
		o.wake()
	}
	go nw.run()
	nw.poke()
}

// closedWriter returns a writer that refuses everything: a pipe to a
// process that is gone.
func closedWriter() *writer {
	w := newWriter(nil)
	w.err = errClosed
	close(w.done)
	return w
}

// creditBatches is how many credit messages a window's worth of consumed
// frames gives back: credits go back a few at a time, so that the sender
// is never left waiting for a large batch while its receiver has room.
const creditBatches = 8
