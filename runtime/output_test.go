package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineLog keeps the messages and attributes of the records it gets.
type lineLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *lineLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *lineLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lineLog) WithGroup(string) slog.Handler      { return l }

// Lines are passed on whole, however the writes cut them, the last one
// even without its newline; over-long lines are cut.
func TestOutputPassesWholeLines(t *testing.T) {
	var raw bytes.Buffer
	o := newOutput(StreamStdout, slog.New(slog.DiscardHandler), &raw, nil)
	o.start(1)
	for _, w := range []string{"one\ntw", "o\n", "", "three", "\n", strings.Repeat("x", maxLine+10) + "\n", "last"} {
		o.Write([]byte(w))
	}
	o.close(time.Second)
	want := "one\ntwo\nthree\n" + strings.Repeat("x", maxLine) + "\n" + strings.Repeat("x", 10) + "\nlast\n"
	if got := raw.String(); got != want {
		t.Errorf("got %d bytes, want %d: %q...", len(got), len(want), got[:min(len(got), 40)])
	}
}

// Lines become records with their stream, and a full queue drops the
// oldest lines and says how many.
func TestOutputLogsLinesAndCountsDrops(t *testing.T) {
	l := &lineLog{}
	tl := newTail(3)
	o := newOutput(StreamStderr, slog.New(l), nil, tl)
	// Not started: the lines wait, and the queue overflows.
	line := strings.Repeat("y", 1000) + "\n"
	for range outputQueue/1000 + 50 {
		o.Write([]byte(line))
	}
	o.Write([]byte("last words\n"))
	o.start(7)
	o.close(10 * time.Second)
	if got := tl.lines(); len(got) != 3 || got[2] != "last words" {
		t.Errorf("the tail kept %q", got)
	}
	var dropped string
	for _, m := range l.msgs {
		if strings.HasPrefix(m, "worker output dropped") {
			dropped = m
		}
	}
	if dropped != "worker output dropped: the consumer of its lines was too slow stream=stderr lines=50" {
		t.Errorf("drop record %q", dropped)
	}
	if last := l.msgs[len(l.msgs)-1]; last != "last words stream=stderr" {
		t.Errorf("last record %q", last)
	}
}
