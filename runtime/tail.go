package runtime

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last lines a worker wrote to stderr, for error reports.
type tail struct {
	max int

	mu  sync.Mutex
	buf []byte // the last bytes written, at most tailBytes
}

const tailBytes = 8 << 10

func newTail(lines int) *tail { return &tail{max: lines} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
	}
	return len(p), nil
}

// lines returns up to max of the last non-empty lines written.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, l := range strings.Split(string(bytes.TrimRight(t.buf, "\n")), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}
