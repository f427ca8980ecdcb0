package wire_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn/wire"
)

// coreDet is the fxamacker/cbor encoding mode whose bytes generated codecs
// write (see package gen): map keys in RFC 8949's core deterministic order,
// times as tagged RFC 3339 strings with nanoseconds.
var coreDet = func() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339Nano, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := coreDet.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bytesOf returns the memory of s, which is little-endian on every machine
// sgn-go runs on.
func bytesOf[T any](s []T) []byte {
	var zero T
	if s == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// typedCase encodes s inline, compares it with fxamacker's encoding of a
// cbor.Tag holding its bytes, and decodes it back.
func typedCase[T comparable](t *testing.T, tag uint64, s []T, enc func(*wire.Encoder, []T), dec func(*wire.Decoder) []T) {
	t.Helper()
	e := wire.NewEncoder(nil, nil)
	enc(e, s)
	var want []byte
	if s == nil {
		want = marshal(t, nil)
	} else {
		want = marshal(t, cbor.Tag{Number: tag, Content: append([]byte{}, bytesOf(s)...)})
	}
	if diff := cmp.Diff(want, e.Buf()); diff != "" {
		t.Errorf("%T %v: (-fxamacker +encoder):\n%s", s, s, diff)
	}
	d := wire.NewDecoder(e.Buf())
	got := dec(d)
	if d.Err() != nil || d.Len() != 0 {
		t.Fatalf("%T %v: decoding: %v, %d bytes left", s, s, d.Err(), d.Len())
	}
	if (got == nil) != (s == nil) || !cmp.Equal(got, s) {
		t.Errorf("%T: decoded %#v, sent %#v", s, got, s)
	}
}

func TestNumericSlicesAreTypedArrays(t *testing.T) {
	typedCase(t, 72, []int8{-128, 0, 127}, wire.EncodeInts[int8], func(d *wire.Decoder) []int8 { return wire.Ints[int8](d, 8) })
	typedCase(t, 77, []int16{-1, 300}, wire.EncodeInts[int16], func(d *wire.Decoder) []int16 { return wire.Ints[int16](d, 16) })
	typedCase(t, 78, []int32{math.MinInt32}, wire.EncodeInts[int32], func(d *wire.Decoder) []int32 { return wire.Ints[int32](d, 32) })
	typedCase(t, 79, []int64{math.MaxInt64, -5}, wire.EncodeInts[int64], func(d *wire.Decoder) []int64 { return wire.Ints[int64](d, 64) })
	typedCase(t, 79, []int{1 << 40}, wire.EncodeInts[int], func(d *wire.Decoder) []int { return wire.Ints[int](d, 64) })
	typedCase(t, 69, []uint16{65535}, wire.EncodeUints[uint16], func(d *wire.Decoder) []uint16 { return wire.Uints[uint16](d, 16) })
	typedCase(t, 70, []uint32{1 << 31}, wire.EncodeUints[uint32], func(d *wire.Decoder) []uint32 { return wire.Uints[uint32](d, 32) })
	typedCase(t, 71, []uint64{math.MaxUint64}, wire.EncodeUints[uint64], func(d *wire.Decoder) []uint64 { return wire.Uints[uint64](d, 64) })
	typedCase(t, 85, []float32{1.5, float32(math.Inf(-1))}, wire.EncodeFloat32s[float32], wire.Float32s[float32])
	typedCase(t, 86, []float64{-0.1, math.MaxFloat64}, wire.EncodeFloat64s[float64], wire.Float64s[float64])
	typedCase(t, 86, []float64{}, wire.EncodeFloat64s[float64], wire.Float64s[float64])
	typedCase(t, 86, nil, wire.EncodeFloat64s[float64], wire.Float64s[float64])
}

func TestTimeMatchesFxamacker(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	for _, v := range []time.Time{
		{},
		time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 0, 0, east),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("west", -(23*3600+59*60))),
		time.Unix(1700000000, 5).In(time.Local),
	} {
		e := wire.NewEncoder(nil, nil)
		e.Time(v)
		if e.Err() != nil {
			t.Fatalf("%v: %v", v, e.Err())
		}
		if diff := cmp.Diff(marshal(t, v), e.Buf()); diff != "" {
			t.Errorf("%v: (-fxamacker +encoder):\n%s", v, diff)
		}
		d := wire.NewDecoder(e.Buf())
		if got := d.Time(); d.Err() != nil || !got.Equal(v) {
			t.Errorf("%v decoded as %v, %v", v, got, d.Err())
		}
	}
	for _, v := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600)),
	} {
		e := wire.NewEncoder(nil, nil)
		e.Time(v)
		if _, err := coreDet.Marshal(v); err == nil || e.Err() == nil || !strings.Contains(e.Err().Error(), "RFC 3339 cannot write") {
			t.Errorf("%v: encoder error %v, fxamacker's %v; want both to fail", v, e.Err(), err)
		}
	}
}

// The decoder reads times in every form fxamacker/cbor reads them.
func TestTimeDecodesFxamackerForms(t *testing.T) {
	for _, v := range []any{
		"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.5+01:00",
		cbor.Tag{Number: 0, Content: "1999-12-31T23:59:59.999999999-08:00"},
		int64(1700000000), int64(-86400), cbor.Tag{Number: 1, Content: 1700000000},
		1700000000.25, float32(-1.5), math.Inf(1), nil,
	} {
		b := marshal(t, v)
		var want time.Time
		if err := cbor.Unmarshal(b, &want); err != nil {
			t.Fatalf("fxamacker cannot read %v: %v", v, err)
		}
		d := wire.NewDecoder(b)
		got := d.Time()
		if d.Err() != nil || d.Len() != 0 || !got.Equal(want) {
			t.Errorf("%v (%x): decoded %v, %v; fxamacker reads %v", v, b, got, d.Err(), want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"yesterday", `text "yesterday" is not an RFC 3339 time`},
		{cbor.Tag{Number: 2, Content: []byte{1}}, "expected a time, found tag 2"},
		{true, "expected a time, found bool"},
		{int64(1) << 60, "its year is outside 0000 to 9999"},
	} {
		d := wire.NewDecoder(marshal(t, tc.v))
		if got := d.Time(); d.Err() == nil || !strings.Contains(d.Err().Error(), tc.want) {
			t.Errorf("%v: decoded %v, %v; want an error saying %q", tc.v, got, d.Err(), tc.want)
		}
	}
}

// Maps written in the order of StringKeys, IntKeys and UintKeys are the
// bytes fxamacker writes with SortCoreDeterministic.
func TestMapKeyOrderMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	strs := map[string]int64{}
	for range 200 {
		n := r.IntN(30)
		if r.IntN(10) == 0 {
			n = 250 + r.IntN(20) // two-byte and three-byte length heads
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = "aAzZ0é"[r.IntN(6)]
		}
		strs[string(b)] = r.Int64()
	}
	strs[""] = 1
	e := wire.NewEncoder(nil, nil)
	e.MapHeader(len(strs))
	for _, k := range wire.StringKeys(strs) {
		e.Text(k)
		e.Int(strs[k])
	}
	if diff := cmp.Diff(marshal(t, strs), e.Buf()); diff != "" {
		t.Errorf("string keys (-fxamacker +encoder):\n%s", diff)
	}

	ints := map[int64]bool{math.MinInt64: true, math.MaxInt64: false, 0: true, -1: true, -24: true, -25: false, 23: true, 24: false, -256: true, -257: true, 65536: true}
	for range 100 {
		ints[r.Int64()>>r.IntN(64)] = true
		ints[-(r.Int64() >> r.IntN(64))] = false
	}
	e = wire.NewEncoder(nil, nil)
	e.MapHeader(len(ints))
	for _, k := range wire.IntKeys(ints) {
		e.Int(k)
		e.Bool(ints[k])
	}
	if diff := cmp.Diff(marshal(t, ints), e.Buf()); diff != "" {
		t.Errorf("int keys (-fxamacker +encoder):\n%s", diff)
	}

	uints := map[uint8]string{0: "a", 255: "b", 23: "c", 24: "d"}
	e = wire.NewEncoder(nil, nil)
	e.MapHeader(len(uints))
	for _, k := range wire.UintKeys(uints) {
		e.Uint(uint64(k))
		e.Text(uints[k])
	}
	if diff := cmp.Diff(marshal(t, uints), e.Buf()); diff != "" {
		t.Errorf("uint keys (-fxamacker +encoder):\n%s", diff)
	}
}

func TestByteArraysAsFxamacker(t *testing.T) {
	v := [4]byte{1, 2, 3, 4}
	e := wire.NewEncoder(nil, nil)
	e.ByteArray(v[:])
	if diff := cmp.Diff(marshal(t, v), e.Buf()); diff != "" {
		t.Errorf("(-fxamacker +encoder):\n%s", diff)
	}
	for _, in := range []any{[]byte{9}, []byte{9, 8, 7, 6, 5, 4}, []int{7, 200}, nil} {
		b := marshal(t, in)
		want := [4]byte{1, 1, 1, 1}
		if err := cbor.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got := [4]byte{1, 1, 1, 1}
		d := wire.NewDecoder(b)
		d.ByteArray(got[:])
		if d.Err() != nil || got != want {
			t.Errorf("%v: decoded %v, %v; fxamacker reads %v", in, got, d.Err(), want)
		}
	}
}

func TestNullConsumesOnlyNull(t *testing.T) {
	d := wire.NewDecoder([]byte{0xf6, 0xf7, 0x01})
	if !d.Null() || !d.Null() || d.Null() || d.Int(64) != 1 || d.Err() != nil {
		t.Errorf("Null on null, undefined, 1: wrong, %v", d.Err())
	}
}

// Inline typed arrays of every length decode into slices of their own,
// aligned for their elements, whatever the message's alignment.
func TestInlineTypedArraysOfEveryLength(t *testing.T) {
	for n := range 40 {
		i16 := make([]int16, n)
		f32 := make([]float32, n)
		i64 := make([]int64, n)
		for i := range n {
			i16[i], f32[i], i64[i] = int16(-i), float32(i)+0.5, int64(i)<<40
		}
		for pad := range 8 { // shift the message by pad bytes
			e := wire.NewEncoder(make([]byte, pad), nil)
			wire.EncodeInts(e, i16)
			wire.EncodeFloat32s(e, f32)
			wire.EncodeInts(e, i64)
			d := wire.NewDecoder(e.Buf()[pad:])
			g16, g32, g64 := wire.Ints[int16](d, 16), wire.Float32s[float32](d), wire.Ints[int64](d, 64)
			if d.Err() != nil || !cmp.Equal(g16, i16) || !cmp.Equal(g32, f32) || !cmp.Equal(g64, i64) {
				t.Fatalf("%d elements at offset %d: %v %v %v, %v", n, pad, g16, g32, g64, d.Err())
			}
			if n > 0 && (uintptr(unsafe.Pointer(&g16[0]))%2 != 0 || uintptr(unsafe.Pointer(&g32[0]))%4 != 0 || uintptr(unsafe.Pointer(&g64[0]))%8 != 0) {
				t.Fatalf("%d elements: decoded slices are not aligned", n)
			}
			if n > 0 && (cap(g16) != n || cap(g32) != n || cap(g64) != n) {
				t.Fatalf("%d elements: capacities %d %d %d", n, cap(g16), cap(g32), cap(g64))
			}
		}
	}
}
