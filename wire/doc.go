// Package wire holds the CBOR primitives that sgngen's generated codecs and
// the runtime's protocol are built from.
//
// Generated code never reflects: for every frame and configuration type,
// sgngen emits a pair of functions that call the Append* functions below to
// encode a value and a [Decoder] to decode it. The bytes are the ones
// github.com/fxamacker/cbor/v2 produces with its default options (structs as
// maps keyed by field name in declaration order, integers in their shortest
// form, float64 as 8 bytes, float32 as 4, nil slices as null), and the
// decoder accepts what that library writes, so a Go program that uses
// fxamacker/cbor can read and write sgn-go's frames.
//
// The decoder is strict and never panics on bad input: the first problem
// (a truncated item, a wrong major type, an integer that does not fit) is kept
// as a sticky error, every later call returns a zero value, and [Decoder.Err]
// reports what went wrong and at which byte.
package wire
