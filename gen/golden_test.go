package gen

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected output (want/ files) of testdata/*.txtar")

// A golden case is a txtar archive under testdata: its comment says what
// it shows; its files are a Go module's package (module example.com/golden,
// which may hold subpackages); files named want/<path> are what Generate
// must return for <path>. want/errors holds the expected diagnostics,
// want/removed the paths of files to remove, one per line.
//
// TestGolden runs Generate on each case, compares, and, for a case without
// errors, writes the output and checks that the module builds and vets.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	t.Setenv("GOFLAGS", "-mod=mod") // lets the case module pick up sgn's requirements
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := writeCase(t, ar)
			got := generateCase(t, dir)
			want := wantFiles(ar)
			if *update {
				updateCase(t, path, ar, got)
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Generate output differs (-want +got):\n%s\nIf the new output is right, accept it with:\n\tgo test ./gen -run 'TestGolden/^%s$' -update", diff, name)
			}
			if _, failed := got["errors"]; !failed {
				buildCase(t, dir)
			}
		})
	}
}

// writeCase writes the case's input files into a new module that uses this
// repository's sgn, and returns its directory.
func writeCase(t *testing.T, ar *txtar.Archive) string {
	t.Helper()
	dir := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"go.mod": []byte("module example.com/golden\n\ngo 1.26\n\nrequire github.com/sgn-go/sgn v0.0.0\n\nreplace github.com/sgn-go/sgn => " + root + "\n"),
		"go.sum": sum,
	}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") {
			files[f.Name] = f.Data
		}
	}
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// generateCase runs Generate in dir and returns what it said, as the want/
// files of a case would: generated files by path relative to dir, and
// "errors" and "removed".
func generateCase(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := Generate(dir, "./...")
	got := map[string]string{}
	if err != nil {
		got["errors"] = err.Error() + "\n"
		return got
	}
	var removed []string
	for _, f := range files {
		rel, err := filepath.Rel(dir, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if f.Remove {
			removed = append(removed, rel+"\n")
			continue
		}
		got[rel] = string(f.Content)
	}
	if len(removed) > 0 {
		got["removed"] = strings.Join(removed, "")
	}
	return got
}

func wantFiles(ar *txtar.Archive) map[string]string {
	want := map[string]string{}
	for _, f := range ar.Files {
		if name, ok := strings.CutPrefix(f.Name, "want/"); ok {
			want[name] = string(f.Data)
		}
	}
	return want
}

// updateCase rewrites the case's want/ files with got.
func updateCase(t *testing.T, path string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	out := &txtar.Archive{Comment: ar.Comment}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") {
			out.Files = append(out.Files, f)
		}
	}
	var names []string
	for name := range got {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out.Files = append(out.Files, txtar.File{Name: "want/" + name, Data: []byte(got[name])})
	}
	if err := os.WriteFile(path, txtar.Format(out), 0o666); err != nil {
		t.Fatal(err)
	}
}

// buildCase commits the generated files in dir, checks that generating
// again finds nothing stale, and that the module vets (and so compiles).
func buildCase(t *testing.T, dir string) {
	t.Helper()
	files, err := Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Commit(files); err != nil {
		t.Fatal(err)
	}
	files, err = Generate(dir, "./...")
	if err != nil {
		t.Fatalf("after Commit: %v", err)
	}
	if stale, err := Stale(files); err != nil || len(stale) > 0 {
		t.Errorf("after Commit, Stale = %q, %v; want none", stale, err)
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("go vet ./... in the generated module: %v\n%s", err, out.String())
	}
}
