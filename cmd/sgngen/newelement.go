package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["in"] && *kind == "source":
		fmt.Fprintln(stderr, "sgngen new-element: a source has no sink pad: -in does not apply")
		return 1
	case set["out"] && *kind == "sink":
		fmt.Fprintln(stderr, "sgngen new-element: a sink has no source pad: -out does not apply")
		return 1
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
	pkg, err := packageOf(dir)
	if err != nil {
		return "", err
	}
	for _, t := range []string{in, out} {
		if err := checkFrameType(t, pkg); err != nil {
			return "", err
		}
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
	data := templates.Data{Package: pkg.name, Name: name, In: in, Out: out, Generate: !pkg.hasGenerate}
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

// A dirPackage is what new-element needs to know of the package in a
// directory.
type dirPackage struct {
	name        string
	hasGenerate bool            // a file has the go:generate line that runs sgngen
	types       map[string]bool // the names of its package-level types
}

// packageOf reads the package of the Go files in dir, or, if there are
// none, makes its name from the directory's.
func packageOf(dir string) (*dirPackage, error) {
	pkg := &dirPackage{types: map[string]bool{}}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if pkg.name == "" {
			pkg.name = f.Name.Name
		}
		for line := range bytes.Lines(src) {
			if string(bytes.TrimSpace(line)) == generateLine {
				pkg.hasGenerate = true
			}
		}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, spec := range gd.Specs {
					pkg.types[spec.(*ast.TypeSpec).Name.Name] = true
				}
			}
		}
	}
	if pkg.name == "main" {
		return nil, errors.New("elements cannot live in package main; use -dir to name another package's directory")
	}
	if pkg.name != "" {
		return pkg, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pkg.name = strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return -1
		}
		return r
	}, strings.ToLower(filepath.Base(abs)))
	if !token.IsIdentifier(pkg.name) {
		return nil, fmt.Errorf("cannot make a package name from directory %s", abs)
	}
	return pkg, nil
}

// checkFrameType checks that typ, a -in or -out type, is one the new
// element's file can use without an import: a builtin type sgngen encodes,
// a type declared in pkg, or slices of these. Whether a type of pkg can be
// encoded is for generate to tell.
func checkFrameType(typ string, pkg *dirPackage) error {
	x, err := parser.ParseExpr(typ)
	if err != nil {
		return fmt.Errorf("frame type %q is not a Go type: %v", typ, err)
	}
	for {
		switch t := x.(type) {
		case *ast.ArrayType:
			if t.Len == nil {
				x = t.Elt
				continue
			}
		case *ast.ParenExpr:
			x = t.X
			continue
		case *ast.Ident:
			if pkg.types[t.Name] || builtinFrameTypes[t.Name] {
				return nil
			}
			return fmt.Errorf("frame type %s: %s is neither a builtin type sgngen encodes nor a type declared in package %s", typ, t.Name, pkg.name)
		case *ast.SelectorExpr:
			return fmt.Errorf("frame type %s: new-element cannot import packages; use a type of package %s, or edit the file it writes", typ, pkg.name)
		}
		return fmt.Errorf("frame type %s: not a type sgngen encodes (a builtin type, a type of package %s, or a slice of one)", typ, pkg.name)
	}
}

// builtinFrameTypes are the predeclared types that sgngen encodes.
var builtinFrameTypes = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"byte": true, "float32": true, "float64": true, "bool": true, "string": true,
}
