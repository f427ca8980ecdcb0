package sgn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// Stats counts the frames through every pad, wherever its element runs;
// OnStats gives snapshots while the pipeline runs, with rates, queues, busy
// time, and the worker's CPU time and memory.
func TestStatsFollowTheFrames(t *testing.T) {
	const n = 1500
	src := &testelems.Ramp{Len: 4096, Count: n, Alloc: true} // 32 KiB frames, in slots
	x := &testelems.Affine{Mul: 1}
	snk := &testelems.Verify{Len: 4096, Mul: 1, Delay: time.Millisecond}
	var mu sync.Mutex
	var snaps []sgn.Stats
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(10),
		sgn.OnStats(50*time.Millisecond, func(s sgn.Stats) {
			mu.Lock()
			snaps = append(snaps, s)
			mu.Unlock()
		}))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	final := p.Stats()
	want := map[string]int64{"src:src:out": n, "x:snk:in": n, "x:src:out": n, "snk:snk:in": n}
	for _, e := range final.Elements {
		for _, pad := range append(e.Sinks, e.Sources...) {
			if pad.Frames != want[pad.Pad] {
				t.Errorf("%s: %d frames, want %d", pad.Pad, pad.Frames, want[pad.Pad])
			}
			crosses := pad.Pad != "snk:snk:in"
			if (pad.Bytes > 0) != crosses {
				t.Errorf("%s: %d bytes", pad.Pad, pad.Bytes)
			}
		}
		if pad := e.Sinks; len(pad) > 0 && pad[0].Rate != 0 {
			t.Errorf("%s: a rate of %v frames/s after Run returned", pad[0].Pad, pad[0].Rate)
		}
		if !e.BusyMeasured {
			t.Errorf("%s: busy time not measured, though OnStats measures it", e.Name)
		}
		if e.Busy <= 0 && e.Name != "src" {
			t.Errorf("%s: busy %v", e.Name, e.Busy)
		}
	}
	if snk := final.Elements[2]; snk.Busy < n*time.Millisecond {
		t.Errorf("the sink sleeps 1 ms a frame, and was busy %v", snk.Busy)
	}
	mu.Lock()
	defer mu.Unlock()
	var sawRate, sawWorker, sawQueue bool
	for _, s := range snaps {
		x, snk := s.Elements[1], s.Elements[2]
		if snk.Sinks[0].Rate > 100 && snk.Sinks[0].Rate < 2000 {
			sawRate = true
		}
		if x.PID > 0 && x.RSS > 1<<20 && x.CPU >= 0 {
			sawWorker = true
		}
		if q := snk.Sinks[0]; q.Bound != 11 || q.Queue > q.Bound {
			t.Errorf("snk's queue %d of %d, want a bound of 11", q.Queue, q.Bound)
		} else if q.Queue > 5 {
			sawQueue = true
		}
	}
	if !sawRate || !sawWorker || !sawQueue {
		t.Errorf("in %d snapshots: a plausible rate %v, the worker's pid and memory %v, a full queue %v", len(snaps), sawRate, sawWorker, sawQueue)
	}
	if last := snaps[len(snaps)-1]; last.Elements[2].Sinks[0].Frames != n {
		t.Errorf("the last snapshot, when Run ends, shows %d frames into the sink", last.Elements[2].Sinks[0].Frames)
	}
}
