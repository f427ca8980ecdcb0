package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// replicated builds src → x → snk, x a Toil run as replicas with opts.
func replicated(n int64, x *testelems.Toil, opts ...sgn.ElementOption) (*sgn.Pipeline, *testelems.Works) {
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Works{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(8))
	p.Insert("src", src)
	p.Insert("x", x, opts...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	return p, snk
}

// checkWorks fails the test unless the frames are the works of 1..n times
// factor, in order, the last with EOS and no other; it returns how many
// each element (each replica) did.
func checkWorks(t *testing.T, got []sgn.Frame[testelems.Work], n, factor int64) map[string]int {
	t.Helper()
	var nums []int64
	by := map[string]int{}
	for i, f := range got {
		if f.EOS != (i == len(got)-1) {
			t.Errorf("frame %d of %d has EOS %v", i, len(got), f.EOS)
		}
		nums = append(nums, f.Data.N)
		by[f.Data.Element]++
	}
	if diff := cmp.Diff(scaled(seq(1, n), factor), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	return by
}

// Replicas of unequal speeds, in workers and in this process: the output is
// the input's order exactly, with one EOS at its end, and every replica did
// some of the work.
func TestReplicasKeepTheInputsOrder(t *testing.T) {
	const n = 3000
	x := &testelems.Toil{Factor: 3, MaxSleep: 200 * time.Microsecond}
	p, snk := replicated(n, x, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(2))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	by := checkWorks(t, snk.Got(), n, 3)
	pids := map[int64]bool{}
	for _, f := range snk.Got() {
		pids[f.Data.PID] = true
	}
	for k := range 4 {
		name := fmt.Sprintf("x[%d]", k)
		if by[name] == 0 {
			t.Errorf("replica %s did none of the work: %v", name, by)
		}
	}
	if len(pids) != 3 || !pids[int64(os.Getpid())] {
		t.Errorf("the work was done in processes %v; want this one (%d) and two workers", pids, os.Getpid())
	}
}

// Frames are spread by credit: a replica that takes a millisecond over
// each frame gets far fewer than one that takes no time.
func TestASlowReplicaGetsFewerFrames(t *testing.T) {
	const n = 2000
	x := &testelems.Toil{Factor: 1, Slow: "x[0]", SlowSleep: time.Millisecond}
	p, snk := replicated(n, x, sgn.Replicas(2, sgn.InWorker()))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	by := checkWorks(t, snk.Got(), n, 1)
	if by["x[0]"] == 0 || by["x[0]"] >= by["x[1]"] {
		t.Errorf("the slow replica did %d frames, the fast one %d; want the slow one to do fewer, but some", by["x[0]"], by["x[1]"])
	}
}

// A replica killed in the middle of the stream fails the run, which names
// the element and the replica, and says how its worker ended.
func TestAKilledReplicaFailsTheRun(t *testing.T) {
	x := &testelems.Toil{Factor: 1, Crash: testelems.Crash{At: 150, How: "kill"}}
	p, _ := replicated(100000, x, sgn.Replicas(2, sgn.InWorker()))
	err := runWithin(t, p, context.Background(), time.Minute)
	var ee *sgn.ElementError
	if !errors.As(err, &ee) || (ee.Element != "x[0]" && ee.Element != "x[1]") {
		t.Fatalf("Run() = %v; want an ElementError naming x[0] or x[1]", err)
	}
	var we *runtime.WorkerError
	if !errors.As(err, &we) || we.Exit != "signal: killed" {
		t.Fatalf("Run() = %v; want a WorkerError of a worker killed by a signal", err)
	}
	if !strings.HasPrefix(err.Error(), ee.Element+": ") {
		t.Errorf("the error %q does not start with the replica's name", err)
	}
	for _, s := range p.Status() {
		if s.Name == "x" && s.State != sgn.StateFailed {
			t.Errorf("x is %v after a replica failed; want failed", s.State)
		}
	}
}

// A replica in this process that fails or panics fails the run, which
// names the element and the replica.
func TestAFailingReplicaInThisProcessFailsTheRun(t *testing.T) {
	for _, how := range []string{"error", "panic"} {
		t.Run(how, func(t *testing.T) {
			x := &testelems.Toil{Factor: 1, Crash: testelems.Crash{At: 40, How: how}}
			p, _ := replicated(100000, x, sgn.Replicas(2))
			err := runWithin(t, p, context.Background(), time.Minute)
			var ee *sgn.ElementError
			if !errors.As(err, &ee) || (ee.Element != "x[0]" && ee.Element != "x[1]") {
				t.Fatalf("Run() = %v; want an ElementError naming x[0] or x[1]", err)
			}
			if !strings.Contains(err.Error(), "toil: ") || !strings.HasPrefix(err.Error(), ee.Element+": ") {
				t.Errorf("the error %q does not name the replica and say what went wrong", err)
			}
			var pe *sgn.PanicError
			if errors.As(err, &pe) != (how == "panic") {
				t.Errorf("Run() = %v; a PanicError: %v, want %v", err, errors.As(err, &pe), how == "panic")
			}
		})
	}
}

// Under a restart policy, replicas that crash, however they crash, are
// restarted, and the output loses nothing, repeats nothing, and keeps its
// order.
func TestRestartedReplicasLoseNothing(t *testing.T) {
	const n = 3000
	for _, how := range []string{"exit", "kill", "panic", "error"} {
		t.Run(how, func(t *testing.T) {
			at := 200 + rand.Int64N(300) // a frame the test does not choose
			x := &testelems.Toil{Factor: 2, MaxSleep: 20 * time.Microsecond, Crash: testelems.Crash{At: at, How: how}}
			p, snk := replicated(n, x, sgn.Replicas(3, sgn.InWorker()), sgn.Restart(100, time.Minute))
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), n, 2)
			if r := restarts(p, "x"); r == 0 {
				t.Errorf("crashing at frame %d of each process, no replica was restarted", at)
			}
			var sum int
			for _, s := range p.Status()[1].Replicas {
				sum += s.Restarts
			}
			if sum != restarts(p, "x") {
				t.Errorf("the replicas' restarts add up to %d, the element's are %d", sum, restarts(p, "x"))
			}
		})
	}
}

// RequestEOS (the first Ctrl+C) drains the pipeline through its replicas:
// everything the source sent arrives, in order, then EOS.
func TestRequestEOSDrainsThroughReplicas(t *testing.T) {
	x := &testelems.Toil{Factor: 1, MaxSleep: 50 * time.Microsecond}
	p, snk := replicated(1<<62, x, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
	go func() {
		for p.Stats().Elements[2].Sinks[0].Frames < 500 {
			time.Sleep(time.Millisecond)
		}
		p.RequestEOS()
	}()
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	got := snk.Got()
	if len(got) < 500 {
		t.Fatalf("the sink got %d frames", len(got))
	}
	var nums []int64
	for i, f := range got {
		if last := i == len(got)-1; f.EOS != last || f.Gap != last {
			t.Fatalf("frame %d of %d is %+v; want EOS and a gap on the last (the source's EOS) alone", i, len(got), f)
		}
		nums = append(nums, f.Data.N)
	}
	if diff := cmp.Diff(seq(1, int64(len(got)-1)), nums[:len(nums)-1]); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
}

// 1 MiB frames through replicas stay in shared memory: from the source to
// each worker replica and back, through the splitter and the merger, no
// slot is copied or lost, whether the source fills slots (Alloc) or
// ordinary slices (copied once, by the splitter), whether a replica
// changes a frame in place or fills a new slot, and when replicas die and
// are restarted.
func TestLargeFramesCrossReplicasInSharedMemory(t *testing.T) {
	const frames, mib = 120, 1 << 20 / 8
	for _, tc := range []struct {
		name    string
		src     testelems.Ramp
		x       testelems.Affine
		opts    []sgn.ElementOption
		memory  string
		workers bool // the source and the sink in workers too
	}{
		{"between workers", testelems.Ramp{Alloc: true}, testelems.Affine{Mul: 2, Add: 1}, []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker())}, "slots", true},
		{"in place", testelems.Ramp{Alloc: true}, testelems.Affine{Mul: 2, Add: 1}, []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker())}, "slots", false},
		{"copied by the splitter", testelems.Ramp{}, testelems.Affine{Mul: 2, Add: 1}, []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker())}, "slots", false},
		{"new slots", testelems.Ramp{Alloc: true}, testelems.Affine{Mul: 2, Add: 1, Alloc: true}, []sgn.ElementOption{sgn.Replicas(2, sgn.InWorker())}, "slots", false},
		{"here and in workers", testelems.Ramp{Alloc: true}, testelems.Affine{Mul: 2, Add: 1}, []sgn.ElementOption{sgn.Replicas(1, sgn.InWorker()), sgn.Replicas(1)}, "count", false},
		{"restarted", testelems.Ramp{Alloc: true}, testelems.Affine{Mul: 2, Add: 1, Crash: testelems.Crash{At: 23, How: "kill"}},
			[]sgn.ElementOption{sgn.Replicas(2, sgn.InWorker()), sgn.Restart(100, time.Minute)}, "slots", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, x := tc.src, tc.x
			src.Len, src.Count = mib, frames
			snk := &testelems.Verify{Len: mib, Mul: 2, Add: 1, Memory: tc.memory}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(4))
			p.Insert("src", &src, where(tc.workers)...)
			p.Insert("x", &x, tc.opts...)
			p.Insert("snk", snk, where(tc.workers)...)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := p.Stats().Elements[2].Sinks[0].Frames; got != frames {
				t.Errorf("the sink checked %d frames, want %d", got, frames)
			}
			if tc.memory == "count" && (snk.InSlots() == 0 || snk.InSlots() == frames) {
				t.Errorf("%d of %d frames lay in slots; want those of the worker replica alone", snk.InSlots(), frames)
			}
			for _, r := range p.Stats().Elements[1].Replicas {
				if r.Sinks[0].Frames == 0 {
					t.Errorf("replica %s got no frame", r.Name)
				}
			}
			if tc.x.Crash.At > 0 && restarts(p, "x") == 0 {
				t.Errorf("no replica was restarted")
			}
			checkPool(t, p)
		})
	}
}

// Check refuses Replicas where they cannot work, at the line of the
// element's Insert.
func TestCheckRefusesReplicasItCannotRun(t *testing.T) {
	const elems = "github.com/sgn-go/sgn/internal/testelems."
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	var want []string
	p.Insert("count", &testelems.Count{}, sgn.Replicas(2))
	want = append(want, here(-1)+": count: Replicas needs a transform whose work is per frame (Process: one sink pad, one source pad); "+elems+"Count has New")
	p.Insert("collect", &testelems.Collect{}, sgn.Replicas(2, sgn.InWorker()))
	want = append(want, here(-1)+": collect: Replicas needs a transform whose work is per frame (Process: one sink pad, one source pad); "+elems+"Collect has Consume")
	p.Insert("concat", &testelems.Concat{}, sgn.Replicas(2))
	want = append(want, here(-1)+": concat: Replicas needs a transform whose work is per frame (Process: one sink pad, one source pad); "+elems+"Concat has Run")
	p.Insert("zero", &testelems.Scale{}, sgn.Replicas(0, sgn.InWorker()))
	want = append(want, here(-1)+": zero: Replicas(0): give at least one replica")
	p.Insert("twice", &testelems.Scale{}, sgn.InWorker(), sgn.Replicas(2, sgn.InWorker()))
	want = append(want, here(-1)+": twice: InWorker places the element itself, but its replicas run where Replicas says: Replicas(n, InWorker())")
	p.Insert("queue", &testelems.Scale{}, sgn.Replicas(2, sgn.InWorker(), sgn.Queue(3)))
	want = append(want, here(-1)+": queue: Replicas(2, ...): only a placement (InWorker or Remote) goes in Replicas; give Queue, Restart and the other options to Insert")
	p.Insert("restart", &testelems.Scale{}, sgn.Replicas(1, sgn.InWorker()), sgn.Replicas(1), sgn.Restart(3, time.Minute))
	want = append(want, here(-1)+": restart: Restart is for elements in workers, and replica restart[1] runs in this process; place every replica in a worker, or drop Restart")
	p.Insert("dup", &testelems.Scale{}, sgn.Replicas(2))
	dupAt := here(-1)
	p.Insert("dup[1]", &testelems.Scale{})
	want = append(want, dupAt+": dup: dup[1] is the name of a replica, and of an element inserted at "+here(-1)+"; rename that element")
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
	if runErr := p.Run(context.Background()); runErr == nil || runErr.Error() != err.Error() {
		t.Errorf("Run() = %v; want Check's errors", runErr)
	}
}

// A Process that ends its stream (EOS on an output) ends the replicated
// element's there, as it would end the element's without replicas: the
// output is that of every input frame up to that one, in order.
func TestAReplicaThatEndsItsStreamEndsTheElements(t *testing.T) {
	for _, where := range [][]sgn.ElementOption{{sgn.Replicas(3)}, {sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1)}} {
		t.Run(fmt.Sprint(len(where), " placements"), func(t *testing.T) {
			x := &testelems.Toil{Factor: 1, MaxSleep: 20 * time.Microsecond, EndAt: 777}
			p, snk := replicated(5000, x, where...)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), 777, 1)
			for _, s := range p.Status() {
				if s.State != sgn.StateDone {
					t.Errorf("%s is %v; want done", s.Name, s.State)
				}
			}
		})
	}
}

// Status, Stats and Progress show a replicated element once, as inserted,
// with its replicas under it, named x[0], x[1], ...
func TestStatusStatsAndProgressShowReplicas(t *testing.T) {
	const n = 2000
	var progress strings.Builder
	var mu sync.Mutex
	seen := map[string]map[int]bool{} // the PIDs each replica was seen with
	src := &testelems.Count{From: 1, To: n}
	x := &testelems.Toil{Factor: 1, MaxSleep: 100 * time.Microsecond}
	snk := &testelems.Works{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(8), sgn.Progress(&progress),
		sgn.OnStats(5*time.Millisecond, func(st sgn.Stats) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range st.Elements[1].Replicas {
				if seen[r.Name] == nil {
					seen[r.Name] = map[int]bool{}
				}
				seen[r.Name][r.PID] = true
			}
		}))
	p.Insert("src", src)
	p.Insert("x", x, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	if got := p.Status()[1]; got.State != sgn.StatePending || len(got.Replicas) != 3 {
		t.Errorf("before Run, x is %+v; want pending, with 3 replicas", got)
	}
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	by := checkWorks(t, snk.Got(), n, 1)
	pidOf := map[string]int{}
	for _, f := range snk.Got() {
		pidOf[f.Data.Element] = int(f.Data.PID)
	}

	status := p.Status()[1]
	if status.Name != "x" || status.State != sgn.StateDone || status.InWorker {
		t.Errorf("x's status is %+v; want done, in this process", status)
	}
	st := p.Stats().Elements[1]
	if st.Sinks[0].Pad != "x:snk:in" || st.Sinks[0].Frames != n || st.Sources[0].Pad != "x:src:out" || st.Sources[0].Frames != n {
		t.Errorf("x's pads: %+v, %+v; want %d frames through each", st.Sinks[0], st.Sources[0], n)
	}
	var in int64
	var lines []string
	for k, r := range st.Replicas {
		name := fmt.Sprintf("x[%d]", k)
		if r.Name != name || status.Replicas[k].Name != name || r.State != sgn.StateDone || r.InWorker != (k < 2) {
			t.Errorf("replica %d is %+v; want %s, done, in a worker: %v", k, r.ElementStatus, name, k < 2)
		}
		if r.Sinks[0].Pad != name+":snk:in" || r.Sources[0].Pad != name+":src:out" {
			t.Errorf("replica %d's pads are %s and %s", k, r.Sinks[0].Pad, r.Sources[0].Pad)
		}
		if r.Sinks[0].Bound != 9 {
			t.Errorf("%s's queue holds %d frames; want the pipeline's QueueSize and the one in work, 9", name, r.Sinks[0].Bound)
		}
		// Each replica gets an EOS frame besides its work: the last input
		// frame, or an empty one.
		if r.Sinks[0].Frames < int64(by[name]) || r.Sinks[0].Frames > int64(by[name])+1 {
			t.Errorf("%s took in %d frames, and did %d of the outputs", name, r.Sinks[0].Frames, by[name])
		}
		in += r.Sinks[0].Frames
		mu.Lock()
		if r.InWorker && !seen[name][pidOf[name]] {
			t.Errorf("while it ran, %s was seen with PIDs %v, never with %d, the one that did its work", name, seen[name], pidOf[name])
		}
		mu.Unlock()
		lines = append(lines, fmt.Sprintf("sgn %s: done, %d frames in, %d out, busy ", name, r.Sinks[0].Frames, r.Sources[0].Frames))
	}
	if in != n+2 {
		t.Errorf("the replicas took in %d frames; want %d, and an empty EOS for each but one", in, n)
	}
	if line := sgn.ProgressLine(p.Stats()); !strings.Contains(line, " | x×3 ") {
		t.Errorf("the progress line is %q; want x×3 in it", line)
	}
	out := progress.String()
	for _, want := range append([]string{fmt.Sprintf("sgn x: done, %d frames in, %d out, busy ", n, n)}, lines...) {
		if !strings.Contains(out, want) {
			t.Errorf("Progress does not say %q; it says:\n%s", want, out)
		}
	}
}

// A replicated element's DrainTimeout is the element's: when it passes,
// the run stops with a ShutdownError that names the element and counts
// the frames its replicas had not finished.
func TestDrainTimeoutOfAReplicatedElement(t *testing.T) {
	x := &testelems.Toil{Factor: 1, Slow: "x[0]", SlowSleep: time.Hour}
	src := &testelems.Count{From: 1, To: 50}
	snk := &testelems.Works{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.StopTimeout(100*time.Millisecond), sgn.Logger(slog.New(slog.DiscardHandler)))
	p.Insert("src", src)
	p.Insert("x", x, sgn.Replicas(2, sgn.InWorker()), sgn.DrainTimeout(200*time.Millisecond))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	err := runWithin(t, p, context.Background(), time.Minute)
	var se *sgn.ShutdownError
	if !errors.As(err, &se) || se.Element != "x" || len(se.Unfinished) != 1 || se.Unfinished[0].Element != "x" || se.Unfinished[0].Held == 0 {
		t.Fatalf("Run() = %v; want a ShutdownError for x, which held frames", err)
	}
}

// tagger is a transform written by hand, with a configuration field and
// state of its own: it adds Add to each number and counts the frames it
// worked on.
type tagger struct {
	In  sgn.Sink[int64]
	Out sgn.Source[int64]
	Add int64

	calls int
}

func (e *tagger) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:    "sgn_test.tagger",
		Sinks:   []sgn.Pad{e.In.Init("in", testelems.Int64Codec)},
		Sources: []sgn.Pad{e.Out.Init("out", testelems.Int64Codec)},
		Method:  "Process",
		Run: func(ctx *sgn.Context) error {
			return sgn.RunTransform(ctx, &e.In, &e.Out, func(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
				e.calls++
				f.Data += e.Add
				return f, nil
			})
		},
		EncodeConfig: func(w *wire.Encoder) {
			w.MapHeader(1)
			w.Text("Add")
			w.Int(e.Add)
		},
		DecodeConfig: func(d *wire.Decoder) {
			n, _ := d.MapLen()
			for range n {
				if string(d.Key()) == "Add" {
					e.Add = d.Int(64)
				}
			}
		},
	}
}

// Each replica is a new value of the element's type, with the element's
// configuration as it is when Run starts; the value given to Insert does
// not run.
func TestReplicasAreNewValuesWithTheElementsConfiguration(t *testing.T) {
	const n = 500
	src := &testelems.Count{From: 1, To: n}
	x := &tagger{}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.QueueSize(4))
	p.Insert("src", src)
	p.Insert("x", x, sgn.Replicas(3))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	x.Add = 1000 // after Insert: the run's configuration
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, v := range seq(1, n) {
		want = append(want, v+1000)
	}
	if diff := cmp.Diff(want, snk.Got()); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	if x.calls != 0 {
		t.Errorf("the value given to Insert worked on %d frames; want none", x.calls)
	}
}

// An output with EOS on the frame before the last, merged while the
// splitter sends the other replicas their EOS, ends the stream cleanly.
func TestReplicasEarlyEOSRacingTheLastFrame(t *testing.T) {
	for i := range 300 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			x := &testelems.Toil{Factor: 1, EndAt: 5}
			p, snk := replicatedQ(1, 6, x, nil, sgn.Replicas(4))
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			checkWorks(t, snk.Got(), 5, 1)
		})
	}
}
