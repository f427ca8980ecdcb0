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
)

// A Binding is what a worker's element offers the runtime once it has been
// configured from the parent's Hello.
type Binding struct {
	Inlets  []Inlet  // the element's sink pads, in the Hello's order
	Outlets []Outlet // the element's source pads, in the Hello's order
	// Run runs the element until it is done. When it returns nil, every
	// outlet must have made its EOS frame ready.
	Run func(ctx context.Context) error
	// RequestEOS is called when the parent asks sources to end their
	// streams. It may be called more than once.
	RequestEOS func()
}

// Exit codes of a worker process.
const (
	ExitOK     = 0 // the element finished and all its output was sent
	ExitFailed = 1 // the element failed, was stopped, or lost its parent
	ExitUsage  = 2 // the binary was not started by a pipeline, or could not serve what it asked for
)

// Serve is a worker binary's whole life: it reads the parent's Hello on
// fd 3, calls setup to configure the element, streams frames until the
// element is done, and returns the process's exit code. Generated worker
// mains call it through sgn.ServeWorker.
func Serve(setup func(Hello) (*Binding, error)) int {
	signal.Ignore(os.Interrupt) // Ctrl+C is the parent's to handle
	in, out := os.NewFile(3, "sgn-in"), os.NewFile(4, "sgn-out")
	if in == nil || out == nil || !isPipe(in) || !isPipe(out) {
		fmt.Fprintf(os.Stderr, "%s is an sgn worker: a pipeline starts it, with its pipes on fd 3 and 4; it is not run by hand\n", os.Args[0])
		return ExitUsage
	}
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
func serve(in io.Reader, out io.Writer, setup func(Hello) (*Binding, error)) (int, error) {
	r := newReader(in)
	typ, body, err := r.next()
	if err != nil {
		return ExitUsage, fmt.Errorf("reading hello: %w", err)
	}
	if typ != msgHello {
		return ExitUsage, fmt.Errorf("%w: parent sent %s before hello", ErrProtocol, msgNames[typ])
	}
	var hello Hello
	if err := unmarshal(typ, body, &hello); err != nil {
		return ExitUsage, err
	}
	w := newWriter(out)
	go w.run()
	defer w.close()
	if hello.Version != ProtocolVersion {
		err := fmt.Errorf("this worker binary speaks protocol version %d, the pipeline %d: rebuild it from the same version of sgn", ProtocolVersion, hello.Version)
		w.send(msgError, marshal(ErrorReport{Message: err.Error()}))
		return ExitUsage, err
	}
	b, err := setup(hello)
	if err != nil {
		w.send(msgError, marshal(ErrorReport{Message: err.Error()}))
		return ExitUsage, err
	}
	w.send(msgReady, marshal(Ready{Version: ProtocolVersion, PID: os.Getpid()}))

	p := newPeer(r, w, b.Outlets, b.Inlets, hello.Window)

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		err := readParent(p, b.RequestEOS)
		if err == nil {
			err = errParentGone
		}
		cancel(err)
		if err == errParentGone {
			// Nobody is left to read our output. Give the element a moment
			// to notice the cancellation, then make sure it does not
			// outlive its pipeline.
			time.Sleep(orphanGrace)
			fmt.Fprintf(os.Stderr, "sgn worker: %v and the element did not return within %v; exiting\n", err, orphanGrace)
			os.Exit(ExitFailed)
		}
	}()

	var pumps sync.WaitGroup
	var pumpErr error
	var once sync.Once
	for i := range p.outlets {
		pumps.Go(func() {
			if err := p.pump(ctx, i); err != nil {
				once.Do(func() { pumpErr = err })
				cancel(err)
			}
		})
	}

	runErr := b.Run(ctx)
	if runErr != nil {
		cancel(runErr)
	}
	pumps.Wait()
	// Errors from w.send below show on the parent's side as a pipe that
	// ended without done; there is no one else to tell.
	switch cause := context.Cause(ctx); {
	case cause == errStopped:
		return ExitFailed, nil // the parent asked; it expects nothing more
	case cause == errParentGone:
		return ExitFailed, cause
	case runErr != nil:
		r := ErrorReport{Message: runErr.Error()}
		var p panicker
		if errors.As(runErr, &p) {
			r.Panic, r.Stack = true, string(p.PanicStack())
		}
		w.send(msgError, marshal(r))
		return ExitFailed, runErr
	case pumpErr != nil:
		err := fmt.Errorf("sending output: %w", pumpErr)
		w.send(msgError, marshal(ErrorReport{Message: err.Error()}))
		return ExitFailed, err
	}
	w.send(msgDone, nil)
	return ExitOK, nil
}

// A panicker is an error made from a recovered panic.
type panicker interface {
	PanicStack() []byte
}

var errParentGone = errors.New("the parent closed its pipe")

// orphanGrace is how long a worker whose parent has gone waits for its
// element to return before it exits anyway.
const orphanGrace = 2 * time.Second

// errStopped is the cause of the worker context's cancellation when the
// parent asks the worker to stop.
var errStopped = errors.New("stopped by the pipeline")

// readParent handles the parent's messages until it closes its pipe or
// says stop.
func readParent(p *peer, requestEOS func()) error {
	for {
		typ, body, err := p.r.next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if ok, err := p.handleData(typ, body); ok {
			if err != nil {
				return err
			}
			continue
		}
		switch typ {
		case msgStop:
			return errStopped
		case msgEOS:
			requestEOS()
		default:
			return fmt.Errorf("%w: unexpected %s message from the parent", ErrProtocol, msgNames[typ])
		}
	}
}

func isPipe(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeNamedPipe != 0
}
