package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "not-a-worker")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestABinaryThatIsNotAWorkerIsNamedAsSuch(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{
			name: "exits at once",
			body: "echo 'usage: not-a-worker FILE' >&2; exit 0",
			want: []string{"worker exited before answering the handshake: is ", "not-a-worker an sgn worker binary built with this version of sgn? (worker pid ", "exit status 0); last lines of its stderr:\n\tusage: not-a-worker FILE"},
		},
		{
			name: "never answers",
			body: "exec sleep 600",
			want: []string{"worker did not answer the handshake within 100ms: is ", "not-a-worker an sgn worker binary? (worker pid ", "signal: killed)"},
		},
		{
			name: "answers garbage",
			body: "echo garbage >&4; exec sleep 600",
			want: []string{"reading from the worker: sgn protocol error: message length 1651663207 (worker pid ", "signal: killed)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Worker{Element: "x", Path: script(t, tc.body), HandshakeTimeout: 100 * time.Millisecond, StopTimeout: time.Millisecond}
			err := w.Run(context.Background())
			var we *WorkerError
			if !errors.As(err, &we) {
				t.Fatalf("Run() = %v, want a WorkerError", err)
			}
			msg := err.Error()
			for _, want := range tc.want {
				i := strings.Index(msg, want)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", err, want)
				}
				msg = msg[i+len(want):]
			}
		})
	}
}
