package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// replicatedQ builds src → x → snk as replicated does, with the given
// QueueSize and pipeline options.
func replicatedQ(q int, n int64, x *testelems.Toil, popts []sgn.PipelineOption, opts ...sgn.ElementOption) (*sgn.Pipeline, *testelems.Works) {
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Works{}
	p := sgn.NewPipeline(append([]sgn.PipelineOption{sgn.WorkerDir(workerDir), sgn.QueueSize(q)}, popts...)...)
	p.Insert("src", src)
	p.Insert("x", x, opts...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	return p, snk
}

// With links of one frame and a replica far slower than the others, the
// output is still the input's order exactly, with one EOS at its end.
func TestReviewOrderWithQueueSizeOneAndASlowReplica(t *testing.T) {
	const n = 1500
	for _, tc := range []struct {
		name string
		opts []sgn.ElementOption
	}{
		{"workers", []sgn.ElementOption{sgn.Replicas(3, sgn.InWorker())}},
		{"mixed", []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(2)}},
		{"here", []sgn.ElementOption{sgn.Replicas(3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &testelems.Toil{Factor: 5, MaxSleep: 100 * time.Microsecond, Slow: "x[1]", SlowSleep: 2 * time.Millisecond}
			p, snk := replicatedQ(1, n, x, nil, tc.opts...)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			by := checkWorks(t, snk.Got(), n, 5)
			if by["x[1]"] == 0 {
				t.Errorf("the slow replica did no work: %v", by)
			}
		})
	}
}

// A replica that stalls gets no more frames than its window (a link's
// worth, QueueSize+1) while the others go on taking frames.
func TestReviewAStalledReplicaGetsNoMoreThanItsWindow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sleep time.Duration
		opts  []sgn.ElementOption
	}{
		{"workers", time.Hour, []sgn.ElementOption{sgn.Replicas(3, sgn.InWorker())}},
		{"here", time.Second, []sgn.ElementOption{sgn.Replicas(3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const q = 2
			// A replica of this process cannot be stopped in its sleep:
			// it sleeps for less than an hour.
			x := &testelems.Toil{Factor: 1, Slow: "x[0]", SlowSleep: tc.sleep}
			p, _ := replicatedQ(q, 1<<40, x, []sgn.PipelineOption{sgn.StopTimeout(50 * time.Millisecond), sgn.Logger(slog.New(slog.DiscardHandler))}, tc.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				defer cancel()
				for {
					r := p.Stats().Elements[1].Replicas
					if len(r) == 3 && r[1].Sinks[0].Frames+r[2].Sinks[0].Frames >= 9 {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			err := runWithin(t, p, ctx, time.Minute)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run() = %v; want it cancelled", err)
			}
			if got := p.Stats().Elements[1].Replicas[0].Sinks[0].Frames; got > q+1 {
				t.Errorf("the stalled replica was given %d frames; want at most its window, %d", got, q+1)
			}
		})
	}
}

// Fewer input frames than replicas: each replica gets EOS, the output is
// the outputs of the input frames, the last with EOS, and no gap.
func TestReviewFewerFramesThanReplicas(t *testing.T) {
	for _, n := range []int64{1, 2, 3} {
		for _, q := range []int{1, 8} {
			t.Run(fmt.Sprintf("n=%d q=%d", n, q), func(t *testing.T) {
				x := &testelems.Toil{Factor: 7}
				p, snk := replicatedQ(q, n, x, nil, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(2))
				if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
					t.Fatal(err)
				}
				checkWorks(t, snk.Got(), n, 7)
				for _, f := range snk.Got() {
					if f.Gap {
						t.Errorf("a gap came out: %+v", f)
					}
				}
				var in int64
				for _, r := range p.Stats().Elements[1].Replicas {
					in += r.Sinks[0].Frames
				}
				if in != n+3 {
					t.Errorf("the replicas took in %d frames; want %d and 3 empty EOS frames", in, n)
				}
			})
		}
	}
}

// A Process that sets EOS early ends the stream there, with links of one
// frame and replicas in workers and here, wherever the EOS falls.
func TestReviewEarlyEOSWithQueueSizeOne(t *testing.T) {
	for _, endAt := range []int64{1, 2, 3, 4, 99, 100} {
		t.Run(fmt.Sprint(endAt), func(t *testing.T) {
			x := &testelems.Toil{Factor: 1, MaxSleep: 50 * time.Microsecond, EndAt: endAt}
			p, snk := replicatedQ(1, 101, x, nil, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), endAt, 1)
			for _, s := range p.Status() {
				if s.State != sgn.StateDone {
					t.Errorf("%s is %v; want done", s.Name, s.State)
				}
			}
		})
	}
}

// A replica in a worker that fails, panics or exits fails the run with an
// ElementError that names the replica.
func TestReviewAFailingReplicaInAWorkerFailsTheRun(t *testing.T) {
	for _, how := range []string{"error", "panic", "exit", "kill"} {
		t.Run(how, func(t *testing.T) {
			x := &testelems.Toil{Factor: 1, Crash: testelems.Crash{At: 30, How: how}}
			p, _ := replicatedQ(4, 100000, x, []sgn.PipelineOption{sgn.Logger(slog.New(slog.DiscardHandler))}, sgn.Replicas(2, sgn.InWorker()))
			err := runWithin(t, p, context.Background(), time.Minute)
			var ee *sgn.ElementError
			if !errors.As(err, &ee) || (ee.Element != "x[0]" && ee.Element != "x[1]") {
				t.Fatalf("Run() = %v; want an ElementError naming x[0] or x[1]", err)
			}
			if !strings.HasPrefix(err.Error(), ee.Element+": ") {
				t.Errorf("the error %q does not start with the replica's name", err)
			}
		})
	}
}

// Under Restart, replicas that die at the end of the stream (on the last
// frame, on the empty EOS frame, while the others drain) are restarted and
// the output loses and repeats nothing.
func TestReviewReplicasDyingAtTheEndAreRestarted(t *testing.T) {
	for _, tc := range []struct {
		n, at int64
		q     int
		once  bool
	}{
		{1, 1, 1, true}, {2, 1, 1, true}, {3, 1, 4, true}, {1, 1, 4, false},
		{30, 10, 1, false}, {30, 11, 1, false}, {30, 12, 1, false}, {31, 11, 1, false},
	} {
		t.Run(fmt.Sprintf("n=%d at=%d q=%d once=%v", tc.n, tc.at, tc.q, tc.once), func(t *testing.T) {
			crash := testelems.Crash{At: tc.at, How: "kill"}
			if tc.once {
				crash.Once = filepath.Join(t.TempDir(), "crashed")
			}
			x := &testelems.Toil{Factor: 3, Crash: crash}
			p, snk := replicatedQ(tc.q, tc.n, x, []sgn.PipelineOption{sgn.Logger(slog.New(slog.DiscardHandler))},
				sgn.Replicas(3, sgn.InWorker()), sgn.Restart(30, time.Minute))
			if tc.once || tc.at == 1 {
				// at=1 without once: every process dies at its first
				// frame, for ever; the run must fail, naming a replica.
				err := runWithin(t, p, context.Background(), time.Minute)
				if !tc.once {
					var ee *sgn.ElementError
					if !errors.As(err, &ee) || !strings.HasPrefix(ee.Element, "x[") {
						t.Fatalf("Run() = %v; want an ElementError naming a replica", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			} else if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), tc.n, 3)
		})
	}
}

// Two replicas that die again and again, at the same frame of each of
// their processes, with links of one frame: nothing lost or repeated.
func TestReviewTwoReplicasDyingAtOnce(t *testing.T) {
	const n = 120
	x := &testelems.Toil{Factor: 2, Crash: testelems.Crash{At: 7, How: "kill"}}
	p, snk := replicatedQ(1, n, x, []sgn.PipelineOption{sgn.Logger(slog.New(slog.DiscardHandler))},
		sgn.Replicas(2, sgn.InWorker()), sgn.Restart(10000, time.Minute))
	if err := runWithin(t, p, context.Background(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	checkWorks(t, snk.Got(), n, 2)
	if restarts(p, "x") < 10 {
		t.Errorf("%d restarts; want each replica restarted every 6 frames", restarts(p, "x"))
	}
}

// Shutdown with a replica that never finishes: the ShutdownError names the
// replicated element and counts the frames given to its replicas.
func TestReviewShutdownWithAStalledReplica(t *testing.T) {
	x := &testelems.Toil{Factor: 1, Slow: "x[0]", SlowSleep: time.Hour}
	p, _ := replicatedQ(4, 1<<40, x, []sgn.PipelineOption{sgn.StopTimeout(50 * time.Millisecond), sgn.Logger(slog.New(slog.DiscardHandler))},
		sgn.Replicas(2, sgn.InWorker()))
	go func() {
		for p.Stats().Elements[1].Replicas[1].Sinks[0].Frames < 5 {
			time.Sleep(time.Millisecond)
		}
		p.Shutdown(200 * time.Millisecond)
	}()
	err := runWithin(t, p, context.Background(), time.Minute)
	var se *sgn.ShutdownError
	if !errors.As(err, &se) || se.Element != "" {
		t.Fatalf("Run() = %v; want a ShutdownError of the pipeline", err)
	}
	var held int
	for _, u := range se.Unfinished {
		if u.Element == "x" {
			held = u.Held
		}
		if strings.Contains(u.Element, "[") {
			t.Errorf("a replica is listed as unfinished: %+v", se.Unfinished)
		}
	}
	if held == 0 {
		t.Errorf("Run() = %v; want x listed, holding frames", err)
	}
}

// Check refuses more mistakes with Replicas, each at the line of the
// Insert.
func TestReviewCheckRefusesMoreReplicaMistakes(t *testing.T) {
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	var want []string
	p.Insert("neg", &testelems.Scale{}, sgn.Replicas(-1))
	want = append(want, here(-1)+": neg: Replicas(-1): give at least one replica")
	p.Insert("after", &testelems.Scale{}, sgn.Replicas(2), sgn.InWorker())
	want = append(want, here(-1)+": after: InWorker places the element itself, but its replicas run where Replicas says: Replicas(n, InWorker())")
	p.Insert("drain", &testelems.Scale{}, sgn.Replicas(2, sgn.DrainTimeout(time.Second)))
	want = append(want, here(-1)+": drain: Replicas(2, ...): only a placement (InWorker or Remote) goes in Replicas; give Queue, Restart and the other options to Insert")
	p.Insert("restart", &testelems.Scale{}, sgn.Replicas(2, sgn.InWorker(), sgn.Restart(2, time.Second)))
	want = append(want, here(-1)+": restart: Replicas(2, ...): only a placement (InWorker or Remote) goes in Replicas; give Queue, Restart and the other options to Insert")
	p.Insert("nested", &testelems.Scale{}, sgn.Replicas(2, sgn.Replicas(2)))
	want = append(want, here(-1)+": nested: Replicas(2, ...): only a placement (InWorker or Remote) goes in Replicas; give Queue, Restart and the other options to Insert")
	p.Insert("y[0]", &testelems.Scale{})
	clashAt := here(-1)
	p.Insert("y", &testelems.Scale{}, sgn.Replicas(2))
	want = append(want, here(-1)+": y: y[0] is the name of a replica, and of an element inserted at "+clashAt+"; rename that element")
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

// Status and graphs of a pipeline whose replicas all run in workers.
func TestReviewGraphsCountReplicasInWorkers(t *testing.T) {
	x := &testelems.Toil{Factor: 1}
	p, _ := replicatedQ(4, 10, x, nil, sgn.Replicas(4, sgn.InWorker()))
	for name, g := range map[string]string{"DOT": p.DOT(), "Mermaid": p.Mermaid()} {
		if !strings.Contains(g, "4 replicas in worker processes") {
			t.Errorf("%s does not say \"4 replicas in worker processes\":\n%s", name, g)
		}
		if strings.Contains(g, "x[0]") {
			t.Errorf("%s draws a replica:\n%s", name, g)
		}
	}
	if n := len(p.Status()); n != 3 {
		t.Errorf("Status lists %d elements; want 3", n)
	}
}

// A replicated Scale between a source and a sink in workers, the replicas
// killed and restarted: every number arrives, once, in order.
func TestReviewReplicasBetweenWorkers(t *testing.T) {
	const n = 2000
	src := &testelems.Count{From: 1, To: n}
	x := &testelems.Scale{Factor: 3, Crash: testelems.Crash{At: 333, How: "kill"}}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(2), sgn.Logger(slog.New(slog.DiscardHandler)))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("x", x, sgn.Replicas(3, sgn.InWorker()), sgn.Restart(100, time.Minute))
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if diff := cmp.Diff(scaled(seq(1, n), 3), nums); diff != "" || !eos {
		t.Errorf("the sink got EOS: %v, and (-want +got):\n%s", eos, diff)
	}
	if restarts(p, "x") == 0 {
		t.Errorf("no replica was restarted")
	}
}

// Many runs in a row, ending well, failing, cancelled, with 1 MiB frames
// in slots: no goroutine and no worker process is left, and no slot held.
func TestReviewManyRunsLeaveNothing(t *testing.T) {
	before := goruntime.NumGoroutine()
	for i := range 12 {
		const frames, mib = 40, 1 << 20 / 8
		src := &testelems.Ramp{Alloc: true, Len: mib, Count: frames}
		x := &testelems.Affine{Mul: 2, Add: 1}
		opts := []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1)}
		if i%3 == 1 {
			// Killed: the replicas all in workers.
			x.Crash = testelems.Crash{At: 7, How: "kill"}
			opts = []sgn.ElementOption{sgn.Replicas(3, sgn.InWorker())}
		}
		snk := &testelems.Verify{Len: mib, Mul: 2, Add: 1, Memory: "count"}
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(2), sgn.Logger(slog.New(slog.DiscardHandler)))
		p.Insert("src", src)
		p.Insert("x", x, opts...)
		p.Insert("snk", snk)
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
		ctx, cancel := context.WithCancel(context.Background())
		if i%3 == 2 {
			go func() {
				for p.Stats().Elements[2].Sinks[0].Frames < 10 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
		}
		err := runWithin(t, p, ctx, time.Minute)
		cancel()
		switch i % 3 {
		case 0:
			if err != nil {
				t.Fatal(err)
			}
			checkPool(t, p)
		case 1:
			var ee *sgn.ElementError
			if !errors.As(err, &ee) {
				t.Fatalf("run %d: Run() = %v; want an ElementError", i, err)
			}
		case 2:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("run %d: Run() = %v; want it cancelled", i, err)
			}
		}
		if _, held := sgn.PoolAfterRun(p); held != 0 {
			t.Errorf("run %d: %d slots held after the run", i, held)
		}
		if kids := children(t, os.Getpid()); len(kids) > 0 {
			t.Errorf("run %d: processes %v are left after Run returned", i, kids)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for goruntime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := goruntime.NumGoroutine(); after > before+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the runs, %d after:\n%s", before, after, buf[:goruntime.Stack(buf, true)])
	}
}

// A Process that ends the stream early, with its upstream in a worker,
// and replicas that die and are restarted: the consumer has every output
// up to that one, then EOS.
func TestReviewEarlyEOSBetweenWorkers(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", restart), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 3000}
			y := &testelems.Toil{Factor: 1, EndAt: 500}
			opts := []sgn.ElementOption{sgn.Replicas(3, sgn.InWorker())}
			if restart {
				y.Crash = testelems.Crash{At: 97, How: "kill"}
				opts = append(opts, sgn.Restart(100, time.Minute))
			}
			snk := &testelems.Works{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(2), sgn.Logger(slog.New(slog.DiscardHandler)))
			p.Insert("src", src, sgn.InWorker())
			p.Insert("x", y, opts...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &y.In)
			sgn.Link(&y.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), 500, 1)
		})
	}
}

// Two replicated elements in a row, and a replicated element whose output
// goes to two sinks: each sink gets every output, in order.
func TestReviewReplicatedElementsInARowAndFanOut(t *testing.T) {
	const n = 2000
	src := &testelems.Count{From: 1, To: n}
	a := &testelems.Scale{Factor: 2}
	b := &testelems.Toil{Factor: 3, MaxSleep: 50 * time.Microsecond}
	snk1, snk2 := &testelems.Works{}, &testelems.Works{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(1))
	p.Insert("src", src)
	p.Insert("a", a, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
	p.Insert("x", b, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(2))
	p.Insert("snk1", snk1)
	p.Insert("snk2", snk2, sgn.InWorker())
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&a.Out, &b.In)
	sgn.Link(&b.Out, &snk1.In)
	sgn.Link(&b.Out, &snk2.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	checkWorks(t, snk1.Got(), n, 6)
	if got := p.Stats().Elements[4].Sinks[0].Frames; got != n {
		t.Errorf("snk2 got %d frames; want %d", got, n)
	}
}

// RequestEOS before Run: the source's only frame is an empty EOS frame,
// and the replicated element passes on one EOS frame.
func TestReviewEOSRequestedBeforeRun(t *testing.T) {
	x := &testelems.Toil{Factor: 1}
	p, snk := replicatedQ(2, 1<<40, x, nil, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
	p.RequestEOS()
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := snk.Got(); len(got) != 1 || !got[0].EOS || !got[0].Gap {
		t.Errorf("the sink got %+v; want one empty EOS frame", got)
	}
}

// Queue given to Insert sizes the element's input and each replica's.
func TestReviewQueueSizesEachReplica(t *testing.T) {
	x := &testelems.Toil{Factor: 1}
	p, _ := replicatedQ(8, 100, x, nil, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1), sgn.Queue(3))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	st := p.Stats().Elements[1]
	if st.Sinks[0].Bound != 4 {
		t.Errorf("x's input holds %d; want 4", st.Sinks[0].Bound)
	}
	for _, r := range st.Replicas {
		if r.Sinks[0].Bound != 4 {
			t.Errorf("%s's input holds %d; want 4", r.Name, r.Sinks[0].Bound)
		}
	}
}

// Many replicas of this process, with links of one frame.
func TestReviewManyReplicasHere(t *testing.T) {
	const n = 3000
	x := &testelems.Toil{Factor: 1, MaxSleep: 30 * time.Microsecond}
	p, snk := replicatedQ(1, n, x, nil, sgn.Replicas(16), sgn.Replicas(3, sgn.InWorker()))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	checkWorks(t, snk.Got(), n, 1)
}

// Replicas that die around the frame whose output ends the stream early,
// and are restarted: the output is every output up to that one, then EOS.
func TestReviewReplicasDyingAroundAnEarlyEOS(t *testing.T) {
	for at := int64(95); at <= 106; at++ {
		for _, q := range []int{1, 4} {
			t.Run(fmt.Sprintf("at=%d q=%d", at, q), func(t *testing.T) {
				x := &testelems.Toil{Factor: 1, EndAt: 300, Crash: testelems.Crash{At: at, How: "kill"}}
				p, snk := replicatedQ(q, 3000, x, []sgn.PipelineOption{sgn.Logger(slog.New(slog.DiscardHandler))},
					sgn.Replicas(3, sgn.InWorker()), sgn.Restart(100, time.Minute))
				if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
					t.Fatal(err)
				}
				checkWorks(t, snk.Got(), 300, 1)
			})
		}
	}
}

// Large frames that a replica puts in new slots stay in slots behind a
// slow consumer, as those of the element in a worker of its own do: its
// outputs wait for the merger and then, passed on as they are, for the
// element's consumers, and its slots are enough for both.
func TestReviewReplicaOutputsStayInSlotsBehindASlowConsumer(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    int
		opts []sgn.ElementOption
	}{
		{"worker", 4, []sgn.ElementOption{sgn.InWorker()}},
		{"one replica", 4, []sgn.ElementOption{sgn.Replicas(1, sgn.InWorker())}},
		{"one replica, queue 1", 1, []sgn.ElementOption{sgn.Replicas(1, sgn.InWorker())}},
		{"two replicas", 4, []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const frames, mib = 40, 1 << 20 / 8
			src := &testelems.Ramp{Alloc: true, Len: mib, Count: frames}
			x := &testelems.Affine{Mul: 2, Add: 1, Alloc: true}
			snk := &testelems.Verify{Len: mib, Mul: 2, Add: 1, Memory: "slots", Delay: 5 * time.Millisecond}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(tc.q))
			p.Insert("src", src)
			p.Insert("x", x, tc.opts...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := p.Stats().Elements[2].Sinks[0].Frames; got != frames {
				t.Errorf("the sink checked %d frames, want %d", got, frames)
			}
			checkPool(t, p)
		})
	}
}
