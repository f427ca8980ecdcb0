package sgn_test

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestREADMEWalkthrough follows README.md's walkthrough in a new module: it
// takes the Go files from the README's code blocks, generates, builds and
// runs the pipeline, and checks what it prints. The module's own source
// stands in for the published one.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	walk := string(readme)[strings.Index(string(readme), "## Walkthrough"):]
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(walk, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d Go blocks in the walkthrough, want the elements and the main", len(blocks))
	}
	// The code is examples/squares, but for the import path of its
	// elements.
	for i, path := range []string{"examples/squares/stages/stages.go", "examples/squares/main.go"} {
		if got, want := goSource(t, blocks[i][1]), goSource(t, readExample(t, path)); got != want {
			t.Errorf("README's code block %d is not %s:\n%s", i+1, path, cmp.Diff(want, got))
		}
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stages/stages.go", blocks[0][1])
	write("main.go", blocks[1][1])
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// Steps 1 to 5; `go get -tool` is replaced by the edits it would make,
	// pointing at this checkout.
	run("go", "mod", "init", "example.com/squares")
	run("go", "mod", "edit", "-require=github.com/sgn-go/sgn@v0.0.0", "-replace=github.com/sgn-go/sgn="+root, "-tool=github.com/sgn-go/sgn/cmd/sgngen")
	run("go", "mod", "tidy")
	run("go", "generate", "./...")
	run("go", "tool", "sgngen", "check", "./...")
	run("go", "build", "-o", "bin/", "./...")
	for _, w := range []string{"stages-count", "stages-square", "stages-print"} {
		if _, err := os.Stat(filepath.Join(dir, "bin", w)); err != nil {
			t.Errorf("worker binary %s was not built: %v", w, err)
		}
	}
	if got, want := run(filepath.Join(dir, "bin", "squares")), "1\n4\n9\n16\n25\n"; got != want {
		t.Errorf("bin/squares printed %q, want %q", got, want)
	}
}

// readExample returns the Go file at path from its package clause on, its
// elements imported as the walkthrough's module names them.
func readExample(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	src = src[strings.Index(src, "\npackage ")+1:]
	return strings.ReplaceAll(src, "github.com/sgn-go/sgn/examples/squares/stages", "example.com/squares/stages")
}

// goSource formats src, sorting its imports.
func goSource(t *testing.T, src string) string {
	t.Helper()
	out, err := format.Source([]byte(src))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, src)
	}
	return string(out)
}
