package sgn_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
)

// The tests of workers on other hosts: an embedded NATS server, and worker
// binaries started by hand, as separate processes, with -nats.

// agent is a worker binary serving pipelines over NATS.
type agent struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string // every stderr line, for waitFor
}

// startAgent starts the worker binary of the element type named by binary
// (testelems-scale, say) with -nats url and the environment env, and waits
// until it waits for work. It is killed when the test ends.
func startAgent(t *testing.T, binary, url string, env ...string) *agent {
	t.Helper()
	a := startAgentProcess(t, binary, url, env...)
	a.waitFor(t, "waiting for work")
	return a
}

// startAgentProcess starts the worker binary, without waiting for it.
func startAgentProcess(t *testing.T, binary, url string, env ...string) *agent {
	t.Helper()
	a := &agent{lines: make(chan string, 1000)}
	a.cmd = exec.Command(filepath.Join(workerDir, binary), "-nats", url)
	a.cmd.Env = append(os.Environ(), env...)
	a.cmd.Stdout = io.Discard
	stderr, err := a.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			fmt.Fprintln(&a.stderr, sc.Text())
			a.mu.Unlock()
			select {
			case a.lines <- sc.Text():
			default:
			}
		}
		close(a.lines)
	}()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-done
		a.cmd.Wait()
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", binary, a.output())
		}
	})
	return a
}

// waitFor waits for a line of the agent's stderr that contains s.
func (a *agent) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-a.lines:
			if !ok {
				t.Fatalf("the worker exited before it wrote %q; its stderr:\n%s", s, a.output())
			}
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("the worker did not write %q within 20s; its stderr:\n%s", s, a.output())
		}
	}
}

func (a *agent) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stderr.String()
}

// connect connects to the server at url, and closes the connection when
// the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// chainAt builds src → scale → sink, with the scale placed by where and
// the sink, which writes what it receives to a file, in this process.
func chainAt(t *testing.T, n int64, scale *testelems.Scale, where []sgn.ElementOption, opts ...sgn.PipelineOption) (*sgn.Pipeline, *testelems.Collect) {
	t.Helper()
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Collect{File: filepath.Join(t.TempDir(), "sink.txt")}
	p := sgn.NewPipeline(append([]sgn.PipelineOption{sgn.WorkerDir(workerDir)}, opts...)...)
	p.Insert("src", src)
	p.Insert("scale", scale, where...)
	p.Insert("sink", snk)
	sgn.Link(&src.Out, &scale.In)
	sgn.Link(&scale.Out, &snk.In)
	return p, snk
}

// A pipeline with its transform on another host gives what it gives with
// the transform in a worker on this one.
func TestRemoteWorkerGivesWhatALocalOneGives(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))

	const n = 20000
	run := func(where sgn.ElementOption) []int64 {
		p, snk := chainAt(t, n, &testelems.Scale{Factor: 3}, []sgn.ElementOption{where}, sgn.QueueSize(7))
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		nums, _, eos := collected(t, snk.File)
		if !eos {
			t.Error("the sink never saw EOS")
		}
		return nums
	}
	local := run(sgn.InWorker())
	if diff := cmp.Diff(scaled(seq(1, n), 3), local); diff != "" {
		t.Fatalf("with a local worker (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(local, run(sgn.Remote(l))); diff != "" {
		t.Fatalf("with a remote worker (-local +remote):\n%s", diff)
	}
	_ = server.Options{}
	_ = syscall.SIGKILL
}
