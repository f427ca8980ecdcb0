package sgn_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
	"github.com/sgn-go/sgn/runtime"
)

// childPIDs returns the PIDs of the live child processes of pid.
func childPIDs(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(s)
			out = append(out, n)
		}
	}
	return out
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// gone waits up to d for every pid to have exited, and returns those that
// have not.
func gone(pids []int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A worker stopped by SIGTERM while it serves a run kills the element's
// process, leaves none behind, and exits cleanly; the pipeline's error says
// that the worker stopped, not only that the process was killed, as a crash
// would.
func TestRemoteWorkerStoppedWhileServingSaysSo(t *testing.T) {
	s := natstest.Start(t, nil)
	a := startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	p, started := endless(sgn.Remote(l))
	done := runAsync(p)
	waitStarted(t, started, done)
	kids := childPIDs(a.cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("the worker has child processes %v, want the element's", kids)
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run has not returned 30s after the worker was stopped")
	}
	var we *runtime.WorkerError
	if !errors.As(err, &we) || we.PID != kids[0] || we.Host == "" {
		t.Fatalf("Run() = %v; want a WorkerError with the element's process and host", err)
	}
	if want := "signal: killed as the worker serving it stopped: terminated signal received"; we.Exit != want {
		t.Errorf("the WorkerError's Exit is %q, want %q", we.Exit, want)
	}
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker has not exited 10s after SIGTERM")
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("after SIGTERM, the worker exited with %d, want 0", code)
	}
	if left := gone(kids, 3*time.Second); len(left) > 0 {
		t.Errorf("the element's process %v outlived its worker", left)
	}
}

// A worker whose connection is closed for good (the server, restarted,
// refuses its credentials, and nats.go gives up) exits with status 1,
// saying why, instead of waiting for claims that cannot reach it.
func TestRemoteWorkerWhoseConnectionIsClosedExits(t *testing.T) {
	s := natstest.Start(t, &server.Options{Username: "sgn", Password: "one"})
	a := startAgent(t, "testelems-scale", s.ClientURL(), "SGN_NATS_USER=sgn", "SGN_NATS_PASSWORD=one")
	natstest.Restart(t, s, &server.Options{Username: "sgn", Password: "two"})
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the worker still runs 30s after the server refused its credentials; it said:\n%s", a.output())
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(a.output(), "the connection to NATS was closed for good: nats: Authorization Violation") {
		t.Errorf("the worker exited with %d, saying:\n%s\nwant 1, and that its connection was closed for an authorization violation", code, a.output())
	}
}

// The server's permissions: a worker that the server does not allow to
// take claims, or to speak on a run's subjects, exits with status 1 saying
// so, instead of waiting for work that cannot reach it; one allowed what a
// worker needs, and no more, serves a pipeline allowed what a pipeline
// needs, and no more.
func TestRemoteWorkerPermissions(t *testing.T) {
	allow := func(sub, pub []string) *server.Permissions {
		return &server.Permissions{
			Subscribe: &server.SubjectPermission{Allow: sub},
			Publish:   &server.SubjectPermission{Allow: pub},
			Response:  &server.ResponsePermission{MaxMsgs: 1},
		}
	}
	claims := "sgn.claim.>"
	s := natstest.Start(t, &server.Options{Users: []*server.User{
		{Username: "noclaims", Password: "p", Permissions: allow([]string{"sgn.run.*.w"}, []string{"sgn.run.*.m"})},
		{Username: "norun", Password: "p", Permissions: allow([]string{claims}, []string{"sgn.run.*.m"})},
		{Username: "mute", Password: "p", Permissions: allow([]string{claims, "sgn.run.*.w"}, []string{"none"})},
		{Username: "worker", Password: "p", Permissions: allow([]string{claims, "sgn.run.*.w"}, []string{"sgn.run.*.m"})},
		{Username: "pipeline", Password: "p", Permissions: allow([]string{"sgn.run.*.m", "_INBOX.>"}, []string{claims, "sgn.run.*.w"})},
	}})
	for _, user := range []string{"noclaims", "norun", "mute"} {
		t.Run(user, func(t *testing.T) {
			a := startAgentProcess(t, "testelems-scale", s.ClientURL(), "SGN_NATS_USER="+user, "SGN_NATS_PASSWORD=p")
			select {
			case <-a.exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("the worker still runs 20s after the server refused it; it said:\n%s", a.output())
			}
			if code := a.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(a.output(), "Permissions Violation") ||
				!strings.Contains(a.output(), "the NATS server refuses what a worker does (nats: permissions violation: Permissions Violation for ") || !strings.Contains(a.output(), "a worker must be allowed to subscribe to sgn.claim.") {
				t.Errorf("the worker exited with %d, saying:\n%s\nwant 1, the violation and what a worker must be allowed", code, a.output())
			}
		})
	}
	startAgent(t, "testelems-scale", s.ClientURL(), "SGN_NATS_USER=worker", "SGN_NATS_PASSWORD=p")
	l := remote.NewLauncher(connect(t, s.ClientURL(), nats.UserInfo("pipeline", "p")))
	p, snk := chainAt(t, 100, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p, context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if nums, _, _ := collected(t, snk.File); len(nums) != 100 {
		t.Errorf("the sink got %d frames, want 100", len(nums))
	}
}

// A pipeline whose connection the server does not allow what a claim or a
// run needs fails saying so, not that no worker answered, that the worker
// was lost, or that the worker binary may not be an sgn worker.
func TestRemotePipelinePermissions(t *testing.T) {
	allow := func(sub, pub []string) *server.Permissions {
		return &server.Permissions{Subscribe: &server.SubjectPermission{Allow: sub}, Publish: &server.SubjectPermission{Allow: pub}}
	}
	s := natstest.Start(t, &server.Options{Users: []*server.User{
		{Username: "worker", Password: "p"},
		{Username: "noclaims", Password: "p", Permissions: allow([]string{"sgn.run.*.m", "_INBOX.>"}, []string{"sgn.run.*.w"})},
		{Username: "deaf", Password: "p", Permissions: allow([]string{"_INBOX.>"}, []string{"sgn.claim.>", "sgn.run.*.w"})},
		{Username: "mute", Password: "p", Permissions: allow([]string{"sgn.run.*.m", "_INBOX.>"}, []string{"sgn.claim.>"})},
		{Username: "noreplies", Password: "p", Permissions: allow([]string{"sgn.run.*.m"}, []string{"sgn.claim.>", "sgn.run.*.w"})},
	}})
	startAgent(t, "testelems-scale", s.ClientURL(), "SGN_NATS_USER=worker", "SGN_NATS_PASSWORD=p")
	for user, refused := range map[string]string{
		"noclaims":  `Publish to "sgn.claim.`,
		"deaf":      `Subscription to "sgn.run.`,
		"mute":      `Publish to "sgn.run.`,
		"noreplies": `Subscription to "_INBOX.`,
	} {
		t.Run(user, func(t *testing.T) {
			quiet := nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})
			l := remote.NewLauncher(connect(t, s.ClientURL(), nats.UserInfo(user, "p"), quiet))
			l.ClaimTimeout = 5 * time.Second
			p, _ := chainAt(t, 100, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
			err := runWithin(t, p, context.Background(), 30*time.Second)
			if err == nil || !strings.Contains(err.Error(), "x: the NATS server refuses the pipeline's connection what a worker on another host needs (nats: permissions violation: Permissions Violation for "+refused) ||
				!strings.Contains(err.Error(), "a pipeline must be allowed to publish on sgn.claim.> and sgn.run.*.w, and to subscribe to sgn.run.*.m and to its replies (_INBOX.>)") {
				t.Errorf("Run() = %v; want the server's refusal (%s), and what a pipeline must be allowed", err, refused)
			}
		})
	}
}

// Claims reach a free worker however many reach its pool at once: a claim
// that arrives at a worker that has just taken another run is answered
// (busy) and made again, not left to wait out its attempt while another
// worker is free. Here every run's claims are made together, more than
// there are workers, with a ClaimTimeout shorter than one attempt's wait
// for an answer: each pipeline still gets its workers, at once or as soon
// as an earlier one has finished.
func TestRemoteClaimsMadeTogetherReachFreeWorkers(t *testing.T) {
	s := natstest.Start(t, nil)
	startAgent(t, "testelems-scale", s.ClientURL())
	startAgent(t, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	l.ClaimTimeout = 1500 * time.Millisecond
	for round := range 10 {
		var dones []<-chan error
		var snks []*testelems.Collect
		for range 3 { // three pipelines of one element each, for two workers
			src := &testelems.Count{From: 1, To: 100}
			x := &testelems.Scale{Factor: 2}
			snk := &testelems.Collect{}
			p := sgn.NewPipeline()
			p.Insert("src", src)
			p.Insert("x", x, sgn.Remote(l))
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			dones = append(dones, runAsync(p))
			snks = append(snks, snk)
		}
		for i, done := range dones {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("round %d, pipeline %d: Run() = %v", round, i, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d, pipeline %d: Run has not returned within 30s", round, i)
			}
			if got := len(snks[i].Got()); got != 100 {
				t.Errorf("round %d, pipeline %d: the sink got %d frames, want 100", round, i, got)
			}
		}
	}
}

// A claim that fails other than by silence (here, a reply that is not a
// worker's) is tried again, and said when no worker is claimed in time,
// rather than lost behind "no worker answered".
func TestRemoteClaimFailureIsSaid(t *testing.T) {
	s := natstest.Start(t, nil)
	nc := connect(t, s.ClientURL())
	garbage, err := nc.Subscribe(remote.ClaimSubject("github.com/sgn-go/sgn/internal/testelems.Scale"), func(m *nats.Msg) {
		m.Respond([]byte("not a claim's reply"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Unsubscribe()
	l := remote.NewLauncher(connect(t, s.ClientURL()))
	l.ClaimTimeout = 500 * time.Millisecond
	p, _ := chainAt(t, 10, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	err = p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no worker of github.com/sgn-go/sgn/internal/testelems.Scale answered") ||
		!strings.Contains(err.Error(), "the last claim that failed otherwise: ") || !strings.Contains(err.Error(), "reply to a claim") {
		t.Errorf("Run() = %v; want no worker answered, and why the last claim failed", err)
	}
}
