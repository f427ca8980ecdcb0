package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/runtime"
)

// restarts returns the element's restart count from p's status.
func restarts(p *sgn.Pipeline, name string) int {
	for _, s := range p.Status() {
		if s.Name == name {
			return s.Restarts
		}
	}
	return -1
}

// A transform whose worker crashes, however it crashes, is restarted and
// given again the frames it had not answered: its consumer gets every
// output once, in order.
func TestARestartedTransformLosesNothing(t *testing.T) {
	const n = 3000
	for _, how := range []string{"exit", "kill", "panic", "error"} {
		t.Run(how, func(t *testing.T) {
			at := 300 + rand.Int64N(700) // a frame the test does not choose
			src := &testelems.Count{From: 1, To: n}
			x := &testelems.Scale{Factor: 3, Crash: testelems.Crash{At: at, How: how}}
			snk := &testelems.Collect{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(10))
			p.Insert("src", src)
			p.Insert("x", x, sgn.InWorker(), sgn.Restart(100, time.Minute))
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(scaled(seq(1, n), 3), snk.Got()); diff != "" {
				t.Errorf("crashing at frame %d of each process, the sink got (-want +got):\n%s", at, diff)
			}
			if got, want := restarts(p, "x"), int((n-1)/at); got < want {
				t.Errorf("%d restarts; crashing every %d frames, want at least %d", got, at, want)
			}
		})
	}
}

// A chain of restarted workers, linked worker to worker, loses nothing.
func TestRestartedWorkersInAChainLoseNothing(t *testing.T) {
	const n = 2000
	dir := t.TempDir()
	// A source starts over when it is restarted: one that fails at its
	// 333rd frame every time would never get further.
	src := &testelems.Count{From: 1, To: n, Crash: testelems.Crash{At: 333, How: "kill", Once: filepath.Join(dir, "once")}}
	a := &testelems.Scale{Factor: 2, Crash: testelems.Crash{At: 451, How: "exit"}}
	b := &testelems.Scale{Factor: 5, Crash: testelems.Crash{At: 397, How: "panic"}}
	snk := &testelems.Collect{File: filepath.Join(dir, "sink.txt")}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(4))
	p.Insert("src", src, sgn.InWorker(), sgn.Restart(100, time.Minute))
	p.Insert("a", a, sgn.InWorker(), sgn.Restart(100, time.Minute))
	p.Insert("b", b, sgn.InWorker(), sgn.Restart(100, time.Minute))
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&a.Out, &b.In)
	sgn.Link(&b.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if diff := cmp.Diff(scaled(seq(1, n), 10), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	if !eos {
		t.Error("no EOS")
	}
	for _, name := range []string{"src", "a", "b"} {
		if restarts(p, name) == 0 {
			t.Errorf("%s was never restarted", name)
		}
	}
}

// A restarted sink is given again what it had not finished: every frame
// arrives, and the only ones seen twice are those it was consuming when its
// worker died.
func TestARestartedSinkSeesEveryFrame(t *testing.T) {
	const n, at = 1000, 177
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt"), Crash: testelems.Crash{At: at, How: "kill"}}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("snk", snk, sgn.InWorker(), sgn.Restart(100, time.Minute))
	sgn.Link(&src.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, pids, eos := collected(t, snk.File)
	var once []int64
	twice := 0
	for i, v := range nums {
		if i > 0 && v == nums[i-1] {
			twice++
			continue
		}
		once = append(once, v)
	}
	if diff := cmp.Diff(seq(1, n), once); diff != "" {
		t.Errorf("the sink saw (-want +got):\n%s", diff)
	}
	if r := restarts(p, "snk"); twice > r || len(pids) != r+1 {
		t.Errorf("%d frames seen twice, in %d processes, after %d restarts; want at most one per restart", twice, len(pids), r)
	}
	if !eos {
		t.Error("no EOS")
	}
}

// Restarts with frames in shared memory: every sample arrives intact, and
// no slot is lost with a dead worker.
func TestRestartsKeepTheSlotPoolWhole(t *testing.T) {
	const frames = 400
	src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: true}
	x := &testelems.Affine{Mul: 2, Crash: testelems.Crash{At: 61, How: "kill"}}
	snk := &testelems.Verify{Len: rampLen, Mul: 2, Memory: "slots"}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(16, slotSize), sgn.QueueSize(4))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker(), sgn.Restart(100, time.Minute))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if snk.Frames() != frames {
		t.Errorf("the sink checked %d frames, want %d", snk.Frames(), frames)
	}
	if restarts(p, "x") < frames/61 {
		t.Errorf("%d restarts, want %d", restarts(p, "x"), frames/61)
	}
	checkPool(t, p)
}

// Past its limit, a restarted worker fails the run as it would without a
// restart policy, and the error says how often it was restarted.
func TestPastTheLimitTheRunFails(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1000}
	x := &testelems.Scale{Factor: 1, Crash: testelems.Crash{At: 10, How: "error"}}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker(), sgn.Restart(3, time.Minute))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	err := runWithin(t, p, context.Background(), time.Minute)
	var we *runtime.WorkerError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "scale: failure at frame 10") || !strings.Contains(err.Error(), "after 3 restarts") {
		t.Fatalf("Run = %v, want the fourth failure, after 3 restarts", err)
	}
	if got := p.Status()[1]; got.State != sgn.StateFailed || got.Restarts != 3 {
		t.Errorf("status %+v, want failed after 3 restarts", got)
	}
}

func TestRestartMistakesAreReported(t *testing.T) {
	src := &testelems.Count{From: 1, To: 3}
	here := &testelems.Scale{}
	concat := &testelems.Concat{}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("here", here, sgn.Restart(3, time.Minute))
	p.Insert("concat", concat, sgn.InWorker(), sgn.Restart(3, time.Minute))
	p.Insert("snk", snk, sgn.InWorker(), sgn.Restart(0, time.Minute))
	sgn.Link(&src.Out, &here.In)
	sgn.Link(&here.Out, &concat.A)
	sgn.Link(&src.Out, &concat.B)
	sgn.Link(&concat.Out, &snk.In)
	err := p.Check()
	for _, want := range []string{
		"here: Restart is for elements in workers; add InWorker, or drop Restart",
		"concat: Restart needs an element whose work is per frame (New, Process or Consume); github.com/sgn-go/sgn/internal/testelems.Concat has Run, and keeps its state its own way",
		"snk: Restart(0, 1m0s): allow at least one restart within a positive span",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v\nwant it to say %q", err, want)
		}
	}
}

// Status says what each element is doing, and where.
func TestStatusFollowsTheElements(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1 << 40}
	x := &testelems.Scale{Factor: 1}
	stall := &testelems.Stall{Heeds: true}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker())
	p.Insert("stall", stall)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &stall.In)
	for _, s := range p.Status() {
		if s.State != sgn.StatePending {
			t.Errorf("before Run: %+v", s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		st := p.Status()
		if st[0].State == sgn.StateRunning && st[1].State == sgn.StateRunning && st[1].PID > 0 && st[2].State == sgn.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after Run: %+v", st)
		}
	}
	st := p.Status()
	if !st[1].InWorker || processExists(st[1].PID) == false || st[0].PID != 0 {
		t.Errorf("while running: %+v", st)
	}
	cancel()
	<-done
	for _, s := range p.Status() {
		if s.State != sgn.StateStopped {
			t.Errorf("after a cancelled Run: %+v, want stopped", s)
		}
	}
	if fmt.Sprint(sgn.StateRestarting) != "restarting" {
		t.Errorf("StateRestarting prints as %q", sgn.StateRestarting)
	}
}
