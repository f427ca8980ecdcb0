package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// Shutdown drains a pipeline that can end in time, and the run ends as
// usual.
func TestShutdownDrainsInTime(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 1 << 40}
			x := &testelems.Scale{Factor: 1}
			snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src, where(inWorker)...)
			p.Insert("x", x, where(inWorker)...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			go func() {
				waitForData(snk.File)
				p.Shutdown(time.Minute)
			}()
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := snk.Got(); len(got) == 0 || !snk.SawEOS() || got[len(got)-1] != int64(len(got)) {
				t.Errorf("the sink got %d frames, EOS %v", len(got), snk.SawEOS())
			}
		})
	}
}

// A pipeline that cannot drain in the time Shutdown gives it is stopped,
// and the error names what had not finished and the frames each held.
func TestShutdownStopsWhatDoesNotEndInTime(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			// A source that does not heed the EOS request, feeding a sink
			// that takes a frame and never finishes it.
			src := &countingSource{}
			stall := &testelems.Stall{Heeds: true}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(7))
			p.Insert("src", src)
			p.Insert("stall", stall, where(inWorker)...)
			sgn.Link(&src.Out, &stall.In)
			p.Shutdown(50 * time.Millisecond) // before Run: it counts from Run
			err := runWithin(t, p, context.Background(), time.Minute)
			var se *sgn.ShutdownError
			if !errors.As(err, &se) {
				t.Fatalf("Run = %v, want a ShutdownError", err)
			}
			// The link holds its queue of 7 and the frame in hand.
			want := "shutdown: the pipeline did not end within 50ms; unfinished: src (0 frames held), stall (8 frames held); 8 frames dropped"
			if err.Error() != want {
				t.Errorf("Run = %q\nwant %q", err, want)
			}
			if st := p.Status(); st[0].State != sgn.StateStopped || st[1].State != sgn.StateStopped {
				t.Errorf("status %+v", st)
			}
		})
	}
}

// An element with a drain timeout that does not finish in time after EOS
// reaches it stops the run; before EOS, it may take as long as it needs.
func TestDrainTimeoutStopsAnElementThatDoesNotDrain(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Ramp{Len: 8, Count: 40}
			slow := &testelems.Verify{Len: 8, Mul: 1, Delay: 20 * time.Millisecond}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(100))
			p.Insert("src", src)
			p.Insert("slow", slow, append(where(inWorker), sgn.DrainTimeout(100*time.Millisecond))...)
			sgn.Link(&src.Out, &slow.In)
			err := runWithin(t, p, context.Background(), time.Minute)
			var se *sgn.ShutdownError
			if !errors.As(err, &se) || se.Element != "slow" || len(se.Unfinished) != 1 || se.Unfinished[0].Held == 0 {
				t.Fatalf("Run = %v, want a ShutdownError for slow, with frames held", err)
			}
			if !strings.HasPrefix(err.Error(), "slow: did not finish within its drain timeout of 100ms after EOS; unfinished: slow (") {
				t.Errorf("Run = %q", err)
			}
		})
	}
	// The same element, given time to drain, finishes.
	src := &testelems.Ramp{Len: 8, Count: 40}
	slow := &testelems.Verify{Len: 8, Mul: 1, Delay: time.Millisecond}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("slow", slow, sgn.DrainTimeout(time.Minute))
	sgn.Link(&src.Out, &slow.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
}

// A source's drain timeout runs from the EOS request.
func TestASourcesDrainTimeoutRunsFromTheEOSRequest(t *testing.T) {
	src := &countingSource{} // it does not heed the request
	snk := &testelems.Stall{Heeds: true}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(2))
	p.Insert("src", src, sgn.DrainTimeout(50*time.Millisecond))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	p.RequestEOS()
	err := runWithin(t, p, context.Background(), time.Minute)
	var se *sgn.ShutdownError
	if !errors.As(err, &se) || se.Element != "src" || len(se.Unfinished) != 1 || se.Unfinished[0].Element != "src" {
		t.Fatalf("Run = %v, want src's drain timeout", err)
	}
}
