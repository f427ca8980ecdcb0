package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"
)

// A Launcher starts one process of a worker and connects it: on this host
// through inherited pipes ([Pipes], the default), or elsewhere (package
// remote starts workers on other hosts over NATS). Worker.Run calls Launch
// for the worker's first process and again for each restart.
type Launcher interface {
	Launch(ctx context.Context, w *Worker) (Process, error)
	// SharesMemory reports whether the processes it starts map this
	// process's shared memory: the slot pool and the shared segments. If
	// not, their Hello names neither, and every slot's payload travels in
	// the message (see Conn.InlineSlots).
	SharesMemory() bool
}

// A Process is one started worker process, wherever it runs.
type Process interface {
	// Conn returns the byte streams of the protocol: the worker's
	// messages, and where this process's go.
	Conn() (io.Reader, io.Writer)
	PID() int     // the worker's process ID
	Host() string // the name of the host it runs on; "" for a child of this process (Pipes)
	// Kill ends the process now, without grace. It may be called at any
	// time, more than once.
	Kill()
	// Exited is closed once the process has ended, or is known to be
	// lost; its messages have all been read from Conn by then, or never
	// will be.
	Exited() <-chan struct{}
	// Exit, called once after Exited and after the streams are no longer
	// used, releases what the process held and says how it ended, as
	// os.ProcessState.String does ("exit status 1", "signal: killed"), and
	// whether that was a clean exit. The last lines of its stderr are
	// passed on before it returns.
	Exit() (desc string, ok bool)
	// Stderr returns the last lines the process wrote to stderr, once
	// Exit has returned.
	Stderr() []string
}

// Pipes is the default Launcher: it starts the worker's binary on this
// host, with the protocol's pipes on fd 3 and 4 and the pipeline's shared
// memory after them (see the package documentation).
type Pipes struct{}

// SharesMemory is true: local workers map the slot pool and the segments.
func (Pipes) SharesMemory() bool { return true }

// The descriptors of a local worker: its pipes, then the pool's memory if
// the pipeline has a pool, then each shared segment's.
const (
	fdIn    = 3
	fdOut   = 4
	fdFirst = 5 // the pool, or the first segment
)

// sharedFDs returns the descriptors a local worker finds the pool (0 if
// there is none) and each segment on.
func sharedFDs(w *Worker) (pool int, segments []int) {
	next := fdFirst
	if w.Pool != nil {
		pool = next
		next++
	}
	for range w.Segments {
		segments = append(segments, next)
		next++
	}
	return pool, segments
}

// Launch starts w's binary, w.Path, with its pipes and shared memory.
func (Pipes) Launch(ctx context.Context, w *Worker) (Process, error) {
	toWorker, parentW, err := pipe()
	if err != nil {
		return nil, err
	}
	parentR, fromWorker, err := pipe()
	if err != nil {
		toWorker.Close()
		parentW.Close()
		return nil, err
	}
	files := []*os.File{toWorker, fromWorker} // fd 3 and fd 4
	if w.Pool != nil {
		files = append(files, w.Pool.mem.File())
	}
	for _, seg := range w.Segments {
		files = append(files, seg.File())
	}

	log := w.logger()
	p := &localProcess{r: parentR, w: parentW, tail: newTail(20), exited: make(chan struct{})}
	p.errOut = newOutput(StreamStderr, log, w.Stderr, p.tail)
	var raw io.Writer = or(w.Stdout, os.Stdout)
	if w.LogStdout {
		raw = nil
	}
	p.stdOut = newOutput(StreamStdout, log, raw, nil)
	cmd := exec.Command(w.Path)
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = p.stdOut, p.errOut
	env := w.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clip(env), "SGN_WORKER_ELEMENT="+w.Element)
	cmd.WaitDelay = time.Second // do not wait forever for a grandchild holding stdout or stderr
	err = start(cmd)
	toWorker.Close()
	fromWorker.Close()
	if err != nil {
		parentR.Close()
		parentW.Close()
		for _, o := range []*output{p.stdOut, p.errOut} {
			o.start(0)
			o.close(0)
		}
		return nil, fmt.Errorf("start worker: %w", err)
	}
	p.cmd = cmd
	p.stdOut.start(cmd.Process.Pid)
	p.errOut.start(cmd.Process.Pid)
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// localProcess is a worker process started by Pipes.
type localProcess struct {
	cmd            *exec.Cmd
	r              *os.File // from the worker
	w              *os.File // to the worker
	stdOut, errOut *output
	tail           *tail
	exited         chan struct{}
}

func (p *localProcess) Conn() (io.Reader, io.Writer) { return p.r, p.w }
func (p *localProcess) PID() int                     { return p.cmd.Process.Pid }
func (p *localProcess) Host() string                 { return "" }
func (p *localProcess) Kill()                        { p.cmd.Process.Kill() }
func (p *localProcess) Exited() <-chan struct{}      { return p.exited }
func (p *localProcess) Stderr() []string             { return p.tail.lines() }

func (p *localProcess) Exit() (string, bool) {
	p.w.Close()
	p.r.Close()
	// Its last lines go out before anything is said of its end.
	p.stdOut.close(outputWait)
	p.errOut.close(outputWait)
	ps := p.cmd.ProcessState
	return ps.String(), ps.Success()
}
