package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/shm"
)

// Frames of 32 KiB travel in slots (16 KiB and up do); a small pool makes
// slots come back into use many times in each run.
const (
	rampLen  = 4096
	slotSize = 64 << 10
)

// checkPool fails the test unless p's run had a slot pool and every slot
// was free again when it ended.
func checkPool(t *testing.T, p *sgn.Pipeline) {
	t.Helper()
	slots, held := sgn.PoolAfterRun(p)
	if slots == 0 {
		t.Errorf("the run had no slot pool")
	}
	if held != 0 {
		t.Errorf("%d of %d slots were still held when the run ended", held, slots)
	}
}

// Arrays cross process boundaries in slots, whichever elements run in
// workers and however the slices were made; every sample arrives intact,
// and the receivers' slices are the pool's memory.
func TestArraysTravelInSharedMemory(t *testing.T) {
	type placement struct{ src, affine, verify bool }
	cases := []struct {
		name   string
		where  placement
		alloc  bool // the source fills slots from sgn.Alloc
		affine *testelems.Affine
	}{
		{"transform in a worker, in place", placement{false, true, false}, true, &testelems.Affine{}},
		{"transform in a worker, from ordinary slices", placement{false, true, false}, false, &testelems.Affine{}},
		{"transform and sink in workers", placement{false, true, true}, true, &testelems.Affine{}},
		{"the transform copies into a new slice", placement{false, true, true}, true, &testelems.Affine{Copy: true}},
		{"the transform allocates its output", placement{false, true, false}, false, &testelems.Affine{Alloc: true}},
		{"source and sink in workers, transform in place here", placement{true, false, true}, true, &testelems.Affine{}},
		{"everything in workers", placement{true, true, true}, true, &testelems.Affine{Alloc: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const frames = 300
			src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: tc.alloc}
			x := tc.affine
			x.Mul, x.Add = 2, 1
			snk := &testelems.Verify{Len: rampLen, Mul: 2, Add: 1, Memory: "slots"}
			// Slots for every frame the links can hold: none travels in the
			// message for want of one.
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(16, slotSize), sgn.QueueSize(5))
			p.Insert("src", src, where(tc.where.src)...)
			p.Insert("affine", x, where(tc.where.affine)...)
			p.Insert("verify", snk, where(tc.where.verify)...)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if !tc.where.verify && snk.Frames() != frames {
				t.Errorf("the sink checked %d frames, want %d", snk.Frames(), frames)
			}
			checkPool(t, p)
		})
	}
}

// A struct frame whose field is a large slice carries that slice in a slot,
// with the struct's other fields in the message.
func TestStructFramesCarryTheirLargeSlicesInSlots(t *testing.T) {
	for _, alloc := range []bool{false, true} {
		t.Run(fmt.Sprintf("alloc=%v", alloc), func(t *testing.T) {
			const n, chunks = 8192, 200 // 32 KiB of float32
			src := &testelems.Chunks{Len: n, Count: chunks, Alloc: alloc}
			gain := &testelems.Gain{Factor: 3, Tag: "+gain"}
			snk := &testelems.VerifyChunks{Len: n, Factor: 3, Channel: "H1+gain"}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
			p.Insert("src", src)
			p.Insert("gain", gain, sgn.InWorker())
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &gain.In)
			sgn.Link(&gain.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if snk.Chunks() != chunks {
				t.Errorf("the sink checked %d chunks, want %d", snk.Chunks(), chunks)
			}
			checkPool(t, p)
		})
	}
}

// Several processes write slots while others read them: a source in a
// worker fills slots, a transform in another worker fills its own from
// them, and three readers in three processes check every sample.
func TestManyProcessesReadAndWriteSlotsAtOnce(t *testing.T) {
	const frames = 400
	src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: true}
	x := &testelems.Affine{Mul: -1, Add: 0.5, Alloc: true}
	readers := []*testelems.Verify{
		{Len: rampLen, Mul: 1, Memory: "slots"},
		{Len: rampLen, Mul: -1, Add: 0.5, Memory: "slots"},
		{Len: rampLen, Mul: -1, Add: 0.5, Memory: "slots"},
		{Len: rampLen, Mul: 1, Memory: "slots"},
	}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(16, slotSize), sgn.QueueSize(3))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("affine", x, sgn.InWorker())
	p.Insert("raw-here", readers[0])
	p.Insert("mapped-here", readers[1])
	p.Insert("mapped-there", readers[2], sgn.InWorker())
	p.Insert("raw-there", readers[3], sgn.InWorker())
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&src.Out, &readers[0].In)
	sgn.Link(&src.Out, &readers[3].In)
	sgn.Link(&x.Out, &readers[1].In)
	sgn.Link(&x.Out, &readers[2].In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	for i, r := range readers[:2] {
		if r.Frames() != frames {
			t.Errorf("reader %d checked %d frames, want %d", i, r.Frames(), frames)
		}
	}
	checkPool(t, p)
}

// Slices smaller than the inline threshold, and slices larger than a slot,
// travel in the message, copied; the rest in slots.
func TestSmallAndHugeSlicesTravelInTheMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		len    int64
		memory string
	}{
		{"below 16 KiB", 2047, "copy"},
		{"16 KiB", 2048, "slots"},
		{"a whole slot", slotSize / 8, "slots"},
		{"larger than a slot", slotSize/8 + 1, "copy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &testelems.Ramp{Len: tc.len, Count: 20}
			snk := &testelems.Verify{Len: tc.len, Mul: 1, Memory: tc.memory}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(24, slotSize))
			p.Insert("src", src, sgn.InWorker())
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if snk.Frames() != 20 {
				t.Errorf("the sink checked %d frames, want 20", snk.Frames())
			}
			checkPool(t, p)
		})
	}
}

// When every slot of an element is in frames that a slow consumer has not
// finished with, its large slices travel in the message instead, copied:
// nothing waits for a slot (which could deadlock branches that meet
// again), nothing fails, and every frame arrives intact, some in slots and
// some not.
func TestRunningOutOfSlotsSendsInTheMessage(t *testing.T) {
	const frames = 60
	src := &testelems.Ramp{Len: rampLen, Count: frames, Alloc: true}
	x := &testelems.Affine{Mul: 1}
	snk := &testelems.Verify{Len: rampLen, Mul: 1, Delay: time.Millisecond, Memory: "count"}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize)) // a window of 101 frames, 2 slots
	p.Insert("src", src)
	p.Insert("affine", x, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if snk.Frames() != frames {
		t.Errorf("the sink checked %d frames, want %d", snk.Frames(), frames)
	}
	if n := snk.InSlots(); n == 0 || n == frames {
		t.Errorf("%d of %d frames came in slots; want some, not all", n, frames)
	}
	checkPool(t, p)
}

// A worker that dies holding slots (frames queued for it, frames it was
// filling) takes none with it: once the run has failed, every slot is free.
func TestAWorkerThatDiesHoldingSlotsGivesThemBack(t *testing.T) {
	for _, tc := range []struct {
		name               string
		srcInWorker, sinkW bool
		exitAt             func(src *testelems.Blob, snk *testelems.BlobSink)
	}{
		{"the receiving worker dies", false, true, func(_ *testelems.Blob, snk *testelems.BlobSink) { snk.ExitAt = 5 }},
		{"the sending worker dies", true, false, func(src *testelems.Blob, _ *testelems.BlobSink) { src.ExitAt = 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &testelems.Blob{Size: 64 << 10, Count: 1000}
			snk := &testelems.BlobSink{}
			tc.exitAt(src, snk)
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(4, slotSize))
			p.Insert("src", src, where(tc.srcInWorker)...)
			p.Insert("snk", snk, where(tc.sinkW)...)
			sgn.Link(&src.Out, &snk.In)
			err := runWithin(t, p, context.Background(), time.Minute)
			if err == nil || !strings.Contains(err.Error(), "exit status 3") {
				t.Fatalf("Run = %v, want the worker's exit status 3", err)
			}
			checkPool(t, p)
		})
	}
}

// SGN's to_shm: a segment shared by name, that a worker reads and changes,
// and that the main process sees changed after Run.
func TestSharedSegmentsAreSeenAndChangedByWorkers(t *testing.T) {
	for _, inWorker := range []bool{true, false} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			seg, err := p.Share("my_shared_array", 5*8, map[string]any{"dtype": "float64"})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			other, err := p.Share("other", 8, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			copy(shm.View[float64](seg), []float64{1, 2, 3, 4, 5})
			bump := &testelems.Bump{Segment: "my_shared_array", Key: "dtype"}
			got := &testelems.Floats{}
			p.Insert("bump", bump, where(inWorker)...)
			p.Insert("got", got)
			sgn.Link(&bump.Out, &got.In)
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]float64{2, 3, 4, 5, 6}, shm.View[float64](seg)); diff != "" {
				t.Errorf("after Run, the segment holds (-want +got):\n%s", diff)
			}
			frames := got.Got()
			if len(frames) != 1 || frames[0].Data != 15 || frames[0].Meta["dtype"] != "float64" {
				t.Fatalf("the element sent %+v; want the sum 15 and the segment's dtype", frames)
			}
			if pid := frames[0].Meta["pid"].(int64); (pid != int64(os.Getpid())) != inWorker {
				t.Errorf("the element ran in pid %d; the test is %d", pid, os.Getpid())
			}
		})
	}
}

func TestSharingMistakesAreErrors(t *testing.T) {
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	first, err := p.Share("array", 16, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.Bytes()[0] = 42
	if _, err := p.Share("array", 16, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("sharing a name twice = %v, want an error wrapping fs.ErrExist", err)
	}
	if first.Bytes()[0] != 42 || first.Len() != 16 {
		t.Errorf("a refused duplicate changed the first segment")
	}
	if _, err := p.Share("meta", 8, map[string]any{"f": func() {}}); err == nil || !strings.Contains(err.Error(), "metadata") {
		t.Errorf("sharing with metadata that does not encode = %v", err)
	}

	bump := &testelems.Bump{Segment: "arary"}
	got := &testelems.Floats{}
	p.Insert("bump", bump, sgn.InWorker())
	p.Insert("got", got)
	sgn.Link(&bump.Out, &got.In)
	err = p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `no shared segment named "arary"; the pipeline shares array`) {
		t.Errorf("Run with a misspelled segment name = %v", err)
	}
	if _, err := p.Share("late", 8, nil); err == nil || !strings.Contains(err.Error(), "before Run") {
		t.Errorf("Share after Run = %v", err)
	}
}

// holders returns the processes, other than this one, that hold memory
// whose mapping or descriptor name contains name.
func holders(t *testing.T, name string) []string {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, proc := range procs {
		if proc == "/proc/"+strconv.Itoa(os.Getpid()) {
			continue
		}
		maps, _ := os.ReadFile(proc + "/maps")
		if strings.Contains(string(maps), name) {
			found = append(found, proc+" maps it")
		}
		fds, _ := filepath.Glob(proc + "/fd/*")
		for _, fd := range fds {
			if target, _ := os.Readlink(fd); strings.Contains(target, name) {
				found = append(found, proc+" has it open")
			}
		}
	}
	return found
}

// doomedSharer runs a pipeline with a shared segment and slots that never
// ends, until the test kills it: a worker source fills slots, a worker sink
// reads them and writes its PID where the test can find it.
func doomedSharer(dir string) {
	p := sgn.NewPipeline(sgn.WorkerDir(os.Getenv("SGN_TEST_WORKERS")), sgn.Slots(2, slotSize))
	seg, err := p.Share("doomed-"+filepath.Base(dir), 1<<20, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	src := &testelems.Ramp{Len: rampLen, Count: 1 << 40, Alloc: true}
	snk := &testelems.BlobSink{PIDFile: filepath.Join(dir, "pid")}
	blob := &testelems.Blob{Size: 64 << 10, Count: 1 << 40}
	check := &testelems.Verify{Len: rampLen, Mul: 1}
	p.Insert("src", src, sgn.InWorker())
	p.Insert("check", check, sgn.InWorker())
	p.Insert("blob", blob)
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &check.In)
	sgn.Link(&blob.Out, &snk.In)
	_ = seg
	p.Run(context.Background())
	os.Exit(1)
}

// The shared memory of a run is gone once its processes are: after it
// ends normally, after it fails, and after the main process is killed. The
// kernel is asked, not the API: no process maps or holds the memory.
func TestSharedMemoryIsReleasedHoweverTheRunEnds(t *testing.T) {
	devShm, _ := os.ReadDir("/dev/shm")
	t.Run("normal end", func(t *testing.T) {
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
		seg, err := p.Share("normal-end-segment", 4096, nil)
		if err != nil {
			t.Fatal(err)
		}
		src := &testelems.Ramp{Len: rampLen, Count: 20, Alloc: true}
		snk := &testelems.Verify{Len: rampLen, Mul: 1}
		p.Insert("src", src, sgn.InWorker())
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &snk.In)
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if h := holders(t, "normal-end-segment"); len(h) > 0 {
			t.Errorf("after Run: %v", h)
		}
		if h := holders(t, fmt.Sprintf("sgn:slots-%d", os.Getpid())); len(h) > 0 {
			t.Errorf("after Run, the slot pool: %v", h)
		}
		seg.Close()
		if maps, _ := os.ReadFile("/proc/self/maps"); strings.Contains(string(maps), "normal-end-segment") {
			t.Errorf("the segment is still mapped here after Close")
		}
	})
	t.Run("failure", func(t *testing.T) {
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(2, slotSize))
		seg, err := p.Share("failed-run-segment", 4096, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		src := &testelems.Ramp{Len: rampLen, Count: 1000, Alloc: true}
		snk := &testelems.Verify{Len: rampLen, Mul: 2} // wrong from the first frame
		p.Insert("src", src, sgn.InWorker())
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &snk.In)
		if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "frame 0, sample") {
			t.Fatalf("Run = %v, want the sink's failure", err)
		}
		if h := holders(t, "failed-run-segment"); len(h) > 0 {
			t.Errorf("after a failed run: %v", h)
		}
	})
	t.Run("main process killed", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SGN_TEST_DOOMED_SHARER="+dir, "SGN_TEST_WORKERS="+workerDir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		waitForData(filepath.Join(dir, "pid"))
		segment := "doomed-" + filepath.Base(dir)
		pool := fmt.Sprintf("sgn:slots-%d", cmd.Process.Pid)
		if len(holders(t, segment)) == 0 || len(holders(t, pool)) == 0 {
			t.Fatalf("before the kill, nobody holds the segment or the pool: the test sees nothing")
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for len(holders(t, segment))+len(holders(t, pool)) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("10s after the main process was killed: %v %v", holders(t, segment), holders(t, pool))
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	after, _ := os.ReadDir("/dev/shm")
	if len(after) > len(devShm) {
		t.Errorf("/dev/shm had %d entries before, %d after", len(devShm), len(after))
	}
}
