package gen

import (
	"go/types"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"
)

// A generated file is stale once a type it was generated from changes: a
// field added to an element is not configuration a worker receives, a
// frame struct's new field does not travel, a retyped field is converted
// on the way. The checks below make such a file fail to compile. Each is a
// function named _ (type-checked, never compiled into the program) that
// declares a local alias for the type as it was, with a name that says
// what to do, since the compiler names it in its message:
//
//	cannot use Count{} (value of struct type Count) as Count_changed__run_go_generate value in variable declaration
//
// A struct is assigned to an unnamed struct type with its fields as they
// were, unexported ones and tags included: assignability asks for
// identical types, which have the same fields in the same order, with
// identical types and tags. Another named type is converted, as a pointer,
// to a pointer to its underlying type as it was, which asks for identical
// underlying types.

// changedComment ends the line of each check of the type named what,
// where the compiler's message points.
func changedComment(what string) string {
	return what + " changed since this file was generated: run go generate"
}

// staleHint ends the name of every alias a check declares.
const staleHint = "changed__run_go_generate"

// staleChecks writes the checks of the package's elements and of the named
// types its codecs use.
func (g *emitter) staleChecks(f *jen.File) {
	f.Comment("The types below as sgngen saw them when it generated this file: a function")
	f.Comment("below does not compile once its type has changed (a field added, removed,")
	f.Comment("renamed or retyped, a tag changed). Run go generate then.")
	for _, e := range g.info.elements {
		f.Line()
		g.structCheck(f, e.typ)
		if e.run != "Run" && needsRunCheck(e.typ) {
			f.Line()
			hint := e.name + "_has_a_Run_method__run_go_generate"
			f.Func().Id("_").Params(jen.Id(hint).Struct(jen.Op("*").Id(e.name), jen.Id(noRunType))).Block(
				jen.Id(hint).Dot("Run").Call().Comment(e.name + " has a Run method now: run go generate"),
			)
		}
	}
	for _, c := range g.namedCodecs() {
		n := c.typ.(*types.Named)
		f.Line()
		if _, ok := n.Underlying().(*types.Struct); ok {
			g.structCheck(f, n)
			continue
		}
		u, ok := g.spell(n.Underlying())
		if !ok {
			continue // a codec type's underlying type can always be spelled
		}
		alias := g.staleAlias(n, "")
		f.Func().Id("_").Params().Block(
			jen.Type().Id(alias).Op("=").Add(u),
			jen.Id("_").Op("=").Parens(jen.Op("*").Id(alias)).Call(jen.Parens(jen.Op("*").Add(g.typeExpr(n))).Call(jen.Nil())).Comment(changedComment(g.typeString(n))),
		)
	}
	if g.needsNoRun() {
		f.Line()
		f.Commentf("%s has a method Run, which the checks above embed beside an element:", noRunType)
		f.Comment("the call of Run is ambiguous, and does not compile, once the element has")
		f.Comment("its own Run method, which SGNElement would then have to call instead.")
		f.Type().Id(noRunType).Struct()
		f.Line()
		f.Func().Params(jen.Id(noRunType)).Id("Run").Params().Block()
	}
}

// noRunType is the type whose Run method the checks of elements that have
// none embed.
const noRunType = "sgnNoRun"

// needsRunCheck reports whether the element n, which has no Run method,
// can be checked for one: it has no field named Run either.
func needsRunCheck(n *types.Named) bool {
	obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(n), true, n.Obj().Pkg(), "Run")
	return obj == nil
}

func (g *emitter) needsNoRun() bool {
	for _, e := range g.info.elements {
		if e.run != "Run" && needsRunCheck(e.typ) {
			return true
		}
	}
	return false
}

// namedCodecs returns the named types the package's codecs use, but
// time.Time, sorted by their codecs' names.
func (g *emitter) namedCodecs() []*codecType {
	var named []*codecType
	for _, c := range g.info.types.types {
		if _, ok := c.typ.(*types.Named); ok && c.kind != kindTime {
			named = append(named, c)
		}
	}
	sort.Slice(named, func(i, j int) bool { return g.names[named[i].key] < g.names[named[j].key] })
	return named
}

// staleAlias names the alias of a check of n (or of its field, if not
// ""): the type's name, qualified as the file names its package if it is
// another's.
func (g *emitter) staleAlias(n *types.Named, field string) string {
	parts := []string{n.Obj().Name()}
	if p := n.Obj().Pkg(); p != nil && p != g.info.pkg.Types {
		parts = append([]string{g.imports[p.Path()]}, parts...)
	}
	if field != "" {
		parts = append(parts, field)
	}
	return strings.Join(append(parts, staleHint), "_")
}

// structCheck writes the check of the struct type n: all of it if it can
// be spelled here, else each of the fields its codec uses.
func (g *emitter) structCheck(f *jen.File, n *types.Named) {
	st := n.Underlying().(*types.Struct)
	alias := g.staleAlias(n, "")
	if lit, ok := g.spellStruct(st); ok {
		f.Func().Id("_").Params().Block(
			jen.Type().Id(alias).Op("=").Add(lit),
			jen.Var().Id("_").Id(alias).Op("=").Add(g.typeExpr(n)).Values().Comment(changedComment(g.typeString(n))),
		)
		return
	}
	// A struct of another package with unexported fields, or with a field
	// of a type that cannot be named here: its fields that travel have the
	// types they had. A field added to it is not seen.
	var checks []jen.Code
	for i := range st.NumFields() {
		fl := st.Field(i)
		t, ok := g.spell(fl.Type())
		if !fl.Exported() || !ok {
			continue
		}
		a := g.staleAlias(n, fl.Name())
		checks = append(checks,
			jen.Type().Id(a).Op("=").Add(t),
			jen.Var().Id("_").Op("*").Id(a).Op("=").Op("&").Id("v").Dot(fl.Name()).Comment(changedComment(g.typeString(n)+"."+fl.Name())),
		)
	}
	if len(checks) > 0 {
		f.Func().Id("_").Params(jen.Id("v").Op("*").Add(g.typeExpr(n))).Block(checks...)
	}
}

// spellStruct spells st as a struct type literal, tags included.
func (g *emitter) spellStruct(st *types.Struct) (jen.Code, bool) {
	var fields []jen.Code
	for i := range st.NumFields() {
		fl := st.Field(i)
		if !fl.Exported() && fl.Pkg() != g.info.pkg.Types {
			return nil, false // a field name of another package
		}
		t, ok := g.spell(fl.Type())
		if !ok {
			return nil, false
		}
		var field *jen.Statement
		if fl.Embedded() {
			if _, isAlias := fl.Type().(*types.Alias); !isAlias && fl.Name() != typeName(fl.Type()) {
				return nil, false
			}
			field = jen.Add(t)
		} else {
			field = jen.Id(fl.Name()).Add(t)
		}
		if tag := st.Tag(i); tag != "" {
			if strings.Contains(tag, "`") {
				field.Lit(tag)
			} else {
				field.Op("`" + tag + "`")
			}
		}
		fields = append(fields, field)
	}
	return jen.Struct(fields...), true
}

// typeName is the name of an embedded field of type t.
func typeName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	switch t := t.(type) {
	case *types.Named:
		return t.Obj().Name()
	case *types.Alias:
		return t.Obj().Name()
	case *types.Basic:
		return t.Name()
	}
	return ""
}

// spell spells any type as generated code in the package can name it, or
// reports that it cannot: a type of another package that it does not
// export, or one declared inside a function.
func (g *emitter) spell(t types.Type) (jen.Code, bool) {
	switch t := t.(type) {
	case *types.Basic:
		if t.Kind() == types.UnsafePointer {
			return jen.Qual("unsafe", "Pointer"), true
		}
		return jen.Id(t.Name()), true
	case *types.Alias:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return jen.Id(obj.Name()), true // any
		}
		if (obj.Pkg() == g.info.pkg.Types || obj.Exported()) && obj.Parent() == obj.Pkg().Scope() {
			return g.withTypeArgs(g.qualified(obj), t.TypeArgs())
		}
		return g.spell(types.Unalias(t))
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return jen.Id(obj.Name()), true // error, comparable
		}
		if obj.Parent() != obj.Pkg().Scope() || (obj.Pkg() != g.info.pkg.Types && !obj.Exported()) {
			return nil, false
		}
		return g.withTypeArgs(g.qualified(obj), t.TypeArgs())
	case *types.Pointer:
		return g.spellWith(jen.Op("*"), t.Elem())
	case *types.Slice:
		return g.spellWith(jen.Index(), t.Elem())
	case *types.Array:
		return g.spellWith(jen.Index(jen.Lit(int(t.Len()))), t.Elem())
	case *types.Map:
		k, ok := g.spell(t.Key())
		if !ok {
			return nil, false
		}
		return g.spellWith(jen.Map(k), t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return g.spellWith(jen.Chan().Op("<-"), t.Elem())
		case types.RecvOnly:
			return g.spellWith(jen.Op("<-").Chan(), t.Elem())
		}
		return g.spellWith(jen.Chan(), t.Elem())
	case *types.Signature:
		params, ok := g.spellTuple(t.Params(), t.Variadic())
		if !ok {
			return nil, false
		}
		results, ok := g.spellTuple(t.Results(), false)
		if !ok {
			return nil, false
		}
		return jen.Func().Params(params...).Params(results...), true
	case *types.Struct:
		return g.spellStruct(t)
	case *types.Interface:
		var items []jen.Code
		for e := range t.EmbeddedTypes() {
			s, ok := g.spell(e)
			if !ok {
				return nil, false
			}
			items = append(items, s)
		}
		for m := range t.ExplicitMethods() {
			if !m.Exported() && m.Pkg() != g.info.pkg.Types {
				return nil, false
			}
			sig := m.Type().(*types.Signature)
			params, ok := g.spellTuple(sig.Params(), sig.Variadic())
			if !ok {
				return nil, false
			}
			results, ok := g.spellTuple(sig.Results(), false)
			if !ok {
				return nil, false
			}
			items = append(items, jen.Id(m.Name()).Params(params...).Params(results...))
		}
		return jen.Interface(items...), true
	}
	return nil, false
}

// typeString spells n as the file names it.
func (g *emitter) typeString(n *types.Named) string {
	if p := n.Obj().Pkg(); p != nil && p != g.info.pkg.Types {
		return g.imports[p.Path()] + "." + n.Obj().Name()
	}
	return n.Obj().Name()
}

// spellWith spells prefix followed by elem.
func (g *emitter) spellWith(prefix *jen.Statement, elem types.Type) (jen.Code, bool) {
	e, ok := g.spell(elem)
	if !ok {
		return nil, false
	}
	return prefix.Add(e), true
}

// spellTuple spells the types of a signature's parameters or results.
func (g *emitter) spellTuple(tuple *types.Tuple, variadic bool) ([]jen.Code, bool) {
	var out []jen.Code
	for i := range tuple.Len() {
		t := tuple.At(i).Type()
		if variadic && i == tuple.Len()-1 {
			e, ok := g.spellWith(jen.Op("..."), t.(*types.Slice).Elem())
			if !ok {
				return nil, false
			}
			out = append(out, e)
			continue
		}
		s, ok := g.spell(t)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// qualified names obj: unqualified in the package, else by its import.
func (g *emitter) qualified(obj types.Object) *jen.Statement {
	if obj.Pkg() == g.info.pkg.Types {
		return jen.Id(obj.Name())
	}
	return jen.Qual(obj.Pkg().Path(), obj.Name())
}

// withTypeArgs adds a generic type's arguments to its name.
func (g *emitter) withTypeArgs(name *jen.Statement, args *types.TypeList) (jen.Code, bool) {
	if args.Len() == 0 {
		return name, true
	}
	var list []jen.Code
	for a := range args.Types() {
		s, ok := g.spell(a)
		if !ok {
			return nil, false
		}
		list = append(list, s)
	}
	return name.Types(list...), true
}

// spelledPackages returns the packages, by path and name, whose types the
// checks name, so that the file imports them under names that clash with
// nothing.
func (g *emitter) spelledPackages() [][2]string {
	seen := map[*types.Package]bool{}
	var out [][2]string
	var walk func(t types.Type)
	add := func(p *types.Package) {
		if p != nil && !seen[p] {
			seen[p] = true
			out = append(out, [2]string{p.Path(), p.Name()})
		}
	}
	visiting := map[types.Type]bool{}
	walk = func(t types.Type) {
		if visiting[t] {
			return
		}
		visiting[t] = true
		switch t := t.(type) {
		case *types.Alias:
			add(t.Obj().Pkg())
			for a := range t.TypeArgs().Types() {
				walk(a)
			}
			walk(types.Unalias(t))
		case *types.Named:
			add(t.Obj().Pkg())
			for a := range t.TypeArgs().Types() {
				walk(a)
			}
		case *types.Basic:
			if t.Kind() == types.UnsafePointer {
				add(types.Unsafe)
			}
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Chan:
			walk(t.Elem())
		case *types.Signature:
			for v := range t.Params().Variables() {
				walk(v.Type())
			}
			for v := range t.Results().Variables() {
				walk(v.Type())
			}
		case *types.Struct:
			for f := range t.Fields() {
				walk(f.Type())
			}
		case *types.Interface:
			for e := range t.EmbeddedTypes() {
				walk(e)
			}
			for m := range t.ExplicitMethods() {
				walk(m.Type())
			}
		}
	}
	for _, e := range g.info.elements {
		walk(e.typ.Underlying())
	}
	for _, c := range g.namedCodecs() {
		walk(c.typ.Underlying())
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
