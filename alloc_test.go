package sgn_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// A fixed-size frame allocates nothing in steady state, on either side of
// a process boundary: the heap allocations of a run grow with its setup,
// not with its frames.

// mallocsOfRun runs n int64 frames through count → scale → tally, the
// scale where asked, and returns the heap allocations of this process
// during the run.
func mallocsOfRun(t *testing.T, n int64, inWorker bool) uint64 {
	t.Helper()
	src := &testelems.Count{From: 1, To: n}
	x := &testelems.Scale{Factor: 2}
	snk := &testelems.Tally{First: 2, Step: 2}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("scale", x, where(inWorker)...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if snk.Frames() != n {
		t.Fatalf("the sink counted %d frames of %d", snk.Frames(), n)
	}
	return after.Mallocs - before.Mallocs
}

func TestFramesAllocateNothingInThisProcess(t *testing.T) {
	const small, large = 10_000, 210_000
	for _, inWorker := range []bool{false, true} {
		// The smaller run warms up what a run reuses (pools, buffers).
		mallocsOfRun(t, small, inWorker)
		a, b := mallocsOfRun(t, small, inWorker), mallocsOfRun(t, large, inWorker)
		perFrame := (float64(b) - float64(a)) / (large - small)
		t.Logf("scale in a worker: %v; %d allocations for %d frames, %d for %d: %.4f a frame", inWorker, a, small, b, large, perFrame)
		if perFrame > 0.01 {
			t.Errorf("scale in a worker: %v; %.4f allocations a frame in this process (%d for %d frames, %d for %d)", inWorker, perFrame, a, small, b, large)
		}
	}
}

func TestFramesAllocateNothingInAWorker(t *testing.T) {
	const n, after = 210_000, 10_000
	src := &testelems.Count{From: 1, To: n}
	m := &testelems.Mallocs{After: after}
	got := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("mallocs", m, sgn.InWorker())
	p.Insert("got", got)
	sgn.Link(&src.Out, &m.In)
	sgn.Link(&m.Out, &got.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	frames := got.Got()
	if len(frames) != n || !got.SawEOS() {
		t.Fatalf("got %d frames of %d, EOS %v", len(frames), n, got.SawEOS())
	}
	mallocs := frames[n-1]
	perFrame := float64(mallocs) / (n - after)
	t.Logf("the worker allocated %d times in its last %d frames: %.4f a frame", mallocs, n-after, perFrame)
	if perFrame > 0.01 {
		t.Errorf("the worker allocated %d times in its last %d frames: %.4f a frame", mallocs, n-after, perFrame)
	}
}
