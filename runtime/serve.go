package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// A Job is what the main process asks a worker to do, and what the worker
// has to do it with, once the Hello has been read.
type Job struct {
	Hello Hello
	// Conn carries the element's frames: Out(i) sends what it sends on its
	// source pad i; SetIn(j) names what takes the frames of its sink pad j.
	Conn *Conn
	// Pool is the pipeline's slot pool, mapped, and Budget the element's
	// slots in it; both are nil if the pipeline has no pool, and Budget is
	// nil if the element has no slots.
	Pool   *Pool
	Budget *Budget
	// Segments are the pipeline's shared segments, mapped, in the order of
	// Hello.Segments.
	Segments []*shm.Segment
}

// A Binding is what a worker's element offers the runtime once it has been
// configured from its Job.
type Binding struct {
	// Run runs the element until it is done. When it returns nil, the
	// element has sent EOS on every source pad.
	Run func(ctx context.Context) error
	// RequestEOS is called when the main process asks sources to end
	// their streams. It may be called more than once.
	RequestEOS func()
	// Busy, if set, returns the nanoseconds the element has spent in its
	// method so far: reported to the main process when the hello asks.
	Busy func() int64
}

// Exit codes of a worker process.
const (
	ExitOK     = 0 // the element finished and all its output was sent
	ExitFailed = 1 // the element failed, was stopped, or lost its parent
	ExitUsage  = 2 // the binary was not started by a pipeline, or could not serve what it asked for
)

// Serve is a worker binary's whole life: it reads the main process's Hello
// on fd 3, calls setup to configure the element, streams frames until the
// element is done, and returns the process's exit code. Generated worker
// mains call it through sgn.ServeWorker.
func Serve(setup func(*Job) (*Binding, error)) int {
	signal.Ignore(os.Interrupt) // Ctrl+C is the main process's to handle
	if !Piped() {
		fmt.Fprintf(os.Stderr, "%s is an sgn worker: a pipeline starts it, with its pipes on fd 3 and 4; it is not run by hand, except to serve pipelines on other hosts: %s -nats URL\n", os.Args[0], os.Args[0])
		return ExitUsage
	}
	// Wait for the pipes in the runtime's poller rather than in a blocked
	// read: a goroutine woken by the poller runs at once, where a thread
	// back from a long read has to get a processor again first. It halves
	// a frame's round trip.
	syscall.SetNonblock(3, true)
	syscall.SetNonblock(4, true)
	in, out := os.NewFile(fdIn, "sgn-in"), os.NewFile(fdOut, "sgn-out")
	// Keep the pipes from leaking into processes the element starts.
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	code, err := serve(in, out, setup)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sgn worker: %v\n", err)
	}
	return code
}

// serve returns the exit code, and the error to log, if any.
func serve(in io.Reader, out io.Writer, setup func(*Job) (*Binding, error)) (int, error) {
	r := newReader(in)
	typ, body, err := r.next()
	if err != nil {
		return ExitUsage, fmt.Errorf("reading hello: %w", err)
	}
	if typ != msgHello {
		return ExitUsage, fmt.Errorf("%w: the main process sent %s before hello", ErrProtocol, msgName(typ))
	}
	var hello Hello
	if err := unmarshal(typ, body, &hello); err != nil {
		return ExitUsage, err
	}
	if len(hello.SourceWindows) != len(hello.Sources) || len(hello.SinkWindows) != len(hello.Sinks) {
		return ExitUsage, fmt.Errorf("%w: hello with %d source and %d sink pads, and windows for %d and %d", ErrProtocol,
			len(hello.Sources), len(hello.Sinks), len(hello.SourceWindows), len(hello.SinkWindows))
	}
	c := NewConn(hello.SourceWindows, hello.SinkWindows)
	c.prompt = hello.Prompt
	c.start(r, out)
	for i, n := range hello.SourceCredits {
		if i < len(c.outs) {
			c.outs[i].credits.Store(int64(n))
		}
	}
	w := c.writer()
	defer w.close()
	refuse := func(err error) (int, error) {
		w.send(msgError, marshal(ErrorReport{Message: err.Error()}))
		return ExitUsage, err
	}
	if hello.Version != ProtocolVersion {
		return refuse(fmt.Errorf("this worker binary speaks protocol version %d, the pipeline %d: rebuild it from the same version of sgn", ProtocolVersion, hello.Version))
	}
	job, err := newJob(hello, c)
	if err != nil {
		return refuse(err)
	}
	if job.Budget != nil {
		c.freed = job.Budget.freed
	}
	b, err := setup(job)
	if err != nil {
		return refuse(err)
	}
	w.send(msgReady, marshal(Ready{Version: ProtocolVersion, PID: os.Getpid()}))
	w.flush() // before the element runs: a worker that dies now has answered

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		// Read until the main process closes its pipe, also after a stop:
		// a worker whose element ignores the stop must still notice that
		// its parent is gone.
		err := c.serve(func(typ byte, body []byte) error {
			switch typ {
			case msgStop:
				cancel(errStopped)
			case msgEOS:
				b.RequestEOS()
			default:
				return fmt.Errorf("%w: unexpected %s message from the main process", ErrProtocol, msgName(typ))
			}
			return nil
		})
		if err == nil {
			err = errParentGone
		}
		cancel(err)
		// Nobody is left to read our output, or the main process is
		// speaking nonsense. Give the element a moment to notice the
		// cancellation, then make sure it does not outlive its pipeline.
		time.Sleep(orphanGrace)
		fmt.Fprintf(os.Stderr, "sgn worker: %v, and the element did not return within %v; exiting\n", err, orphanGrace)
		os.Exit(ExitFailed)
	}()

	if hello.Stats && b.Busy != nil {
		stop := reportBusy(w, b.Busy)
		defer stop()
	}
	runErr := b.Run(ctx)
	// Errors from w.send below show on the main process's side as a pipe
	// that ended without done; there is no one else to tell.
	switch cause := context.Cause(ctx); {
	case cause == errStopped:
		return ExitFailed, nil // the main process asked; it expects nothing more
	case errors.Is(cause, errParentGone):
		return ExitFailed, cause
	case runErr != nil:
		r := ErrorReport{Message: runErr.Error()}
		var p panicker
		if errors.As(runErr, &p) {
			r.Panic, r.Stack = true, string(p.PanicStack())
		}
		w.send(msgError, marshal(r))
		return ExitFailed, runErr
	case cause != nil:
		return ExitFailed, cause // a broken message from the main process
	}
	w.send(msgDone, nil)
	return ExitOK, nil
}

// busyPeriod is how often a worker reports its element's busy time.
const busyPeriod = 250 * time.Millisecond

// reportBusy sends the element's busy time to the main process every
// busyPeriod, and once more when stopped.
func reportBusy(w *writer, busy func() int64) (stop func()) {
	send := func() { w.send(msgStats, func(b []byte) []byte { return wire.AppendUint(b, uint64(busy())) }) }
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(busyPeriod)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				send()
			case <-done:
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		send()
	}
}

// newJob maps the pool and segments the Hello names, and makes the
// element's Conn.
func newJob(h Hello, c *Conn) (*Job, error) {
	j := &Job{Hello: h, Conn: c}
	if p := h.Pool; p != nil {
		syscall.CloseOnExec(p.FD) // programs the element starts get no part of the pipeline's memory
		mem, err := shm.MapPool(p.Name, os.NewFile(uintptr(p.FD), "sgn:"+p.Name), p.Count, p.Size)
		if err != nil {
			return nil, fmt.Errorf("mapping the slot pool: %w", err)
		}
		j.Pool, j.Budget = workerPool(mem, p.Inline, p.Budget, p.Free)
		if p.Budget == 0 {
			j.Budget = nil
		}
	}
	for _, s := range h.Segments {
		syscall.CloseOnExec(s.FD)
		meta, err := DecodeMeta(s.Meta)
		if err != nil {
			return nil, fmt.Errorf("shared segment %q: %w", s.Name, err)
		}
		seg, err := shm.Map(s.Name, meta, os.NewFile(uintptr(s.FD), "sgn:"+s.Name), s.Size)
		if err != nil {
			return nil, fmt.Errorf("mapping shared segment %q: %w", s.Name, err)
		}
		j.Segments = append(j.Segments, seg)
	}
	return j, nil
}

// A panicker is an error made from a recovered panic.
type panicker interface {
	PanicStack() []byte
}

var errParentGone = errors.New("the main process closed its pipe")

// orphanGrace is how long a worker whose parent has gone waits for its
// element to return before it exits anyway.
const orphanGrace = 2 * time.Second

// errStopped is the cause of the worker context's cancellation when the
// main process asks the worker to stop.
var errStopped = errors.New("stopped by the pipeline")

// Piped reports whether this process has a worker's pipes on fd 3 and 4:
// a pipeline started it on this host (see Pipes).
func Piped() bool { return isPipe(fdIn) && isPipe(fdOut) }

// isPipe reports whether descriptor fd is open on a pipe. It does not wrap
// fd in an os.File, whose finalizer would close it.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}
