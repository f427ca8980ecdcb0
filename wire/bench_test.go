package wire_test

import (
	"testing"

	"github.com/sgn-go/sgn/wire"
)

// BenchmarkInlineNumbers compares the two forms a slice of 1024 float32
// can have inline: a CBOR array of floats (what fxamacker/cbor writes for a
// []float32, 5 bytes an element) and an RFC 8746 typed array (its memory,
// 4 bytes an element), which generated codecs write.
func BenchmarkInlineNumbers(b *testing.B) {
	s := make([]float32, 1024)
	for i := range s {
		s[i] = float32(i) * 1.1
	}
	array := wire.AppendFloat32s(nil, s)
	w := wire.NewEncoder(nil, nil)
	wire.EncodeFloat32s(w, s)
	typed := w.Buf()
	buf := make([]byte, 0, 8<<10)
	b.Run("array/encode", func(b *testing.B) {
		b.SetBytes(4096)
		for b.Loop() {
			buf = wire.AppendFloat32s(buf[:0], s)
		}
		b.ReportMetric(float64(len(array)), "msgbytes")
	})
	b.Run("typed/encode", func(b *testing.B) {
		b.SetBytes(4096)
		for b.Loop() {
			w.Reset(buf[:0], nil)
			wire.EncodeFloat32s(w, s)
		}
		b.ReportMetric(float64(len(typed)), "msgbytes")
	})
	var d wire.Decoder
	for name, msg := range map[string][]byte{"array/decode": array, "typed/decode": typed} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4096)
			for b.Loop() {
				d.Reset(msg)
				if got := wire.Float32s[float32](&d); len(got) != len(s) || d.Err() != nil {
					b.Fatalf("decoded %d floats, %v", len(got), d.Err())
				}
			}
		})
	}
}
