package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/types"
	"strings"
)

// schemaVersion starts every schema description; a change to what the
// generated codecs write changes it, so that workers generated before the
// change are told from those generated after.
const schemaVersion = "sgn schema 1"

// schema returns the fingerprint of e's schema, which its Spec carries:
// the first 16 hex digits of the SHA-256 of describeSchema.
func (g *emitter) schema(e *element) string {
	sum := sha256.Sum256([]byte(g.describeSchema(e)))
	return hex.EncodeToString(sum[:8])
}

// describeSchema spells out what a worker and its pipeline must agree on
// about e: its type, the method that runs it, its pads (direction, name,
// field, frame type) and its configuration fields (key, field, type),
// every type down to each field of each struct: name, key and type.
func (g *emitter) describeSchema(e *element) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nelement %s.%s\nmethod %s\n", schemaVersion, g.info.pkg.PkgPath, e.name, e.run)
	for _, p := range e.sinks {
		fmt.Fprintf(&b, "sink %q %s %s\n", p.name, p.field, describeType(p.typ))
	}
	for _, p := range e.sources {
		fmt.Fprintf(&b, "source %q %s %s\n", p.name, p.field, describeType(p.typ))
	}
	for _, c := range e.config {
		fmt.Fprintf(&b, "config %q %s %s\n", c.key, c.goName, describeType(c.typ))
	}
	return b.String()
}

// describeType spells a codec type in full: named types by their package
// path and name, with what they are made of.
func describeType(c *codecType) string {
	var shape string
	switch c.kind {
	case kindStruct:
		var fields []string
		for _, f := range c.fields {
			fields = append(fields, fmt.Sprintf("%q %s %s", f.key, f.goName, describeType(f.typ)))
		}
		shape = "struct{" + strings.Join(fields, "; ") + "}"
	case kindSlice:
		shape = "[]" + describeType(c.elem)
	case kindArray:
		shape = fmt.Sprintf("[%d]%s", c.length, describeType(c.elem))
	case kindByteArray:
		shape = fmt.Sprintf("[%d]uint8", c.length)
	case kindPointer:
		shape = "*" + describeType(c.elem)
	case kindMap:
		shape = "map[" + describeType(c.mapKey) + "]" + describeType(c.elem)
	case kindBytes:
		shape = "[]uint8"
	case kindTime:
		return "time.Time"
	default:
		shape = types.Typ[c.typ.Underlying().(*types.Basic).Kind()].Name()
	}
	if n, ok := c.typ.(*types.Named); ok {
		return types.TypeString(n, nil) + "=" + shape
	}
	return shape
}
