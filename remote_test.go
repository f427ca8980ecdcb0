package sgn_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
	"github.com/sgn-go/sgn/runtime"
)

// The tests of workers on other hosts: an embedded NATS server, and worker
// binaries started by hand, as separate processes, with -nats.

// agent is a worker binary serving pipelines over NATS.
type agent struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string // every stderr line, for waitFor
	exited chan struct{}
}

// startAgent starts the worker binary of the element type named by binary
// (testelems-scale, say) with -nats url and the environment env, and waits
// until it waits for work. It is killed when the test ends.
func startAgent(t testing.TB, binary, url string, env ...string) *agent {
	t.Helper()
	a := startAgentProcess(t, binary, url, env...)
	a.waitFor(t, "waiting for work")
	return a
}

// startAgentProcess starts the worker binary, without waiting for it.
func startAgentProcess(t testing.TB, binary, url string, env ...string) *agent {
	t.Helper()
	return startAgentArgs(t, binary, []string{"-nats", url}, env...)
}

// startAgentArgs starts the worker binary with the arguments args and the
// environment env, without waiting for it.
func startAgentArgs(t testing.TB, binary string, args []string, env ...string) *agent {
	t.Helper()
	a := &agent{lines: make(chan string, 1000), exited: make(chan struct{})}
	a.cmd = exec.Command(filepath.Join(workerDir, binary), args...)
	a.cmd.Env = append(os.Environ(), env...)
	a.cmd.Stdout = io.Discard
	stderr, err := a.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			fmt.Fprintln(&a.stderr, sc.Text())
			a.mu.Unlock()
			select {
			case a.lines <- sc.Text():
			default:
			}
		}
		close(a.lines)
		a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-a.exited
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", binary, a.output())
		}
	})
	return a
}

// waitFor waits for a line of the agent's stderr that contains s.
func (a *agent) waitFor(t testing.TB, s string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-a.lines:
			if !ok {
				t.Fatalf("the worker exited before it wrote %q; its stderr:\n%s", s, a.output())
			}
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("the worker did not write %q within 20s; its stderr:\n%s", s, a.output())
		}
	}
}

func (a *agent) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stderr.String()
}

// connect connects to the server at url, and closes the connection when
// the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// chainAt builds src → x → sink, with x placed by where and the sink, which
// writes what it receives to a file, in this process.
func chainAt(t *testing.T, n int64, x transform, where []sgn.ElementOption, opts ...sgn.PipelineOption) (*sgn.Pipeline, *testelems.Collect) {
	t.Helper()
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	p := sgn.NewPipeline(append([]sgn.PipelineOption{sgn.WorkerDir(workerDir)}, opts...)...)
	p.Insert("src", src)
	p.Insert("x", x, where...)
	p.Insert("sink", snk)
	sgn.Link(&src.Out, x.in())
	sgn.Link(x.out(), &snk.In)
	return p, snk
}

// A transform is an int64 transform of the test elements.
type transform interface {
	sgn.Element
	in() *sgn.Sink[int64]
	out() *sgn.Source[int64]
}

type scale struct{ *testelems.Scale }

func (s scale) in() *sgn.Sink[int64]    { return &s.In }
func (s scale) out() *sgn.Source[int64] { return &s.Out }

type chatter struct{ *testelems.Chatter }

func (c chatter) in() *sgn.Sink[int64]    { return &c.In }
func (c chatter) out() *sgn.Source[int64] { return &c.Out }

// A pipeline with its transform on another host gives what it gives with
// the transform in a worker on this one.
func TestRemoteWorkerGivesWhatALocalOneGives(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))

	const n = 20000
	run := func(where sgn.ElementOption) []int64 {
		p, snk := chainAt(t, n, scale{&testelems.Scale{Factor: 3}}, []sgn.ElementOption{where}, sgn.QueueSize(7))
		if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		nums, _, eos := collected(t, snk.File)
		if !eos {
			t.Error("the sink never saw EOS")
		}
		return nums
	}
	local := run(sgn.InWorker())
	if diff := cmp.Diff(scaled(seq(1, n), 3), local); diff != "" {
		t.Fatalf("with a local worker (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(local, run(sgn.Remote(l))); diff != "" {
		t.Fatalf("with a remote worker (-local +remote):\n%s", diff)
	}
}

// Frames of 1 MiB cross a server whose messages are smaller: they are split
// and joined. Those that the sender filled in the slot pool (sgn.Alloc),
// whether in this process or in a local worker whose frames pass through
// this one, travel in the messages instead, and arrive whole.
func TestRemoteWorkerTakesFramesLargerThanAMessage(t *testing.T) {
	s := natstest.Start(t, &server.Options{MaxPayload: 64 << 10})
	startAgent(t, "testelems-affine", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	const size, frames = 131072, 12 // 1 MiB of float64s
	for _, tc := range []struct {
		name             string
		src, x           []sgn.ElementOption
		inSlotsAtTheSink bool
	}{
		{"all on this host", nil, []sgn.ElementOption{sgn.InWorker()}, true},
		{"from this process", nil, []sgn.ElementOption{sgn.Remote(l)}, false},
		{"from a local worker", []sgn.ElementOption{sgn.InWorker()}, []sgn.ElementOption{sgn.Remote(l)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &testelems.Ramp{Len: size, Count: frames, Alloc: true}
			x := &testelems.Affine{Mul: 2, Add: 1}
			memory := "copy"
			if tc.inSlotsAtTheSink {
				memory = "slots"
			}
			snk := &testelems.Verify{Len: size, Mul: 2, Add: 1, Memory: memory}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(3))
			p.Insert("src", src, tc.src...)
			p.Insert("x", x, tc.x...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if snk.Frames() != frames {
				t.Errorf("the sink checked %d frames, want %d", snk.Frames(), frames)
			}
			if slots, held := sgn.PoolAfterRun(p); slots == 0 || held != 0 {
				t.Errorf("the run's pool had %d slots, %d of them held at its end; want some, none held", slots, held)
			}
		})
	}
}

// A remote worker whose process dies fails the run like a local one: the
// error names the element, the host and process, how it ended, and the
// last lines of its stderr.
func TestRemoteWorkerCrashIsReportedLikeALocalOne(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-chatter", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	x := &testelems.Chatter{Tag: "chatter", Crash: testelems.Crash{At: 500, How: "kill"}}
	p, _ := chainAt(t, 100000, chatter{x}, []sgn.ElementOption{sgn.Remote(l)})
	err := runWithin(t, p, context.Background(), time.Minute)
	var ee *sgn.ElementError
	var we *runtime.WorkerError
	if !errors.As(err, &ee) || ee.Element != "x" || !errors.As(err, &we) {
		t.Fatalf("Run() = %v; want an ElementError for x wrapping a WorkerError", err)
	}
	host, _ := os.Hostname()
	if we.Host != host || we.PID == 0 || we.Exit != "signal: killed" {
		t.Errorf("WorkerError host %q, pid %d, exit %q; want host %q, a pid, signal: killed", we.Host, we.PID, we.Exit, host)
	}
	if len(we.Stderr) == 0 || we.Stderr[len(we.Stderr)-1] != "chatter says 500 on stderr" {
		t.Errorf("last stderr lines %q; want them to end with the 500th frame's", we.Stderr)
	}
	for _, want := range []string{fmt.Sprintf("pid %d on %s, signal: killed", we.PID, host), "chatter says 499 on stderr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// Under a restart policy, a remote worker whose process dies is restarted
// on a worker claimed again, and the sink gets every frame once, in order.
func TestRemoteWorkerIsRestartedAndLosesNothing(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-chatter", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	const n = 3000
	x := &testelems.Chatter{Tag: "chatter", Crash: testelems.Crash{At: 700, How: "kill", Once: filepath.Join(t.TempDir(), "once")}}
	p, snk := chainAt(t, n, chatter{x}, []sgn.ElementOption{sgn.Remote(l), sgn.Restart(3, time.Minute)}, sgn.QueueSize(10))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if diff := cmp.Diff(seq(1, n), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	if !eos {
		t.Error("no EOS")
	}
	if got := restarts(p, "x"); got != 1 {
		t.Errorf("%d restarts, want 1", got)
	}
}

// flowing is a sink that closes started once it has received its first
// frame.
type flowing struct {
	In      sgn.Sink[int64]
	started chan struct{}
	once    sync.Once
}

func (f *flowing) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:  "sgn_test.flowing",
		Sinks: []sgn.Pad{f.In.Init("in", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			return sgn.RunSink(ctx, &f.In, func(ctx *sgn.Context, fr sgn.Frame[int64]) error {
				f.once.Do(func() { close(f.started) })
				return nil
			})
		},
	}
}

// endless builds a source that never ends → a Scale placed by where → a
// flowing sink, and returns the pipeline and the sink's started channel.
func endless(where ...sgn.ElementOption) (*sgn.Pipeline, <-chan struct{}) {
	src := &testelems.Count{From: 1, To: 1 << 62}
	x := &testelems.Scale{Factor: 2}
	snk := &flowing{started: make(chan struct{})}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("x", x, where...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	return p, snk.started
}

// runAsync runs p and returns where its result will be.
func runAsync(p *sgn.Pipeline) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	return done
}

// waitStarted waits for frames to flow, or for the run to fail.
func waitStarted(t *testing.T, started <-chan struct{}, done <-chan error) {
	t.Helper()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run() = %v before any frame arrived", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no frame arrived within 30s")
	}
}

// A worker host that disappears (its worker process is SIGKILLed, and the
// element's process with it) is reported lost within its promise: a second
// without a word from it, after a heartbeat period.
func TestRemoteWorkerHostThatDiesIsLostWithinASecond(t *testing.T) {
	s := natstest.Start(t, nil)
	a := startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	p, started := endless(sgn.Remote(l))
	done := runAsync(p)
	waitStarted(t, started, done)
	a.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run has not returned 30s after the worker's host died")
	}
	if d := time.Since(killed); d > 3*time.Second {
		t.Errorf("Run returned %v after the worker's host died; the promise is a second and a heartbeat", d)
	}
	var we *runtime.WorkerError
	if !errors.As(err, &we) || !strings.Contains(we.Exit, "lost") || we.Host == "" || we.PID == 0 {
		t.Fatalf("Run() = %v; want a WorkerError saying the worker was lost, with its host and pid", err)
	}
}

// doomedRemoteParent runs, in a process of its own, a pipeline that never
// ends with its transform on a worker of the NATS server at url, prints
// "streaming" once frames flow, and waits to be killed.
func doomedRemoteParent(url string) {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p, started := endless(sgn.Remote(remote.NewLauncher(nc)))
	done := runAsync(p)
	select {
	case <-started:
		fmt.Println("streaming")
	case err := <-done:
		fmt.Fprintln(os.Stderr, "doomed parent: Run returned:", err)
		os.Exit(1)
	}
	err = <-done
	fmt.Fprintln(os.Stderr, "doomed parent: Run returned:", err)
	os.Exit(1)
}

// A main process that dies (SIGKILL) frees its remote worker within the
// promise: the worker drops the run once it has heard nothing for a
// second, and takes the next.
func TestRemoteWorkerIsFreeAgainWhenItsPipelineDies(t *testing.T) {
	s := natstest.Start(t, nil)
	a := startAgent(t, "testelems-scale", s.ClientURL())
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "SGN_TEST_DOOMED_REMOTE="+s.ClientURL(), "SGN_WORKER_DIR="+workerDir)
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "streaming\n" {
		t.Fatalf("the doomed pipeline said %q (%v), not that it was streaming", line, err)
	}
	a.waitFor(t, "took a run")
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	killed := time.Now()

	// Claims retry while the worker is busy: this run starts as soon as
	// the worker is free.
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	p, snk := chainAt(t, 100, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p, context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(killed); d > 3*time.Second {
		t.Errorf("the worker took the next run %v after its pipeline died; the promise is a second and a heartbeat", d)
	}
	if nums, _, _ := collected(t, snk.File); len(nums) != 100 {
		t.Errorf("the next run's sink got %d frames, want 100", len(nums))
	}
	if !strings.Contains(a.output(), "heard nothing from the main process") {
		t.Errorf("the worker did not say it lost its pipeline; its stderr:\n%s", a.output())
	}
}

// A NATS server restarted while frames flow makes the run fail cleanly,
// never hang; the worker then takes new work from the new server.
func TestRemoteRunSurvivesOrFailsCleanlyWhenTheServerRestarts(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-scale", s.ClientURL())
	nc := connect(t, s.ClientURL(), nats.ReconnectWait(100*time.Millisecond))
	l := remote.NewLauncher(nc)
	p, started := endless(sgn.Remote(l))
	done := runAsync(p)
	waitStarted(t, started, done)
	natstest.Restart(t, s, nil)
	select {
	case err := <-done:
		var ee *sgn.ElementError
		if !errors.As(err, &ee) || ee.Element != "x" {
			t.Fatalf("Run() = %v; want an ElementError for x", err)
		}
		t.Logf("the run failed: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run has not returned 30s after the server restarted")
	}
	p2, snk := chainAt(t, 100, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p2, context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if nums, _, _ := collected(t, snk.File); len(nums) != 100 {
		t.Errorf("the next run's sink got %d frames, want 100", len(nums))
	}
}

// Credentials reach the server: a worker with the right ones serves, one
// with wrong ones exits saying why, and the pipeline, finding no worker,
// says how to start one.
func TestRemoteWorkerCredentials(t *testing.T) {
	s := natstest.Start(t, &server.Options{Username: "sgn", Password: "s3cret"})
	url := s.ClientURL()
	nc := connect(t, url, nats.UserInfo("sgn", "s3cret"))
	l := remote.NewLauncher(nc)
	l.ClaimTimeout = time.Second

	bad := startAgentProcess(t, "testelems-scale", url, "SGN_NATS_USER=sgn", "SGN_NATS_PASSWORD=wrong")
	<-bad.exited
	if code := bad.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(bad.output(), "Authorization Violation") {
		t.Errorf("a worker with a wrong password exited with %d, saying:\n%s\nwant 1, and an authorization violation", code, bad.output())
	}
	if strings.Contains(bad.output(), "wrong") {
		t.Errorf("the worker's error shows its password:\n%s", bad.output())
	}

	p, _ := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	err := p.Run(context.Background())
	want := fmt.Sprintf("x: no worker of github.com/sgn-go/sgn/internal/testelems.Scale answered on NATS server %s within 1s; start one with:\n\ttestelems-scale -nats %s", url, url)
	if err == nil || err.Error() != want {
		t.Errorf("Run() = %v; want %q", err, want)
	}

	withUser := strings.Replace(url, "nats://", "nats://sgn:s3cret@", 1)
	startAgent(t, "testelems-scale", withUser)
	p, snk := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p, context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if nums, _, _ := collected(t, snk.File); len(nums) != 10 {
		t.Errorf("the sink got %d frames, want 10", len(nums))
	}
}

// A worker of another element type takes no claim of this one.
func TestRemoteWorkerOfAnotherTypeTakesNoRun(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-collect", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	l.ClaimTimeout = 500 * time.Millisecond
	p, _ := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no worker of github.com/sgn-go/sgn/internal/testelems.Scale answered") {
		t.Errorf("Run() = %v; want no worker of testelems.Scale", err)
	}
}

// Shared memory does not cross hosts: a pipeline that shares segments
// cannot have an element on another host.
func TestRemoteElementsAndSharedSegmentsDoNotMix(t *testing.T) {
	s := natstest.Start(t, nil)
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	p, _ := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if _, err := p.Share("table", 64, nil); err != nil {
		t.Fatal(err)
	}
	want := "x: runs on another host (Remote), where the pipeline's shared segments (table) cannot reach: shared memory does not cross hosts; run it with InWorker, or share no segments"
	if err := p.Check(); err == nil || !strings.HasSuffix(err.Error(), ": "+want) {
		t.Errorf("Check() = %v; want the line of Insert, then %q", err, want)
	}
}

// A worker binary run by hand without a NATS URL says how it is run; with
// one, it serves until SIGTERM, and then exits cleanly.
func TestAWorkerBinaryByHand(t *testing.T) {
	out, err := exec.Command(filepath.Join(workerDir, "testelems-scale")).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "it is not run by hand, except to serve pipelines on other hosts: ") ||
		!strings.HasSuffix(string(out), "testelems-scale -nats URL\n") {
		t.Errorf("run by hand: %v, saying %q; want exit status 2 and how to serve over NATS", err, out)
	}

	s := natstest.Start(t, nil)
	a := startAgent(t, "testelems-scale", s.ClientURL())
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker has not exited 10s after SIGTERM")
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("after SIGTERM, the worker exited with %d, want 0", code)
	}
}

// Workers of a type are a pool: each takes one run at a time, so a
// pipeline with two elements of the type gets two of them.
func TestRemoteWorkersAreAPool(t *testing.T) {
	s := natstest.Start(t, nil)
	w1 := startAgent(t, "testelems-scale", s.ClientURL())
	w2 := startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	const n = 5000
	src := &testelems.Count{From: 1, To: n}
	a, b := &testelems.Scale{Factor: 2}, &testelems.Scale{Factor: 5}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.QueueSize(10))
	p.Insert("src", src)
	p.Insert("a", a, sgn.Remote(l))
	p.Insert("b", b, sgn.Remote(l))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&a.Out, &b.In)
	sgn.Link(&b.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scaled(seq(1, n), 10), snk.Got()); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	w1.waitFor(t, "took a run")
	w2.waitFor(t, "took a run")
}

// A token reaches the server from the URL or from $SGN_NATS_TOKEN; a wrong
// one is refused, and not shown.
func TestRemoteWorkerToken(t *testing.T) {
	s := natstest.Start(t, &server.Options{Authorization: "t0ken"})
	url := s.ClientURL()
	l := remote.NewLauncher(connect(t, url, nats.Token("t0ken")))

	bad := startAgentProcess(t, "testelems-scale", strings.Replace(url, "nats://", "nats://badt0ken@", 1))
	<-bad.exited
	if code := bad.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(bad.output(), "Authorization Violation") || strings.Contains(bad.output(), "badt0ken") {
		t.Errorf("a worker with a wrong token exited with %d, saying:\n%s\nwant 1, and an authorization violation without the token", code, bad.output())
	}
	for _, w := range []struct {
		url string
		env []string
	}{
		{strings.Replace(url, "nats://", "nats://t0ken@", 1), nil},
		{url, []string{"SGN_NATS_TOKEN=t0ken"}},
	} {
		a := startAgent(t, "testelems-scale", w.url, w.env...)
		p, snk := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
		if err := runWithin(t, p, context.Background(), 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if nums, _, _ := collected(t, snk.File); len(nums) != 10 {
			t.Errorf("the sink got %d frames, want 10", len(nums))
		}
		a.cmd.Process.Kill()
		<-a.exited
	}
}

// midRun runs p, and once its sink (the element numbered sink) has
// received frames frames, returns p's Status and Stats then, and where the
// run's result will be.
func midRun(t *testing.T, p *sgn.Pipeline, sink int, frames int64) ([]sgn.ElementStatus, sgn.Stats, <-chan error) {
	t.Helper()
	done := runAsync(p)
	deadline := time.Now().Add(time.Minute)
	for p.Stats().Elements[sink].Sinks[0].Frames < frames {
		select {
		case err := <-done:
			t.Fatalf("Run() = %v before the sink had %d frames", err, frames)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sink did not have %d frames within a minute", frames)
		}
		time.Sleep(time.Millisecond)
	}
	return p.Status(), p.Stats(), done
}

// parentOf returns the parent process of the process pid, from /proc.
func parentOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var ppid int
	fmt.Sscan(fields[1], &ppid)
	return ppid
}

// checkOnAgents fails the test unless the replicas' processes are distinct
// and run on distinct worker binaries of agents, as children of theirs.
func checkOnAgents(t *testing.T, replicas []sgn.ElementStatus, agents ...*agent) {
	t.Helper()
	ours := map[int]bool{}
	for _, a := range agents {
		ours[a.cmd.Process.Pid] = true
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	parents := map[int]bool{}
	for _, r := range replicas {
		if r.PID == 0 || r.PID == os.Getpid() || !r.InWorker {
			t.Errorf("replica %s: in a worker %v, pid %d; want in a worker on another host", r.Name, r.InWorker, r.PID)
			continue
		}
		if r.Host != host {
			t.Errorf("replica %s runs on host %q, says Status; its worker binary says %q", r.Name, r.Host, host)
		}
		ppid := parentOf(t, r.PID)
		if !ours[ppid] {
			t.Errorf("replica %s runs in process %d, a child of %d, not of a worker binary started with -nats", r.Name, r.PID, ppid)
		}
		parents[ppid] = true
	}
	if len(parents) != len(replicas) {
		t.Errorf("the replicas %+v run under %d worker binaries; want one each", replicas, len(parents))
	}
}

// A transform replicated on workers of other hosts, at unequal speeds, or
// on other hosts and in a worker on this one, gives what it gives
// replicated in workers of this host: the input's order exactly, with one
// EOS at its end. Each replica runs under a worker binary of its own, and
// does some of the work; Stats has no figures from /proc for those on
// other hosts, which this host cannot see.
func TestRemoteReplicasKeepTheInputsOrder(t *testing.T) {
	s := natstest.Start(t, nil)
	agents := []*agent{startAgent(t, "testelems-toil", s.ClientURL()), startAgent(t, "testelems-toil", s.ClientURL())}
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	const n = 3000
	nums := func(fs []sgn.Frame[testelems.Work]) []int64 {
		var out []int64
		for _, f := range fs {
			out = append(out, f.Data.N)
		}
		return out
	}
	// run runs the pipeline with x placed by opts, and calls midway with
	// the replicas' Status and Stats once a quarter of the frames have
	// arrived, while their processes run.
	run := func(midway func([]sgn.ElementStatus, []sgn.ElementStats), opts ...sgn.ElementOption) []sgn.Frame[testelems.Work] {
		x := &testelems.Toil{Factor: 3, MaxSleep: 200 * time.Microsecond}
		p, snk := replicated(n, x, opts...)
		status, stats, done := midRun(t, p, 2, n/4)
		midway(status[1].Replicas, stats.Elements[1].Replicas)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		by := checkWorks(t, snk.Got(), n, 3)
		for _, r := range status[1].Replicas {
			if by[r.Name] == 0 {
				t.Errorf("replica %s did none of the work: %v", r.Name, by)
			}
		}
		return snk.Got()
	}
	local := run(func([]sgn.ElementStatus, []sgn.ElementStats) {}, sgn.Replicas(2, sgn.InWorker()))

	noProc := func(stats []sgn.ElementStats) {
		for _, r := range stats {
			if r.CPU != 0 || r.RSS != 0 {
				t.Errorf("replica %s on another host: CPU %v, RSS %d; want none, /proc does not see other hosts", r.Name, r.CPU, r.RSS)
			}
		}
	}
	got := run(func(status []sgn.ElementStatus, stats []sgn.ElementStats) {
		checkOnAgents(t, status, agents...)
		noProc(stats)
	}, sgn.Replicas(2, sgn.Remote(l)))
	if diff := cmp.Diff(nums(local), nums(got)); diff != "" {
		t.Errorf("replicas on other hosts (-in workers here +on other hosts):\n%s", diff)
	}

	got = run(func(status []sgn.ElementStatus, stats []sgn.ElementStats) {
		checkOnAgents(t, status[:2], agents...)
		noProc(stats[:2])
		if here := status[2]; here.PID == 0 || parentOf(t, here.PID) != os.Getpid() || here.Host != "" {
			t.Errorf("replica x[2] runs in process %d on host %q; want a worker of this process, on this host (\"\")", here.PID, here.Host)
		}
		if here := stats[2]; here.RSS == 0 {
			t.Errorf("replica x[2], in a worker on this host, has no RSS in Stats")
		}
	}, sgn.Replicas(2, sgn.Remote(l)), sgn.Replicas(1, sgn.InWorker()))
	if diff := cmp.Diff(nums(local), nums(got)); diff != "" {
		t.Errorf("replicas on other hosts and here (-in workers here +mixed):\n%s", diff)
	}
}

// A replica on another host whose process is SIGKILLed in the middle of
// the stream, under a restart policy, is started again on a worker claimed
// again, and given the frames whose output had not arrived: the output
// loses nothing, repeats nothing, and keeps its order.
func TestARemoteReplicaKilledMidStreamIsRestarted(t *testing.T) {
	s := natstest.Start(t, nil)
	agents := []*agent{startAgent(t, "testelems-toil", s.ClientURL()), startAgent(t, "testelems-toil", s.ClientURL())}
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	const n = 20000
	x := &testelems.Toil{Factor: 2, MaxSleep: 200 * time.Microsecond}
	p, snk := replicated(n, x, sgn.Replicas(2, sgn.Remote(l)), sgn.Restart(3, time.Minute))
	status, _, done := midRun(t, p, 2, 1000)
	checkOnAgents(t, status[1].Replicas, agents...)
	victim := status[1].Replicas[0].PID
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run has not returned a minute after a replica was killed")
	}
	checkWorks(t, snk.Got(), n, 2)
	if got := restarts(p, "x"); got != 1 {
		t.Errorf("%d restarts, want 1", got)
	}
	if r := p.Status()[1].Replicas; r[0].Restarts != 1 || r[1].Restarts != 0 {
		t.Errorf("the replicas were restarted %d and %d times; want x[0] once", r[0].Restarts, r[1].Restarts)
	}
	pids := map[int64]bool{}
	for _, f := range snk.Got()[:len(snk.Got())-1] {
		pids[f.Data.PID] = true
	}
	if len(pids) != 3 || !pids[int64(victim)] {
		t.Errorf("the work was done in processes %v; want the killed one (%d), its successor and the other replica's", pids, victim)
	}
}

// Check refuses replicas on other hosts in a pipeline that shares
// segments, and Remote given to Insert beside Replicas; it takes Restart
// with replicas on other hosts.
func TestCheckAndRemoteReplicas(t *testing.T) {
	s := natstest.Start(t, nil)
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	var want []string
	p.Insert("one", &testelems.Scale{}, sgn.Replicas(1, sgn.Remote(l)), sgn.Replicas(1, sgn.InWorker()))
	want = append(want, here(-1)+": one: replica one[0] runs on another host (Replicas with Remote), where the pipeline's shared segments (table) cannot reach: shared memory does not cross hosts; place it with InWorker, or share no segments")
	p.Insert("two", &testelems.Scale{}, sgn.Replicas(2, sgn.Remote(l)), sgn.Restart(3, time.Minute))
	want = append(want, here(-1)+": two: replicas two[0], two[1] run on other hosts (Replicas with Remote), where the pipeline's shared segments (table) cannot reach: shared memory does not cross hosts; place them with InWorker, or share no segments")
	p.Insert("here", &testelems.Scale{}, sgn.Replicas(2, sgn.InWorker()))
	p.Insert("twice", &testelems.Scale{}, sgn.Remote(l), sgn.Replicas(2, sgn.Remote(l)))
	want = append(want, here(-1)+": twice: runs on another host (Remote), where the pipeline's shared segments (table) cannot reach: shared memory does not cross hosts; run it with InWorker, or share no segments")
	want = append(want, here(-2)+": twice: Remote places the element itself, but its replicas run where Replicas says: Replicas(n, Remote(l))")
	if _, err := p.Share("table", 64, nil); err != nil {
		t.Fatal(err)
	}
	err := p.Check()
	if err == nil {
		t.Fatal("Check passed the pipeline")
	}
	var got []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasSuffix(line, "is not linked") {
			got = append(got, line)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check's errors, but for unlinked pads (-want +got):\n%s", diff)
	}
}
