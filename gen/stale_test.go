package gen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// staleModule is a module whose element uses a frame struct with a nested
// struct, a named type, and structs of another package: one whose fields
// are all exported, one with an unexported field.
const staleModule = `
-- elems/elems.go --
package elems

import (
	"example.com/golden/geo"

	"github.com/sgn-go/sgn"
)

type Celsius float64

type Inner struct {
	Depth int
}

type Reading struct {
	Value float64
	Temp  Celsius
	In    Inner
	At    geo.Point
	Box   geo.Box
}

//sgn:element
type Pass struct {
	In    sgn.Sink[Reading]   ` + "`sgn:\"in\"`" + `
	Out   sgn.Source[Reading] ` + "`sgn:\"out\"`" + `
	Limit int64

	n int
}

func (p *Pass) Process(ctx *sgn.Context, f sgn.Frame[Reading]) (sgn.Frame[Reading], error) {
	return f, nil
}

//sgn:element
type Log struct {
	In sgn.Sink[Reading] ` + "`sgn:\"in\"`" + `
}

func (l *Log) Consume(ctx *sgn.Context, f sgn.Frame[Reading]) error { return nil }
-- geo/geo.go --
package geo

type Point struct{ X, Y float64 }

type Box struct {
	W, H float64
	area float64
}
`

// Generated code that no longer matches the types it was generated from
// does not compile, and the compiler's message, at the check in
// sgn_gen.go, says to run go generate: for a field added to an element, a
// pad's tag changed, a Run method added, a field of a frame struct
// retyped, a nested struct's field added, a named type's underlying type
// changed, and a field added to a struct of another package. A field added
// to another package's struct that has unexported fields is not seen by
// the compiler; sgngen check sees it.
func TestStaleGeneratedCodeDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	dir := writeCase(t, txtar.Parse([]byte(staleModule)))
	files, err := Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Commit(files); err != nil {
		t.Fatal(err)
	}
	build := func() (string, error) {
		cmd := exec.Command("go", "build", "-gcflags=-e", "./...")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := build(); err != nil {
		t.Fatalf("the generated module does not build: %v\n%s", err, out)
	}

	edit(t, filepath.Join(dir, "elems/elems.go"),
		"\tn int\n", "\tGain float64\n\tn    int\n",
		"In sgn.Sink[Reading] `sgn:\"in\"`", "In sgn.Sink[Reading] `sgn:\"input\"`",
		"type Celsius float64", "type Celsius float32",
		"Value float64", "Value float32",
		"\tDepth int\n", "\tDepth int\n\tWidth int\n",
		"func (p *Pass) Process(", "func (p *Pass) Run(ctx *sgn.Context) error { return nil }\n\nfunc (p *Pass) Process(",
	)
	edit(t, filepath.Join(dir, "geo/geo.go"), "type Point struct{ X, Y float64 }", "type Point struct{ X, Y, Z float64 }")
	out, err := build()
	if err == nil {
		t.Fatal("the module builds with its stale sgn_gen.go")
	}
	for _, want := range []string{
		`cannot use Pass{} (value of struct type Pass) as Pass_changed__run_go_generate value in variable declaration`,
		`ambiguous selector Pass_has_a_Run_method__run_go_generate.Run`,
		`cannot use Log{} (value of struct type Log) as Log_changed__run_go_generate value in variable declaration`,
		`cannot use Reading{} (value of struct type Reading) as Reading_changed__run_go_generate value in variable declaration`,
		`cannot use Inner{} (value of struct type Inner) as Inner_changed__run_go_generate value in variable declaration`,
		`cannot convert (*Celsius)(nil) (value of type *Celsius) to type *Celsius_changed__run_go_generate`,
		`cannot use geo.Point{} (value of struct type geo.Point) as geo_Point_changed__run_go_generate value in variable declaration`,
	} {
		re := regexp.MustCompile(`(?m)^elems/sgn_gen\.go:\d+:\d+: ` + regexp.QuoteMeta(want) + `$`)
		if !re.MatchString(out) {
			t.Errorf("the compiler does not say, at a line of elems/sgn_gen.go:\n\t%s\nIt said:\n%s", want, out)
		}
	}

	// Regenerated, it compiles again; a field added to geo.Box, which has
	// an unexported field, is seen by Generate, not by the compiler.
	if files, err = Generate(dir, "./..."); err == nil {
		_, _, err = Commit(files)
	}
	if err != nil {
		t.Fatal(err)
	}
	if out, err := build(); err != nil {
		t.Fatalf("the module does not build once regenerated: %v\n%s", err, out)
	}
	edit(t, filepath.Join(dir, "geo/geo.go"), "W, H float64", "W, H, D float64")
	if out, err := build(); err != nil {
		t.Fatalf("a field added to geo.Box breaks the build; the documentation says it does not: %v\n%s", err, out)
	}
	files, err = Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := Stale(files); err != nil || len(stale) != 1 || filepath.Base(stale[0]) != ElementFile {
		t.Errorf("after a field was added to geo.Box, Stale = %q, %v; want sgn_gen.go", stale, err)
	}
	edit(t, filepath.Join(dir, "geo/geo.go"), "W, H, D float64", "W, H, D float32")
	out, err = build()
	if want := "cannot use &v.W (value of type *float32) as *geo_Box_W_changed__run_go_generate value in variable declaration"; err == nil || !strings.Contains(out, want) {
		t.Errorf("a field of geo.Box retyped: the build says\n%s\nwant %q", out, want)
	}
}

// edit replaces, in the file at path, each old string (which must be
// there) with the new one that follows it.
func edit(t *testing.T, path string, oldNew ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(s, oldNew[i]) {
			t.Fatalf("%s has no %q", path, oldNew[i])
		}
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o666); err != nil {
		t.Fatal(err)
	}
}
