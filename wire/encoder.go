package wire

import "unsafe"

// An Encoder appends CBOR items to a buffer. Generated codecs write through
// one, so that large byte and numeric slices can leave the buffer: when the
// Encoder has a [Placer], each such slice is offered to it, and one that the
// Placer puts in shared memory is written as a [Slot] descriptor instead of
// its bytes.
//
// An Encoder's error is sticky, as a Decoder's is: once the Placer fails,
// the encoding is abandoned and [Encoder.Err] says why.
type Encoder struct {
	buf    []byte
	placer Placer
	err    error
	scan   bool // nothing is written; slices are only offered to the placer
}

// A Placer decides where a large payload travels. Place is given the
// memory of a byte or numeric slice and returns the slot that holds it,
// copying it into a new slot unless it is in shared memory already; ok is
// false if the payload is to travel inline (it is small, or there is no
// room for it). Place may wait for a slot to become free; an error abandons
// the encoding.
type Placer interface {
	Place(p []byte) (s Slot, ok bool, err error)
}

// NewEncoder returns an Encoder that appends to b and offers slices to p,
// which may be nil.
func NewEncoder(b []byte, p Placer) *Encoder { return &Encoder{buf: b, placer: p} }

// Reset makes e append to b, offering slices to p, and forgets any error.
func (e *Encoder) Reset(b []byte, p Placer) { *e = Encoder{buf: b, placer: p} }

// Scan makes e write nothing, only offer the value's byte and numeric
// slices to p, whatever their size: a walk over the slices a value holds,
// at the cost of a few calls per field.
func (e *Encoder) Scan(p Placer) { *e = Encoder{placer: p, scan: true} }

// Buf returns the encoded bytes.
func (e *Encoder) Buf() []byte { return e.buf }

// Err returns the Placer's error, if it failed.
func (e *Encoder) Err() error { return e.err }

// Int appends a signed integer.
func (e *Encoder) Int(v int64) {
	if !e.scan {
		e.buf = AppendInt(e.buf, v)
	}
}

// Uint appends an unsigned integer.
func (e *Encoder) Uint(v uint64) {
	if !e.scan {
		e.buf = AppendUint(e.buf, v)
	}
}

// Float64 appends a double-precision float.
func (e *Encoder) Float64(v float64) {
	if !e.scan {
		e.buf = AppendFloat64(e.buf, v)
	}
}

// Float32 appends a single-precision float.
func (e *Encoder) Float32(v float32) {
	if !e.scan {
		e.buf = AppendFloat32(e.buf, v)
	}
}

// Bool appends true or false.
func (e *Encoder) Bool(v bool) {
	if !e.scan {
		e.buf = AppendBool(e.buf, v)
	}
}

// Null appends null.
func (e *Encoder) Null() {
	if !e.scan {
		e.buf = AppendNull(e.buf)
	}
}

// Text appends a text string.
func (e *Encoder) Text(s string) {
	if !e.scan {
		e.buf = AppendString(e.buf, s)
	}
}

// ArrayHeader appends the head of an array of n items.
func (e *Encoder) ArrayHeader(n int) {
	if !e.scan {
		e.buf = AppendArrayHeader(e.buf, n)
	}
}

// MapHeader appends the head of a map of n pairs.
func (e *Encoder) MapHeader(n int) {
	if !e.scan {
		e.buf = AppendMapHeader(e.buf, n)
	}
}

// Bytes appends a byte string, null for nil, or the descriptor of the slot
// the Placer put it in.
func (e *Encoder) Bytes(p []byte) {
	if e.place(p, 0) || e.scan {
		return
	}
	e.buf = AppendBytes(e.buf, p)
}

// place offers p to the Placer and, if it takes it, appends its
// descriptor, within the typed-array tag tag unless that is 0. It
// reports whether p was placed (or the encoding has failed).
func (e *Encoder) place(p []byte, tag uint64) bool {
	if e.err != nil {
		return true
	}
	if e.placer == nil || len(p) == 0 {
		return false
	}
	s, ok, err := e.placer.Place(p)
	if err != nil {
		e.err = err
		return true
	}
	if !ok {
		return false
	}
	if e.scan {
		return true
	}
	if tag != 0 {
		e.buf = appendHead(e.buf, majorTag, tag)
	}
	e.buf = AppendSlot(e.buf, s)
	return true
}

// sizeOf returns the size of a T in bytes.
func sizeOf[T any]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// memory returns the bytes of s's elements, aliasing them.
func memory[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// EncodeInts appends a slice of signed integers as an RFC 8746 typed
// array (little-endian), null for nil, or, within the array's tag, the
// descriptor of the slot the Placer put it in.
func EncodeInts[T Signed](e *Encoder, s []T) {
	encodeTyped(e, s, arrayTag(kindSigned, sizeOf[T]()))
}

// EncodeUints appends a slice of unsigned integers as EncodeInts does.
func EncodeUints[T Unsigned](e *Encoder, s []T) {
	encodeTyped(e, s, arrayTag(kindUnsigned, sizeOf[T]()))
}

// EncodeFloat64s appends a slice of float64 as EncodeInts does.
func EncodeFloat64s[T ~float64](e *Encoder, s []T) { encodeTyped(e, s, arrayTag(kindFloat, 8)) }

// EncodeFloat32s appends a slice of float32 as EncodeInts does.
func EncodeFloat32s[T ~float32](e *Encoder, s []T) { encodeTyped(e, s, arrayTag(kindFloat, 4)) }

// encodeTyped offers s's memory to the Placer and, unless it takes it,
// appends s inline as a typed array with the given tag.
func encodeTyped[T any](e *Encoder, s []T, tag uint64) {
	if !e.place(memory(s), tag) && !e.scan {
		e.buf = appendTyped(e.buf, tag, s)
	}
}

// appendTyped appends s as a typed array (RFC 8746): its tag, then its
// elements' memory as a byte string; null for nil. Elements are in the
// machine's byte order, which the tag says is little-endian (see
// nativeLittleEndian).
func appendTyped[T any](b []byte, tag uint64, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	p := memory(s)
	b = appendHead(b, majorTag, tag)
	b = appendHead(b, majorBytes, uint64(len(p)))
	return append(b, p...)
}

// EncodeBools appends a slice of bools as an array, or null for nil. Bools
// always travel inline.
func EncodeBools[T ~bool](e *Encoder, s []T) {
	if !e.scan {
		e.buf = AppendBools(e.buf, s)
	}
}

// EncodeStrings appends a slice of strings as an array, or null for nil.
// Strings always travel inline.
func EncodeStrings[T ~string](e *Encoder, s []T) {
	if !e.scan {
		e.buf = AppendStrings(e.buf, s)
	}
}
