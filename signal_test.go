package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// signalledPipeline runs, in a process of its own, an endless pipeline with
// HandleSignals: a source here, a transform and a sink in workers, the sink
// writing to dir/sink.txt. With dir/stuck present, the sink is one that
// never finishes. It prints what Run returned and exits.
func signalledPipeline(dir string) {
	p := sgn.NewPipeline(sgn.WorkerDir(os.Getenv("SGN_TEST_WORKERS")), sgn.HandleSignals(), sgn.StopTimeout(100*time.Millisecond))
	if _, err := os.Stat(filepath.Join(dir, "stuck")); err == nil {
		src := &testelems.Blob{Size: 1, Count: 1 << 62}
		snk := &testelems.BlobSink{PIDFile: filepath.Join(dir, "sink.txt"), Stuck: true}
		p.Insert("src", src)
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &snk.In)
	} else {
		src := &testelems.Count{From: 1, To: 1 << 62}
		x := &testelems.Scale{Factor: 1}
		snk := &testelems.Collect{File: filepath.Join(dir, "sink.txt")}
		p.Insert("src", src)
		p.Insert("scale", x, sgn.InWorker())
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
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
func startSignalled(t *testing.T, stuck bool) (*exec.Cmd, *strings.Builder, string) {
	dir := t.TempDir()
	if stuck {
		if err := os.WriteFile(filepath.Join(dir, "stuck"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SGN_TEST_SIGNALLED="+dir, "SGN_TEST_WORKERS="+workerDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &strings.Builder{}
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	waitForData(filepath.Join(dir, "sink.txt"))
	return cmd, out, filepath.Join(dir, "sink.txt")
}

// Ctrl+C in a terminal signals the whole process group. The workers ignore
// it; the pipeline turns it into EOS, drains, and ends cleanly.
func TestCtrlCEndsThePipelineCleanly(t *testing.T) {
	cmd, out, sink := startSignalled(t, false)
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

// A second Ctrl+C stops a pipeline that does not end after the first.
func TestSecondCtrlCStopsThePipeline(t *testing.T) {
	cmd, out, _ := startSignalled(t, true)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Two signals sent at once may arrive as one, so keep pressing Ctrl+C
	// until the pipeline is gone, as an impatient user would.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case err := <-exited:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("pipeline exited with %v, want exit status 1", err)
			}
			if want := "Run returned: " + sgn.ErrInterrupted.Error() + "\n"; out.String() != want {
				t.Errorf("pipeline printed %q, want %q", out.String(), want)
			}
			return
		case <-tick.C:
		}
	}
}
