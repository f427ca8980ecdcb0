package sgn

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sgn-go/sgn/runtime"
)

// schemaElement is an element whose schema a test sets.
type schemaElement struct {
	In     Sink[int64]
	schema string
}

func (e *schemaElement) SGNElement() Spec {
	return Spec{Type: "example.com/m.E", Sinks: []Pad{e.In.Init("in", Codec[int64]{})}, Schema: e.schema}
}

// A worker whose element has another schema than the pipeline's refuses
// to serve it, before any frame, saying both and what to do; so does one
// generated before elements had a schema.
func TestWorkerRefusesAnotherSchema(t *testing.T) {
	for _, tc := range []struct{ worker, pipeline, want string }{
		{"0123456789abcdef", "fedcba9876543210", "serves example.com/m.E with schema 0123456789abcdef, but the pipeline's example.com/m.E has schema fedcba9876543210"},
		{"", "fedcba9876543210", "serves example.com/m.E with schema (none), but the pipeline's example.com/m.E has schema fedcba9876543210"},
	} {
		job := &runtime.Job{Hello: runtime.Hello{Type: "example.com/m.E", Sinks: []string{"in"}, Schema: tc.pipeline}}
		_, err := bindWorker(&schemaElement{schema: tc.worker}, job)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), ": the element's pads, frame types or configuration fields changed since one of the two binaries was built; rebuild the worker binaries") {
			t.Errorf("worker schema %q, pipeline's %q: bindWorker = %v\nwant it to say %q and what to do", tc.worker, tc.pipeline, err, tc.want)
		}
	}
}

// What a binary's build information says for sure of where a package came
// from: a dependency's version and checksum, or a clean checkout's commit.
func TestBuildOrigin(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	deps := []*debug.Module{
		{Path: "example.com/elems", Version: "v1.2.0", Sum: "h1:abc="},
		{Path: "example.com/elems/v2", Version: "v2.0.1", Sum: "h1:def="},
		{Path: "example.com/local", Version: "v0.1.0", Replace: &debug.Module{Path: "../local"}},
		{Path: "example.com/fork", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/myfork", Version: "v1.0.1", Sum: "h1:ghi="}},
	}
	for _, tc := range []struct {
		settings []debug.BuildSetting
		pkg      string
		want     string
	}{
		{vcs("0123abcd", "false"), "example.com/m/stages", "commit 0123abcd of example.com/m"},
		{vcs("0123abcd", "true"), "example.com/m/stages", ""},
		{nil, "example.com/m/stages", ""},
		{nil, "example.com/elems/filters", "module example.com/elems@v1.2.0 h1:abc="},
		{nil, "example.com/elems/v2/filters", "module example.com/elems/v2@v2.0.1 h1:def="},
		{nil, "example.com/local/x", ""},
		{nil, "example.com/fork", "module example.com/myfork@v1.0.1 h1:ghi="},
		{nil, "example.com/other", ""},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "example.com/m", Version: "(devel)"}, Deps: deps, Settings: tc.settings}
		if got := originIn(bi, tc.pkg); got != tc.want {
			t.Errorf("%s with settings %v: origin %q, want %q", tc.pkg, tc.settings, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"commit a of m", "commit b of m", true},
		{"commit a of m", "module m@v1 h1:x", false},
		{"", "commit b of m", false},
	} {
		if got := sameKind(tc.a, tc.b); got != tc.want {
			t.Errorf("sameKind(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// Programs that go run builds live in the go command's temporary directory
// or, since Go 1.24, in its build cache; others do not.
func TestBuiltByGoRun(t *testing.T) {
	hash := strings.Repeat("71ec7ccab389e646", 4) + "-d"
	gotmp := t.TempDir()
	t.Setenv("GOTMPDIR", gotmp)
	for path, want := range map[string]bool{
		filepath.Join(os.TempDir(), "go-build2843/b001/exe/squares"): true,
		filepath.Join(gotmp, "go-build77/b001/exe/squares"):          true,
		filepath.Join(os.TempDir(), "go-build2843/b001/sgn.test"):    true,
		"/home/u/.cache/go-build/71/" + hash + "/squares":            true,
		"/ci/gocache/71/" + hash + "/squares":                        true,
		"/home/u/squares/bin/squares":                                false,
		filepath.Join(os.TempDir(), "bin/squares"):                   false,
		"/home/u/.cache/go-build/72/" + hash + "/squares":            false,
		"/home/u/71/71ec-d/squares":                                  false,
	} {
		if got := builtByGoRun(path); got != want {
			t.Errorf("builtByGoRun(%s) = %v, want %v", path, got, want)
		}
	}
}
