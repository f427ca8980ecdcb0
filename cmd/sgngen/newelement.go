package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/sgn-go/sgn/templates"
)

// generateLine is the line that makes go generate run sgngen.
const generateLine = "//go:generate go tool sgngen generate"

func newElement(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sgngen new-element", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "transform", "the kind of element: source, transform or sink")
	in := fs.String("in", "int64", "the frame type of the sink pad (transform, sink)")
	out := fs.String("out", "int64", "the frame type of the source pad (source, transform)")
	dir := fs.String("dir", ".", "the directory of the package to add the element to")
	force := fs.Bool("force", false, "overwrite the element's file if it exists")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sgngen new-element [-kind source|transform|sink] [-in Type] [-out Type] [-dir DIR] [-force] Name")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path, err := writeElement(*dir, fs.Arg(0), *kind, *in, *out, *force)
	if err != nil {
		fmt.Fprintf(stderr, "sgngen new-element: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "sgngen: wrote %s; run go generate to make it runnable\n", rel(path))
	return 0
}

// writeElement renders the template of kind for a new element name in dir,
// writes it to <lowercased name>.go, and returns that file's path.
func writeElement(dir, name, kind, in, out string, force bool) (string, error) {
	if !token.IsIdentifier(name) || !token.IsExported(name) {
		return "", fmt.Errorf("element name %q is not an exported Go identifier", name)
	}
	if !slices.Contains(templates.Kinds, kind) {
		return "", fmt.Errorf("unknown kind %q: want one of %s", kind, strings.Join(templates.Kinds, ", "))
	}
	for _, t := range []string{in, out} {
		if _, err := parser.ParseExpr(t); err != nil {
			return "", fmt.Errorf("frame type %q is not a Go type: %v", t, err)
		}
	}
	pkg, hasGenerate, err := packageOf(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, strings.ToLower(name)+".go")
	if _, err := os.Stat(path); err == nil && !force {
		return "", fmt.Errorf("%s exists; use -force to overwrite it", rel(path))
	}
	tmpl, err := template.ParseFS(templates.FS, kind+".go.tmpl")
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	data := templates.Data{Package: pkg, Name: name, In: in, Out: out, Generate: !hasGenerate}
	if err := tmpl.Execute(&buf, data); err != nil {
		return "", err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return "", fmt.Errorf("the %s template gave invalid Go: %v", kind, err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, src, 0o666)
}

// packageOf returns the package name of the Go files in dir (or, if there
// are none, a name made from the directory's), and whether one of them has
// the go:generate line that runs sgngen.
func packageOf(dir string) (name string, hasGenerate bool, err error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return "", false, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.PackageClauseOnly)
		if err != nil {
			return "", false, err
		}
		if name == "" {
			name = f.Name.Name
		}
		hasGenerate = hasGenerate || bytes.Contains(src, []byte("\n"+generateLine+"\n"))
	}
	if name == "main" {
		return "", false, errors.New("elements cannot live in package main; use -dir to name another package's directory")
	}
	if name != "" {
		return name, hasGenerate, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	name = strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return -1
		}
		return r
	}, strings.ToLower(filepath.Base(abs)))
	if !token.IsIdentifier(name) {
		return "", false, fmt.Errorf("cannot make a package name from directory %s", abs)
	}
	return name, false, nil
}
