package sgn_test

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// records is a slog.Handler that keeps every record, with its attributes,
// and can be slow.
type records struct {
	mu    sync.Mutex
	all   []record
	delay time.Duration
	attrs []slog.Attr
}

type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }

func (r *records) Handle(_ context.Context, rec slog.Record) error {
	time.Sleep(r.delay)
	attrs := map[string]string{}
	for _, a := range r.attrs {
		attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, record{rec.Level, rec.Message, attrs})
	return nil
}

func (r *records) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordsWith{r, append(append([]slog.Attr(nil), r.attrs...), as...)}
}

func (r *records) WithGroup(string) slog.Handler { return r }

// recordsWith is records with attributes of its own.
type recordsWith struct {
	*records
	attrs []slog.Attr
}

func (r *recordsWith) Handle(ctx context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(r.attrs...)
	return r.records.Handle(ctx, rec)
}

func (r *recordsWith) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordsWith{r.records, append(append([]slog.Attr(nil), r.attrs...), as...)}
}

func (r *records) get() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.all...)
}

// Every line a worker prints reaches the logger with the name of the
// element that printed it, and the failure of a worker is a record that
// names it; its error carries its last lines.
func TestWorkerLinesAreLoggedByElement(t *testing.T) {
	logs := &records{}
	src := &testelems.Count{From: 1, To: 100}
	a := &testelems.Chatter{Tag: "alpha"}
	b := &testelems.Chatter{Tag: "beta"}
	c := &testelems.Chatter{Tag: "gamma", Crash: testelems.Crash{At: 30, How: "exit"}}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Logger(slog.New(logs)), sgn.LogWorkerStdout())
	p.Insert("src", src)
	p.Insert("a", a, sgn.InWorker())
	p.Insert("b", b, sgn.InWorker())
	p.Insert("c", c, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&a.Out, &b.In)
	sgn.Link(&b.Out, &c.In)
	sgn.Link(&c.Out, &snk.In)
	err := runWithin(t, p, context.Background(), time.Minute)
	if err == nil || !strings.HasPrefix(err.Error(), "c: worker stopped before EOS") || !strings.Contains(err.Error(), "gamma: exiting at frame 30") {
		t.Fatalf("Run = %v, want c's crash with its last stderr line", err)
	}
	owner := map[string]string{"alpha": "a", "beta": "b", "gamma": "c"}
	line := regexp.MustCompile(`^(\w+) says (\d+) on (stdout|stderr)$`)
	lines := map[string]int{}
	var failed bool
	for _, r := range logs.get() {
		if m := line.FindStringSubmatch(r.msg); m != nil {
			if r.attrs["element"] != owner[m[1]] || r.attrs["stream"] != m[3] || r.attrs["pid"] == "" {
				t.Errorf("line %q logged with %v", r.msg, r.attrs)
			}
			lines[m[1]+" "+m[3]]++
			continue
		}
		if r.msg == "worker failed" {
			failed = r.attrs["element"] == "c" && r.level == slog.LevelError && strings.Contains(r.attrs["error"], "exit status 3")
		}
	}
	for _, who := range []string{"alpha", "beta", "gamma"} {
		for _, stream := range []string{"stdout", "stderr"} {
			if lines[who+" "+stream] < 30 {
				t.Errorf("%d lines of %s on %s, want at least 30", lines[who+" "+stream], who, stream)
			}
		}
	}
	if !failed {
		t.Errorf("no error record of c's failure among:\n%v", logs.get())
	}
}

// A worker that writes much faster than its logger takes lines is not
// held back for long: lines are dropped, and counted, rather than stalling
// it; and the last lines of a worker that fails are in its error anyway.
func TestASlowLoggerDoesNotHoldWorkersBack(t *testing.T) {
	logs := &records{delay: 5 * time.Millisecond}
	src := &testelems.Count{From: 1, To: 3}
	x := &testelems.Chatter{Tag: "flood", Burst: 20000, Crash: testelems.Crash{At: 2, How: "exit"}}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Logger(slog.New(logs)))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	// At 5 ms a record, 20000 lines would take 100 s.
	err := runWithin(t, p, context.Background(), 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "flood burst over") || !strings.Contains(err.Error(), "flood: exiting at frame 2") {
		t.Fatalf("Run = %v, want x's crash with its last lines", err)
	}
	dropped := false
	for _, r := range logs.get() {
		if strings.HasPrefix(r.msg, "worker output dropped") && r.attrs["element"] == "x" && r.attrs["lines"] != "0" {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("no record says how many lines were dropped")
	}
}
