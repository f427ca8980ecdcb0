package sgn_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
)

// The tests of a worker's credentials and TLS beyond a user and password or
// a token: an NKey seed, a credentials file, the certificate authorities to
// trust and a client certificate, each given by flag and by environment
// variable, against an embedded server that requires them, with worker
// binaries started as separate processes.

// runsRemotely runs src → x → sink with x, which doubles, on a worker of
// l, and checks what the sink got.
func runsRemotely(t *testing.T, l *remote.Launcher) {
	t.Helper()
	const n = 50
	p, snk := chainAt(t, n, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if diff := cmp.Diff(scaled(seq(1, n), 2), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	if !eos {
		t.Error("the sink never saw EOS")
	}
}

// serves starts a worker of testelems.Scale with args and env, waits until
// it waits for work, runs a chain through it, and kills it: the next case
// of a test gets a worker of its own.
func serves(t *testing.T, l *remote.Launcher, args []string, env ...string) {
	t.Helper()
	a := startAgentArgs(t, "testelems-scale", args, env...)
	a.waitFor(t, "waiting for work")
	runsRemotely(t, l)
	a.waitFor(t, "took a run")
	a.cmd.Process.Kill()
	<-a.exited
}

// refused starts a worker of testelems.Scale with args and env, and fails
// the test unless it exits with status 1, saying every one of says, and
// none of secrets.
func refused(t *testing.T, args, env, says []string, secrets ...string) {
	t.Helper()
	exits(t, 1, args, env, says, secrets...)
}

// exits starts a worker of testelems.Scale with args and env, and fails
// the test unless it exits with status code, saying every one of says,
// and none of secrets.
func exits(t *testing.T, code int, args, env, says []string, secrets ...string) {
	t.Helper()
	a := startAgentArgs(t, "testelems-scale", args, env...)
	select {
	case <-a.exited:
	case <-time.After(time.Minute):
		t.Fatalf("the worker still runs a minute after it started; want it to exit with %d. Its stderr:\n%s", code, a.output())
	}
	out := a.output()
	if got := a.cmd.ProcessState.ExitCode(); got != code {
		t.Errorf("the worker exited with %d, saying:\n%s\nwant %d", got, out, code)
	}
	for _, s := range says {
		if !strings.Contains(out, s) {
			t.Errorf("the worker said:\n%s\nwant it to say %q", out, s)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the worker's error shows a secret (%.6s…):\n%s", s, out)
		}
	}
}

// writeFile writes data to the file name of dir, readable by its owner
// only, and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newUserKey makes an NKey user and writes its seed to the file name of
// dir; it returns the public key, the file and the seed.
func newUserKey(t *testing.T, dir, name string) (pub, file string, seed []byte) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	if pub, err = kp.PublicKey(); err != nil {
		t.Fatal(err)
	}
	if seed, err = kp.Seed(); err != nil {
		t.Fatal(err)
	}
	return pub, writeFile(t, dir, name, seed), seed
}

// An NKey seed file reaches the server from -nats-nkey or $SGN_NATS_NKEY;
// a seed the server does not know is refused, and a file without a seed
// is named, and neither seed is shown.
func TestRemoteWorkerNKey(t *testing.T) {
	dir := t.TempDir()
	worker, workerSeed, seed := newUserKey(t, dir, "worker.nk")
	pipeline, pipelineSeed, _ := newUserKey(t, dir, "pipeline.nk")
	_, strangerSeed, strangerSecret := newUserKey(t, dir, "stranger.nk")
	s := natstest.Start(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: worker}, {Nkey: pipeline}}})
	url := s.ClientURL()
	opt, err := nats.NkeyOptionFromSeed(pipelineSeed)
	if err != nil {
		t.Fatal(err)
	}
	l := remote.NewLauncher(connect(t, url, opt))

	t.Run("by flag", func(t *testing.T) {
		serves(t, l, []string{"-nats", url, "-nats-nkey", workerSeed})
	})
	t.Run("from the environment", func(t *testing.T) {
		serves(t, l, []string{"-nats", url}, "SGN_NATS_NKEY="+workerSeed)
	})
	t.Run("unknown to the server", func(t *testing.T) {
		refused(t, []string{"-nats", url, "-nats-nkey", strangerSeed}, nil,
			[]string{"Authorization Violation"}, string(strangerSecret))
	})
	t.Run("not a seed", func(t *testing.T) {
		// The seed with a character changed, which its checksum catches.
		bad := append([]byte(nil), seed...)
		if bad[10] = 'A'; seed[10] == 'A' {
			bad[10] = 'B'
		}
		file := writeFile(t, dir, "typo.nk", bad)
		refused(t, []string{"-nats", url}, []string{"SGN_NATS_NKEY=" + file},
			[]string{"NKey seed " + file}, string(bad), string(seed))
	})
	t.Run("no file", func(t *testing.T) {
		file := filepath.Join(dir, "missing.nk")
		refused(t, []string{"-nats", url, "-nats-nkey", file}, nil, []string{"NKey seed " + file, "no such file"})
	})
}
