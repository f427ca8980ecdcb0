package sgn_test

import (
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

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

func TestRequestEOSBeforeRunEndsSourcesAtOnce(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 1 << 62}
			snk := &testelems.Collect{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src, where(inWorker)...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &snk.In)
			p.RequestEOS()
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(snk.Got()) != 0 || !snk.SawEOS() {
				t.Errorf("sink got %v, EOS %v; want no data, then EOS", snk.Got(), snk.SawEOS())
			}
		})
	}
}

// Once frames flow, RequestEOS makes an endless worker source end its
// stream; everything it sent arrives, in order, then EOS.
func TestRequestEOSDrainsARunningPipeline(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1 << 62}
	x := &testelems.Scale{Factor: 1}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("scale", x, sgn.InWorker())
	p.Insert("snk", snk, sgn.InWorker())
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	go func() {
		waitForData(snk.File)
		p.RequestEOS()
	}()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if !eos || len(nums) == 0 {
		t.Fatalf("sink got %d numbers, EOS %v", len(nums), eos)
	}
	if diff := cmp.Diff(seq(1, int64(len(nums))), nums); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

// waitForData returns once the file at path has some bytes.
func waitForData(path string) {
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// eosWatcher is a source of this process that writes the file Marker when
// the pipeline asks for EOS, then sends it: what a test sees of the first
// Ctrl+C when the rest of the pipeline is stuck.
type eosWatcher struct {
	Out    sgn.Source[int64]
	Marker string
}

func (w *eosWatcher) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:    "sgn_test.eosWatcher",
		Sources: []sgn.Pad{w.Out.Init("out", sgn.Codec[int64]{})},
		Run: func(ctx *sgn.Context) error {
			select {
			case <-ctx.EOSRequested():
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if err := os.WriteFile(w.Marker, []byte("eos"), 0o644); err != nil {
				return err
			}
			return w.Out.Send(ctx, sgn.Frame[int64]{EOS: true, Gap: true})
		},
	}
}

// signalledPipeline runs, in a process of its own, an endless pipeline with
// HandleSignals, and prints what Run returned. What it runs depends on the
// file dir/mode:
//
//	drain         a source here, a transform and a sink in workers, the sink
//	              writing to dir/sink.txt
//	drain-replicas the same, with the transform as two replicas in workers
//	              and one here
//	stuck-worker  a source here feeding a worker sink that stalls, deaf to
//	              cancellation, after writing its PID to dir/sink.txt; the
//	              stop timeout is an hour
//	stuck-here    the same, and a sink of this process that stalls too
//
// The stuck pipelines also have an eosWatcher, which writes dir/eos.
func signalledPipeline(dir string) {
	mode, _ := os.ReadFile(filepath.Join(dir, "mode"))
	p := sgn.NewPipeline(sgn.WorkerDir(os.Getenv("SGN_TEST_WORKERS")), sgn.HandleSignals(), sgn.StopTimeout(time.Hour))
	sink := filepath.Join(dir, "sink.txt")
	switch string(mode) {
	case "drain", "drain-replicas":
		src := &testelems.Count{From: 1, To: 1 << 62}
		x := &testelems.Scale{Factor: 1}
		snk := &testelems.Collect{File: sink}
		p.Insert("src", src)
		if string(mode) == "drain" {
			p.Insert("scale", x, sgn.InWorker())
		} else {
			p.Insert("scale", x, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
		}
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
	default:
		watcher := &eosWatcher{Marker: filepath.Join(dir, "eos")}
		seen := &testelems.Collect{}
		p.Insert("watcher", watcher)
		p.Insert("seen", seen)
		sgn.Link(&watcher.Out, &seen.In)
		src := &testelems.Blob{Size: 1, Count: 1 << 62}
		snk := &testelems.BlobSink{PIDFile: sink, Stuck: true}
		p.Insert("src", src)
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &snk.In)
		if string(mode) == "stuck-here" {
			count := &testelems.Count{From: 1, To: 1 << 62}
			stall := &testelems.Stall{PIDFile: filepath.Join(dir, "stall")}
			p.Insert("count", count)
			p.Insert("stall", stall)
			sgn.Link(&count.Out, &stall.In)
		}
	}
	err := p.Run(context.Background())
	fmt.Printf("Run returned: %v\n", err)
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// startSignalled starts signalledPipeline in a process group of its own, as
// a shell starts a command, and waits until frames reach its sink.
func startSignalled(t *testing.T, mode string) (cmd *exec.Cmd, out *strings.Builder, dir string) {
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mode"), []byte(mode), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SGN_TEST_SIGNALLED="+dir, "SGN_TEST_WORKERS="+workerDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out = &strings.Builder{}
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	waitForData(filepath.Join(dir, "sink.txt"))
	return cmd, out, dir
}

// ctrlC sends SIGINT to the process group of cmd, as a terminal does.
func ctrlC(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

// Ctrl+C in a terminal signals the whole process group. The workers ignore
// it; the pipeline turns it into EOS, drains, and ends cleanly.
func TestCtrlCEndsThePipelineCleanly(t *testing.T) {
	for _, mode := range []string{"drain", "drain-replicas"} {
		t.Run(mode, func(t *testing.T) { ctrlCDrains(t, mode) })
	}
}

func ctrlCDrains(t *testing.T, mode string) {
	cmd, out, dir := startSignalled(t, mode)
	sink := filepath.Join(dir, "sink.txt")
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pipeline exited with %v after one SIGINT; it printed:\n%s", err, out)
	}
	if got := out.String(); got != "Run returned: <nil>\n" {
		t.Errorf("pipeline printed %q", got)
	}
	nums, pids, eos := collected(t, sink)
	if !eos {
		t.Error("the sink never saw EOS")
	}
	if diff := cmp.Diff(seq(1, int64(len(nums))), nums); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
	for pid := range pids {
		if processExists(pid) {
			t.Errorf("worker %d outlived its pipeline", pid)
		}
	}
}

// A second Ctrl+C stops a pipeline that does not end after the first, at
// once: its stuck worker is killed, not given its stop timeout (an hour).
func TestSecondCtrlCStopsThePipelineAtOnce(t *testing.T) {
	cmd, out, dir := startSignalled(t, "stuck-worker")
	ctrlC(cmd)
	waitForData(filepath.Join(dir, "eos"))
	ctrlC(cmd)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("pipeline exited with %v, want exit status 1", err)
		}
		if want := "Run returned: " + sgn.ErrInterrupted.Error() + "\n"; out.String() != want {
			t.Errorf("pipeline printed %q, want %q", out.String(), want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline still runs 30s after the second Ctrl+C")
	}
}

// A third Ctrl+C ends the program even when an element of the main process
// ignores the stop, so that Run cannot return.
func TestThirdCtrlCIsNeverIgnored(t *testing.T) {
	cmd, _, dir := startSignalled(t, "stuck-here")
	waitForData(filepath.Join(dir, "stall"))
	b, err := os.ReadFile(filepath.Join(dir, "sink.txt"))
	if err != nil {
		t.Fatal(err)
	}
	worker, _ := strconv.Atoi(string(b))
	ctrlC(cmd)
	waitForData(filepath.Join(dir, "eos"))
	ctrlC(cmd)
	// The second Ctrl+C kills the worker, after the pipeline stopped
	// listening for signals.
	for deadline := time.Now().Add(30 * time.Second); processExists(worker); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the worker still runs 30s after the second Ctrl+C")
		}
	}
	ctrlC(cmd)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline still runs 30s after the third Ctrl+C")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Fatalf("after a third Ctrl+C, the pipeline ended with %v; want it killed by SIGINT", err)
	}
}
