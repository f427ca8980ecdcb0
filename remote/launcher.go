package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn/runtime"
)

// DefaultClaimTimeout is how long a Launcher tries to claim a free worker
// before it gives up.
const DefaultClaimTimeout = 10 * time.Second

// A Launcher starts worker processes on other hosts: it claims a free
// worker of the element's type over NATS, which runs the element in a new
// process and streams its messages on the run's two subjects
// (runtime.Launcher). One Launcher may serve any number of elements and
// pipelines at once.
type Launcher struct {
	nc *nats.Conn

	// ClaimTimeout is how long Launch tries to claim a free worker, while
	// none answers or all are busy. Zero means DefaultClaimTimeout.
	ClaimTimeout time.Duration
}

// NewLauncher returns a Launcher that claims workers through nc, a
// connection the caller made with whatever options its NATS server needs
// (credentials, TLS) and closes after the pipelines that use it have run.
func NewLauncher(nc *nats.Conn) *Launcher { return &Launcher{nc: nc} }

// SharesMemory is false: a worker on another host has none of this
// process's memory, so slot payloads travel in the messages, and the
// pipeline's shared segments cannot reach it.
func (l *Launcher) SharesMemory() bool { return false }

// claimAttempt bounds how long one claim waits for a worker's answer.
const claimAttempt = 2 * time.Second

// Launch claims a free worker of w's element type and returns the process
// that runs the element there. It tries again while no worker answers or
// every one is busy, pausing from 10 ms up to half a second between tries,
// until ClaimTimeout has passed. A worker that refuses (it was built for
// another version of the element) ends the attempt at once.
func (l *Launcher) Launch(ctx context.Context, w *runtime.Worker) (runtime.Process, error) {
	timeout := l.ClaimTimeout
	if timeout <= 0 {
		timeout = DefaultClaimTimeout
	}
	deadline := time.Now().Add(timeout)
	subject := ClaimSubject(w.Hello.Type)
	pause := 10 * time.Millisecond
	busy := false
	var odd error // the last failure that was not silence: said if no worker is claimed
	for {
		p, reply, err := l.try(ctx, w, subject, time.Until(deadline))
		switch {
		case p != nil:
			return p, nil
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case errors.Is(err, errRefused):
			return nil, err
		case reply != nil && reply.Busy:
			busy = true
		case reply != nil:
			return nil, fmt.Errorf("the worker of %s on %s (pid %d) refused the run: %s", w.Hello.Type, reply.Host, reply.PID, reply.Reason)
		case errors.Is(err, nats.ErrNoResponders), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			// No worker, or none answered in time: try again.
		case err != nil && l.nc.IsClosed():
			return nil, fmt.Errorf("claiming a worker of %s: %w", w.Hello.Type, err)
		case err != nil:
			odd = err // try again, and say it if no try succeeds
		}
		wait := min(pause, time.Until(deadline))
		if wait <= 0 {
			err := l.timedOut(w, timeout, busy)
			if odd != nil {
				err = fmt.Errorf("%w\n(the last claim that failed otherwise: %w)", err, odd)
			}
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// try makes one claim, on a run of its own: a worker that accepts it after
// the claim gave up on it is left with a run nobody speaks on, which it
// drops once it has heard nothing for a second. It returns the process
// if a worker accepted, and otherwise the worker's reply, if one came.
func (l *Launcher) try(ctx context.Context, w *runtime.Worker, subject string, left time.Duration) (*process, *claimReply, error) {
	if left <= 0 {
		return nil, nil, context.DeadlineExceeded
	}
	id := newRunID()
	toWorker, toMain := runSubjects(id)
	// out is set before the subscription: its handler kills the process
	// through it if the worker's messages show a gap.
	p := &process{exited: make(chan struct{}), out: newSender(l.nc, toWorker)}
	p.in = newReceiver(p.control)
	// Subscribed before the claim goes out: the worker's first heartbeat
	// may follow its reply at once.
	sub, err := l.nc.Subscribe(toMain, p.in.handle)
	if err != nil {
		return nil, nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil { // the protocol's credits bound what is in flight
		sub.Unsubscribe()
		return nil, nil, err
	}
	// The server refuses a subscription or a publication only
	// asynchronously, before it answers a flush: what the run needs is
	// checked before a worker is claimed, with a message on the worker's
	// subject that no one hears yet.
	err = l.nc.Publish(toWorker, []byte{kindHeartbeat, 0, 0, 0, 0, 0, 0, 0, 0})
	if err == nil {
		fctx, cancel := context.WithTimeout(ctx, min(left, claimAttempt))
		err = l.nc.FlushWithContext(fctx)
		cancel()
	}
	if err == nil {
		err = l.refused()
	}
	if err != nil {
		sub.Unsubscribe()
		return nil, nil, err
	}
	body := encode(claim{Run: id, Type: w.Hello.Type, Element: w.Element})
	actx, cancel := context.WithTimeout(ctx, min(left, claimAttempt))
	msg, err := l.nc.RequestWithContext(actx, subject, body)
	cancel()
	if err != nil {
		sub.Unsubscribe()
		if rerr := l.refused(); rerr != nil {
			return nil, nil, rerr
		}
		return nil, nil, err
	}
	var r claimReply
	if err := decode("reply to a claim", msg.Data, &r); err != nil {
		sub.Unsubscribe()
		return nil, nil, err
	}
	if !r.Accepted {
		sub.Unsubscribe()
		return nil, &r, nil
	}
	p.sub, p.host, p.pid = sub, r.Host, r.PID
	p.in.heard.Store(time.Now().UnixNano())
	go p.keepAlive()
	return p, &r, nil
}

// errRefused is the error of a claim that the server's permissions forbid.
var errRefused = errors.New("the NATS server refuses the pipeline's connection what a worker on another host needs")

// refused returns an error if the server refused the connection a
// subscription or a publication of a claim or a run; the server says so
// only asynchronously.
func (l *Launcher) refused() error {
	err := l.nc.LastError()
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return nil
	}
	inbox := l.nc.Opts.InboxPrefix
	if inbox == "" {
		inbox = "_INBOX"
	}
	msg := err.Error()
	if !strings.Contains(msg, `"sgn.claim.`) && !strings.Contains(msg, `"sgn.run.`) && !strings.Contains(msg, `"`+inbox+`.`) {
		return nil // another of the connection's uses
	}
	return fmt.Errorf("%w (%v): a pipeline must be allowed to publish on sgn.claim.> and sgn.run.*.w, and to subscribe to sgn.run.*.m and to its replies (%s.>)", errRefused, err, inbox)
}

// timedOut is the error of a claim that no worker took in time.
func (l *Launcher) timedOut(w *runtime.Worker, timeout time.Duration, busy bool) error {
	binary := "<worker binary>"
	if w.Path != "" {
		binary = filepath.Base(w.Path)
	}
	server := l.serverURL()
	if busy {
		return fmt.Errorf("every worker of %s on NATS server %s stayed busy for %v; start more with:\n\t%s -nats %s",
			w.Hello.Type, server, timeout, binary, server)
	}
	return fmt.Errorf("no worker of %s answered on NATS server %s within %v; start one with:\n\t%s -nats %s",
		w.Hello.Type, server, timeout, binary, server)
}

// serverURL returns the URL of the server the Launcher's connection is
// connected to, or was made for, without its password.
func (l *Launcher) serverURL() string {
	if u := l.nc.ConnectedUrlRedacted(); u != "" {
		return u
	}
	u, err := url.Parse(l.nc.Opts.Url)
	if err != nil || l.nc.Opts.Url == "" {
		return "(unknown)"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	return u.String()
}

// process is a worker process on another host, seen from the main
// process (runtime.Process).
type process struct {
	sub  *nats.Subscription // on the main process's subject
	in   *receiver
	out  *sender
	host string
	pid  int

	exited chan struct{}
	once   sync.Once
	exit   string // set before exited is closed
	clean  bool
	stderr []string
}

func (p *process) Conn() (io.Reader, io.Writer) { return p.in, p.out }
func (p *process) PID() int                     { return p.pid }
func (p *process) Host() string                 { return p.host }
func (p *process) Exited() <-chan struct{}      { return p.exited }
func (p *process) Stderr() []string             { return p.stderr }

// Kill asks the worker's host to kill the process now. If the host does
// not answer, the process is lost within a second anyway.
func (p *process) Kill() { p.out.send(kindKill, nil) }

// Exit stops listening to the run.
func (p *process) Exit() (string, bool) {
	p.sub.Unsubscribe()
	return p.exit, p.clean
}

// control handles the worker's messages other than data, in order.
func (p *process) control(kind byte, payload []byte) {
	switch kind {
	case kindExit:
		var r exitReport
		if err := decode("exit report", payload, &r); err != nil {
			r = exitReport{Exit: err.Error()}
		}
		p.ended(r.Exit, r.Clean, r.Stderr)
		p.in.close(io.EOF) // after what came before it
	case kindGap:
		// The stream is broken: the process must end, and its exit report
		// (or its silence) ends the run.
		p.Kill()
	}
}

// ended records how the process ended, once.
func (p *process) ended(exit string, clean bool, stderr []string) {
	p.once.Do(func() {
		p.exit, p.clean, p.stderr = exit, clean, stderr
		close(p.exited)
	})
}

// keepAlive sends heartbeats until the process has ended, and declares it
// lost once nothing has come from its host for a second.
func (p *process) keepAlive() {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-p.exited:
			return
		case now := <-t.C:
			p.out.send(kindHeartbeat, nil)
			if p.in.silent(now) {
				p.Kill() // in case it still hears us
				p.ended(fmt.Sprintf("lost: nothing heard from its host for %v", silence), false, nil)
				p.in.fail(io.ErrUnexpectedEOF)
				return
			}
		}
	}
}
