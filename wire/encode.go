package wire

import (
	"encoding/binary"
	"math"
)

// CBOR major types, shifted into the top three bits of an initial byte.
const (
	majorUint   byte = 0 << 5
	majorNegInt byte = 1 << 5
	majorBytes  byte = 2 << 5
	majorText   byte = 3 << 5
	majorArray  byte = 4 << 5
	majorMap    byte = 5 << 5
	majorTag    byte = 6 << 5
	majorSimple byte = 7 << 5
)

// Initial bytes of the simple values and floats.
const (
	valFalse   byte = majorSimple | 20
	valTrue    byte = majorSimple | 21
	valNull    byte = majorSimple | 22
	valUndef   byte = majorSimple | 23
	valFloat16 byte = majorSimple | 25
	valFloat32 byte = majorSimple | 26
	valFloat64 byte = majorSimple | 27
)

// appendHead appends an item head: a major type and its argument, in the
// shortest form, as CBOR's preferred serialization asks.
func appendHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, major|27), n)
	}
}

// AppendUint appends an unsigned integer.
func AppendUint(b []byte, v uint64) []byte { return appendHead(b, majorUint, v) }

// AppendInt appends a signed integer.
func AppendInt(b []byte, v int64) []byte {
	if v < 0 {
		return appendHead(b, majorNegInt, uint64(-1-v))
	}
	return appendHead(b, majorUint, uint64(v))
}

// AppendFloat64 appends a double-precision float (9 bytes). Like
// fxamacker/cbor, it writes infinities and NaN as 3-byte half floats (every
// NaN as the quiet NaN 0x7e00).
func AppendFloat64(b []byte, v float64) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return appendSpecial(b, v)
	}
	return binary.BigEndian.AppendUint64(append(b, valFloat64), math.Float64bits(v))
}

// AppendFloat32 appends a single-precision float (5 bytes), with infinities
// and NaN as AppendFloat64 writes them.
func AppendFloat32(b []byte, v float32) []byte {
	if f := float64(v); math.IsInf(f, 0) || math.IsNaN(f) {
		return appendSpecial(b, f)
	}
	return binary.BigEndian.AppendUint32(append(b, valFloat32), math.Float32bits(v))
}

// appendSpecial appends an infinity or NaN as a half float.
func appendSpecial(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, valFloat16, 0x7e, 0x00)
	case v > 0:
		return append(b, valFloat16, 0x7c, 0x00)
	}
	return append(b, valFloat16, 0xfc, 0x00)
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, valTrue)
	}
	return append(b, valFalse)
}

// AppendNull appends null, which stands for a nil slice or map.
func AppendNull(b []byte) []byte { return append(b, valNull) }

// AppendString appends a text string.
func AppendString(b []byte, s string) []byte {
	return append(appendHead(b, majorText, uint64(len(s))), s...)
}

// AppendBytes appends a byte string, or null for a nil slice.
func AppendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return AppendNull(b)
	}
	return append(appendHead(b, majorBytes, uint64(len(p))), p...)
}

// AppendArrayHeader appends the head of an array of n items; the caller
// appends the items.
func AppendArrayHeader(b []byte, n int) []byte { return appendHead(b, majorArray, uint64(n)) }

// AppendMapHeader appends the head of a map of n pairs; the caller appends
// each key followed by its value.
func AppendMapHeader(b []byte, n int) []byte { return appendHead(b, majorMap, uint64(n)) }

// Signed is the set of signed integer kinds a generated codec may use.
type Signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}

// Unsigned is the set of unsigned integer kinds a generated codec may use.
// uint8 is absent: a []uint8 is a []byte and travels as a byte string.
type Unsigned interface {
	~uint | ~uint16 | ~uint32 | ~uint64
}

// AppendInts appends a slice of signed integers as an array, or null for nil.
func AppendInts[T Signed](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	for _, v := range s {
		b = AppendInt(b, int64(v))
	}
	return b
}

// AppendUints appends a slice of unsigned integers as an array, or null for nil.
func AppendUints[T Unsigned](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	for _, v := range s {
		b = AppendUint(b, uint64(v))
	}
	return b
}

// AppendFloat64s appends a slice of float64 as an array, or null for nil.
func AppendFloat64s[T ~float64](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	b = grow(b, 9*len(s))
	for _, v := range s {
		b = AppendFloat64(b, float64(v))
	}
	return b
}

// AppendFloat32s appends a slice of float32 as an array, or null for nil.
func AppendFloat32s[T ~float32](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	b = grow(b, 5*len(s))
	for _, v := range s {
		b = AppendFloat32(b, float32(v))
	}
	return b
}

// AppendBools appends a slice of bools as an array, or null for nil.
func AppendBools[T ~bool](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	for _, v := range s {
		b = AppendBool(b, bool(v))
	}
	return b
}

// AppendStrings appends a slice of strings as an array, or null for nil.
func AppendStrings[T ~string](b []byte, s []T) []byte {
	if s == nil {
		return AppendNull(b)
	}
	b = AppendArrayHeader(b, len(s))
	for _, v := range s {
		b = AppendString(b, string(v))
	}
	return b
}

// grow makes room for n more bytes so that a loop of appends does not
// reallocate on the way.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n+cap(b)/4)
	copy(nb, b)
	return nb
}
