package cbortest

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/sgn-go/sgn/wire"
)

// block is the frame the codec benchmarks encode and decode: 1024 float32
// samples and five scalars.
func block() Block {
	v := Block{Seq: 1 << 20, Rate: 48000, Gain: 0.5, Channel: "left", Valid: true, Samples: make([]float32, 1024)}
	for i := range v.Samples {
		v.Samples[i] = float32(i) * 1.1
	}
	return v
}

// BenchmarkCodecEncode encodes a Block with its generated codec into a
// buffer reused from one frame to the next, as a source pad does.
func BenchmarkCodecEncode(b *testing.B) {
	v := block()
	w := wire.NewEncoder(nil, nil)
	buf := make([]byte, 0, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(buf[:0], nil)
		sgnCodecBlock.Encode(w, &v)
	}
	b.ReportMetric(float64(len(w.Buf())), "msgbytes")
}

// BenchmarkCodecDecode decodes a Block with its generated codec into a
// zeroed frame, as a sink pad does: a new slice of samples, and the
// channel's string, each time.
func BenchmarkCodecDecode(b *testing.B) {
	v := block()
	msg := encodeBlock(&v)
	var d wire.Decoder
	var got Block
	b.ReportAllocs()
	for b.Loop() {
		d.Reset(msg)
		got = Block{}
		sgnCodecBlock.Decode(&d, &got)
		if d.Err() != nil || len(got.Samples) != len(v.Samples) {
			b.Fatalf("decoded %d samples: %v", len(got.Samples), d.Err())
		}
	}
}

// BenchmarkCodecReflectEncode encodes the same Block with fxamacker/cbor's
// reflection, in the mode the generated codecs match, into a reused buffer.
func BenchmarkCodecReflectEncode(b *testing.B) {
	v := block()
	em, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339Nano, TimeTag: cbor.EncTagRequired}.UserBufferEncMode()
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := em.MarshalToBuffer(v, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "msgbytes")
}

// BenchmarkCodecReflectDecode decodes what BenchmarkCodecReflectEncode
// writes with fxamacker/cbor's reflection.
func BenchmarkCodecReflectDecode(b *testing.B) {
	v := block()
	msg, err := coreDet.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	var got Block
	b.ReportAllocs()
	for b.Loop() {
		got = Block{}
		if err := cbor.Unmarshal(msg, &got); err != nil || len(got.Samples) != len(v.Samples) {
			b.Fatalf("decoded %d samples: %v", len(got.Samples), err)
		}
	}
}

func encodeBlock(v *Block) []byte {
	w := wire.NewEncoder(nil, nil)
	sgnCodecBlock.Encode(w, v)
	return w.Buf()
}

// The benchmarks' frame survives its codec, which agrees with
// fxamacker/cbor.
func TestBlockCodec(t *testing.T) {
	v := block()
	msg := encodeBlock(&v)
	if want := theirs(t, v); !bytes.Equal(msg, want) {
		t.Fatalf("ours   %x\ntheirs %x", msg, want)
	}
	var got Block
	d := wire.NewDecoder(msg)
	sgnCodecBlock.Decode(d, &got)
	if d.Err() != nil || got.Channel != v.Channel || got.Seq != v.Seq || !slicesEqual(got.Samples, v.Samples) {
		t.Errorf("decoded %+v, %v", got, d.Err())
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
