package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn/runtime"
)

// An Agent serves one element type to pipelines on other hosts: it waits
// for claims on the type's claim subject, in a queue group with the other
// workers of the type, takes one run at a time, and runs the element of
// each in a new local worker process, started from Path through
// runtime.Pipes, whose pipes it joins to the run's subjects. It knows
// nothing of the protocol beyond that.
type Agent struct {
	Type   string // the element type it serves, package-qualified
	Schema string // the fingerprint of the element's schema, if it has one: claims must carry the same
	Path   string // the worker binary to run; "" means this program

	// Stdout and Stderr take what the element's processes write; nil means
	// this process's. The last lines of stderr also go to the main process
	// with the run's end.
	Stdout, Stderr io.Writer
	// Logger takes the agent's events: waiting for work, a run taken, a
	// run ended, the main process gone silent. nil means slog.Default().
	Logger *slog.Logger

	nc   *nats.Conn
	host string
	log  *slog.Logger

	mu     sync.Mutex
	claims *nats.Subscription // while free
	run    *agentRun          // while busy
	closed bool
}

// Serve serves runs through nc until ctx is done; then it kills the
// process of the run it has, if any, waits for it, and returns. It returns
// an error if it cannot listen for claims, if the server does not allow
// what a worker does (subscribe to the claims and to a run's subject to the
// worker, publish on a run's subject to the main process), or, after the
// run it has, once nc is closed for good (the server refused the
// credentials on a reconnection, say).
func (a *Agent) Serve(ctx context.Context, nc *nats.Conn) error {
	a.nc = nc
	a.host, _ = os.Hostname()
	a.log = a.Logger
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("type", a.Type)
	if a.Path == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding this worker binary: %w", err)
		}
		a.Path = exe
	}
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	a.mu.Lock()
	err := a.listen()
	if err == nil {
		err = a.allowed()
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	a.log.Info("sgn worker waiting for work", "nats", nc.ConnectedUrlRedacted(), "subject", ClaimSubject(a.Type))
	if !nc.IsClosed() {
		select {
		case <-ctx.Done():
		case <-closed:
		}
	}
	if ctx.Err() == nil {
		why := nc.LastError()
		if why == nil {
			why = nats.ErrConnectionClosed
		}
		err = fmt.Errorf("the connection to NATS was closed for good: %w", why)
	}
	a.mu.Lock()
	a.closed = true
	if a.claims != nil {
		a.claims.Drain() // claims delivered already are answered: busy
		a.claims = nil
	}
	r := a.run
	if r != nil {
		r.stopped = "the worker serving it stopped"
		if cause := context.Cause(ctx); ctx.Err() == nil {
			r.stopped += ": " + err.Error()
		} else if cause != context.Canceled {
			r.stopped += ": " + cause.Error()
		}
	}
	a.mu.Unlock()
	if r != nil {
		r.proc.Kill()
		<-r.done
	}
	return err
}

// allowed checks that the server lets this worker do what a run needs,
// after claims were subscribed to: the server says it refuses a
// subscription or a publication only asynchronously, before the answer to
// the flush. a.mu is held.
func (a *Agent) allowed() error {
	toWorker, toMain := runSubjects(newRunID())
	probe, err := a.nc.SubscribeSync(toWorker)
	if err == nil {
		defer probe.Unsubscribe()
		// A message of a run nobody speaks on, which no one hears.
		err = a.nc.Publish(toMain, []byte{kindHeartbeat, 0, 0, 0, 0, 0, 0, 0, 0})
	}
	if err == nil {
		err = a.nc.Flush() // subscribed: claims reach it from now on
	}
	if err != nil {
		return fmt.Errorf("subscribing to claims on NATS: %w", err)
	}
	if err := a.nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
		return fmt.Errorf("the NATS server refuses what a worker does (%w); a worker must be allowed to subscribe to %s and %s, and to publish on %s and to the claims' reply subjects",
			err, ClaimSubject(a.Type), "sgn.run.*.w", "sgn.run.*.m")
	}
	return nil
}

// listen subscribes to claims; a.mu is held.
func (a *Agent) listen() error {
	sub, err := a.nc.QueueSubscribe(ClaimSubject(a.Type), claimGroup, a.claim)
	if err != nil {
		return fmt.Errorf("subscribing to claims on NATS: %w", err)
	}
	a.claims = sub
	return nil
}

// claim answers a claim.
func (a *Agent) claim(m *nats.Msg) {
	reply := func(r claimReply) {
		r.Host = a.host
		if r.PID == 0 {
			r.PID = os.Getpid()
		}
		m.Respond(encode(r))
	}
	refuse := func(format string, args ...any) {
		reason := fmt.Sprintf(format, args...)
		a.log.Warn("sgn worker refused a run", "reason", reason)
		reply(claimReply{Reason: reason})
	}
	var c claim
	if err := decode("claim", m.Data, &c); err != nil {
		refuse("%v", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.run != nil || a.closed:
		reply(claimReply{Busy: true})
		return
	case c.Type != a.Type:
		refuse("this worker serves %s, not %s", a.Type, c.Type)
		return
	case c.Schema != a.Schema:
		refuse("this worker's %s has schema %s, the pipeline's has %s: the element's pads, frame types or configuration changed since one of the two binaries was built; rebuild the worker binaries",
			a.Type, orNone(a.Schema), orNone(c.Schema))
		return
	case !validRunID(c.Run):
		refuse("run ID %q is not 128 bits in hex", c.Run)
		return
	}
	r, err := a.start(c)
	if err != nil {
		refuse("%v", err)
		return
	}
	// Busy: claims go to other workers. Those already delivered to this
	// one are answered (busy) rather than dropped, so that their claimants
	// try another at once instead of waiting for an answer.
	a.claims.Drain()
	a.claims = nil
	a.run = r
	reply(claimReply{Accepted: true, PID: r.proc.PID()})
	a.log.Info("sgn worker took a run", "element", c.Element, "pid", r.proc.PID())
	go r.serve()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// start starts the element's process and subscribes to the run's
// subject; a.mu is held.
func (a *Agent) start(c claim) (*agentRun, error) {
	toWorker, toMain := runSubjects(c.Run)
	w := &runtime.Worker{
		Element: c.Element,
		Path:    a.Path,
		Env:     workerEnv(),
		Stdout:  or(a.Stdout, os.Stdout),
		Stderr:  or(a.Stderr, os.Stderr),
		Logger:  a.log,
	}
	proc, err := runtime.Pipes{}.Launch(context.Background(), w)
	if err != nil {
		return nil, err
	}
	r := &agentRun{a: a, element: c.Element, proc: proc, done: make(chan struct{})}
	r.in = newReceiver(r.control)
	_, r.in.to = proc.Conn()
	r.out = newSender(a.nc, toMain)
	sub, err := a.nc.Subscribe(toWorker, r.in.handle)
	if err == nil {
		if err = sub.SetPendingLimits(-1, -1); err != nil {
			sub.Unsubscribe()
		}
	}
	if err != nil {
		proc.Kill()
		<-proc.Exited()
		proc.Exit()
		return nil, fmt.Errorf("subscribing to the run: %w", err)
	}
	r.sub = sub
	return r, nil
}

// workerEnv is this process's environment without the NATS settings: the
// element's process is a local worker, and the credentials are not its.
func workerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SGN_NATS_") {
			env = append(env, kv)
		}
	}
	return env
}

func or(w io.Writer, def *os.File) io.Writer {
	if w != nil {
		return w
	}
	return def
}

// ended is called when r has ended: the agent takes work again.
func (a *Agent) ended(r *agentRun) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.run = nil
	if a.closed {
		return
	}
	if err := a.listen(); err != nil {
		// The connection is closed for good: Serve's caller finds out
		// from its own use of it.
		a.log.Error("sgn worker cannot take work again", "error", err)
	}
}

// agentRun is one run of an Agent: the element's process and the run's
// subjects.
type agentRun struct {
	a       *Agent
	element string
	sub     *nats.Subscription // on the worker's subject
	in      *receiver          // from the main process
	out     *sender            // to the main process
	proc    runtime.Process
	done    chan struct{} // closed once the run has ended and been reported
	stopped string        // why Serve killed the process, if it did; under a.mu
}

// control handles the main process's messages other than data.
func (r *agentRun) control(kind byte, payload []byte) {
	switch kind {
	case kindKill:
		r.proc.Kill()
	case kindGap:
		r.a.log.Warn("sgn worker lost messages of the main process; killing the element's process", "element", r.element, "pid", r.proc.PID())
		r.proc.Kill()
	}
}

// serve joins the process's pipes to the run's subjects until the process
// has ended, then reports its end to the main process, after all its
// output.
func (r *agentRun) serve() {
	pr, _ := r.proc.Conn() // what goes to it, r.in writes
	output := make(chan struct{})
	go func() {
		defer close(output)
		buf := make([]byte, max(4096, r.out.max-header))
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				r.out.Write(buf[:n]) // a failure shows as silence or a gap on the other side
			}
			if err != nil {
				return
			}
		}
	}()
	stop := make(chan struct{})
	go r.keepAlive(stop)

	<-r.proc.Exited()
	<-output // all it wrote: it has exited, so its pipe ends
	exit, clean := r.proc.Exit()
	close(stop)
	r.a.mu.Lock()
	if r.stopped != "" && !clean {
		exit += " as " + r.stopped // not a crash: the pipeline's error says so
	}
	r.a.mu.Unlock()
	r.out.send(kindExit, encode(exitReport{Exit: exit, Clean: clean, PID: r.proc.PID(), Host: r.a.host, Stderr: r.proc.Stderr()}))
	r.a.nc.FlushTimeout(time.Second)
	r.in.fail(errRunOver)
	r.sub.Unsubscribe()
	r.a.log.Info("sgn worker finished a run", "element", r.element, "pid", r.proc.PID(), "exit", exit)
	r.a.ended(r)
	close(r.done)
}

// keepAlive sends heartbeats until stop is closed, and kills the process
// once nothing has come from the main process for a second.
func (r *agentRun) keepAlive(stop <-chan struct{}) {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			r.out.send(kindHeartbeat, nil)
			if r.in.silent(now) {
				r.a.log.Warn("sgn worker heard nothing from the main process for a second; killing the element's process", "element", r.element, "pid", r.proc.PID())
				r.proc.Kill()
				return
			}
		}
	}
}
