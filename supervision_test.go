package sgn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/runtime"
)

// runWithin runs p and fails the test if Run has not returned after d.
func runWithin(t *testing.T, p *sgn.Pipeline, ctx context.Context, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Run has not returned after %v", d)
		return nil
	}
}

// After the EOS frame, Recv returns ErrEOS, in process and in a worker (where
// the pad's queue is fed by the pipe and never closed).
func TestRecvAfterEOSReturnsErrEOSWhereverTheElementRuns(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 10}
			snk := &testelems.UntilEOS{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src)
			p.Insert("snk", snk, where(inWorker)...)
			sgn.Link(&src.Out, &snk.In)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Run(ctx); err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}
		})
	}
}

// A worker that dies in the middle of writing a large frame leaves a partial
// message; the error is still the worker's exit status and its last stderr
// lines, not the truncated read.
func TestWorkerCrashingMidMessageIsReportedWithItsExitStatus(t *testing.T) {
	for i := range 5 {
		src := &testelems.Blob{Size: 8 << 20, Count: 1000, ExitAt: 6}
		snk := &testelems.BlobSink{}
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(4))
		p.Insert("src", src, sgn.InWorker())
		p.Insert("snk", snk)
		sgn.Link(&src.Out, &snk.In)
		err := p.Run(context.Background())
		var we *runtime.WorkerError
		if !errors.As(err, &we) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "blob: exiting at 6") {
			t.Fatalf("run %d: Run() = %q\nwant a WorkerError with exit status 3 and the stderr line", i, err)
		}
	}
}

// A stopped worker that does not exit in time is killed, even when it has
// stopped reading its pipe and the parent has megabytes of frames queued for
// it (the stop message must not wait behind them). SIGSTOP stands in for a
// wedged worker.
func TestStopTimeoutKillsAWorkerThatDoesNotRead(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	src := &testelems.Blob{Size: 8 << 20, Count: 1 << 40}
	snk := &testelems.BlobSink{PIDFile: pidFile}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(8), sgn.StopTimeout(500*time.Millisecond))
	p.Insert("src", src)
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &snk.In)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the worker never wrote its PID")
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(string(b))
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	defer syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(300 * time.Millisecond) // let the parent's writer fill the pipe and its buffer
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL) // unblock Run for the rest of the tests
		t.Fatalf("Run has not returned 10s after cancel, with StopTimeout 500ms: the stopped worker %d was never killed", pid)
	}
}

// slowSink is an in-process sink that, at frame At, waits Delay (or until
// the pipeline stops) and then, if Fail, fails.
type slowSink struct {
	In    sgn.Sink[int64]
	At    int64
	Delay time.Duration
	Fail  bool
}

func (s *slowSink) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:  "sgn_test.slowSink",
		Sinks: []sgn.Pad{s.In.Init("in", sgn.Codec[int64]{})},
		Run: func(ctx *sgn.Context) error {
			return sgn.RunSink(ctx, &s.In, func(ctx *sgn.Context, f sgn.Frame[int64]) error {
				if f.Data != s.At {
					return nil
				}
				select {
				case <-time.After(s.Delay):
				case <-ctx.Done():
					return context.Cause(ctx)
				}
				if s.Fail {
					return fmt.Errorf("slowSink refuses %d", f.Data)
				}
				return nil
			})
		},
	}
}

// A worker that finished cleanly, whose output is still queued for a slow
// consumer when another element fails, is not reported as failed: the
// error is the failing element's alone. (Each link holds its queue of 3 and
// the frame its consumer works on: the source's 4 frames all fit, so it
// finishes while b sits on frame 1.)
func TestAFinishedWorkerIsNotBlamedForAnotherElementsFailure(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 4}
			a := &slowSink{At: 3, Delay: 500 * time.Millisecond, Fail: true}
			b := &slowSink{At: 1, Delay: time.Hour}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(3))
			p.Insert("src", src, where(inWorker)...)
			p.Insert("a", a)
			p.Insert("b", b)
			sgn.Link(&src.Out, &a.In)
			sgn.Link(&src.Out, &b.In)
			err := runWithin(t, p, context.Background(), 10*time.Second)
			if want := "a: slowSink refuses 3"; err == nil || err.Error() != want {
				t.Fatalf("Run() = %q, want only %q", err, want)
			}
		})
	}
}

// A sink that finishes before EOS does not hang its upstream, which keeps
// sending: frames for a finished element are dropped.
func TestASinkThatFinishesEarlyDoesNotStallItsUpstream(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 100_000}
			head := &testelems.Head{Limit: 10}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(2))
			p.Insert("src", src)
			p.Insert("head", head, where(inWorker)...)
			sgn.Link(&src.Out, &head.In)
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// doomedParent runs, in a process of its own, a pipeline that never ends,
// with its workers in the state that dir/state names, and writes dir/ready
// once they are in it. The test kills this process and watches the workers.
//
//	starting   a worker sink stalls in Start, deaf to cancellation
//	streaming  frames flow through a transform and a sink in workers
//	stuck      a worker sink stalls at its first frame, deaf to cancellation
//	stopping   the same, after the pipeline has told it to stop (its stop
//	           timeout is an hour)
func doomedParent(dir string) {
	state, _ := os.ReadFile(filepath.Join(dir, "state"))
	workers := os.Getenv("SGN_TEST_WORKERS")
	pidFile := filepath.Join(dir, "pid")
	ready := func() { os.WriteFile(filepath.Join(dir, "ready"), state, 0o644) }
	ctx, cancel := context.WithCancel(context.Background())
	p := sgn.NewPipeline(sgn.WorkerDir(workers), sgn.StopTimeout(time.Hour))
	src := &testelems.Count{From: 1, To: 1 << 62}
	p.Insert("src", src)
	switch string(state) {
	case "streaming":
		x := &testelems.Scale{Factor: 2}
		snk := &testelems.Collect{File: pidFile}
		p.Insert("scale", x, sgn.InWorker())
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
		go func() { waitForData(pidFile); ready() }()
	default:
		snk := &testelems.Stall{PIDFile: pidFile, InStart: string(state) == "starting"}
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &snk.In)
		go func() {
			waitForData(pidFile)
			if string(state) == "stopping" {
				cancel()
			}
			ready()
		}()
	}
	err := p.Run(ctx)
	fmt.Fprintln(os.Stderr, "doomed parent: Run returned:", err)
	os.Exit(1)
}

// children returns the processes whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(strings.Fields(string(b))[0])
			kids = append(kids, child)
		}
	}
	return kids
}

// A main process that dies (SIGKILL: nothing of it runs) leaves no worker
// behind, whatever the workers are doing: starting, streaming, stuck in a
// computation that ignores its context, or stopping after being told to.
func TestWorkersDoNotOutliveAKilledParent(t *testing.T) {
	for _, state := range []string{"starting", "streaming", "stuck", "stopping"} {
		t.Run(state, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "state"), []byte(state), 0o644); err != nil {
				t.Fatal(err)
			}
			parent := exec.Command(os.Args[0], "-test.run=^$")
			parent.Env = append(os.Environ(), "SGN_TEST_DOOMED_PARENT="+dir, "SGN_TEST_WORKERS="+workerDir)
			parent.Stderr = os.Stderr
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			defer parent.Process.Kill()
			waitForData(filepath.Join(dir, "ready"))
			workers := children(t, parent.Process.Pid)
			if want := map[string]int{"streaming": 2}[state]; len(workers) != max(1, want) {
				t.Fatalf("the pipeline runs %d worker processes, want %d", len(workers), max(1, want))
			}
			parent.Process.Kill()
			parent.Wait()
			// The workers are not our children: all we can do is watch them go.
			for _, pid := range workers {
				for deadline := time.Now().Add(20 * time.Second); processExists(pid); time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						syscall.Kill(pid, syscall.SIGKILL)
						t.Fatalf("worker %d still runs 20s after its parent was killed", pid)
					}
				}
			}
		})
	}
}
