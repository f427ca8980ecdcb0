package sgn_test

import (
	"context"
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
)

// A worker's slots reach a chain of two in-process transforms that change
// the frame in place and send it on, then a slow in-process sink. The
// second transform is neither fed by a worker nor sends to one, yet the
// frames it passes on still lie in the worker's slots: they must stay held
// until the sink is done with them, or the worker refills them while the
// sink's queue still points at them.
func TestSlotsStayHeldThroughAChainOfInProcessTransforms(t *testing.T) {
	const frames = 60
	src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: true}
	a := &testelems.Affine{Mul: 1, Add: 1}
	b := &testelems.Affine{Mul: 2}
	snk := &testelems.Verify{Len: rampLen, Mul: 2, Add: 2, Delay: 2 * time.Millisecond}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize), sgn.QueueSize(8))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("a", a)
	p.Insert("b", b)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&a.Out, &b.In)
	sgn.Link(&b.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if snk.Frames() != frames {
		t.Errorf("the sink checked %d frames, want %d", snk.Frames(), frames)
	}
	checkPool(t, p)
}

// The same with the slots of an in-process source: it fills slices from
// sgn.Alloc because it also feeds a worker, and an in-process transform
// passes its frames on in place (unchanged: the worker reads the same
// memory) to a slow in-process sink.
func TestAllocSlicesStayHeldPastAnInProcessTransform(t *testing.T) {
	const frames = 60
	src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: true}
	there := &testelems.Verify{Len: rampLen, Mul: 1}
	x := &testelems.Affine{Mul: 1}
	here := &testelems.Verify{Len: rampLen, Mul: 1, Delay: 2 * time.Millisecond}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize), sgn.QueueSize(8))
	p.Insert("src", src)
	p.Insert("there", there, sgn.InWorker())
	p.Insert("x", x)
	p.Insert("here", here)
	sgn.Link(&src.Out, &there.In)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &here.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if here.Frames() != frames {
		t.Errorf("the sink checked %d frames, want %d", here.Frames(), frames)
	}
	checkPool(t, p)
}

// A tee that fills one slice from sgn.Alloc and sends it on two pads, each
// to a worker: both workers see every frame intact. The slot must stay
// taken until both frames are done with, not go back to the element's
// budget after the first receiver's credit, to be refilled while the
// second frame still names it.
//
// Today the slot goes back after the first credit while the second frame
// is still waiting for its own; then the slot is pushed onto the budget's
// free list twice, and the run corrupts frames, panics in a pipeline
// goroutine ("released more often than it was held") or hangs with the
// ledger's lock held. It runs in a child process, which the panic or the
// hang may take down.
func TestAnAllocSliceSentOnTwoPadsStaysIntactForBoth(t *testing.T) {
	if !inChild(t) {
		return
	}
	const frames = 100
	tee := &testelems.AllocTee{Len: rampLen, Count: frames}
	a := &testelems.Verify{Len: rampLen, Mul: 1}
	b := &testelems.Verify{Len: rampLen, Mul: 1, Delay: 3 * time.Millisecond}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(8, slotSize), sgn.QueueSize(1))
	p.Insert("tee", tee)
	p.Insert("a", a, sgn.InWorker())
	p.Insert("b", b, sgn.InWorker())
	sgn.Link(&tee.A, &a.In)
	sgn.Link(&tee.B, &b.In)
	if err := runWithin(t, p, context.Background(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	checkPool(t, p)
}

// A diamond: one stream split in two and joined again by an element that
// reads all of one branch before the other. With the default queues of 100
// frames, 20 frames fit in the branch that waits, and the run ends when
// the frames are small. Large ones must not make it hang: a sender whose
// slots all lie in the waiting branch's queue must not wait for the join,
// which waits for the sender's other branch.
func TestADiamondOfLargeFramesDoesNotHangOnSlots(t *testing.T) {
	for _, tc := range []struct {
		name        string
		srcInWorker bool
		alloc       bool
	}{
		{"a source in a worker", true, false},
		{"an in-process source filling sgn.Alloc slices", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const frames = 20
			src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: tc.alloc}
			x := &testelems.Affine{Mul: 1}
			join := &testelems.VerifyInTurn{Len: rampLen}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
			p.Insert("src", src, where(tc.srcInWorker)...)
			p.Insert("x", x, where(!tc.srcInWorker)...)
			p.Insert("join", join)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &join.A)
			sgn.Link(&src.Out, &join.B)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := runWithin(t, p, ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
			if join.Frames() != 2*frames {
				t.Errorf("the join checked %d frames, want %d", join.Frames(), 2*frames)
			}
			checkPool(t, p)
		})
	}
}

// inChild reports whether the test's body should run here: in a child
// process that runs only this test, started by the same test in the
// parent, which fails with the child's output if the child fails.
func inChild(t *testing.T) bool {
	t.Helper()
	const env = "SGN_REVIEW_CHILD"
	if os.Getenv(env) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return false
}

// A frame with more large slices than its sender has slots (here three
// rows of 32 KiB, and two slots; with the defaults, nine rows of 4 MiB)
// cannot wait for a slot to come back: the only frames that could give one
// back are its own, not sent yet. It must still travel, the slices beyond
// the budget inline, as a slice larger than a slot does.
func TestAFrameWithMoreLargeSlicesThanSlotsIsSent(t *testing.T) {
	for _, alloc := range []bool{false, true} {
		t.Run(fmt.Sprintf("alloc=%v", alloc), func(t *testing.T) {
			const frames = 10
			src := &testelems.Rows{Rows: 3, Len: rampLen, Count: frames, Alloc: alloc}
			snk := &testelems.VerifyRows{Rows: 3, Len: rampLen}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
			p.Insert("src", src)
			p.Insert("snk", snk, sgn.InWorker())
			sgn.Link(&src.Out, &snk.In)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := runWithin(t, p, ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
			checkPool(t, p)
		})
	}
}

// A program that an element in a worker starts does not inherit the
// pipeline's shared memory: the worker keeps its pipes from leaking into
// such processes, and must do the same for the descriptors of the slot
// pool and the shared segments, or a helper that outlives the run keeps
// the memory alive.
func TestProgramsStartedByAWorkerDoNotHoldTheSharedMemory(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	spawn := &testelems.Spawn{Command: "sleep", Args: []string{"30"}, PIDFile: pidFile}
	snk := &testelems.Verify{Len: rampLen}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
	seg, err := p.Share("inherited-segment", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	p.Insert("spawn", spawn, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&spawn.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); strings.Contains(target, "memfd:sgn:") {
			t.Errorf("the helper the worker started holds %s as %s", target, fd)
		}
	}
}
