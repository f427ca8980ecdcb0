package sgn_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
