package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// sgnPath is the import path of the package that declares pads and frames.
const sgnPath = "github.com/sgn-go/sgn"

// directive marks an element type in its doc comment.
const directive = "//sgn:element"

// An element is a struct type marked //sgn:element, analysed.
type element struct {
	name    string         // the Go type name
	typ     *types.Named   // its type
	pos     token.Position // of the type name, relative as in diagnostics
	worker  string         // the worker binary's name: <pkgname>-<lowercased type name>
	sinks   []*pad
	sources []*pad
	config  []*field // exported fields that are not pads
	run     string   // how Spec.Run runs it: "Run", "New", "Process" or "Consume"
}

// A pad is a field of type sgn.Sink[T] or sgn.Source[T].
type pad struct {
	field string // the Go field name
	name  string // the pad name, from the sgn tag
	typ   *codecType
}

// A pkgInfo is one package's analysis: what generated code needs.
type pkgInfo struct {
	pkg      *packages.Package
	elements []*element // sorted by name
	types    *typeSet
	frames   []*codecType // the distinct frame types, sorted by key
}

// analyser gathers diagnostics while it reads packages.
type analyser struct {
	fset  *token.FileSet
	dir   string // positions are reported relative to dir
	diags []error
}

func (a *analyser) errorf(pos token.Pos, format string, args ...any) {
	a.diags = append(a.diags, &Diagnostic{Pos: a.position(pos), Msg: "sgn: " + fmt.Sprintf(format, args...)})
}

// analysePackage finds the elements of pkg and checks them.
func (a *analyser) analysePackage(pkg *packages.Package) *pkgInfo {
	info := &pkgInfo{pkg: pkg, types: newTypeSet(pkg.Types, pkg.Fset, pkg.TypeErrors)}
	specs := elementSpecs(pkg)
	for _, c := range strayDirectives(pkg) {
		a.errorf(c.Pos(), "%s", strayMessage(strings.TrimRight(c.Text, " \t")))
	}
	if len(specs) > 0 && pkg.Name == "main" {
		for _, ts := range specs {
			a.errorf(ts.Pos(), "%s: elements cannot live in package main; move them to an importable package", ts.Name.Name)
		}
		return info
	}
	workers := map[string]string{}
	for _, ts := range specs {
		e := a.analyseElement(info, ts)
		if e == nil {
			continue
		}
		if other, dup := workers[e.worker]; dup {
			a.errorf(ts.Pos(), "%s: worker name %s is also the worker of %s; rename one of them", e.name, e.worker, other)
			continue
		}
		workers[e.worker] = e.name
		info.elements = append(info.elements, e)
	}
	sort.Slice(info.elements, func(i, j int) bool { return info.elements[i].name < info.elements[j].name })
	frames := map[string]*codecType{}
	for _, e := range info.elements {
		for _, p := range append(append([]*pad{}, e.sinks...), e.sources...) {
			frames[p.typ.key] = p.typ
		}
	}
	for _, c := range frames {
		info.frames = append(info.frames, c)
	}
	sort.Slice(info.frames, func(i, j int) bool { return info.frames[i].key < info.frames[j].key })
	return info
}

// strayDirectives returns the comments of pkg that are the element
// directive where it marks nothing (not in a type's doc comment), or that
// are meant to be an sgn directive and are not one (// sgn:element,
// //sgn:elemnt, //sgn:element with arguments).
func strayDirectives(pkg *packages.Package) []*ast.Comment {
	var stray []*ast.Comment
	for _, f := range pkg.Syntax {
		docs := map[*ast.CommentGroup]bool{}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				docs[gd.Doc] = len(gd.Specs) == 1
				for _, s := range gd.Specs {
					docs[s.(*ast.TypeSpec).Doc] = true
				}
			}
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				text := strings.TrimRight(c.Text, " \t")
				switch {
				case text == directive && !docs[cg]:
					stray = append(stray, c)
				case text != directive && isDirective(text):
					stray = append(stray, c)
				}
			}
		}
	}
	sort.Slice(stray, func(i, j int) bool { return stray[i].Pos() < stray[j].Pos() })
	return stray
}

// directivePrefix starts every sgn directive. The element directive is
// the only one.
const directivePrefix = "//sgn:"

// isDirective reports whether a line of comment is the element
// directive, or is meant to be an sgn directive: // sgn:element, or any
// line that starts with //sgn:, like //sgn:elemnt.
func isDirective(line string) bool {
	if strings.HasPrefix(line, directivePrefix) {
		return true
	}
	body, ok := strings.CutPrefix(line, "//")
	return ok && strings.TrimSpace(body) == strings.TrimPrefix(directive, "//")
}

// strayMessage says what is wrong with a stray directive, the text of a
// comment that strayDirectives returned, and how to fix it.
func strayMessage(text string) string {
	if text == directive {
		return directive + " is not in the doc comment of a type, and marks nothing: put it in the comment just above the type, with no blank line between"
	}
	rest, ok := strings.CutPrefix(text, directivePrefix)
	if !ok {
		return fmt.Sprintf("write the directive as %s, with no space after //; %q marks nothing", directive, text)
	}
	name, args, _ := strings.Cut(rest, " ")
	if i := strings.IndexAny(name, "\t"); i >= 0 {
		name, args = name[:i], name[i:]
	}
	if name == strings.TrimPrefix(directive, directivePrefix) {
		return fmt.Sprintf("%s takes no arguments: remove %q, with which the line marks nothing", directive, strings.TrimSpace(args))
	}
	if d := editDistance(strings.ToLower(name), "element"); d <= 3 {
		return fmt.Sprintf("unknown directive %s%s; did you mean %s?", directivePrefix, name, directive)
	}
	return fmt.Sprintf("unknown directive %s%s marks nothing: the only sgn directive is %s, in the doc comment of an element type", directivePrefix, name, directive)
}

// editDistance is the number of single-byte insertions, deletions and
// substitutions that turn a into b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// elementSpecs returns the type specs marked //sgn:element, in file name
// and then source order, whatever order the files were loaded in.
func elementSpecs(pkg *packages.Package) []*ast.TypeSpec {
	files := append([]*ast.File{}, pkg.Syntax...)
	sort.Slice(files, func(i, j int) bool {
		return pkg.Fset.File(files[i].Pos()).Name() < pkg.Fset.File(files[j].Pos()).Name()
	})
	var specs []*ast.TypeSpec
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				if hasDirective(doc) {
					specs = append(specs, ts)
				}
			}
		}
	}
	return specs
}

// hasDirective reports whether a doc comment has the element directive as
// one of its lines.
func hasDirective(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		if strings.TrimRight(c.Text, " \t") == directive {
			return true
		}
	}
	return false
}

// analyseElement checks one marked type and returns it, or nil after
// reporting why it is not an element.
func (a *analyser) analyseElement(info *pkgInfo, ts *ast.TypeSpec) *element {
	name := ts.Name.Name
	obj, _ := info.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if obj == nil {
		a.errorf(ts.Pos(), "%s: no type information (does the package compile?)", name)
		return nil
	}
	named, _ := obj.Type().(*types.Named)
	st, ok := obj.Type().Underlying().(*types.Struct)
	if named == nil || !ok || ts.Assign.IsValid() {
		a.errorf(ts.Pos(), "%s: only a struct type can be an element", name)
		return nil
	}
	if ts.TypeParams != nil {
		a.errorf(ts.Pos(), "%s: an element cannot be generic", name)
		return nil
	}
	e := &element{name: name, typ: named, pos: a.position(ts.Pos()), worker: info.pkg.Name + "-" + strings.ToLower(name)}
	ok = true
	padFields := 0
	broken := false                        // a field's type does not compile: perhaps a pad's
	fieldTypes := map[token.Pos]ast.Expr{} // by the position of the field's name
	if st, isStruct := ts.Type.(*ast.StructType); isStruct {
		for _, fl := range st.Fields.List {
			for _, n := range fl.Names {
				fieldTypes[n.Pos()] = fl.Type
			}
		}
	}
	names := map[string]map[string]string{"sink": {}, "source": {}} // pad name → field
	keys := map[string]string{}                                     // config key → field
	for i := range st.NumFields() {
		f := st.Field(i)
		if isInvalid(f.Type()) {
			a.typeErrors(info.pkg, f.Pos(), fieldTypes[f.Pos()], "field "+f.Name())
			ok, broken = false, true
			continue
		}
		dir, frame := padType(f.Type())
		switch {
		case dir != "":
			padFields++
			p, good := a.pad(info, f, reflect.StructTag(st.Tag(i)), frame)
			if !good {
				ok = false
				continue
			}
			if other, dup := names[dir][p.name]; dup {
				a.errorf(f.Pos(), "pad %s: %s pad name %q is taken by pad %s; give one of them another name in its sgn tag", f.Name(), dir, p.name, other)
				ok = false
				continue
			}
			names[dir][p.name] = f.Name()
			if dir == "sink" {
				e.sinks = append(e.sinks, p)
			} else {
				e.sources = append(e.sources, p)
			}
		case f.Embedded() && f.Exported():
			a.errorf(f.Pos(), "embedded field %s: give it a name (an unexported one, if it is state)", f.Name())
			ok = false
		case f.Exported():
			c, good := a.config(info, f, reflect.StructTag(st.Tag(i)))
			if !good {
				ok = false
				continue
			}
			if c == nil {
				continue
			}
			if other, dup := keys[c.key]; dup {
				a.errorf(f.Pos(), "config field %s: key %q is taken by config field %s; give one of them another key with a tag `cbor:\"name\"`", f.Name(), c.key, other)
				ok = false
				continue
			}
			keys[c.key] = f.Name()
			e.config = append(e.config, c)
		}
	}
	if padFields == 0 && !broken {
		a.errorf(ts.Pos(), "%s: an element needs at least one pad: a field of type sgn.Sink[T] or sgn.Source[T] with an sgn:\"name\" tag", name)
		return nil
	}
	if !ok {
		return nil
	}
	if e.run = a.runMethod(info, ts.Pos(), named, e); e.run == "" {
		return nil
	}
	return e
}

// typeErrors reports the type errors of pkg within expr, the type of what
// (a field or a method) declared at pos, where they are; or, if there are
// none there, that the type at pos does not compile. The package's type
// errors are otherwise ignored (see load), but one in the type of an
// element's field or method is the user's and would only be reported as
// the confusing consequences of an invalid type.
func (a *analyser) typeErrors(pkg *packages.Package, pos token.Pos, expr ast.Node, what string) {
	found := false
	for _, err := range pkg.TypeErrors {
		if expr != nil && expr.Pos() <= err.Pos && err.Pos < expr.End() {
			a.diags = append(a.diags, &Diagnostic{Pos: a.position(err.Pos), Msg: err.Msg})
			found = true
		}
	}
	if !found {
		a.errorf(pos, "%s: its type does not compile", what)
	}
}

// isInvalid reports whether t is, or is made of, a type that does not
// compile.
func isInvalid(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		return t.Kind() == types.Invalid
	case *types.Slice:
		return isInvalid(t.Elem())
	case *types.Array:
		return isInvalid(t.Elem())
	case *types.Pointer:
		return isInvalid(t.Elem())
	case *types.Map:
		return isInvalid(t.Key()) || isInvalid(t.Elem())
	case *types.Chan:
		return isInvalid(t.Elem())
	case *types.Named:
		for a := range t.TypeArgs().Types() {
			if isInvalid(a) {
				return true
			}
		}
	case *types.Signature:
		for v := range t.Params().Variables() {
			if isInvalid(v.Type()) {
				return true
			}
		}
		for v := range t.Results().Variables() {
			if isInvalid(v.Type()) {
				return true
			}
		}
	}
	return false
}

// padType reports whether t is sgn.Sink[T] ("sink") or sgn.Source[T]
// ("source"), and T.
func padType(t types.Type) (dir string, frame types.Type) {
	n, ok := types.Unalias(t).(*types.Named)
	switch {
	case !ok || n.TypeArgs().Len() != 1:
		return "", nil
	case isSGN(n, "Sink"):
		return "sink", n.TypeArgs().At(0)
	case isSGN(n, "Source"):
		return "source", n.TypeArgs().At(0)
	}
	return "", nil
}

func (a *analyser) pad(info *pkgInfo, f *types.Var, tag reflect.StructTag, frame types.Type) (*pad, bool) {
	name, ok := tag.Lookup("sgn")
	if !ok || name == "" {
		a.errorf(f.Pos(), "pad %s: needs a tag that names it, like `sgn:%q`", f.Name(), strings.ToLower(f.Name()))
		return nil, false
	}
	c, err := info.types.codec(frame)
	if err != nil {
		for _, msg := range describe(err, "frame", info.types.typeString(frame)) {
			a.errorf(f.Pos(), "pad %s: %s", f.Name(), msg)
		}
		return nil, false
	}
	return &pad{field: f.Name(), name: name, typ: c}, true
}

// config analyses a configuration field. It returns nil, true for a field
// tagged cbor:"-", which does not travel to a worker.
func (a *analyser) config(info *pkgInfo, f *types.Var, tag reflect.StructTag) (*field, bool) {
	key, skip, err := fieldKey(f, tag)
	if err == nil && skip {
		return nil, true
	}
	if err == nil {
		var c *codecType
		if c, err = info.types.codec(f.Type()); err == nil {
			return &field{goName: f.Name(), key: key, typ: c}, true
		}
	}
	for _, msg := range describe(err, "", info.types.typeString(f.Type())) {
		a.errorf(f.Pos(), "config field %s: %s", f.Name(), msg)
	}
	return nil, false
}

// describe renders an analysis error about a type used as what: a message
// for each problem it holds.
func describe(err error, what, typ string) []string {
	ps := problems(err)
	if len(ps) == 0 {
		return []string{err.Error()}
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.describe(what, typ)
	}
	return msgs
}
