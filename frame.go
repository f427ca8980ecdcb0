package sgn

import (
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// A Frame is one unit of data on a pad: SGN's Frame(data, EOS, is_gap,
// metadata).
//
// Frames are passed by value; Data is not copied, so a slice or map in it is
// shared by every consumer of an in-process link (as SGN shares its frame
// objects). A frame that crosses a process boundary is a copy.
type Frame[T any] struct {
	Data T
	EOS  bool           // the last frame on its pad
	Gap  bool           // Data holds no meaningful values for this span
	Meta map[string]any // optional metadata; must be CBOR-encodable to cross a process boundary
}

// Metadata that crosses a process boundary is decoded into these Go types:
// integers as int64, floats as float64, text as string, byte strings as
// []byte, arrays as []any and maps as map[string]any.

// A Codec encodes and decodes values of one frame or configuration type as
// CBOR. sgngen generates one for every type that a pad carries; users do not
// write them.
type Codec[T any] struct {
	Encode func(w *wire.Encoder, v *T)
	Decode func(d *wire.Decoder, v *T)
}

var metaDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DefaultMapType: reflect.TypeFor[map[string]any](),
		IntDec:         cbor.IntDecConvertSigned,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// appendFrame appends f as the runtime's frame body: flags, data and, when
// present, metadata (encoded in advance by encodeMeta).
func (c *Codec[T]) appendFrame(b []byte, f *Frame[T], meta []byte) []byte {
	var flags uint64
	if f.EOS {
		flags |= runtime.FlagEOS
	}
	if f.Gap {
		flags |= runtime.FlagGap
	}
	b = wire.AppendUint(b, flags)
	w := wire.NewEncoder(b, nil)
	c.Encode(w, &f.Data)
	return append(w.Buf(), meta...)
}

// encodeMeta encodes a frame's metadata, or returns nil if it has none.
func encodeMeta(m map[string]any) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	b, err := cbor.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("frame metadata cannot cross a process boundary: %w", err)
	}
	return b, nil
}

// decodeFrame decodes a frame body written by appendFrame into f, with d,
// which it resets. Callers keep d and f per pad, so that nothing is
// allocated per frame.
func (c *Codec[T]) decodeFrame(d *wire.Decoder, body []byte, f *Frame[T]) error {
	*f = Frame[T]{}
	d.Reset(body)
	flags := d.Uint(64)
	f.EOS = flags&runtime.FlagEOS != 0
	f.Gap = flags&runtime.FlagGap != 0
	c.Decode(d, &f.Data)
	if d.Err() == nil && d.Len() > 0 {
		if err := metaDecMode.Unmarshal(d.Raw(), &f.Meta); err != nil {
			return fmt.Errorf("decoding frame metadata: %w", err)
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("decoding frame: %w", err)
	}
	if d.Len() > 0 {
		return fmt.Errorf("decoding frame: %d bytes left over", d.Len())
	}
	return nil
}
