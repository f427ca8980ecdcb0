package sgn

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// An Element is a struct marked //sgn:element, for which sgngen has
// generated the SGNElement method. Users do not implement it by hand.
type Element interface {
	SGNElement() Spec
}

// Spec describes an element to the pipeline and the runtime: its pads, how
// to run it, how to carry its configuration to a worker, and which worker
// binary runs it. sgngen generates it.
type Spec struct {
	Type      string // package-qualified Go type, e.g. "example.com/m/numbers.Square"
	Worker    string // the worker binary's file name
	WorkerPkg string // the worker main package's import path, for build hints
	Sinks     []Pad  // sink pads, in declaration order
	Sources   []Pad  // source pads, in declaration order

	// Method is the element's method that Run calls: "New", "Process",
	// "Consume" or "Run". Elements whose work is per frame (all but Run)
	// can be restarted; see Restart.
	Method string

	// Run runs the element until it has sent EOS on every source pad (or,
	// for a sink, received it). Generated code builds it from the element's
	// Run, New, Process or Consume method.
	Run func(ctx *Context) error

	// EncodeConfig appends the element's configuration fields (every
	// exported field that is not a pad) as a CBOR map; DecodeConfig sets
	// them from it. Both are nil for an element without configuration.
	EncodeConfig func(w *wire.Encoder)
	DecodeConfig func(d *wire.Decoder)

	// Schema is a fingerprint of what a worker and its pipeline must agree
	// on: the element's type, the method that runs it, its pads and their
	// frame types, its configuration fields, down to every field of every
	// struct, its name, key and type. A worker refuses a pipeline whose
	// element has another.
	Schema string
}

// GeneratedV2 is referenced by generated code: a generated file from an
// incompatible version of sgngen fails to compile on it. Regenerate with
// go generate.
const GeneratedV2 = true

// A Context is what an element's methods receive: a context.Context that is
// cancelled when the pipeline stops, plus facts about where the element
// runs and access to the pipeline's shared memory (see Segment and Alloc).
type Context struct {
	context.Context
	element  string
	inWorker bool
	eos      <-chan struct{}

	segments map[string]*shm.Segment
	pool     *runtime.Pool   // nil if the pipeline has no slot pool
	budget   *runtime.Budget // the element's slots; nil if its frames stay in this process
	allocs   []alloc         // slots Alloc handed out, still the element's
	busy     *atomic.Int64   // nanoseconds inside New, Process or Consume; nil: not measured
	busyNs   int64           // the same, not yet all in busy
	shown    int64           // busyNs when last stored in busy
	calls    uint32          // calls measured
}

// clock returns the monotonic time now, as nanoseconds since the process
// started, if the element's busy time is measured; busySince adds the time
// since then to it. A reading of the monotonic clock alone costs half of
// time.Now, which reads the wall clock too.
func (c *Context) clock() time.Duration {
	if c.busy == nil {
		return 0
	}
	return time.Since(epoch)
}

func (c *Context) busySince(start time.Duration) {
	if c.busy == nil {
		return
	}
	c.busyNs += int64(time.Since(epoch) - start)
	if c.calls++; c.calls%busyBatch == 0 || c.busyNs-c.shown >= busyLag {
		c.busy.Store(c.busyNs)
		c.shown = c.busyNs
	}
}

// An element sums its calls' busy time and shows the total to other
// goroutines every busyBatch calls, or sooner once busyLag has gone
// unshown: an atomic store per call would cost more than the clock for a
// call of a few nanoseconds, and a slow element's figure stays current.
const (
	busyBatch = 64
	busyLag   = int64(time.Millisecond)
)

// showBusy shows the busy time of every call so far.
func (c *Context) showBusy() {
	if c.busy != nil {
		c.busy.Store(c.busyNs)
	}
}

// epoch is the origin of clock's readings.
var epoch = time.Now()

// EOSRequested returns a channel that is closed when the pipeline asks its
// sources to end their streams: on Ctrl+C (see HandleSignals) or
// Pipeline.RequestEOS. A source then sends its last frame, with EOS set.
// RunSource does this for a New method; an element with its own Run
// selects on this channel.
func (c *Context) EOSRequested() <-chan struct{} { return c.eos }

// Element returns the element's name in the pipeline.
func (c *Context) Element() string { return c.element }

// InWorker reports whether the element runs in a worker process.
func (c *Context) InWorker() bool { return c.inWorker }

// A Starter is an element with a Start method, which is called once, where
// the element runs (in its worker process, if it has one), before any frame.
type Starter interface {
	Start(ctx *Context) error
}

// RunSource is the loop behind an element with one source pad and a method
// New(ctx) (Frame[T], error): it sends what New returns until a frame
// carries EOS. When the pipeline requests EOS, it stops calling New and
// sends an empty EOS frame (a gap) instead.
func RunSource[T any](ctx *Context, out *Source[T], next func(*Context) (Frame[T], error)) error {
	for {
		select {
		case <-ctx.eos:
			return out.Send(ctx, Frame[T]{EOS: true, Gap: true})
		default:
		}
		start := ctx.clock()
		f, err := next(ctx)
		ctx.busySince(start)
		if err != nil {
			return err
		}
		err = out.Send(ctx, f)
		ctx.freeAllocs()
		if err != nil {
			return err
		}
		if f.EOS {
			return nil
		}
	}
}

// RunTransform is the loop behind an element with one sink pad, one source
// pad and a method Process(ctx, Frame[T]) (Frame[U], error). EOS is carried
// forward: the output for an EOS input frame is sent with EOS set, and ends
// the loop. A Process that sets EOS on its own output ends it too.
func RunTransform[T, U any](ctx *Context, in *Sink[T], out *Source[U], process func(*Context, Frame[T]) (Frame[U], error)) error {
	for {
		f, err := in.Recv(ctx)
		if err != nil {
			return err
		}
		start := ctx.clock()
		g, err := process(ctx, f)
		ctx.busySince(start)
		if err != nil {
			return err
		}
		g.EOS = g.EOS || f.EOS
		err = out.Send(ctx, g)
		ctx.freeAllocs()
		if err != nil {
			return err
		}
		if g.EOS {
			return nil
		}
	}
}

// RunSink is the loop behind an element with one sink pad and a method
// Consume(ctx, Frame[T]) error: it hands Consume every frame, the EOS frame
// included, then returns.
func RunSink[T any](ctx *Context, in *Sink[T], consume func(*Context, Frame[T]) error) error {
	for {
		f, err := in.Recv(ctx)
		if err != nil {
			return err
		}
		start := ctx.clock()
		err = consume(ctx, f)
		ctx.busySince(start)
		ctx.freeAllocs()
		if err != nil {
			return err
		}
		if f.EOS {
			return nil
		}
	}
}

// An ElementError is how a pipeline reports an element's failure: the
// element's name and what went wrong, whether it ran in-process or in a
// worker (then Err is a *runtime.WorkerError with the exit status and the
// last lines of the worker's stderr).
type ElementError struct {
	Element string
	Err     error
}

func (e *ElementError) Error() string { return e.Element + ": " + e.Err.Error() }
func (e *ElementError) Unwrap() error { return e.Err }

// A PanicError is an element's panic, recovered and turned into an error.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// PanicStack returns the stack of the goroutine that panicked.
func (e *PanicError) PanicStack() []byte { return e.Stack }

// runElement runs an element's Start and Run where it is (in-process or in
// its worker), turning a panic into a PanicError, and then sends EOS on any
// source pad the element left open. It calls running, if not nil, once
// Start has returned.
func runElement(ctx *Context, e Element, spec *Spec, running func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if s, ok := e.(Starter); ok {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	if running != nil {
		running()
	}
	defer ctx.freeAllocs()
	defer ctx.showBusy()
	if err := spec.Run(ctx); err != nil {
		return err
	}
	for _, p := range spec.Sources {
		if err := p.(sourcePad).finish(ctx); err != nil && !errors.Is(err, ErrEOS) {
			return err
		}
	}
	return nil
}
