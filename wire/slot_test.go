package wire_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn/wire"
)

// pool is a stand-in for a shared-memory pool: slots of one size in one
// allocation. It places slices of at least min bytes, in place if they are
// already in a slot, else copied into the next slot; it resolves only
// descriptors of slots it handed out, at their current generation.
type pool struct {
	mem    []byte
	size   int
	min    int
	next   int
	gens   []uint32
	placed []wire.Slot
}

func newPool(slots, size, min int) *pool {
	return &pool{mem: make([]byte, slots*size), size: size, min: min, gens: make([]uint32, slots)}
}

func (p *pool) slot(i int) []byte { return p.mem[i*p.size : (i+1)*p.size] }

func (p *pool) Place(b []byte) (wire.Slot, bool, error) {
	if len(b) < p.min {
		return wire.Slot{}, false, nil
	}
	if len(b) > p.size {
		return wire.Slot{}, false, nil
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(p.mem)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	var s wire.Slot
	if at >= start && at < start+uintptr(len(p.mem)) {
		off := int(at - start)
		i := off / p.size
		s = wire.Slot{Index: uint32(i), Gen: p.gens[i], Offset: uint64(off - i*p.size), Len: uint64(len(b))}
	} else {
		if p.next == len(p.gens) {
			return wire.Slot{}, false, errors.New("pool exhausted")
		}
		i := p.next
		p.next++
		copy(p.slot(i), b)
		s = wire.Slot{Index: uint32(i), Gen: p.gens[i], Len: uint64(len(b))}
	}
	p.placed = append(p.placed, s)
	return s, true, nil
}

func (p *pool) Resolve(s wire.Slot) ([]byte, error) {
	if int(s.Index) >= len(p.gens) || s.Gen != p.gens[s.Index] {
		return nil, fmt.Errorf("stale or forged %v", s)
	}
	if s.Offset > uint64(p.size) || s.Len > uint64(p.size)-s.Offset {
		return nil, fmt.Errorf("%v runs past the end of its slot", s)
	}
	return p.slot(int(s.Index))[s.Offset : s.Offset+s.Len], nil
}

func aliases[T any](a, b []T) bool {
	return len(a) > 0 && len(b) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// Without a Placer an Encoder writes everything inline: numeric slices as
// RFC 8746 typed arrays, which fxamacker/cbor writes for a cbor.Tag of
// their little-endian bytes, the rest as fxamacker/cbor writes it.
func TestEncoderWithoutPlacerMatchesFxamacker(t *testing.T) {
	e := wire.NewEncoder(nil, nil)
	e.MapHeader(3)
	e.Text("b")
	e.Bytes(make([]byte, 100))
	e.Text("f")
	wire.EncodeFloat64s(e, []float64{1, math.Inf(1), -2.5})
	e.Text("i")
	wire.EncodeInts(e, []int16{-1, 300})
	f64 := []float64{1, math.Inf(1), -2.5}
	i16 := []int16{-1, 300}
	want, err := coreDet.Marshal(map[string]any{
		"f": cbor.Tag{Number: 86, Content: unsafe.Slice((*byte)(unsafe.Pointer(&f64[0])), 24)},
		"b": make([]byte, 100),
		"i": cbor.Tag{Number: 77, Content: unsafe.Slice((*byte)(unsafe.Pointer(&i16[0])), 4)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, e.Buf()); diff != "" {
		t.Errorf("(-fxamacker +encoder):\n%s", diff)
	}
}

// Large slices go through the Placer and come back, through the Resolver,
// as slices of the pool's memory: no copy on either side for data that is
// in the pool already.
func TestLargeSlicesTravelAsSlotsAndDecodeWithoutCopying(t *testing.T) {
	p := newPool(8, 1024, 16)
	floats := make([]float64, 100)
	for i := range floats {
		floats[i] = float64(i) / 3
	}
	inPool := unsafe.Slice((*float32)(unsafe.Pointer(&p.slot(5)[64])), 50)
	for i := range inPool {
		inPool[i] = float32(-i)
	}
	ints := []int64{1, 2, 3, 4, 5, 6}
	small := []float64{1, 2} // 16 bytes: placed too (min is 16)
	tiny := []byte{1, 2, 3}

	e := wire.NewEncoder(nil, p)
	wire.EncodeFloat64s(e, floats)
	wire.EncodeFloat32s(e, inPool)
	wire.EncodeInts(e, ints)
	wire.EncodeFloat64s(e, small)
	e.Bytes(tiny)
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	if len(p.placed) != 4 {
		t.Fatalf("placed %d slices, want 4: %v", len(p.placed), p.placed)
	}
	if s := p.placed[1]; s.Index != 5 || s.Offset != 64 || s.Len != 200 {
		t.Errorf("a slice already in slot 5 was placed as %v, want slot 5, bytes 64 to 264", s)
	}

	d := wire.NewDecoder(e.Buf())
	d.SetResolver(p)
	gotFloats := wire.Float64s[float64](d)
	gotInPool := wire.Float32s[float32](d)
	gotInts := wire.Ints[int64](d, 64)
	gotSmall := wire.Float64s[float64](d)
	gotTiny := d.Bytes()
	if d.Err() != nil || d.Len() != 0 {
		t.Fatalf("decoding: %v, %d bytes left", d.Err(), d.Len())
	}
	if diff := cmp.Diff(floats, gotFloats); diff != "" {
		t.Errorf("float64s (-sent +received):\n%s", diff)
	}
	if !aliases(gotInPool, inPool) {
		t.Errorf("float32s in the pool were copied on the way")
	}
	if diff := cmp.Diff(ints, gotInts); diff != "" {
		t.Errorf("ints (-sent +received):\n%s", diff)
	}
	if diff := cmp.Diff(small, gotSmall); diff != "" {
		t.Errorf("small floats (-sent +received):\n%s", diff)
	}
	if diff := cmp.Diff(tiny, gotTiny); diff != "" {
		t.Errorf("tiny bytes (-sent +received):\n%s", diff)
	}
	slot0 := p.slot(int(p.placed[0].Index))
	if &slot0[0] != (*byte)(unsafe.Pointer(&gotFloats[0])) {
		t.Errorf("decoded float64s do not alias the slot they were copied into")
	}
}

func TestBytesInASlotAliasTheSlot(t *testing.T) {
	p := newPool(2, 64, 8)
	b := wire.AppendSlot(nil, wire.Slot{Index: 1, Offset: 8, Len: 16})
	d := wire.NewDecoder(b)
	d.SetResolver(p)
	got := d.Bytes()
	if d.Err() != nil || len(got) != 16 || &got[0] != &p.slot(1)[8] {
		t.Fatalf("Bytes = %d bytes at %p, %v; want the 16 bytes at %p", len(got), got, d.Err(), &p.slot(1)[8])
	}
}

// Inline typed arrays (RFC 8746, a tag and a byte string) decode into new
// slices.
func TestInlineTypedArraysDecode(t *testing.T) {
	want := []float32{1.5, -2, 3}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&want[0])), 12)
	data, err := cbor.Marshal(cbor.Tag{Number: 85, Content: raw})
	if err != nil {
		t.Fatal(err)
	}
	d := wire.NewDecoder(data)
	got := wire.Float32s[float32](d)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if aliases(got, want) {
		t.Errorf("an inline typed array must be copied out of the message")
	}
}

// A descriptor the Resolver refuses, one of the wrong shape, or a typed
// array of the wrong element type is a decoding error, never a read of
// memory outside the pool.
func TestBadDescriptorsAreErrors(t *testing.T) {
	p := newPool(2, 64, 8)
	p.gens[1] = 3
	slot := func(s wire.Slot) []byte { return wire.AppendSlot(nil, s) }
	typed := func(tag uint64, inner []byte) []byte {
		b, err := cbor.Marshal(cbor.Tag{Number: tag, Content: cbor.RawMessage(inner)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
		read func(*wire.Decoder)
		want string
	}{
		{"slot that does not exist", slot(wire.Slot{Index: 9, Len: 8}), func(d *wire.Decoder) { d.Bytes() }, "stale or forged"},
		{"stale generation", slot(wire.Slot{Index: 1, Gen: 2, Len: 8}), func(d *wire.Decoder) { d.Bytes() }, "stale or forged"},
		{"past the slot's end", slot(wire.Slot{Index: 0, Offset: 60, Len: 8}), func(d *wire.Decoder) { d.Bytes() }, "past the end"},
		{"huge offset", slot(wire.Slot{Index: 0, Offset: math.MaxUint64, Len: 2}), func(d *wire.Decoder) { d.Bytes() }, "past the end"},
		{"float64s tagged as float32s", typed(85, slot(wire.Slot{Len: 16})), func(d *wire.Decoder) { wire.Float64s[float64](d) }, "tag 86, found tag 85"},
		{"partial element", typed(86, slot(wire.Slot{Len: 12})), func(d *wire.Decoder) { wire.Float64s[float64](d) }, "whole 8-byte elements"},
		{"misaligned", typed(86, slot(wire.Slot{Offset: 4, Len: 8})), func(d *wire.Decoder) { wire.Float64s[float64](d) }, "not aligned"},
		{"descriptor of three fields", typed(wire.TagSlot, wire.AppendInts(nil, []int64{0, 0, 8})), func(d *wire.Decoder) { d.Bytes() }, "array of 4"},
		{"another tag for bytes", typed(2, wire.AppendBytes(nil, []byte{1})), func(d *wire.Decoder) { d.Bytes() }, "found tag 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := wire.NewDecoder(tc.data)
			d.SetResolver(p)
			tc.read(d)
			if d.Err() == nil || !strings.Contains(d.Err().Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", d.Err(), tc.want)
			}
		})
	}
	t.Run("no resolver", func(t *testing.T) {
		d := wire.NewDecoder(slot(wire.Slot{Len: 8}))
		if d.Bytes(); d.Err() == nil || !strings.Contains(d.Err().Error(), "where no slot descriptor may be") {
			t.Errorf("error = %v", d.Err())
		}
	})
}

func TestWalkSlotsFindsEveryDescriptor(t *testing.T) {
	p := newPool(4, 256, 8)
	e := wire.NewEncoder(nil, p)
	e.MapHeader(3)
	e.Text("a")
	wire.EncodeFloat64s(e, make([]float64, 4))
	e.Text("nested")
	e.ArrayHeader(2)
	e.Bytes(make([]byte, 10))
	e.MapHeader(1)
	e.Text("deep")
	wire.EncodeUints(e, make([]uint32, 8))
	e.Text("small")
	e.Bytes([]byte{1})
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	meta, _ := cbor.Marshal(map[string]any{"x": cbor.Tag{Number: 7, Content: "y"}})
	body := append(e.Buf(), meta...)
	var found []wire.Slot
	if err := wire.WalkSlots(body, func(s wire.Slot) error { found = append(found, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.placed, found); diff != "" {
		t.Errorf("(-placed +found):\n%s", diff)
	}
	stop := errors.New("refused")
	if err := wire.WalkSlots(body, func(wire.Slot) error { return stop }); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("WalkSlots with a failing fn = %v", err)
	}
	if err := wire.WalkSlots(body[:len(body)-3], func(wire.Slot) error { return nil }); err == nil {
		t.Errorf("WalkSlots of a truncated body succeeded")
	}
}

// A Placer that fails abandons the encoding with its error.
func TestPlacerErrorIsSticky(t *testing.T) {
	p := newPool(1, 64, 8)
	e := wire.NewEncoder(nil, p)
	e.Bytes(make([]byte, 8))
	e.Bytes(make([]byte, 8)) // no slot left
	e.Int(1)
	if e.Err() == nil || !strings.Contains(e.Err().Error(), "exhausted") {
		t.Errorf("Err = %v, want the placer's error", e.Err())
	}
}

// FuzzSlots decodes arbitrary bytes with a resolver over a small pool:
// whatever the descriptors say, nothing outside the pool is ever returned.
func FuzzSlots(f *testing.F) {
	f.Add(wire.AppendSlot(nil, wire.Slot{Index: 1, Offset: 8, Len: 16}))
	f.Add(append([]byte{0xd8, 86}, wire.AppendSlot(nil, wire.Slot{Len: 16})...))
	f.Add(append([]byte{0xd8, 85, 0x48}, make([]byte, 8)...))
	p := newPool(2, 64, 8)
	start := uintptr(unsafe.Pointer(&p.mem[0]))
	inPool := func(b []byte) bool {
		if len(b) == 0 {
			return true
		}
		at := uintptr(unsafe.Pointer(&b[0]))
		return at >= start && at+uintptr(len(b)) <= start+uintptr(len(p.mem))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := wire.NewDecoder(data)
		d.SetResolver(p)
		if b := d.Bytes(); d.Err() == nil && len(data) > 2 && data[0] == 0xda && !inPool(b) {
			t.Fatalf("slot bytes outside the pool")
		}
		for _, read := range []func(*wire.Decoder){
			func(d *wire.Decoder) { wire.Float64s[float64](d) },
			func(d *wire.Decoder) { wire.Float32s[float32](d) },
			func(d *wire.Decoder) { wire.Ints[int16](d, 16) },
			func(d *wire.Decoder) { wire.Uints[uint64](d, 64) },
		} {
			d := wire.NewDecoder(data)
			d.SetResolver(p)
			read(d)
		}
		wire.WalkSlots(data, func(s wire.Slot) error {
			b, err := p.Resolve(s)
			if err == nil && !inPool(b) {
				t.Fatalf("%v resolved outside the pool", s)
			}
			return err
		})
	})
}

// Inline turns a body with slots into one that carries the same values in
// the message.
func TestInlineReplacesDescriptorsWithTheirPayloads(t *testing.T) {
	p := newPool(4, 256, 8)
	floats := []float64{1.5, -2, 3, 4}
	e := wire.NewEncoder(nil, p)
	e.MapHeader(2)
	e.Text("f")
	wire.EncodeFloat64s(e, floats)
	e.Text("b")
	e.Bytes([]byte("some bytes here"))
	if len(p.placed) != 2 {
		t.Fatalf("placed %d slices", len(p.placed))
	}
	inline, err := wire.Inline(e.Buf(), p.Resolve)
	if err != nil {
		t.Fatal(err)
	}
	if wire.WalkSlots(inline, func(wire.Slot) error { return errors.New("a slot is left") }) != nil {
		t.Fatal("Inline left a descriptor")
	}
	clear(p.mem) // the values must not come from the pool any more
	d := wire.NewDecoder(inline)
	n, _ := d.MapLen()
	if n != 2 || d.Text() != "f" {
		t.Fatalf("bad map")
	}
	if got := wire.Float64s[float64](d); !cmp.Equal(got, floats) {
		t.Errorf("floats %v, want %v", got, floats)
	}
	if d.Text(); string(d.Bytes()) != "some bytes here" || d.Err() != nil {
		t.Errorf("bytes, %v", d.Err())
	}
}
