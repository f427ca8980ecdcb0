package remote

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/runtime"
)

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// A stream's writes are split into messages of at most the server's
// maximum payload and joined again, byte for byte, whatever their sizes.
func TestStreamSplitsAndJoins(t *testing.T) {
	s := natstest.Start(t, &server.Options{MaxPayload: 1000})
	pub, sub := connect(t, s.ClientURL()), connect(t, s.ClientURL())
	control := make(chan byte, 10)
	r := newReceiver(func(kind byte, _ []byte) { control <- kind })
	subscription, err := sub.Subscribe("stream", r.handle)
	if err != nil {
		t.Fatal(err)
	}
	subscription.SetPendingLimits(-1, -1)
	sub.Flush()
	w := newSender(pub, "stream")
	if w.max != 1000 {
		t.Fatalf("the sender's messages are up to %d bytes, want the server's 1000", w.max)
	}
	var want []byte
	for _, n := range []int{1, 0, 990, 991, 992, 5000, 100000, 3} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rand.IntN(256))
		}
		want = append(want, b...)
		if m, err := w.Write(b); m != n || err != nil {
			t.Fatalf("Write of %d bytes = %d, %v", n, m, err)
		}
	}
	w.send(kindExit, nil)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the bytes read differ from those written")
	}
	select {
	case kind := <-control:
		if kind != kindExit {
			t.Errorf("control message %q, want exit", kind)
		}
	case <-time.After(10 * time.Second):
		t.Error("no exit message within 10s")
	}
}

// A message that never arrives breaks the stream: what came before it is
// read, then the gap is an error, and later data is not taken.
func TestStreamGapFailsTheRead(t *testing.T) {
	s := natstest.Start(t, nil)
	nc := connect(t, s.ClientURL())
	control := make(chan byte, 10)
	r := newReceiver(func(kind byte, _ []byte) { control <- kind })
	if _, err := nc.Subscribe("stream", r.handle); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 2, 4, 5} {
		m := []byte{kindData, 0, 0, 0, 0, 0, 0, 0, 0, byte('a' + seq)}
		binary.BigEndian.PutUint64(m[1:header], seq)
		nc.Publish("stream", m)
	}
	got, err := io.ReadAll(r)
	var gap *GapError
	if string(got) != "bc" || !errors.As(err, &gap) || gap.Want != 3 || gap.Got != 4 {
		t.Fatalf("read %q, %v; want \"bc\", then the gap where 3 was due and 4 came", got, err)
	}
	if !strings.Contains(err.Error(), "messages were lost while a connection to NATS was interrupted") {
		t.Errorf("the gap's error %q does not say why", err)
	}
	if kind := <-control; kind != kindGap {
		t.Errorf("control message %q, want gap", kind)
	}
}

// serve runs an agent in this process until the test ends.
func serve(t *testing.T, a *Agent, nc *nats.Conn) {
	t.Helper()
	a.Logger = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, nc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// A worker refuses a claim for another element type, even one whose claim
// subject is its own, and one whose schema is not its own; the claimant
// says why.
func TestAWorkerRefusesWhatItWasNotBuiltFor(t *testing.T) {
	s := natstest.Start(t, nil)
	nc := connect(t, s.ClientURL())
	serve(t, &Agent{Type: "example.com/p.T", Schema: "aaaa", Path: "/nonexistent"}, nc)
	host, _ := os.Hostname()

	// The same subject: '.' is not allowed in a subject's token.
	if ClaimSubject("example.com/p.T") != ClaimSubject("example.com/p_T") {
		t.Fatalf("claim subjects %q and %q differ", ClaimSubject("example.com/p.T"), ClaimSubject("example.com/p_T"))
	}
	l := NewLauncher(nc)
	_, err := l.Launch(context.Background(), &runtime.Worker{Element: "x", Hello: runtime.Hello{Type: "example.com/p_T"}})
	want := "the worker of example.com/p_T on " + host + " (pid "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ") refused the run: this worker serves example.com/p.T, not example.com/p_T") {
		t.Errorf("Launch() = %v; want a refusal", err)
	}

	for _, tc := range []struct {
		c    claim
		want string
	}{
		{claim{Run: newRunID(), Type: "example.com/p.T", Schema: "bbbb"}, "this worker's example.com/p.T has schema aaaa, the pipeline's has bbbb"},
		{claim{Run: newRunID(), Type: "example.com/p.T"}, "this worker's example.com/p.T has schema aaaa, the pipeline's has (none)"},
		{claim{Run: "sgn.run.>", Type: "example.com/p.T", Schema: "aaaa"}, `run ID "sgn.run.>" is not 128 bits in hex`},
	} {
		m, err := nc.Request(ClaimSubject("example.com/p.T"), encode(tc.c), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r claimReply
		if err := decode("reply", m.Data, &r); err != nil {
			t.Fatal(err)
		}
		if r.Accepted || r.Busy || !strings.HasPrefix(r.Reason, tc.want) || r.Host != host {
			t.Errorf("reply to %+v: %+v; want a refusal from %s saying %q", tc.c, r, host, tc.want)
		}
	}
}

// Kill reaches the worker's host, which kills the process at once and
// reports how it ended; then the worker takes the next run.
func TestKillEndsTheProcessOnTheWorkersHost(t *testing.T) {
	s := natstest.Start(t, nil)
	nc := connect(t, s.ClientURL())
	script := filepath.Join(t.TempDir(), "sleeper")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho about to sleep >&2\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	serve(t, &Agent{Type: "example.com/p.T", Path: script, Stderr: lineWriter(lines)}, nc)
	host, _ := os.Hostname()
	l := NewLauncher(nc)
	for range 2 {
		p, err := l.Launch(context.Background(), &runtime.Worker{Element: "x", Hello: runtime.Hello{Type: "example.com/p.T"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Host() != host || p.PID() == 0 {
			t.Errorf("process on %q, pid %d; want %q and a pid", p.Host(), p.PID(), host)
		}
		<-lines // it runs
		p.Kill()
		select {
		case <-p.Exited():
		case <-time.After(10 * time.Second):
			t.Fatal("the process has not ended 10s after Kill")
		}
		exit, clean := p.Exit()
		if exit != "signal: killed" || clean {
			t.Errorf("Exit() = %q, %v; want signal: killed, not clean", exit, clean)
		}
		if lines := p.Stderr(); len(lines) != 1 || lines[0] != "about to sleep" {
			t.Errorf("Stderr() = %q; want its one line", lines)
		}
	}
}

// lineWriter sends each line written to it on a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- strings.TrimSuffix(string(p), "\n")
	return len(p), nil
}

// Claims that reach a worker together, as those of a replicated element's
// replicas may, each get an answer: one is accepted, and the others are
// told that the worker is busy, so that they go on to another at once
// rather than wait for an answer that would never come.
func TestAWorkerAnswersEveryClaimThatReachesIt(t *testing.T) {
	s := natstest.Start(t, nil)
	nc := connect(t, s.ClientURL())
	script := filepath.Join(t.TempDir(), "sleeper")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	serve(t, &Agent{Type: "example.com/p.T", Path: script}, nc)
	// Once it refuses a claim for another type, it listens.
	for {
		_, err := nc.Request(ClaimSubject("example.com/p.T"), encode(claim{Run: newRunID(), Type: "example.com/p.U"}), 5*time.Second)
		if err == nil {
			break
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	const claims = 8
	replies := make(chan *nats.Msg, claims)
	inbox := nats.NewInbox()
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for range claims {
		if err := nc.PublishRequest(ClaimSubject("example.com/p.T"), inbox, encode(claim{Run: newRunID(), Type: "example.com/p.T"})); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	var accepted, busy int
	for i := range claims {
		select {
		case m := <-replies:
			var r claimReply
			if err := decode("reply", m.Data, &r); err != nil {
				t.Fatal(err)
			}
			switch {
			case r.Accepted:
				accepted++
			case r.Busy:
				busy++
			default:
				t.Errorf("a claim was refused: %q", r.Reason)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d claims were answered within 10s (%d accepted, %d busy); the others never were", i, claims, accepted, busy)
		}
	}
	if accepted != 1 || busy != claims-1 {
		t.Errorf("%d claims accepted, %d told busy; want 1 and %d", accepted, busy, claims-1)
	}
}
