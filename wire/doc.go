// Package wire holds the CBOR primitives that sgngen's generated codecs and
// the runtime's protocol are built from.
//
// Generated code never reflects: for every frame and configuration type,
// sgngen emits a pair of functions that write a value through an [Encoder]
// and read it with a [Decoder]. The bytes are the ones
// github.com/fxamacker/cbor/v2 produces with
//
//	cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339Nano, TimeTag: cbor.EncTagRequired}
//
// (map keys and struct fields in RFC 8949's core deterministic order,
// integers in their shortest form, float64 as 8 bytes, float32 as 4, nil
// slices, maps and pointers as null, times as tagged RFC 3339 text), except
// that slices of integers and floats are RFC 8746 typed arrays, which
// fxamacker/cbor writes and reads as a cbor.Tag of their little-endian
// bytes. The decoder accepts what that library writes, numeric slices as
// arrays included, so a Go program that uses fxamacker/cbor can write
// sgn-go's frames, and read them with cbor.Tag fields for numeric slices.
// The package gen documentation has the details.
//
// The decoder is strict and never panics on bad input: the first problem
// (a truncated item, a wrong major type, an integer that does not fit) is kept
// as a sticky error, every later call returns a zero value, and [Decoder.Err]
// reports what went wrong and at which byte.
package wire
