package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// maxDepth bounds how deeply Skip follows nested arrays and maps, so a
// hostile input cannot exhaust the stack.
const maxDepth = 64

// A Decoder reads CBOR items one after another from a byte slice.
//
// Errors are sticky: after the first one every method returns a zero value
// and [Decoder.Err] returns that first error.
type Decoder struct {
	buf   []byte
	off   int
	err   error
	slots Resolver
}

// NewDecoder returns a Decoder that reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Reset makes d read b from its start and forgets any error. It keeps the
// decoder's Resolver.
func (d *Decoder) Reset(b []byte) { *d = Decoder{buf: b, slots: d.slots} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of bytes not read yet.
func (d *Decoder) Len() int { return len(d.buf) - d.off }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// An Error says what was wrong with the input and where.
type Error struct {
	Offset int    // byte offset of the item that could not be decoded
	Msg    string // what was expected and what was found
}

func (e *Error) Error() string { return fmt.Sprintf("cbor: at byte %d: %s", e.Offset, e.Msg) }

// Fail records err as the decoder's error unless one is already recorded;
// generated code uses it to report values that are well-formed CBOR but do not
// fit the Go type.
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = &Error{Offset: d.off, Msg: fmt.Sprintf(format, args...)}
	}
}

func (d *Decoder) failAt(off int, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
}

var majorNames = [8]string{"unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag", "simple value or float"}

// describe names the item whose initial byte is c, for error messages.
func describe(c byte) string {
	switch c {
	case valFalse, valTrue:
		return "bool"
	case valNull:
		return "null"
	case valUndef:
		return "undefined"
	case valFloat16, valFloat32, valFloat64:
		return "float"
	}
	return majorNames[c>>5]
}

// head reads an item head. It returns the initial byte and the argument. An
// indefinite length, a reserved value, or a truncated head is an error.
func (d *Decoder) head() (c byte, n uint64, ok bool) {
	if d.err != nil {
		return 0, 0, false
	}
	if d.off >= len(d.buf) {
		d.Fail("unexpected end of input")
		return 0, 0, false
	}
	c = d.buf[d.off]
	info := c & 0x1f
	rest := d.buf[d.off+1:]
	var size int
	switch {
	case info < 24:
		n = uint64(info)
	case info == 24:
		size = 1
	case info == 25:
		size = 2
	case info == 26:
		size = 4
	case info == 27:
		size = 8
	case info == 31 && c>>5 >= 2 && c>>5 <= 5:
		d.Fail("indefinite-length %s is not supported", majorNames[c>>5])
		return 0, 0, false
	default:
		d.Fail("malformed initial byte 0x%02x", c)
		return 0, 0, false
	}
	if len(rest) < size {
		d.Fail("unexpected end of input in the head of a %s", describe(c))
		return 0, 0, false
	}
	switch size {
	case 1:
		n = uint64(rest[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(rest))
	case 4:
		n = uint64(binary.BigEndian.Uint32(rest))
	case 8:
		n = binary.BigEndian.Uint64(rest)
	}
	d.off += 1 + size
	return c, n, true
}

// peek returns the next initial byte without consuming it, or false at the
// end of the input or after an error.
func (d *Decoder) peek() (byte, bool) {
	if d.err != nil || d.off >= len(d.buf) {
		return 0, false
	}
	return d.buf[d.off], true
}

// nullOrUndefined consumes a null or undefined item if one is next. Like
// fxamacker/cbor, decoding null into a Go value leaves its zero value.
func (d *Decoder) nullOrUndefined() bool {
	c, ok := d.peek()
	if ok && (c == valNull || c == valUndef) {
		d.off++
		return true
	}
	return false
}

// Int reads an integer that must fit in a signed integer of the given bit
// size (8, 16, 32 or 64).
func (d *Decoder) Int(bits int) int64 {
	if d.nullOrUndefined() {
		return 0
	}
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return 0
	}
	max := uint64(1)<<(bits-1) - 1
	switch c & 0xe0 {
	case majorUint:
		if n > max {
			d.failAt(start, "integer %d overflows int%d", n, bits)
			return 0
		}
		return int64(n)
	case majorNegInt:
		if n > max {
			d.failAt(start, "integer -1-%d overflows int%d", n, bits)
			return 0
		}
		return -1 - int64(n)
	}
	d.failAt(start, "expected an integer, found %s", describe(c))
	return 0
}

// Uint reads a non-negative integer that must fit in an unsigned integer of
// the given bit size (8, 16, 32 or 64).
func (d *Decoder) Uint(bits int) uint64 {
	if d.nullOrUndefined() {
		return 0
	}
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return 0
	}
	switch c & 0xe0 {
	case majorUint:
		if bits < 64 && n >= uint64(1)<<bits {
			d.failAt(start, "integer %d overflows uint%d", n, bits)
			return 0
		}
		return n
	case majorNegInt:
		d.failAt(start, "negative integer does not fit uint%d", bits)
		return 0
	}
	d.failAt(start, "expected an unsigned integer, found %s", describe(c))
	return 0
}

// Float64 reads a float of any CBOR width.
func (d *Decoder) Float64() float64 {
	if d.nullOrUndefined() {
		return 0
	}
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return 0
	}
	switch c {
	case valFloat16:
		return halfToFloat64(uint16(n))
	case valFloat32:
		return float64(math.Float32frombits(uint32(n)))
	case valFloat64:
		return math.Float64frombits(n)
	}
	d.failAt(start, "expected a float, found %s", describe(c))
	return 0
}

// Float32 reads a float into a float32, rounding a double as a conversion
// does; a finite double beyond float32's range is an error.
func (d *Decoder) Float32() float32 {
	start := d.off
	f := d.Float64()
	if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
		d.failAt(start, "float %g overflows float32", f)
		return 0
	}
	return float32(f)
}

// Bool reads true or false.
func (d *Decoder) Bool() bool {
	if d.nullOrUndefined() {
		return false
	}
	start := d.off
	c, _, ok := d.head()
	if !ok {
		return false
	}
	switch c {
	case valTrue:
		return true
	case valFalse:
		return false
	}
	d.failAt(start, "expected a bool, found %s", describe(c))
	return false
}

// payload reads the head of a byte or text string and returns its bytes,
// which alias the input.
func (d *Decoder) payload(major byte) ([]byte, bool) {
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return nil, false
	}
	if c&0xe0 != major {
		d.failAt(start, "expected a %s, found %s", majorNames[major>>5], describe(c))
		return nil, false
	}
	if n > uint64(d.Len()) {
		d.failAt(start, "%s of %d bytes runs past the end of the input", majorNames[major>>5], n)
		return nil, false
	}
	p := d.buf[d.off : d.off+int(n)]
	d.off += int(n)
	return p, true
}

// Text reads a text string. Invalid UTF-8 is an error, as it is for
// fxamacker/cbor's default options.
func (d *Decoder) Text() string {
	if d.nullOrUndefined() {
		return ""
	}
	return string(d.Key())
}

// Key reads a text string and returns its bytes without copying them; they
// alias the input. Generated decoders use it for map keys.
func (d *Decoder) Key() []byte {
	start := d.off
	p, ok := d.payload(majorText)
	if ok && !utf8.Valid(p) {
		d.failAt(start, "text string is not valid UTF-8")
		return nil
	}
	return p
}

// Bytes reads a byte string into a new slice. Null gives nil. A slot
// descriptor gives the slot's bytes, not a copy.
func (d *Decoder) Bytes() []byte {
	if d.nullOrUndefined() {
		return nil
	}
	if tag, start, ok := d.tagged(); ok {
		if tag != TagSlot {
			d.failAt(start, "expected a byte string, found tag %d", tag)
			return nil
		}
		p, _ := d.slot(start)
		return p
	}
	p, ok := d.payload(majorBytes)
	if !ok {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

// ArrayLen reads the head of an array and returns its length. It returns
// false for null (a nil slice) or on error. The length is checked against
// the bytes left, so a caller may allocate it.
func (d *Decoder) ArrayLen() (int, bool) { return d.container(majorArray, 1) }

// MapLen reads the head of a map and returns its number of pairs. It returns
// false for null (a nil map or struct pointer) or on error.
func (d *Decoder) MapLen() (int, bool) { return d.container(majorMap, 2) }

func (d *Decoder) container(major byte, perItem uint64) (int, bool) {
	if d.nullOrUndefined() {
		return 0, false
	}
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return 0, false
	}
	if c&0xe0 != major {
		d.failAt(start, "expected %s, found %s", article(majorNames[major>>5]), describe(c))
		return 0, false
	}
	if n > uint64(d.Len())/perItem {
		d.failAt(start, "%s of %d items runs past the end of the input", majorNames[major>>5], n)
		return 0, false
	}
	return int(n), true
}

func article(s string) string {
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + s
	}
	return "a " + s
}

// Skip reads one item of any type and discards it. Generated decoders call
// it for map keys they do not know, so that a newer writer's extra fields do
// not break an older reader.
func (d *Decoder) Skip() { d.skip(0) }

func (d *Decoder) skip(depth int) {
	if depth > maxDepth {
		d.Fail("items nested more than %d deep", maxDepth)
		return
	}
	start := d.off
	c, n, ok := d.head()
	if !ok {
		return
	}
	switch c & 0xe0 {
	case majorBytes, majorText:
		if n > uint64(d.Len()) {
			d.failAt(start, "%s of %d bytes runs past the end of the input", describe(c), n)
			return
		}
		d.off += int(n)
	case majorArray, majorMap:
		if c&0xe0 == majorMap {
			if n > math.MaxUint64/2 {
				d.failAt(start, "map of %d pairs is too large", n)
				return
			}
			n *= 2
		}
		if n > uint64(d.Len()) {
			d.failAt(start, "%s of %d items runs past the end of the input", describe(c), n)
			return
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skip(depth + 1)
		}
	case majorTag:
		d.skip(depth + 1)
	}
}

// Raw reads one item and returns its encoding, aliasing the input.
func (d *Decoder) Raw() []byte {
	start := d.off
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.buf[start:d.off]
}

// Ints reads an array of signed integers into a slice of T, each of which
// must fit bits bits. Null gives nil. A typed array (RFC 8746) of T's size
// is read too; one in a slot gives a slice of the slot's memory, not a
// copy. So do Uints, Float64s and Float32s.
func Ints[T Signed](d *Decoder, bits int) []T {
	if p, inSlot, ok := d.typedArray(arrayTag(kindSigned, sizeOf[T]()), sizeOf[T]()); ok {
		return typedSlice[T](d, p, inSlot)
	}
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Int(bits))
	}
	return s
}

// Uints reads an array of unsigned integers into a slice of T, each of which
// must fit bits bits. Null gives nil.
func Uints[T Unsigned](d *Decoder, bits int) []T {
	if p, inSlot, ok := d.typedArray(arrayTag(kindUnsigned, sizeOf[T]()), sizeOf[T]()); ok {
		return typedSlice[T](d, p, inSlot)
	}
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Uint(bits))
	}
	return s
}

// Float64s reads an array of floats. Null gives nil.
func Float64s[T ~float64](d *Decoder) []T {
	if p, inSlot, ok := d.typedArray(arrayTag(kindFloat, 8), 8); ok {
		return typedSlice[T](d, p, inSlot)
	}
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Float64())
	}
	return s
}

// Float32s reads an array of floats that fit float32. Null gives nil.
func Float32s[T ~float32](d *Decoder) []T {
	if p, inSlot, ok := d.typedArray(arrayTag(kindFloat, 4), 4); ok {
		return typedSlice[T](d, p, inSlot)
	}
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Float32())
	}
	return s
}

// Bools reads an array of bools. Null gives nil.
func Bools[T ~bool](d *Decoder) []T {
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Bool())
	}
	return s
}

// Strings reads an array of text strings. Null gives nil.
func Strings[T ~string](d *Decoder) []T {
	n, ok := d.ArrayLen()
	if !ok {
		return nil
	}
	s := make([]T, n)
	for i := range s {
		s[i] = T(d.Text())
	}
	return s
}

// halfToFloat64 widens an IEEE 754 half-precision float.
func halfToFloat64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}
