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
	kindInt     kind = iota // signed integer of bits bits
	kindUint                // unsigned integer of bits bits
	kindFloat32             // 4-byte float
	kindFloat64             // 8-byte float
	kindBool                // true or false
	kindString              // text string
	kindBytes               // byte string ([]byte)
	kindSlice               // array of elem
	kindStruct              // map keyed by field name
)

// A codecType is a frame or configuration type that sgngen can encode.
type codecType struct {
	typ    types.Type // the Go type, as declared (maybe a named type)
	key    string     // canonical spelling, unique per type: the map key and sort key
	kind   kind
	bits   int        // kindInt, kindUint
	elem   *codecType // kindSlice
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

// A typeError says why a type has no codec. Path says where in the type
// the problem is (".Tags", ".Points[].Tags"), if not at its top.
type typeError struct {
	path      string
	msg       string
	recursive bool
}

func (e *typeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "field " + strings.TrimPrefix(e.path, ".") + ": " + e.msg
}

// describe says what is wrong with a type used as what ("frame", "config
// field"), spelled t.
func (e *typeError) describe(what, t string) string {
	if what != "" {
		what += " "
	}
	if e.path == "" {
		return what + e.msg
	}
	return fmt.Sprintf("%stype %s: field %s: %s", what, t, strings.TrimPrefix(e.path, "."), e.msg)
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
		return nil, &typeError{msg: fmt.Sprintf("type %s is recursive", s.typeString(t)), recursive: true}
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

// hasNoCodec is the error for a type that sgngen cannot encode.
func (s *typeSet) hasNoCodec(t types.Type, why string) error {
	msg := fmt.Sprintf("type %s has no codec", s.typeString(t))
	if why != "" {
		msg += " (" + why + ")"
	}
	return &typeError{msg: msg}
}

func (s *typeSet) analyse(t types.Type) (*codecType, error) {
	if n, ok := t.(*types.Named); ok {
		if why := special(n); why != "" {
			return nil, s.hasNoCodec(t, why)
		}
		if n.TypeArgs().Len() > 0 {
			return nil, s.hasNoCodec(t, "generic types are not supported")
		}
		if p := n.Obj().Pkg(); p != nil && p != s.pkg && !n.Obj().Exported() {
			return nil, s.hasNoCodec(t, "package "+p.Name()+" does not export it, and generated code has to name it")
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		c := basicCodec(u)
		if c == nil {
			return nil, s.hasNoCodec(t, "")
		}
		c.name = s.typeName(t)
		return c, nil
	case *types.Slice:
		elem := types.Unalias(u.Elem())
		if b, ok := elem.(*types.Basic); ok && b.Kind() == types.Uint8 {
			return &codecType{kind: kindBytes, name: s.typeName(t)}, nil
		}
		if b, ok := elem.Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 {
			return nil, s.hasNoCodec(t, "a slice of a named byte type; use []byte")
		}
		ec, err := s.codec(elem)
		if te, ok := err.(*typeError); ok && te.path == "" && !te.recursive {
			return nil, s.hasNoCodec(t, "")
		}
		if err != nil {
			return nil, prefix(err, "[]")
		}
		return &codecType{kind: kindSlice, elem: ec, name: s.typeName(t)}, nil
	case *types.Struct:
		n, ok := t.(*types.Named)
		if !ok {
			return nil, s.hasNoCodec(t, "declare a named struct type")
		}
		c := &codecType{kind: kindStruct, name: s.typeName(n)}
		if err := s.structFields(n, u, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, s.hasNoCodec(t, "")
}

// prefix adds a step to the front of the path of a typeError.
func prefix(err error, step string) error {
	te, ok := err.(*typeError)
	if !ok {
		return err
	}
	return &typeError{path: step + te.path, msg: te.msg, recursive: te.recursive}
}

// structFields fills in c's fields the way fxamacker/cbor picks them, or
// returns an error for what it would encode differently.
func (s *typeSet) structFields(n *types.Named, st *types.Struct, c *codecType) error {
	keys := map[string]string{}
	for i := range st.NumFields() {
		f := st.Field(i)
		tag := reflect.StructTag(st.Tag(i))
		if f.Name() == "_" {
			if opt := tag.Get("cbor"); opt != "" && opt != "-" {
				return &typeError{msg: fmt.Sprintf("type %s has struct options `cbor:%q`, which sgngen does not support", s.typeString(n), opt)}
			}
			continue
		}
		key, skip, err := fieldKey(f, tag)
		if err != nil {
			return prefix(err, "."+f.Name())
		}
		if skip {
			continue
		}
		if f.Embedded() && key == f.Name() {
			if _, isStruct := f.Type().Underlying().(*types.Struct); isStruct {
				return &typeError{path: "." + f.Name(), msg: "embedded struct fields are not supported; give the field a name"}
			}
		}
		if !f.Exported() {
			continue
		}
		if prev, dup := keys[key]; dup {
			return &typeError{msg: fmt.Sprintf("type %s has two fields with the key %q: %s and %s", s.typeString(n), key, prev, f.Name())}
		}
		keys[key] = f.Name()
		if isInvalid(f.Type()) {
			return s.doesNotCompile(f)
		}
		fc, err := s.codec(f.Type())
		if err != nil {
			return prefix(err, "."+f.Name())
		}
		c.fields = append(c.fields, &field{goName: f.Name(), key: key, typ: fc})
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
			return "", false, &typeError{msg: fmt.Sprintf("tag option %s:\",%s\" is not supported", tagName, opt)}
		}
	}
	if name == "" {
		name = f.Name()
	}
	return name, false, nil
}

// special names the reason fxamacker/cbor encodes t in its own way, which
// sgngen does not reproduce, or returns "".
func special(n *types.Named) string {
	obj := n.Obj()
	if obj.Pkg() != nil {
		switch path := obj.Pkg().Path(); {
		case path == "time" && obj.Name() == "Time", path == "math/big":
			return "fxamacker/cbor encodes it specially"
		case strings.HasPrefix(path, "github.com/fxamacker/cbor"):
			return "a cbor package type"
		}
	}
	ms := types.NewMethodSet(types.NewPointer(n))
	for _, m := range []string{"MarshalCBOR", "UnmarshalCBOR", "MarshalBinary", "UnmarshalBinary"} {
		if ms.Lookup(nil, m) != nil {
			return "it has a " + m + " method"
		}
	}
	return ""
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
