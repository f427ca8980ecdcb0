package gen

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// The schema fingerprint changes with whatever a worker and its pipeline
// must agree on, and only with that: each package below is the base one
// with one change.
func TestSchemaSeesWhatTravels(t *testing.T) {
	t.Setenv("GOFLAGS", "-mod=mod")
	const base = `package %s

import "github.com/sgn-go/sgn"

type Inner struct{ Depth int32 }

type Reading struct {
	Value float64
	In    Inner
	Tags  map[string]int8
}

//sgn:element
type E struct {
	In    sgn.Sink[Reading]   ` + "`sgn:\"in\"`" + `
	Out   sgn.Source[Reading] ` + "`sgn:\"out\"`" + `
	Limit int64               ` + "`cbor:\"limit\"`" + `

	n int
}

func (e *E) Process(ctx *sgn.Context, f sgn.Frame[Reading]) (sgn.Frame[Reading], error) {
	return f, nil
}
`
	variants := []struct {
		pkg, old, new string
		changes       bool
	}{
		{"base", "", "", false},
		{"configtype", "Limit int64 ", "Limit int32 ", true},
		{"configname", "Limit int64 ", "Max   int64 ", true},
		{"configkey", `cbor:\"limit\"`, `cbor:\"max\"`, true},
		{"configadded", "\n\tn int\n", "\n\tGain float64\n\tn int\n", true},
		{"padname", `sgn:\"out\"`, `sgn:\"output\"`, true},
		{"framefield", "Value float64", "Value float32", true},
		{"nested", "Depth int32", "Depth int64", true},
		{"mapvalue", "map[string]int8", "map[string]int16", true},
		{"method", "func (e *E) Process(ctx *sgn.Context, f sgn.Frame[Reading]) (sgn.Frame[Reading], error) {\n\treturn f, nil\n}",
			"func (e *E) Run(ctx *sgn.Context) error { return nil }", true},
		{"state", "\n\tn int\n", "\n\tn, m int\n", false},
		{"body", "return f, nil", "f.Data.Value++\n\treturn f, nil", false},
	}
	var files strings.Builder
	for _, v := range variants {
		src := fmt.Sprintf(base, v.pkg)
		if v.old != "" {
			old := strings.ReplaceAll(v.old, `\"`, `"`)
			if !strings.Contains(src, old) {
				t.Fatalf("%s: no %q in the base", v.pkg, old)
			}
			src = strings.Replace(src, old, strings.ReplaceAll(v.new, `\"`, `"`), 1)
		}
		fmt.Fprintf(&files, "-- %s/e.go --\n%s", v.pkg, src)
	}
	dir := writeCase(t, txtar.Parse([]byte(files.String())))
	pkgs, err := load(dir, []string{"./..."})
	if err != nil {
		t.Fatal(err)
	}
	a := &analyser{dir: dir}
	schemas := map[string]string{}
	for _, pkg := range pkgs {
		a.fset = pkg.Fset
		info := a.analysePackage(pkg)
		if len(info.elements) != 1 {
			t.Fatalf("%s: %d elements, %v", pkg.PkgPath, len(info.elements), a.diags)
		}
		g := newEmitter(info)
		// The package differs from variant to variant; the rest is what
		// is compared.
		schemas[pkg.Name] = strings.ReplaceAll(g.describeSchema(info.elements[0]), pkg.PkgPath+".", "")
	}
	for _, v := range variants[1:] {
		if changed := schemas[v.pkg] != schemas["base"]; changed != v.changes {
			t.Errorf("%s: the schema changed: %v, want %v\nbase:\n%s\n%s:\n%s", v.pkg, changed, v.changes, schemas["base"], v.pkg, schemas[v.pkg])
		}
	}
}
