package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// DefaultStopTimeout is how long a worker that was told to stop may take
// before it is killed.
const DefaultStopTimeout = 5 * time.Second

// DefaultHandshakeTimeout is how long a new worker may take to answer the
// parent's hello before it is killed.
const DefaultHandshakeTimeout = 10 * time.Second

// A Worker is one element running in its own process, seen from the parent.
type Worker struct {
	Element string // the element's name in the pipeline, sent in the Hello
	Path    string // the worker binary; for a Launcher other than Pipes, its name, for messages
	Hello   Hello  // sent first; Run fills in Element, Version and descriptors

	// Conn carries the element's frames: its Outs feed the element's sink
	// pads, its Ins (Relays) take what the element sends on its source
	// pads. Its windows go in the Hello; it keeps its accounts in Pool and
	// Budget (see Conn.Account). Without one, Run makes one with a window of
	// one frame per pad.
	Conn *Conn

	// Pool is the pipeline's slot pool, if it has one, and Budget the
	// element's slots in it, if it sends payloads that may travel in slots.
	Pool   *Pool
	Budget *Budget

	// Segments are the pipeline's shared segments, in the order of
	// Hello.Segments.
	Segments []*shm.Segment

	// Launcher starts the worker's processes; nil means Pipes, which
	// starts Path on this host.
	Launcher Launcher

	// Env is the environment of a local worker process, besides
	// SGN_WORKER_ELEMENT; nil means this process's.
	Env []string

	// Logger takes the worker's events (started, finished, failed,
	// restarting, killed) and the lines it writes on stderr, and on stdout
	// with LogStdout, as records with the element's name and the process
	// ID; nil means slog.Default(). Stdout takes the lines of its stdout
	// otherwise, whole; nil means this process's stdout.
	Logger    *slog.Logger
	LogStdout bool
	Stdout    io.Writer
	// Stderr, if set, takes the lines of a local worker's stderr, whole,
	// instead of Logger.
	Stderr io.Writer

	// StopTimeout is how long a worker told to stop may take to exit
	// before it is killed. Zero means DefaultStopTimeout.
	StopTimeout time.Duration

	// HandshakeTimeout is how long the worker may take to answer the
	// hello, a guard against a binary that is not an sgn worker. Zero
	// means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// Restart, if not nil, starts the worker again when it fails, within
	// the policy's limits, instead of ending Run.
	Restart *RestartPolicy

	// OnState, if not nil, is told each time the worker's state changes,
	// with its process ID (0 before the process starts) and the host the
	// process runs on ("" for a child of this process; see Process.Host).
	OnState func(state State, pid int, host string)

	// Busy, if not nil, asks the worker to measure the time its element
	// spends in its method, and is given the nanoseconds so far, as they
	// are reported (every 250 ms, and at the end).
	Busy func(ns int64)

	lastLog *slog.Logger // the last process's logger, for the failure its end is

	mu      sync.Mutex
	session *session // while Run runs, after the hello
	eos     bool     // RequestEOS was called
	killed  bool     // Kill was called: stop by killing, without waiting
}

// A State is what a worker is doing, as OnState reports it.
type State int

const (
	StatePending    State = iota // not started yet
	StateStarting                // its process is starting, and has not answered the hello yet
	StateRunning                 // its element runs
	StateRestarting              // it failed, and is to be started again
	StateDone                    // its element finished, and the process exited cleanly
	StateFailed                  // it failed for good
	StateStopped                 // it was stopped before it finished
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateStarting:
		return "starting"
	case StateRunning:
		return "running"
	case StateRestarting:
		return "restarting"
	case StateDone:
		return "done"
	case StateFailed:
		return "failed"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// A RestartPolicy says when a failed worker is started again: at most Max
// times within any span of Within, after a pause that starts at 10 ms and
// doubles with each restart in that span, up to a second. Beyond that, the
// worker fails for good.
//
// A restarted worker is given again what its predecessor had not finished,
// as Redeliver says, so that its element's stream goes on.
type RestartPolicy struct {
	Max       int
	Within    time.Duration
	Redeliver Redeliver
}

// Redeliver says which frames a restarted worker is given again.
type Redeliver int

const (
	// RedeliverUnanswered is for an element that sends one frame on its
	// only source pad for each frame of its only sink pad (Process): the
	// frames whose answer had not reached the main process are sent
	// again.
	RedeliverUnanswered Redeliver = iota + 1
	// RedeliverUnconsumed is for a sink (Consume): the frames it had not
	// said it was done with are sent again; it says so for each at once.
	RedeliverUnconsumed
	// SkipRepeated is for a source (New), which starts its stream over:
	// as many of its frames as its predecessors sent are dropped, so that
	// a source that sends the same frames from the same configuration goes
	// on where it broke.
	SkipRepeated
)

// A WorkerError reports a worker that failed: its element returned an error
// or panicked, or the process ended before its work was done. Its message
// does not name the element; package sgn adds that.
type WorkerError struct {
	Message  string   // what went wrong
	Reported bool     // Message is the element's own error, sent by the worker
	Panic    bool     // the element panicked
	Stack    string   // the panic's stack, as the worker recovered it
	PID      int      // the worker's process ID
	Host     string   // the host it ran on, if it was not a child of this process (see Process.Host)
	Exit     string   // how the process ended, as os.ProcessState says it
	Stderr   []string // the last lines the worker wrote to stderr
	Started  bool     // the element had started: the binary and the handshake were sound
	Restarts int      // how often it had been restarted before this failure
}

func (e *WorkerError) Error() string {
	var b strings.Builder
	if e.Message != "" {
		b.WriteString(e.Message)
	} else {
		b.WriteString("worker stopped before EOS")
	}
	fmt.Fprintf(&b, " (worker")
	if e.PID != 0 {
		fmt.Fprintf(&b, " pid %d", e.PID)
	}
	if e.Host != "" {
		fmt.Fprintf(&b, " on %s", e.Host)
	}
	if e.Exit != "" {
		fmt.Fprintf(&b, ", %s", e.Exit)
	}
	if e.Restarts > 0 {
		fmt.Fprintf(&b, ", after %d restart%s", e.Restarts, map[bool]string{true: "s"}[e.Restarts > 1])
	}
	b.WriteString(")")
	if !e.Reported && len(e.Stderr) > 0 {
		b.WriteString("; last lines of its stderr:")
		for _, l := range e.Stderr {
			b.WriteString("\n\t")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Run starts the worker, streams frames until it is done, and waits for it
// to exit. It returns nil once the worker has reported that its element
// finished and has exited cleanly. If the worker fails and Restart allows,
// it is started again; otherwise Run returns a *WorkerError. If ctx is
// cancelled, Run tells the worker to stop, kills it after StopTimeout, and
// returns the context's cause. Run never returns before the process has
// been waited for.
func (w *Worker) Run(ctx context.Context) error {
	c := w.Conn
	if c == nil {
		c = NewConn(ones(len(w.Hello.Sinks)), ones(len(w.Hello.Sources)))
		c.Account(w.Pool, w.Budget)
		w.Conn = c
	}
	if !w.launcher().SharesMemory() && !c.inline {
		c.InlineSlots() // package sgn did before any frame could be sent
	}
	w.prepareRestarts(c)
	var restarts []time.Time // within the policy's span
	for n := 0; ; n++ {
		err, cancelled := w.runOnce(ctx, c, n)
		var we *WorkerError
		switch {
		case cancelled:
			w.closeConn(c)
			w.state(StateStopped, 0, "")
			return err
		case err == nil:
			w.closeConn(c)
			w.state(StateDone, 0, "")
			return nil
		case errors.As(err, &we):
			we.Restarts = n
		}
		pause, ok := w.mayRestart(we, &restarts)
		if !ok {
			w.failed(err, "worker failed")
			w.closeConn(c)
			w.state(StateFailed, 0, "")
			return err
		}
		w.failed(err, "worker failed; restarting it", "restart", n+1, "pause", pause)
		w.state(StateRestarting, 0, "")
		c.pause()
		if w.Budget != nil {
			w.Budget.revoke()
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			w.closeConn(c)
			w.state(StateStopped, 0, "")
			return context.Cause(ctx)
		}
	}
}

// prepareRestarts makes c keep what a restarted worker would be given
// again, if the worker has a restart policy.
func (w *Worker) prepareRestarts(c *Conn) {
	if w.Restart == nil {
		return
	}
	for _, o := range c.outs {
		o.retain = w.Restart.Redeliver == RedeliverUnanswered || w.Restart.Redeliver == RedeliverUnconsumed
	}
	switch w.Restart.Redeliver {
	case RedeliverUnanswered:
		if len(c.outs) > 0 && len(c.ins) > 0 {
			if r, ok := c.ins[0].(*Relay); ok {
				r.answered = c.outs[0]
				c.outs[0].gated = true
			}
		}
	case RedeliverUnconsumed:
		c.finishOnCredit = true
	}
}

// mayRestart tells whether a failed worker is to be started again under
// the policy, and after what pause. restarts holds the times of the
// restarts within the policy's span, to which it adds this one.
func (w *Worker) mayRestart(we *WorkerError, restarts *[]time.Time) (time.Duration, bool) {
	p := w.Restart
	if p == nil || we == nil || !we.Started || p.Max <= 0 {
		return 0, false // a binary that cannot start will not do better the second time
	}
	w.mu.Lock()
	killed := w.killed
	w.mu.Unlock()
	if killed {
		return 0, false
	}
	now := time.Now()
	recent := (*restarts)[:0]
	for _, t := range *restarts {
		if now.Sub(t) < p.Within {
			recent = append(recent, t)
		}
	}
	if len(recent) >= p.Max {
		*restarts = recent
		return 0, false
	}
	*restarts = append(recent, now)
	return min(time.Second, 10*time.Millisecond<<len(recent)), true
}

// failed logs the failure err of the last process.
func (w *Worker) failed(err error, msg string, args ...any) {
	log := w.lastLog
	if log == nil {
		log = w.logger()
	}
	level := slog.LevelError
	if len(args) > 0 {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, msg, append([]any{"error", err.Error()}, args...)...)
}

// closeConn drops what c's Outs still hold or will send: the worker takes
// no more frames. Its budget's slots wait for a worker to grant them to.
func (w *Worker) closeConn(c *Conn) {
	for _, o := range c.outs {
		o.Close()
	}
	if w.Budget != nil {
		w.Budget.revoke()
	}
}

func (w *Worker) state(s State, pid int, host string) {
	if w.OnState != nil {
		w.OnState(s, pid, host)
	}
}

// runOnce runs one process of the worker, the nth, until it ends. It
// returns what became of it, and whether it was stopped (cancelled).
func (w *Worker) runOnce(ctx context.Context, c *Conn, n int) (err error, cancelled bool) {
	w.state(StateStarting, 0, "")
	launcher := w.launcher()
	proc, err := launcher.Launch(ctx, w)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx), true
		}
		return err, false
	}
	pid := proc.PID()
	began := time.Now()
	w.state(StateStarting, pid, proc.Host())

	hello := w.Hello
	hello.Version, hello.Element = ProtocolVersion, w.Element
	hello.Pool, hello.Segments = nil, nil
	if launcher.SharesMemory() {
		poolFD, segFDs := sharedFDs(w)
		if w.Pool != nil {
			mem := w.Pool.mem
			hello.Pool = &PoolHello{Name: mem.Name(), FD: poolFD, Count: mem.Count(), Size: mem.Size(), Inline: w.Pool.inline}
		}
		hello.Segments = slices.Clone(w.Hello.Segments)
		for i := range hello.Segments {
			hello.Segments[i].FD = segFDs[i]
		}
	}
	hello.SinkWindows, hello.SourceWindows = c.Windows()
	hello.Prompt = c.finishOnCredit
	hello.Stats = w.Busy != nil
	if hello.Pool != nil && w.Budget != nil {
		hello.Pool.Budget = len(w.Budget.own)
		hello.Pool.Free = w.Budget.grant(c)
	}
	r, wr := proc.Conn()
	s := &session{Worker: w, conn: c, pid: pid, proc: proc, greeted: make(chan struct{})}
	if n == 0 {
		s.greet(s, hello, func(h Hello) { c.writer().prepend(msgHello, marshal(h)) })
		c.start(newReader(r), wr)
	} else {
		skip := w.Restart.Redeliver == SkipRepeated
		s.greet(s, hello, func(h Hello) { c.restart(newReader(r), wr, h, skip) })
	}
	cancelledErr := s.run(ctx)
	w.withdraw()
	<-proc.Exited()
	exit, clean := proc.Exit()
	plog := w.logger().With("pid", pid, "ran", time.Since(began).Round(time.Microsecond))
	if host := proc.Host(); host != "" {
		plog = plog.With("host", host)
	}
	if cancelledErr != nil {
		plog.Debug("worker stopped", "cause", cancelledErr)
		return cancelledErr, true
	}
	verdict := s.verdict(exit, clean, proc.Stderr())
	if verdict == nil {
		plog.Debug("worker finished")
	}
	w.lastLog = plog
	return verdict, false
}

// launcher returns the worker's Launcher.
func (w *Worker) launcher() Launcher {
	if w.Launcher == nil {
		return Pipes{}
	}
	return w.Launcher
}

// outputWait is how long the end of a worker waits for its last lines to
// be taken by a slow consumer.
const outputWait = time.Second

// logger returns the worker's logger, with the element's name.
func (w *Worker) logger() *slog.Logger {
	l := w.Logger
	if l == nil {
		l = slog.Default()
	}
	return l.With("element", w.Element)
}

// RequestEOS asks the worker's element to end its streams, as the pipeline
// does on Ctrl+C. If the worker has not started yet, it is asked as soon as
// it has.
func (w *Worker) RequestEOS() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.eos = true
	if w.session != nil {
		w.session.conn.send(msgEOS, nil) // never waits; fails only if the worker is ending anyway
	}
}

// Kill kills the worker's process now, and any it starts from now on, as
// the second Ctrl+C does: no stop message, no StopTimeout.
func (w *Worker) Kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.killed = true
	if w.session != nil {
		w.session.proc.Kill()
	}
}

// greet has send send s's hello, carrying an EOS request made before it,
// first of all messages (frames may be queued already), and makes s the
// session that later requests go to.
func (w *Worker) greet(s *session, hello Hello, send func(Hello)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hello.EOS = w.eos
	send(hello)
	w.session = s
	if w.killed {
		s.proc.Kill()
	}
}

// withdraw ends the session's time as the one requests go to.
func (w *Worker) withdraw() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.session = nil
}

// verdict judges a worker that ran to its end (it was not stopped): what it
// reported, how it exited, and what its pipe carried.
func (s *session) verdict(exit string, clean bool, stderr []string) error {
	we := &WorkerError{PID: s.pid, Host: s.proc.Host(), Exit: exit, Stderr: stderr, Started: s.started()}
	switch {
	case s.report != nil:
		we.Message, we.Reported, we.Panic, we.Stack = s.report.Message, true, s.report.Panic, s.report.Stack
	case s.handshakeErr != nil:
		we.Message = s.handshakeErr.Error()
	case s.readErr != nil && !errors.Is(s.readErr, io.ErrUnexpectedEOF):
		we.Message = "reading from the worker: " + s.readErr.Error()
	case !clean && s.done:
		we.Message = "worker finished its work but did not exit cleanly"
	case !clean:
		// A crash; a message cut short (s.readErr) is its symptom.
	case s.readErr != nil:
		we.Message = "reading from the worker: " + s.readErr.Error()
	case !s.done:
		we.Message = "worker exited without finishing its work"
	default:
		return nil
	}
	return we
}

// session is one run of a worker process.
type session struct {
	*Worker
	conn *Conn
	pid  int
	proc Process

	greeted chan struct{} // closed when the worker has answered the hello

	// Set by the reader goroutine; read after it has ended.
	handshakeErr error // the worker never answered the hello properly
	done         bool
	report       *ErrorReport
	readErr      error // a broken or unreadable message
}

// run streams until the worker's output ends. It returns the context's
// cause if ctx was cancelled; everything else that can go wrong is left in
// s for verdict.
func (s *session) run(ctx context.Context) error {
	defer s.conn.writer().close()

	readDone := make(chan error, 1)
	go func() { readDone <- s.read() }()

	stopped := func() error {
		s.stop()
		<-readDone
		return context.Cause(ctx)
	}

	timeout := orDefault(s.HandshakeTimeout, DefaultHandshakeTimeout)
	handshake := time.NewTimer(timeout)
	defer handshake.Stop()
	select {
	case <-s.greeted:
	case err := <-readDone:
		s.readErr = err
		s.stop()
		return nil
	case <-handshake.C:
		s.proc.Kill() // not a worker that would understand stop
		<-readDone
		s.handshakeErr = fmt.Errorf("worker did not answer the handshake within %v: is %s an sgn worker binary?", timeout, s.binary())
		return nil
	case <-ctx.Done():
		return stopped()
	}

	select {
	case err := <-readDone:
		// A worker closes its pipe when it exits; one that does not exit
		// soon after is stopped.
		s.readErr = err
		s.stop()
		return nil
	case <-ctx.Done():
		return stopped()
	}
}

// read handles the worker's messages until it closes its pipe. It returns
// nil at a clean end of input, whether or not the worker said it was done.
func (s *session) read() error {
	c := s.conn
	typ, body, err := c.r.next()
	if err == io.EOF {
		s.handshakeErr = fmt.Errorf("worker exited before answering the handshake: is %s an sgn worker binary built with this version of sgn?", s.binary())
		return nil
	}
	if err != nil {
		return err
	}
	switch typ {
	case msgReady:
	case msgError: // the worker could not set its element up
		var r ErrorReport
		if err := unmarshal(typ, body, &r); err != nil {
			return err
		}
		s.report = &r
		return nil
	default:
		return fmt.Errorf("%w: worker sent %s before ready", ErrProtocol, msgName(typ))
	}
	var ready Ready
	if err := unmarshal(typ, body, &ready); err != nil {
		return err
	}
	if ready.Version != ProtocolVersion {
		return fmt.Errorf("worker binary %s speaks protocol version %d, this program %d: rebuild it from the same version of sgn",
			s.binary(), ready.Version, ProtocolVersion)
	}
	close(s.greeted)
	s.logger().Debug("worker started", "pid", ready.PID, "binary", s.Path)
	s.state(StateRunning, ready.PID, s.proc.Host())
	return c.serve(func(typ byte, body []byte) error {
		switch typ {
		case msgDone:
			s.done = true
			s.finished() // the element takes no more frames
		case msgError:
			var r ErrorReport
			if err := unmarshal(typ, body, &r); err != nil {
				return err
			}
			s.report = &r
		case msgStats:
			d := wire.NewDecoder(body)
			ns := d.Uint(63)
			if d.Err() != nil {
				return fmt.Errorf("%w: stats message: %v", ErrProtocol, d.Err())
			}
			if s.Busy != nil {
				s.Busy(int64(ns))
			}
		default:
			return fmt.Errorf("%w: unexpected %s message from the worker", ErrProtocol, msgName(typ))
		}
		return nil
	})
}

// finished records that the worker's element takes no more frames: frames
// sent to it from now on are dropped, and the slots of those in flight are
// released.
func (s *session) finished() {
	for _, o := range s.conn.outs {
		o.Close()
	}
}

// stop asks the worker to stop, and kills it if it has not exited after
// StopTimeout.
func (s *session) stop() {
	s.conn.send(msgStop, nil) // never waits; if it fails, the kill below stops the worker
	s.mu.Lock()
	timeout := orDefault(s.StopTimeout, DefaultStopTimeout)
	if s.killed {
		timeout = 0
	}
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.proc.Exited():
	case <-t.C:
		if timeout > 0 {
			s.logger().Warn("worker killed: it did not stop in time", "pid", s.pid, "stop_timeout", timeout)
		} else {
			s.logger().Warn("worker killed", "pid", s.pid)
		}
		s.proc.Kill()
	}
}

// ones returns n windows of one frame.
func ones(n int) []int {
	w := make([]int, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

// orDefault returns d, or def if d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func or(w io.Writer, def *os.File) io.Writer {
	if w != nil {
		return w
	}
	return def
}

// binary names the worker's binary in messages: its path, or the host
// it runs on.
func (s *session) binary() string {
	switch {
	case s.Path != "":
		return s.Path
	case s.proc.Host() != "":
		return "the binary on " + s.proc.Host()
	}
	return "the worker's binary"
}

// started reports whether the worker answered the hello with ready.
func (s *session) started() bool {
	select {
	case <-s.greeted:
		return true
	default:
		return false
	}
}
