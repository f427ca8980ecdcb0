package gen

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// TestOutputIsDeterministic generates the kinds case twice, and then again
// from the same packages with their files and the packages themselves in
// shuffled orders: the output must be the same bytes every time.
func TestOutputIsDeterministic(t *testing.T) {
	t.Setenv("GOFLAGS", "-mod=mod")
	ar, err := txtar.ParseFile("testdata/kinds.txtar")
	if err != nil {
		t.Fatal(err)
	}
	// Split the element over more files, so that their order matters more.
	ar.Files = append(ar.Files, txtar.File{Name: "more.go", Data: []byte(`package kinds

import "github.com/sgn-go/sgn"

//sgn:element
type Another struct {
	In  sgn.Sink[Sub]   ` + "`sgn:\"in\"`" + `
	Out sgn.Source[Sub] ` + "`sgn:\"out\"`" + `
}

func (a *Another) Process(ctx *sgn.Context, f sgn.Frame[Sub]) (sgn.Frame[Sub], error) { return f, nil }
`)})
	dir := writeCase(t, ar)

	first, err := Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	second, err := Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("second run differs (-first +second):\n%s", diff)
	}

	pkgs, err := load(dir, []string{"./..."})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		r.Shuffle(len(pkgs), func(i, j int) { pkgs[i], pkgs[j] = pkgs[j], pkgs[i] })
		for _, p := range pkgs {
			r.Shuffle(len(p.Syntax), func(i, j int) { p.Syntax[i], p.Syntax[j] = p.Syntax[j], p.Syntax[i] })
			r.Shuffle(len(p.GoFiles), func(i, j int) { p.GoFiles[i], p.GoFiles[j] = p.GoFiles[j], p.GoFiles[i] })
		}
		got, err := generate(dir, pkgs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("output from shuffled files differs (-first +shuffled):\n%s", diff)
		}
	}
}

func TestCommitWritesOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.go")
	b := filepath.Join(dir, "sgnworkers", "x-b", "main.go")
	files := []File{{Path: a, Content: []byte("package a\n")}, {Path: b, Content: []byte("package main\n")}}

	written, removed, err := Commit(files)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a, b}, written); diff != "" || removed != nil {
		t.Errorf("first Commit wrote (-want +got):\n%s\nremoved %q", diff, removed)
	}
	if stale, err := Stale(files); err != nil || len(stale) != 0 {
		t.Errorf("after Commit, Stale = %q, %v; want none", stale, err)
	}

	files[0].Content = []byte("package a // changed\n")
	written, _, err = Commit(files)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a}, written); diff != "" {
		t.Errorf("second Commit wrote (-want +got):\n%s", diff)
	}
	if got, _ := os.ReadFile(a); string(got) != "package a // changed\n" {
		t.Errorf("a.go holds %q after the second Commit", got)
	}

	files = []File{{Path: b, Remove: true}}
	if stale, _ := Stale(files); len(stale) != 1 {
		t.Errorf("a file to remove that exists: Stale = %q, want it", stale)
	}
	_, removed, err = Commit(files)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{b}, removed); diff != "" {
		t.Errorf("Commit removed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Dir(b)); !os.IsNotExist(err) {
		t.Errorf("the emptied worker directory is still there: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "a.go" {
			t.Errorf("Commit left %s behind", e.Name())
		}
	}
}

// Code that does not parse is sgngen's bug; the error quotes it with line
// numbers, so that the report can say where.
func TestRenderErrorQuotesNumberedSource(t *testing.T) {
	f := jen.NewFile("p")
	f.Func().Id("f").Params().Block(jen.Id("x").Op(":=").Op(")"))
	_, err := render(f, Header+"\n\n")
	if err == nil {
		t.Fatal("render of broken code succeeded")
	}
	for _, want := range []string{"does not parse", "    1\t" + Header, "\tpackage p"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
