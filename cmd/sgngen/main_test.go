package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newModule makes a module that uses this repository's sgn, makes it the
// working directory, and returns it.
func newModule(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/m\n\ngo 1.26\n\nrequire github.com/sgn-go/sgn v0.0.0\n\nreplace github.com/sgn-go/sgn => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Chdir(dir)
	return dir
}

// sgngen runs the command line and returns its exit code and output.
func sgngen(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := sgngen(t, args...)
	if code != 0 {
		t.Fatalf("sgngen %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func goVet(t *testing.T) {
	t.Helper()
	goCmd(t, "vet", "./...")
}

// goCmd runs the go command with args and fails the test if it fails.
func goCmd(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// A new element of each kind compiles, with its worker, once generate has
// run, and its test passes; check then finds everything current.
func TestNewElementCompilesAfterGenerate(t *testing.T) {
	newModule(t)
	out := mustRun(t, "new-element", "-kind", "source", "-out", "[]float64", "-dir", "elems", "Ticks")
	want := "sgngen: wrote " + filepath.FromSlash("elems/ticks.go") + " and " + filepath.FromSlash("elems/ticks_test.go") + "; next:\n" +
		"\tgo generate ./...        # make Ticks an element\n" +
		"\tgo test ./elems          # run its test\n" +
		"\tgo build -o bin/ ./...   # build the pipeline and its workers side by side\n"
	if out != want {
		t.Errorf("new-element printed:\n%s\nwant:\n%s", out, want)
	}
	mustRun(t, "new-element", "-kind", "transform", "-in", "[]float64", "-out", "string", "-dir", "elems", "Format")
	mustRun(t, "new-element", "-kind", "transform", "-in", "[][]string", "-out", "[][]string", "-dir", "elems", "Relay")
	mustRun(t, "new-element", "-kind", "transform", "-in", "map[string][2]int8", "-out", "*float32", "-dir", "elems", "Index")
	mustRun(t, "new-element", "-kind", "transform", "-in", "map[uint16][]bool", "-out", "map[uint16][]bool", "-dir", "elems", "Keep")
	mustRun(t, "new-element", "-kind", "sink", "-in", "string", "-dir", "elems", "Print")
	mustRun(t, "generate", "./...")
	for _, path := range []string{"elems/sgn_gen.go", "elems/sgnworkers/elems-ticks/main.go", "elems/sgnworkers/elems-format/main.go", "elems/sgnworkers/elems-print/main.go"} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("generate did not write %s: %v", path, err)
		}
	}
	src, err := os.ReadFile("elems/ticks.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src)+readFile(t, "elems/format.go")+readFile(t, "elems/print.go"), generateLine); n != 1 {
		t.Errorf("the package has %d go:generate lines for sgngen, want 1", n)
	}
	goCmd(t, "test", "./...")
	if code, out, errOut := sgngen(t, "check", "./..."); code != 0 {
		t.Errorf("check after generate: exit %d\n%s%s", code, out, errOut)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The frame types may be types of the package, and slices of them; the
// element compiles with them.
func TestNewElementUsesTypesOfThePackage(t *testing.T) {
	newModule(t)
	putFile(t, "elems/point.go", "package elems\n\ntype Point struct{ X, Y float64 }\n")
	mustRun(t, "new-element", "-in", "Point", "-out", "[][]Point", "-dir", "elems", "Group")
	mustRun(t, "new-element", "-in", "[]Point", "-out", "[]Point", "-dir", "elems", "Pass")
	mustRun(t, "generate", "./...")
	goCmd(t, "test", "./...")
}

// The go:generate line is found wherever it is, also as a file's first
// line, so that the package does not get a second one.
func TestNewElementAddsNoSecondGenerateLine(t *testing.T) {
	newModule(t)
	putFile(t, "elems/gen.go", generateLine+"\n\npackage elems\n")
	mustRun(t, "new-element", "-dir", "elems", "Square")
	if strings.Contains(readFile(t, "elems/square.go"), generateLine) {
		t.Errorf("new-element added a second %q", generateLine)
	}
}

func TestNewElementRefusesToOverwrite(t *testing.T) {
	newModule(t)
	mustRun(t, "new-element", "-dir", "elems", "Square")
	if err := os.WriteFile("elems/square.go", []byte("package elems\n// mine\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := sgngen(t, "new-element", "-dir", "elems", "Square")
	if code != 1 || !strings.Contains(errOut, "use -force") {
		t.Errorf("new-element over an existing file: exit %d, stderr %q; want 1 and a hint about -force", code, errOut)
	}
	if got := readFile(t, "elems/square.go"); got != "package elems\n// mine\n" {
		t.Errorf("the existing file was changed to:\n%s", got)
	}
	mustRun(t, "new-element", "-force", "-dir", "elems", "Square")
	if got := readFile(t, "elems/square.go"); !strings.Contains(got, "type Square struct") {
		t.Errorf("-force did not overwrite the file:\n%s", got)
	}

	// The test file alone is not overwritten either.
	if err := os.Remove("elems/square.go"); err != nil {
		t.Fatal(err)
	}
	putFile(t, "elems/square_test.go", "package elems\n// my test\n")
	code, _, errOut = sgngen(t, "new-element", "-dir", "elems", "Square")
	if code != 1 || !strings.Contains(errOut, "square_test.go exists; use -force") {
		t.Errorf("new-element over an existing test: exit %d, stderr %q; want 1 and a hint about -force", code, errOut)
	}
	if _, err := os.Stat("elems/square.go"); !os.IsNotExist(err) {
		t.Errorf("new-element wrote the element though it refused to write its test: %v", err)
	}
}

func TestNewElementRejectsBadArguments(t *testing.T) {
	newModule(t)
	for _, args := range [][]string{
		{"new-element", "square"},
		{"new-element", "-kind", "filter", "Square"},
		{"new-element", "-in", "map[", "Square"},
		{"new-element", "-in", "map[string]geo.Point", "Square"},
		{"new-element", "-in", "[N]int", "Square"},
		{"new-element", "-in", "chan int", "Square"},
		{"new-element", "-out", "geo.Point", "Square"},
		{"new-element", "-out", "[]Undeclared", "Square"},
		{"new-element", "-out", "error", "Square"},
		{"new-element", "-kind", "source", "-in", "string", "Square"},
		{"new-element", "-kind", "sink", "-out", "string", "Square"},
	} {
		if code, _, errOut := sgngen(t, args...); code != 1 {
			t.Errorf("sgngen %s: exit %d, want 1", strings.Join(args, " "), code)
		} else if !strings.HasPrefix(errOut, "sgngen new-element: ") {
			t.Errorf("sgngen %s: stderr %q, want an explanation", strings.Join(args, " "), errOut)
		}
	}
	if _, err := os.Stat("square.go"); !os.IsNotExist(err) {
		t.Errorf("a rejected new-element wrote square.go: %v", err)
	}
	if code, _, _ := sgngen(t, "new-element"); code != 2 {
		t.Errorf("new-element without a name: exit %d, want 2 (usage)", code)
	}
}

const element = `package elems

import "github.com/sgn-go/sgn"

//sgn:element
type Pass struct {
	In  sgn.Sink[int64]   ` + "`sgn:\"in\"`" + `
	Out sgn.Source[int64] ` + "`sgn:\"out\"`" + `
}

func (p *Pass) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) { return f, nil }
`

func putFile(t testing.TB, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o666); err != nil {
		t.Fatal(err)
	}
}

// check exits 0 when current, 1 and names the files when stale, 2 when the
// package has errors; generate prints every error with its position.
func TestCheckAndGenerateExitCodes(t *testing.T) {
	newModule(t)
	putFile(t, "elems/pass.go", element)
	if code, out, _ := sgngen(t, "check", "./..."); code != 1 || !strings.Contains(out, filepath.Join("elems", "sgn_gen.go")) {
		t.Errorf("check before generate: exit %d, stdout %q; want 1 naming elems/sgn_gen.go", code, out)
	}
	mustRun(t, "generate", "./...")
	if code, out, errOut := sgngen(t, "check", "./..."); code != 0 {
		t.Errorf("check after generate: exit %d\n%s%s", code, out, errOut)
	}

	putFile(t, "elems/pass.go", strings.Replace(element, "int64", "string", -1))
	code, out, _ := sgngen(t, "check", "./...")
	if code != 1 || !strings.Contains(out, filepath.Join("elems", "sgn_gen.go")) || strings.Contains(out, "main.go") {
		t.Errorf("check after a change of frame type: exit %d, stdout %q; want 1 naming only elems/sgn_gen.go", code, out)
	}
	mustRun(t, "generate", "./...") // despite the stale sgn_gen.go, which no longer compiles
	goVet(t)

	putFile(t, "elems/bad.go", `package elems

import "github.com/sgn-go/sgn"

//sgn:element
type Bad struct {
	In sgn.Sink[chan int] `+"`sgn:\"in\"`"+`
	X  map[bool]int
}
`)
	code, _, errOut := sgngen(t, "check", "./...")
	if code != 2 {
		t.Errorf("check of a package with errors: exit %d, want 2", code)
	}
	code, _, errOut = sgngen(t, "generate", "./...")
	want := "elems/bad.go:7:2: sgn: pad In: frame type chan int has no codec: a channel cannot be sent to another process; send the values it carries instead\n" +
		"elems/bad.go:8:2: sgn: config field X: type map[bool]int has no codec: a map's keys must be strings or integers; use a key of type string or of an integer type, or a slice of a struct with a field of type bool and one of type int\n"
	if code != 1 || errOut != filepath.FromSlash(want) {
		t.Errorf("generate of a package with errors: exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", code, errOut, want)
	}
}

func TestGenerateReportsWhatItRemoves(t *testing.T) {
	newModule(t)
	putFile(t, "elems/pass.go", element)
	putFile(t, "elems/other.go", strings.NewReplacer("Pass", "Other", "p *", "o *").Replace(element))
	mustRun(t, "generate", "./...")
	if err := os.Remove("elems/other.go"); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "generate", "./...")
	want := "sgngen: removed " + filepath.FromSlash("elems/sgnworkers/elems-other/main.go") + "\n"
	if out != want {
		t.Errorf("generate printed %q, want %q", out, want)
	}
	if _, err := os.Stat("elems/sgnworkers/elems-other"); !os.IsNotExist(err) {
		t.Errorf("the removed worker's directory is still there: %v", err)
	}
	goVet(t)
}

// Diagnostics and file paths are relative to the working directory, even
// for a package outside it.
func TestPathsOutsideTheWorkingDirectoryAreRelative(t *testing.T) {
	dir := newModule(t)
	putFile(t, "elems/pass.go", element)
	putFile(t, "bad/bad.go", "package bad\n\nimport \"github.com/sgn-go/sgn\"\n\n//sgn:element\ntype B struct {\n\tIn sgn.Sink[chan int] `sgn:\"in\"`\n}\n")
	if err := os.Mkdir("sub", 0o777); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "sub"))
	_, _, errOut := sgngen(t, "generate", "../bad")
	if want := filepath.FromSlash("../bad/bad.go:7:2: sgn: pad In: frame type chan int has no codec: a channel cannot be sent to another process; send the values it carries instead\n"); errOut != want {
		t.Errorf("generate ../bad: stderr %q; want %q", errOut, want)
	}
	_, out, _ := sgngen(t, "check", "../elems")
	if want := filepath.FromSlash("../elems/sgn_gen.go\n"); !strings.HasPrefix(out, want) {
		t.Errorf("check ../elems: stdout %q; want it to start with %q", out, want)
	}
}

// Run by go generate, in the package's directory, sgngen prints paths
// relative to the module's root, where go generate ./... runs; run by hand
// there, relative to the package's directory.
func TestPathsUnderGoGenerateAreRelativeToTheModuleRoot(t *testing.T) {
	dir := newModule(t)
	putFile(t, "elems/bad.go", "package elems\n\nimport \"github.com/sgn-go/sgn\"\n\n//sgn:element\ntype B struct {\n\tIn sgn.Sink[chan int] `sgn:\"in\"`\n}\n")
	t.Chdir(filepath.Join(dir, "elems"))
	const msg = ":7:2: sgn: pad In: frame type chan int has no codec: a channel cannot be sent to another process; send the values it carries instead\n"
	if _, _, errOut := sgngen(t, "generate"); errOut != "bad.go"+msg {
		t.Errorf("generate by hand: stderr %q, want %q", errOut, "bad.go"+msg)
	}
	t.Setenv("GOFILE", "bad.go")
	t.Setenv("GOLINE", "3")
	t.Setenv("GOPACKAGE", "elems")
	if _, _, errOut := sgngen(t, "generate"); errOut != filepath.FromSlash("elems/bad.go")+msg {
		t.Errorf("generate under go generate: stderr %q, want %q", errOut, filepath.FromSlash("elems/bad.go")+msg)
	}
}

// A package whose own files are deleted leaves its generated files, which
// no longer compile: check names them, and generate removes them.
func TestGeneratedFilesOfADeletedPackageAreStale(t *testing.T) {
	newModule(t)
	putFile(t, "elems/pass.go", element)
	mustRun(t, "generate", "./...")
	if err := os.Remove("elems/pass.go"); err != nil {
		t.Fatal(err)
	}
	code, out, _ := sgngen(t, "check", "./...")
	want := filepath.FromSlash("elems/sgn_gen.go\nelems/sgnworkers/elems-pass/main.go\n")
	if code != 1 || out != want {
		t.Errorf("check: exit %d, stdout %q; want 1 and %q", code, out, want)
	}
	mustRun(t, "generate", "./...")
	if entries, err := os.ReadDir("elems"); err != nil || len(entries) > 0 {
		t.Errorf("generate left %v in elems (%v)", entries, err)
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := sgngen(t, "version"); code != 0 || !strings.HasPrefix(out, "sgngen ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, errOut := sgngen(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := sgngen(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}
