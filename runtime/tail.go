package runtime

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// tail copies a worker's stderr to w and keeps its last lines for error
// reports.
type tail struct {
	w   io.Writer
	max int

	mu  sync.Mutex
	buf []byte // the last bytes written, at most tailBytes
}

const tailBytes = 8 << 10

func newTail(w io.Writer, lines int) *tail { return &tail{w: w, max: lines} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
	}
	t.mu.Unlock()
	return t.w.Write(p)
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
