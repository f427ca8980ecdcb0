package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// gatedWriter counts writes; the first one says it has begun, then blocks
// until the gate opens.
type gatedWriter struct {
	w       io.Writer
	entered chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	writes  int
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.gate
	}
	return g.w.Write(p)
}

func TestWriterBatchesWhateverAccumulatesDuringAWrite(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	g := &gatedWriter{w: w, entered: make(chan struct{}), gate: make(chan struct{})}
	wr := newWriter(g)
	go wr.run()

	const senders, each = 4, 250
	if err := wr.send(msgFrame, func(b []byte) []byte { return append(b, "first"...) }); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	// The first write is blocked; everything sent meanwhile must go out in
	// one more write.
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf("%d/%d", s, i)
				if err := wr.send(msgFrame, func(b []byte) []byte { return append(b, body...) }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	got := map[int][]string{}
	done := make(chan error)
	go func() {
		rd := newReader(r)
		for {
			typ, body, err := rd.next()
			if err != nil {
				done <- err
				return
			}
			if typ != msgFrame {
				done <- fmt.Errorf("type %d", typ)
				return
			}
			var s, i int
			if string(body) == "first" {
				continue
			}
			fmt.Sscanf(string(body), "%d/%d", &s, &i)
			got[s] = append(got[s], string(body))
		}
	}()
	close(g.gate)
	if err := wr.close(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := <-done; err != io.EOF {
		t.Fatalf("reader ended with %v, want io.EOF", err)
	}
	for s := range senders {
		if len(got[s]) != each {
			t.Fatalf("sender %d: %d messages arrived, want %d", s, len(got[s]), each)
		}
		for i, body := range got[s] {
			if want := fmt.Sprintf("%d/%d", s, i); body != want {
				t.Fatalf("sender %d message %d is %q, want %q: order lost", s, i, body, want)
			}
		}
	}
	if g.writes != 2 {
		t.Errorf("%d messages took %d writes, want 2 (the first, then one batch)", senders*each+1, g.writes)
	}
}

func TestReaderRejectsMalformedInput(t *testing.T) {
	frame := func(n uint32, rest ...byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, n), rest...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"clean end", nil, io.EOF, ""},
		{"zero length", frame(0, msgFrame), ErrProtocol, "message length 0"},
		{"huge length", frame(maxMessage+1, msgFrame), ErrProtocol, "message length 1073741825"},
		{"truncated header", []byte{1, 0}, io.ErrUnexpectedEOF, ""},
		{"truncated body", frame(10, msgFrame, 1, 2), io.ErrUnexpectedEOF, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newReader(bytes.NewReader(tc.in)).next()
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.text) {
				t.Errorf("next() = %v, want %v containing %q", err, tc.want, tc.text)
			}
		})
	}
}

func TestSendAfterCloseFails(t *testing.T) {
	wr := newWriter(io.Discard)
	go wr.run()
	if err := wr.close(); err != nil {
		t.Fatal(err)
	}
	if err := wr.send(msgStop, nil); !errors.Is(err, errClosed) {
		t.Errorf("send after close = %v, want errClosed", err)
	}
}

func TestWriteErrorReachesSenders(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody will read: writes fail with EPIPE
	defer w.Close()
	wr := newWriter(w)
	go wr.run()
	for range 100 {
		if err := wr.send(msgFrame, func(b []byte) []byte { return append(b, make([]byte, 1<<20)...) }); err != nil {
			if !errors.Is(err, os.ErrClosed) && !strings.Contains(err.Error(), "broken pipe") {
				t.Fatalf("send = %v, want a broken pipe", err)
			}
			return
		}
	}
	t.Fatal("100 MiB sent to a pipe without a reader, without an error")
}

// FuzzReader feeds arbitrary bytes to the message reader: it must return
// messages or an error, never panic, and never hold much more memory than
// the input could fill.
func FuzzReader(f *testing.F) {
	f.Add([]byte{6, 0, 0, 0, msgFrame, 0, 0, 0xf6, 1, 2})
	f.Add(binary.LittleEndian.AppendUint32(nil, maxMessage))
	f.Add([]byte{1, 0, 0, 0, msgStop, 2, 0, 0, 0, msgCredit, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newReader(bytes.NewReader(data))
		for {
			_, body, err := r.next()
			if err != nil {
				break
			}
			if len(body) > len(data) {
				t.Fatalf("a %d-byte body from %d bytes of input", len(body), len(data))
			}
		}
		if cap(r.buf) > 2*len(data)+1<<20 {
			t.Fatalf("reader holds %d bytes after %d bytes of input", cap(r.buf), len(data))
		}
	})
}

// A broken message is named precisely: its type, known or not, and the pad
// it was for.
func TestBrokenMessagesAreNamed(t *testing.T) {
	msg := func(typ byte, body ...byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body)+1)), append([]byte{typ}, body...)...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"unknown type", msg(42), "sgn protocol error: unexpected unknown (type 42) message"},
		{"known type out of place", msg(msgHello), "sgn protocol error: unexpected hello message"},
		{"frame for a pad that does not exist", msg(msgFrame, 3, 0), "sgn protocol error: frame for pad 3, which does not exist (there are 1)"},
		{"credit for a pad that does not exist", msg(msgCredit, 2, 1), "sgn protocol error: credit for pad 2, which does not exist (there are 1)"},
		{"frame without flags", msg(msgFrame, 0), "sgn protocol error: frame message: cbor: at byte 1: unexpected end of input"},
		{"credits beyond the window", msg(msgCredit, 0, 9), "sgn protocol error: credits for pad 0 beyond its window of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConn([]int{4}, []int{4})
			c.SetIn(0, discard{})
			c.start(newReader(bytes.NewReader(tc.in)), io.Discard)
			defer c.writer().close()
			err := c.serve(func(typ byte, body []byte) error {
				return fmt.Errorf("%w: unexpected %s message", ErrProtocol, msgName(typ))
			})
			if err == nil || err.Error() != tc.want {
				t.Errorf("serve() = %v, want %q", err, tc.want)
			}
		})
	}
}

type discard struct{}

func (discard) Deliver(uint64, []byte) error { return nil }
