package gen

import (
	"fmt"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"unicode"
)

// A kind is how a type travels as CBOR.
type kind int

const (
	kindInt       kind = iota // signed integer of bits bits
	kindUint                  // unsigned integer of bits bits
	kindFloat32               // 4-byte float
	kindFloat64               // 8-byte float
	kindBool                  // true or false
	kindString                // text string
	kindBytes                 // byte string ([]byte)
	kindSlice                 // array of elem
	kindStruct                // map keyed by field name
	kindTime                  // time.Time: a tagged RFC 3339 string
	kindPointer               // elem, or null for nil
	kindArray                 // array of length elems
	kindByteArray             // [length]byte: a byte string
	kindMap                   // map of mapKey to elem, keys sorted
)

// A codecType is a frame or configuration type that sgngen can encode.
type codecType struct {
	typ    types.Type // the Go type, as declared (maybe a named type)
	key    string     // canonical spelling, unique per type: the map key and sort key
	kind   kind
	bits   int        // kindInt, kindUint
	elem   *codecType // kindSlice, kindPointer, kindArray, kindMap (the values)
	mapKey *codecType // kindMap: kindString, kindInt or kindUint
	length int64      // kindArray, kindByteArray
	fields []*field   // kindStruct: the encoded fields, in declaration order
	name   string     // a Go identifier part naming the type: "Int64", "Point", "GeoPoint"
}

// A field is a struct field that is encoded: one key/value pair of the map.
type field struct {
	goName string // the Go field name
	key    string // the map key: the field name or its cbor (or json) tag name
	typ    *codecType
}

// basic reports whether t is a kind that the wire package reads and writes
// with one call, so that a slice of it has a wire helper too.
func (t *codecType) basic() bool { return t.kind < kindBytes }

// A typeError says why a type has no codec, and what to do about it. Path
// says where in the type the problem is (".Tags", ".Points[].Tags"), if
// not at its top.
type typeError struct {
	path      string
	msg       string // what is wrong
	why       string // why it is wrong; may be empty
	fix       string // what to do instead; may be empty
	recursive bool
	leaveOut  bool // a struct field of this type can be left out instead
}

// text is the problem, why, and what to do.
func (e *typeError) text() string {
	msg := e.msg
	if e.why != "" {
		msg += ": " + e.why
	}
	if e.fix != "" {
		msg += "; " + e.fix
	}
	return msg
}

func (e *typeError) Error() string {
	msg := e.text()
	if e.path == "" {
		return msg
	}
	return "field " + strings.TrimPrefix(e.path, ".") + ": " + msg
}

// describe says what is wrong with a type used as what ("frame", "config
// field"), spelled t, and what to do. A problem in a field of a struct
// also says how to leave that field out.
func (e *typeError) describe(what, t string) string {
	if what != "" {
		what += " "
	}
	msg := e.text()
	if e.path == "" {
		return what + msg
	}
	if field := lastField(e.path); field != "" && e.leaveOut {
		msg += fmt.Sprintf(", or tag field %s `cbor:\"-\"` to leave it out", field)
	}
	return fmt.Sprintf("%stype %s: field %s: %s", what, t, strings.TrimPrefix(e.path, "."), msg)
}

// lastField returns the name of the struct field at the end of path
// (".Points[].Tags" → "Tags"), or "" if path ends inside a slice, an
// array or a map.
func lastField(path string) string {
	i := strings.LastIndex(path, ".")
	if i < 0 || strings.Contains(path[i:], "[") {
		return ""
	}
	return path[i+1:]
}

// typeErrors are several problems of one type, in the order of its
// fields.
type typeErrors []*typeError

func (es typeErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// problems returns the typeErrors in err: one, several, or none if err is
// some other error.
func problems(err error) []*typeError {
	switch err := err.(type) {
	case *typeError:
		return []*typeError{err}
	case typeErrors:
		return err
	}
	return nil
}

// typeSet analyses the frame and configuration types of one package,
// remembering each type it has seen.
type typeSet struct {
	pkg   *types.Package // the package generated code lives in
	types map[string]*codecType
	busy  map[string]bool // named types being analysed: a cycle means a recursive type
	fset  *token.FileSet
	errs  []types.Error // the package's type errors
}

func newTypeSet(pkg *types.Package, fset *token.FileSet, errs []types.Error) *typeSet {
	return &typeSet{pkg: pkg, types: map[string]*codecType{}, busy: map[string]bool{}, fset: fset, errs: errs}
}

// doesNotCompile is the error for the field f, whose type is invalid: the
// type errors on its line, after its name.
func (s *typeSet) doesNotCompile(f *types.Var) error {
	msg := "its type does not compile"
	if s.fset != nil {
		at := s.fset.Position(f.Pos())
		var msgs []string
		for _, err := range s.errs {
			p := s.fset.Position(err.Pos)
			if p.Filename == at.Filename && p.Line == at.Line && p.Column > at.Column {
				msgs = append(msgs, err.Msg)
			}
		}
		if len(msgs) > 0 {
			msg += ": " + strings.Join(msgs, "; ")
		}
	}
	return &typeError{path: "." + f.Name(), msg: msg}
}

// qualifier names packages as the user's package does: its own types
// unqualified, others by package name.
func (s *typeSet) qualifier(p *types.Package) string {
	if p == s.pkg {
		return ""
	}
	return p.Name()
}

func (s *typeSet) typeString(t types.Type) string { return types.TypeString(t, s.qualifier) }

// codec returns the codec of t, or a *typeError that says why it has none.
func (s *typeSet) codec(t types.Type) (*codecType, error) {
	t = types.Unalias(t)
	key := typeKey(t)
	if c, ok := s.types[key]; ok {
		return c, nil
	}
	if s.busy[key] {
		return nil, &typeError{msg: fmt.Sprintf("type %s is recursive", s.typeString(t)), fix: "break the cycle: keep the values in one slice and refer to them by index", recursive: true}
	}
	s.busy[key] = true
	defer delete(s.busy, key)
	c, err := s.analyse(t)
	if err != nil {
		return nil, err
	}
	c.typ, c.key = t, key
	s.types[key] = c
	return c, nil
}

// hasNoCodec is the error for a type that sgngen cannot encode: why, and
// what to use instead.
func (s *typeSet) hasNoCodec(t types.Type, why, fix string) error {
	return &typeError{msg: fmt.Sprintf("type %s has no codec", s.typeString(t)), why: why, fix: fix, leaveOut: true}
}

func (s *typeSet) analyse(t types.Type) (*codecType, error) {
	if n, ok := t.(*types.Named); ok {
		if isTime(n) {
			return &codecType{kind: kindTime, name: s.typeName(t)}, nil
		}
		if why, fix := special(n); why != "" {
			return nil, s.hasNoCodec(t, why, fix)
		}
		if n.TypeArgs().Len() > 0 {
			return nil, s.hasNoCodec(t, "generic types are not supported", "declare a type that is not generic")
		}
		if p := n.Obj().Pkg(); p != nil && p != s.pkg && !n.Obj().Exported() {
			return nil, s.hasNoCodec(t, "package "+p.Name()+" does not export it, and generated code has to name it",
				"export it, or use its underlying type "+s.typeString(n.Underlying()))
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		c := basicCodec(u)
		if c == nil {
			return nil, s.unsupported(t)
		}
		c.name = s.typeName(t)
		return c, nil
	case *types.Slice:
		elem := types.Unalias(u.Elem())
		if b, ok := elem.(*types.Basic); ok && b.Kind() == types.Uint8 {
			return &codecType{kind: kindBytes, name: s.typeName(t)}, nil
		}
		if b, ok := elem.Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 {
			return nil, s.hasNoCodec(t, "a slice of a named byte type", "use []byte")
		}
		ec, err := s.elemCodec(t, elem, "[]")
		if err != nil {
			return nil, err
		}
		return &codecType{kind: kindSlice, elem: ec, name: s.typeName(t)}, nil
	case *types.Array:
		elem := types.Unalias(u.Elem())
		if b, ok := elem.(*types.Basic); ok && b.Kind() == types.Uint8 {
			return &codecType{kind: kindByteArray, length: u.Len(), name: s.typeName(t)}, nil
		}
		if b, ok := elem.Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 {
			return nil, s.hasNoCodec(t, "an array of a named byte type", fmt.Sprintf("use [%d]byte", u.Len()))
		}
		ec, err := s.elemCodec(t, elem, "[]")
		if err != nil {
			return nil, err
		}
		return &codecType{kind: kindArray, elem: ec, length: u.Len(), name: s.typeName(t)}, nil
	case *types.Pointer:
		ec, err := s.elemCodec(t, u.Elem(), "") // a pointer is no step in a path
		if err != nil {
			return nil, err
		}
		return &codecType{kind: kindPointer, elem: ec, name: s.typeName(t)}, nil
	case *types.Map:
		kc, err := s.codec(u.Key())
		if err != nil || (kc.kind != kindString && kc.kind != kindInt && kc.kind != kindUint) {
			return nil, s.hasNoCodec(t, "a map's keys must be strings or integers", "use a key of type string or of an integer type, or a slice of a struct with a field of type "+s.typeString(u.Key())+" and one of type "+s.typeString(u.Elem()))
		}
		ec, err := s.elemCodec(t, u.Elem(), "[key]")
		if err != nil {
			return nil, err
		}
		return &codecType{kind: kindMap, mapKey: kc, elem: ec, name: s.typeName(t)}, nil
	case *types.Struct:
		n, ok := t.(*types.Named)
		if !ok {
			return nil, s.hasNoCodec(t, "an anonymous struct", "declare a named struct type and use it")
		}
		c := &codecType{kind: kindStruct, name: s.typeName(n)}
		if err := s.structFields(n, u, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, s.unsupported(t)
}

// elemCodec returns the codec of elem, the element type of t (a slice,
// array, pointer or map type). A problem with elem itself is reported as
// t's; one deeper inside it gets step (as "[]") added to its path.
func (s *typeSet) elemCodec(t, elem types.Type, step string) (*codecType, error) {
	ec, err := s.codec(elem)
	if te, ok := err.(*typeError); ok && te.path == "" && !te.recursive {
		return nil, s.hasNoCodec(t, te.why, te.fix)
	}
	if err != nil {
		return nil, prefix(err, step)
	}
	return ec, nil
}

// isTime reports whether n is time.Time.
func isTime(n *types.Named) bool {
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "time" && obj.Name() == "Time"
}

// unsupported is the error for a type of a kind that sgngen has no codec
// for: why not, and what to use instead.
func (s *typeSet) unsupported(t types.Type) error {
	switch u := t.Underlying().(type) {
	case *types.Interface:
		return s.hasNoCodec(t, "a decoder cannot know which type an interface value held", "use a concrete type")
	case *types.Chan:
		return s.hasNoCodec(t, "a channel cannot be sent to another process", "send the values it carries instead")
	case *types.Signature:
		return s.hasNoCodec(t, "a function cannot be sent to another process", "send the data it works on instead")
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			return s.hasNoCodec(t, "complex numbers are not supported", "use a struct of two float fields")
		case u.Kind() == types.Uintptr:
			return s.hasNoCodec(t, "a uintptr is an address, meaningless in another process", "use uint64 for a number")
		case u.Kind() == types.UnsafePointer:
			return s.hasNoCodec(t, "a pointer cannot be sent to another process", "send the data it points to")
		}
	}
	return s.hasNoCodec(t, "", "use a type listed in the documentation of package github.com/sgn-go/sgn/gen")
}

// prefix adds a step to the front of the path of a typeError.
func prefix(err error, step string) error {
	if es, ok := err.(typeErrors); ok {
		out := make(typeErrors, len(es))
		for i, e := range es {
			out[i] = prefix(e, step).(*typeError)
		}
		return out
	}
	te, ok := err.(*typeError)
	if !ok {
		return err
	}
	e := *te
	e.path = step + te.path
	return &e
}

// structFields fills in c's fields the way fxamacker/cbor picks them, or
// returns an error for what it would encode differently.
func (s *typeSet) structFields(n *types.Named, st *types.Struct, c *codecType) error {
	var errs typeErrors
	add := func(err error) { errs = append(errs, problems(err)...) }
	keys := map[string]string{}
	for i := range st.NumFields() {
		f := st.Field(i)
		tag := reflect.StructTag(st.Tag(i))
		if f.Name() == "_" {
			if opt := tag.Get("cbor"); opt != "" && opt != "-" {
				add(&typeError{msg: fmt.Sprintf("type %s has struct options `cbor:%q`, which sgngen does not support", s.typeString(n), opt),
					fix: "remove the tag of its field _"})
			}
			continue
		}
		key, skip, err := fieldKey(f, tag)
		if err != nil {
			add(prefix(err, "."+f.Name()))
			continue
		}
		if skip {
			continue
		}
		if f.Embedded() && key == f.Name() {
			if _, isStruct := f.Type().Underlying().(*types.Struct); isStruct {
				add(&typeError{path: "." + f.Name(), msg: "embedded struct fields are not supported", fix: "give the field a name"})
				continue
			}
		}
		if !f.Exported() {
			continue
		}
		if prev, dup := keys[key]; dup {
			add(&typeError{msg: fmt.Sprintf("type %s has two fields with the key %q: %s and %s", s.typeString(n), key, prev, f.Name()),
				fix: "give one of them another key with a tag `cbor:\"name\"`"})
			continue
		}
		keys[key] = f.Name()
		if isInvalid(f.Type()) {
			add(s.doesNotCompile(f))
			continue
		}
		fc, err := s.codec(f.Type())
		if err != nil {
			add(prefix(err, "."+f.Name()))
			continue
		}
		c.fields = append(c.fields, &field{goName: f.Name(), key: key, typ: fc})
	}
	if len(errs) == 1 {
		return errs[0]
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// fieldKey returns the map key of a struct field, from its cbor tag or else
// its json tag (as fxamacker/cbor does), and whether the field is skipped.
func fieldKey(f *types.Var, tag reflect.StructTag) (key string, skip bool, err error) {
	name, ok := tag.Lookup("cbor")
	tagName := "cbor"
	if !ok || name == "" {
		name, tagName = tag.Get("json"), "json"
	}
	if name == "-" {
		return "", true, nil
	}
	name, opts, _ := strings.Cut(name, ",")
	for opt := range strings.SplitSeq(opts, ",") {
		switch opt {
		case "omitempty", "omitzero", "keyasint", "toarray":
			return "", false, &typeError{msg: fmt.Sprintf("tag option %s:\",%s\" is not supported", tagName, opt), fix: "remove it: sgngen encodes every field as it is"}
		}
	}
	if name == "" {
		name = f.Name()
	}
	return name, false, nil
}

// special names the reason fxamacker/cbor encodes t in its own way, which
// sgngen does not reproduce, and what to use instead; or returns "", "".
func special(n *types.Named) (why, fix string) {
	obj := n.Obj()
	if obj.Pkg() != nil {
		switch path := obj.Pkg().Path(); {
		case path == "math/big":
			return "fxamacker/cbor encodes it in a way of its own, which sgngen does not reproduce",
				"send its text form, a string (x.String(), x.SetString(s, 10))"
		case strings.HasPrefix(path, "github.com/fxamacker/cbor"):
			return "a type of package cbor encodes itself", "use the Go types it stands for"
		}
	}
	ms := types.NewMethodSet(types.NewPointer(n))
	for _, m := range []string{"MarshalCBOR", "UnmarshalCBOR", "MarshalBinary", "UnmarshalBinary"} {
		if ms.Lookup(nil, m) != nil {
			return "it has a " + m + " method, which fxamacker/cbor would call and generated code does not",
				"use a type without it, or a []byte field that holds what " + strings.Replace(m, "Unmarshal", "Marshal", 1) + " returns"
		}
	}
	return "", ""
}

// basicCodec returns the codec of a basic type, or nil if it has none.
func basicCodec(b *types.Basic) *codecType {
	switch b.Kind() {
	case types.Int, types.Int64:
		return &codecType{kind: kindInt, bits: 64}
	case types.Int8:
		return &codecType{kind: kindInt, bits: 8}
	case types.Int16:
		return &codecType{kind: kindInt, bits: 16}
	case types.Int32:
		return &codecType{kind: kindInt, bits: 32}
	case types.Uint, types.Uint64:
		return &codecType{kind: kindUint, bits: 64}
	case types.Uint8:
		return &codecType{kind: kindUint, bits: 8}
	case types.Uint16:
		return &codecType{kind: kindUint, bits: 16}
	case types.Uint32:
		return &codecType{kind: kindUint, bits: 32}
	case types.Float32:
		return &codecType{kind: kindFloat32}
	case types.Float64:
		return &codecType{kind: kindFloat64}
	case types.Bool:
		return &codecType{kind: kindBool}
	case types.String:
		return &codecType{kind: kindString}
	}
	return nil
}

// typeKey spells t canonically: byte as uint8, named types with their full
// package path. Identical types have the same key.
func typeKey(t types.Type) string {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		return types.Typ[t.Kind()].Name()
	case *types.Slice:
		return "[]" + typeKey(t.Elem())
	case *types.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), typeKey(t.Elem()))
	case *types.Pointer:
		return "*" + typeKey(t.Elem())
	case *types.Map:
		return "map[" + typeKey(t.Key()) + "]" + typeKey(t.Elem())
	}
	return types.TypeString(t, nil)
}

// typeName turns a type into an identifier part: int64 → Int64, []float64 →
// Float64Slice, []byte → Bytes, Point → Point, and geo.Point from another
// package → GeoPoint.
func (s *typeSet) typeName(t types.Type) string {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		return upperFirst(types.Typ[t.Kind()].Name())
	case *types.Slice:
		if b, ok := types.Unalias(t.Elem()).(*types.Basic); ok && b.Kind() == types.Uint8 {
			return "Bytes"
		}
		return s.typeName(t.Elem()) + "Slice"
	case *types.Array:
		return fmt.Sprintf("%sArray%d", s.typeName(t.Elem()), t.Len())
	case *types.Pointer:
		return s.typeName(t.Elem()) + "Ptr"
	case *types.Map:
		return "Map" + s.typeName(t.Key()) + s.typeName(t.Elem())
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil && p != s.pkg {
			return upperFirst(p.Name()) + upperFirst(t.Obj().Name())
		}
		return upperFirst(t.Obj().Name())
	}
	return "Type"
}

func upperFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
