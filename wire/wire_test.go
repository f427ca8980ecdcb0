package wire_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn/wire"
)

// The encoders must write exactly what fxamacker/cbor writes with its
// default options, so that either side of a pipe can use either library.
func TestEncodingMatchesFxamacker(t *testing.T) {
	ints := []int64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -24, -25, -256, -257, -65537, math.MinInt64}
	for _, v := range ints {
		check(t, "int", wire.AppendInt(nil, v), v)
	}
	for _, v := range []uint64{0, 23, 24, math.MaxUint64} {
		check(t, "uint", wire.AppendUint(nil, v), v)
	}
	for _, v := range []float64{0, 1.5, -2.25, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		check(t, "float64", wire.AppendFloat64(nil, v), v)
	}
	for _, v := range []float32{0, 1.5, math.MaxFloat32, float32(math.Inf(-1)), float32(math.NaN())} {
		check(t, "float32", wire.AppendFloat32(nil, v), v)
	}
	check(t, "bool", wire.AppendBool(nil, true), true)
	check(t, "bool", wire.AppendBool(nil, false), false)
	check(t, "string", wire.AppendString(nil, "héllo"), "héllo")
	check(t, "long string", wire.AppendString(nil, strings.Repeat("x", 300)), strings.Repeat("x", 300))
	check(t, "bytes", wire.AppendBytes(nil, []byte{1, 2, 3}), []byte{1, 2, 3})
	check(t, "nil bytes", wire.AppendBytes(nil, nil), []byte(nil))
	check(t, "ints", wire.AppendInts(nil, []int32{1, -2, 300}), []int32{1, -2, 300})
	check(t, "nil ints", wire.AppendInts[int](nil, nil), []int(nil))
	check(t, "uints", wire.AppendUints(nil, []uint16{1, 2, 65535}), []uint16{1, 2, 65535})
	check(t, "float64s", wire.AppendFloat64s(nil, []float64{1, 2.5}), []float64{1, 2.5})
	check(t, "float32s", wire.AppendFloat32s(nil, []float32{1, 2.5}), []float32{1, 2.5})
	check(t, "bools", wire.AppendBools(nil, []bool{true, false}), []bool{true, false})
	check(t, "strings", wire.AppendStrings(nil, []string{"a", ""}), []string{"a", ""})
}

func check(t *testing.T, what string, got []byte, v any) {
	t.Helper()
	want, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s %v: encoding differs from fxamacker/cbor (-want +got):\n%s", what, v, diff)
	}
}

// The decoder must read what fxamacker/cbor writes.
func TestDecodingReadsFxamacker(t *testing.T) {
	type rec struct {
		I   int64
		I8  int8
		U   uint32
		F   float64
		F32 float32
		B   bool
		S   string
		Raw []byte
		Fs  []float64
		Is  []int16
		Ss  []string
		Nil []int64
	}
	in := rec{I: -5, I8: -128, U: 4e9, F: 0.1, F32: 1.25, B: true, S: "x", Raw: []byte("raw"),
		Fs: []float64{1, math.Inf(-1)}, Is: []int16{-3, 3}, Ss: []string{"p", "q"}}
	data, err := cbor.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	d := wire.NewDecoder(data)
	var out rec
	n, ok := d.MapLen()
	if !ok {
		t.Fatal("not a map")
	}
	for range n {
		switch string(d.Key()) {
		case "I":
			out.I = d.Int(64)
		case "I8":
			out.I8 = int8(d.Int(8))
		case "U":
			out.U = uint32(d.Uint(32))
		case "F":
			out.F = d.Float64()
		case "F32":
			out.F32 = d.Float32()
		case "B":
			out.B = d.Bool()
		case "S":
			out.S = d.Text()
		case "Raw":
			out.Raw = d.Bytes()
		case "Fs":
			out.Fs = wire.Float64s[float64](d)
		case "Is":
			out.Is = wire.Ints[int16](d, 16)
		case "Ss":
			out.Ss = wire.Strings[string](d)
		case "Nil":
			out.Nil = wire.Ints[int64](d, 64)
		default:
			d.Skip()
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 0 {
		t.Errorf("%d bytes left", d.Len())
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

func TestDecodeHalfFloats(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want float64
	}{
		{[]byte{0xf9, 0x3c, 0x00}, 1},
		{[]byte{0xf9, 0xc4, 0x00}, -4},
		{[]byte{0xf9, 0x7b, 0xff}, 65504},
		{[]byte{0xf9, 0x00, 0x01}, 5.960464477539063e-8},
		{[]byte{0xf9, 0x7c, 0x00}, math.Inf(1)},
	} {
		if got := wire.NewDecoder(tc.in).Float64(); got != tc.want {
			t.Errorf("% x: got %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := wire.NewDecoder([]byte{0xf9, 0x7e, 0x00}).Float64(); !math.IsNaN(got) {
		t.Errorf("half NaN decoded as %v", got)
	}
}

func TestDecodeErrorsSayWhatAndWhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*wire.Decoder)
		want string
	}{
		{"empty", nil, func(d *wire.Decoder) { d.Int(64) }, "cbor: at byte 0: unexpected end of input"},
		{"overflow", wire.AppendInt(nil, 300), func(d *wire.Decoder) { d.Int(8) }, "cbor: at byte 0: integer 300 overflows int8"},
		{"negative overflow", wire.AppendInt(nil, -129), func(d *wire.Decoder) { d.Int(8) }, "cbor: at byte 0: integer -1-128 overflows int8"},
		{"negative into uint", wire.AppendInt(nil, -1), func(d *wire.Decoder) { d.Uint(64) }, "cbor: at byte 0: negative integer does not fit uint64"},
		{"wrong type", wire.AppendString(nil, "x"), func(d *wire.Decoder) { d.Float64() }, "cbor: at byte 0: expected a float, found text string"},
		{"truncated head", []byte{0x19, 0x01}, func(d *wire.Decoder) { d.Int(64) }, "cbor: at byte 0: unexpected end of input in the head of a unsigned integer"},
		{"string past end", []byte{0x65, 'a'}, func(d *wire.Decoder) { d.Text() }, "cbor: at byte 0: text string of 5 bytes runs past the end of the input"},
		{"bad utf8", []byte{0x61, 0xff}, func(d *wire.Decoder) { d.Text() }, "cbor: at byte 0: text string is not valid UTF-8"},
		{"huge array", []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, func(d *wire.Decoder) { wire.Ints[int](d, 64) }, "cbor: at byte 0: array of 18446744073709551615 items runs past the end of the input"},
		{"indefinite", []byte{0x9f, 0xff}, func(d *wire.Decoder) { d.ArrayLen() }, "cbor: at byte 0: indefinite-length array is not supported"},
		{"second item", append(wire.AppendInt(nil, 1), 0x61), func(d *wire.Decoder) { d.Int(64); d.Text() }, "cbor: at byte 1: text string of 1 bytes runs past the end of the input"},
		{"float32 overflow", wire.AppendFloat64(nil, 1e300), func(d *wire.Decoder) { d.Float32() }, "cbor: at byte 0: float 1e+300 overflows float32"},
		{"deep nesting", []byte(strings.Repeat("\x81", 100) + "\x00"), func(d *wire.Decoder) { d.Skip() }, "items nested more than 64 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := wire.NewDecoder(tc.in)
			tc.read(d)
			if d.Err() == nil || !strings.Contains(d.Err().Error(), tc.want) {
				t.Errorf("error = %v, want %q", d.Err(), tc.want)
			}
		})
	}
}

func TestErrorsAreSticky(t *testing.T) {
	d := wire.NewDecoder(append(wire.AppendString(nil, "x"), wire.AppendInt(nil, 7)...))
	if v := d.Int(64); v != 0 || d.Err() == nil {
		t.Fatalf("Int on a string = %d, %v", v, d.Err())
	}
	first := d.Err()
	if v := d.Int(64); v != 0 || d.Err() != first {
		t.Errorf("after an error, Int = %d and Err = %v; want 0 and the first error", v, d.Err())
	}
}

func TestSkipPassesOverAnyItem(t *testing.T) {
	v := map[string]any{"a": []any{1, "two", 3.0, []byte{4}, map[string]any{"x": nil}}, "b": true}
	data, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	data, err = cbor.Marshal([]any{cbor.Tag{Number: 1, Content: 5}, cbor.RawMessage(data), "end"})
	if err != nil {
		t.Fatal(err)
	}
	d := wire.NewDecoder(data)
	if n, _ := d.ArrayLen(); n != 3 {
		t.Fatalf("array of %d", n)
	}
	d.Skip()
	raw := d.Raw()
	if got := d.Text(); got != "end" || d.Err() != nil {
		t.Fatalf("after skipping, read %q, %v", got, d.Err())
	}
	var back map[string]any
	if err := cbor.Unmarshal(raw, &back); err != nil || len(back) != 2 {
		t.Errorf("Raw returned %x: %v", raw, err)
	}
}

// FuzzDecoder reads arbitrary bytes with every method: it must never panic,
// never loop, and never allocate more than the input could describe.
func FuzzDecoder(f *testing.F) {
	f.Add(wire.AppendInts(nil, []int64{1, -1, 1 << 40}))
	f.Add(wire.AppendStrings(nil, []string{"a", "bc"}))
	f.Add([]byte{0xa1, 0x61, 'k', 0xf9, 0x3c, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		readers := []func(*wire.Decoder){
			func(d *wire.Decoder) { d.Int(64) },
			func(d *wire.Decoder) { d.Int(8) },
			func(d *wire.Decoder) { d.Uint(16) },
			func(d *wire.Decoder) { d.Float64() },
			func(d *wire.Decoder) { d.Float32() },
			func(d *wire.Decoder) { d.Bool() },
			func(d *wire.Decoder) { d.Text() },
			func(d *wire.Decoder) { d.Bytes() },
			func(d *wire.Decoder) { wire.Ints[int32](d, 32) },
			func(d *wire.Decoder) { wire.Float64s[float64](d) },
			func(d *wire.Decoder) { wire.Strings[string](d) },
			func(d *wire.Decoder) { d.Raw() },
			func(d *wire.Decoder) { d.Time() },
			func(d *wire.Decoder) { d.ByteArray(make([]byte, 3)) },
			func(d *wire.Decoder) {
				if !d.Null() {
					d.Skip()
				}
			},
		}
		for _, read := range readers {
			d := wire.NewDecoder(data)
			for d.Len() > 0 && d.Err() == nil {
				before := d.Len()
				read(d)
				if d.Err() == nil && d.Len() >= before {
					t.Fatalf("read consumed nothing at offset %d of % x", d.Offset(), data)
				}
			}
		}
	})
}
