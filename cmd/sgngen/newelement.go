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
	"go/types"
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
	paths, err := writeElement(*dir, fs.Arg(0), *kind, *in, *out, *force)
	if err != nil {
		fmt.Fprintf(stderr, "sgngen new-element: %v\n", err)
		return 1
	}
	pkgDir := filepath.ToSlash(rel(*dir))
	if pkgDir != "." && !strings.HasPrefix(pkgDir, "../") {
		pkgDir = "./" + pkgDir
	}
	fmt.Fprintf(stdout, "sgngen: wrote %s and %s; next:\n", rel(paths[0]), rel(paths[1]))
	for _, step := range [][2]string{
		{"go generate ./...", "make " + fs.Arg(0) + " an element"},
		{"go test " + pkgDir, "run its test"},
		{"go build -o bin/ ./...", "build the pipeline and its workers side by side"},
	} {
		fmt.Fprintf(stdout, "\t%-24s # %s\n", step[0], step[1])
	}
	return 0
}

// writeElement renders the templates of kind for a new element name in
// dir, writes the element to <lowercased name>.go and its test to
// <lowercased name>_test.go, and returns the two files' paths.
func writeElement(dir, name, kind, in, out string, force bool) ([]string, error) {
	if !token.IsIdentifier(name) || !token.IsExported(name) {
		return nil, fmt.Errorf("element name %q is not an exported Go identifier", name)
	}
	if !slices.Contains(templates.Kinds, kind) {
		return nil, fmt.Errorf("unknown kind %q: want one of %s", kind, strings.Join(templates.Kinds, ", "))
	}
	pkg, err := packageOf(dir)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{in, out} {
		if err := checkFrameType(t, pkg); err != nil {
			return nil, err
		}
	}
	base := filepath.Join(dir, strings.ToLower(name))
	paths := []string{base + ".go", base + "_test.go"}
	for _, path := range paths {
		if _, err := os.Stat(path); err == nil && !force {
			return nil, fmt.Errorf("%s exists; use -force to overwrite it", rel(path))
		}
	}
	data := templates.Data{Package: pkg.name, Name: name, In: in, Out: out, InSample: sample(in), Generate: !pkg.hasGenerate}
	var srcs [][]byte
	for _, tmpl := range []string{kind + ".go.tmpl", kind + "_test.go.tmpl"} {
		src, err := render(tmpl, data)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, src)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	for i, path := range paths {
		if err := os.WriteFile(path, srcs[i], 0o666); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// render executes the template named name with data, and formats it.
func render(name string, data templates.Data) ([]byte, error) {
	tmpl, err := template.ParseFS(templates.FS, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("template %s gave invalid Go: %v", name, err)
	}
	return src, nil
}

// sample returns a Go expression of type typ that is not its zero value,
// for a builtin type or a slice of one, or "" for other types, whose
// values the test template cannot write.
func sample(typ string) string {
	x, err := parser.ParseExpr(typ)
	if err != nil {
		return ""
	}
	switch t := x.(type) {
	case *ast.ParenExpr:
		return sample(types.ExprString(t.X))
	case *ast.ArrayType:
		elem := sample(types.ExprString(t.Elt))
		if elem == "" {
			return ""
		}
		return typ + "{" + elem + "}"
	case *ast.MapType:
		key, elem := sample(types.ExprString(t.Key)), sample(types.ExprString(t.Value))
		if key == "" || elem == "" {
			return ""
		}
		return typ + "{" + key + ": " + elem + "}"
	case *ast.Ident:
		switch t.Name {
		case "string":
			return `"frame"`
		case "bool":
			return "true"
		}
		if builtinFrameTypes[t.Name] {
			return "7"
		}
	}
	return ""
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
// a type declared in pkg, or slices, arrays, maps and pointers of these.
// Whether such a type can be encoded (a map with keys of type bool cannot)
// is for generate to tell.
func checkFrameType(typ string, pkg *dirPackage) error {
	x, err := parser.ParseExpr(typ)
	if err != nil {
		return fmt.Errorf("frame type %q is not a Go type: %v", typ, err)
	}
	return checkTypeExpr(typ, x, pkg)
}

// checkTypeExpr checks x, a part of the frame type typ, for checkFrameType.
func checkTypeExpr(typ string, x ast.Expr, pkg *dirPackage) error {
	switch t := x.(type) {
	case *ast.ArrayType:
		if t.Len != nil {
			if _, ok := t.Len.(*ast.BasicLit); !ok {
				break
			}
		}
		return checkTypeExpr(typ, t.Elt, pkg)
	case *ast.MapType:
		if err := checkTypeExpr(typ, t.Key, pkg); err != nil {
			return err
		}
		return checkTypeExpr(typ, t.Value, pkg)
	case *ast.StarExpr:
		return checkTypeExpr(typ, t.X, pkg)
	case *ast.ParenExpr:
		return checkTypeExpr(typ, t.X, pkg)
	case *ast.Ident:
		if pkg.types[t.Name] || builtinFrameTypes[t.Name] {
			return nil
		}
		return fmt.Errorf("frame type %s: %s is neither a builtin type sgngen encodes nor a type declared in package %s", typ, t.Name, pkg.name)
	case *ast.SelectorExpr:
		return fmt.Errorf("frame type %s: new-element cannot import packages; use a type of package %s, or edit the file it writes", typ, pkg.name)
	}
	return fmt.Errorf("frame type %s: not a type sgngen encodes (a builtin type, a type of package %s, or a slice, array, map or pointer of these)", typ, pkg.name)
}

// builtinFrameTypes are the predeclared types that sgngen encodes.
var builtinFrameTypes = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"byte": true, "float32": true, "float64": true, "bool": true, "string": true,
}
