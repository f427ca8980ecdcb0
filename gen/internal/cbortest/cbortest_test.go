package cbortest

import (
	"bytes"
	"math"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sgn-go/sgn/wire"
)

// full returns an All with every field set, to values that exercise each
// encoding's edges (the widths of integer heads, negative numbers, floats
// of both widths and their special values, text outside ASCII).
func full() All {
	return All{
		I: -1 << 40, I8: math.MinInt8, I16: math.MaxInt16, I32: -70000, I64: math.MinInt64,
		U: 1 << 40, U8: math.MaxUint8, U16: 256, U32: math.MaxUint32, U64: math.MaxUint64,
		F32: 1.5, F64: -0.1, B: true, S: "héllo, 世界",
		Raw:  []byte{0, 1, 2, 255},
		Is:   []int{0, -1, 23, 24, -25, 1 << 33},
		I8s:  []int8{-128, 127},
		I16s: []int16{-300, 300},
		I32s: []int32{math.MinInt32},
		I64s: []int64{math.MaxInt64},
		Us:   []uint{0, 23, 24, 255, 256, 65535, 65536},
		U16s: []uint16{math.MaxUint16},
		U32s: []uint32{1 << 31},
		U64s: []uint64{1 << 63},
		F32s: []float32{float32(math.Inf(1)), -2.25, float32(math.NaN())},
		F64s: []float64{math.Inf(-1), math.SmallestNonzeroFloat64, math.NaN(), math.Copysign(0, -1)},
		Bs:   []bool{true, false},
		Ss:   []string{"", "a", string(make([]byte, 300))},
		Temp: -40, Temps: []Celsius{36.6},
		Blob: Blob("blob"), Smp: Samples{1, -1},
		Lvl: "high", Lvls: []Level{"low", "high"},
		At:    Point{X: 1, Y: 2, Label: "here"},
		Path:  []Point{{X: 3}, {Label: "there"}},
		Grid:  [][]float64{{1, 2}, nil, {}},
		Words: [][]string{{"a"}, nil},
		Blobs: [][]byte{{1}, nil, {}},
		Inner: Inner{Depth: 2, Points: []Point{{Y: -1}}},
		Note:  "note", Kind: "kind",
	}
}

// values are the All values that both codecs must agree on.
func values() map[string]All {
	empty := All{
		Raw: []byte{}, Is: []int{}, F64s: []float64{}, Ss: []string{}, Path: []Point{},
		Grid: [][]float64{}, Blob: Blob{}, Smp: Samples{},
	}
	return map[string]All{"zero": {}, "full": full(), "empty slices": empty}
}

// same compares decoded values: NaN equals NaN, fields that do not travel
// (unexported, or tagged cbor:"-") are ignored.
var same = cmp.Options{
	cmpopts.EquateNaNs(),
	cmpopts.IgnoreUnexported(All{}, Empty{}),
	cmpopts.IgnoreFields(All{}, "Skip"),
}

func TestFramesEncodeAsFxamackerDoes(t *testing.T) {
	for name, v := range values() {
		t.Run(name, func(t *testing.T) {
			v.Skip, v.hidden = "not sent", 7
			ours := encode(&v)
			theirs, err := cbor.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, theirs) {
				t.Fatalf("sgngen's codec and cbor.Marshal disagree:\nours   %x\ntheirs %x", ours, theirs)
			}

			var fromTheirs All
			d := wire.NewDecoder(theirs)
			sgnCodecAll.Decode(d, &fromTheirs)
			if d.Err() != nil || d.Len() != 0 {
				t.Fatalf("decoding cbor.Marshal's bytes: err %v, %d bytes left", d.Err(), d.Len())
			}
			if diff := cmp.Diff(v, fromTheirs, same); diff != "" {
				t.Errorf("our decoder on cbor.Marshal's bytes (-sent +got):\n%s", diff)
			}

			var fromOurs All
			if err := cbor.Unmarshal(ours, &fromOurs); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(v, fromOurs, same); diff != "" {
				t.Errorf("cbor.Unmarshal on our bytes (-sent +got):\n%s", diff)
			}
		})
	}
}

// A newer writer may send fields an older reader does not know: they are
// skipped, whatever their type.
func TestDecoderSkipsUnknownKeys(t *testing.T) {
	type newer struct {
		Extra1 map[string][]int
		I      int
		Extra2 []any
		At     Point
		Extra3 float64
	}
	b, err := cbor.Marshal(newer{Extra1: map[string][]int{"x": {1}}, I: 5, Extra2: []any{"a", 1.5, nil}, At: Point{X: 9}, Extra3: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got All
	d := wire.NewDecoder(b)
	sgnCodecAll.Decode(d, &got)
	if d.Err() != nil || d.Len() != 0 {
		t.Fatalf("err %v, %d bytes left", d.Err(), d.Len())
	}
	if diff := cmp.Diff(All{I: 5, At: Point{X: 9}}, got, same); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

func TestDecoderRejectsWhatDoesNotFit(t *testing.T) {
	for name, v := range map[string]any{
		"int8 overflow":    map[string]int{"I8": 128},
		"negative uint":    map[string]int{"U": -1},
		"string for int":   map[string]string{"I": "1"},
		"int for string":   map[string]int{"S": 1},
		"map for slice":    map[string]map[string]int{"Is": {}},
		"float32 overflow": map[string]float64{"F32": 1e300},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := cbor.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var got All
			d := wire.NewDecoder(b)
			sgnCodecAll.Decode(d, &got)
			if d.Err() == nil {
				t.Errorf("decoding %x into All succeeded: %+v", b, got)
			}
		})
	}
}

// configFields mirrors Everything's configuration fields, for cbor.Marshal.
type configFields struct {
	Gain   float64
	Names  []string
	Origin Point
	Levels []int16
	Raw    []byte
	Mode   Level `cbor:"mode"`
}

func TestConfigEncodesAsFxamackerDoes(t *testing.T) {
	e := &Everything{Gain: 2.5, Names: []string{"a", "b"}, Origin: Point{X: 1, Label: "o"}, Levels: []int16{-1}, Mode: "fast", Local: true}
	w := wire.NewEncoder(nil, nil)
	e.SGNElement().EncodeConfig(w)
	ours := w.Buf()
	theirs, err := cbor.Marshal(configFields{Gain: e.Gain, Names: e.Names, Origin: e.Origin, Levels: e.Levels, Raw: e.Raw, Mode: e.Mode})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Fatalf("EncodeConfig and cbor.Marshal disagree:\nours   %x\ntheirs %x", ours, theirs)
	}
	var got Everything
	d := wire.NewDecoder(ours)
	got.SGNElement().DecodeConfig(d)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	want := *e
	want.Local = false // tagged cbor:"-": stays where it was set
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Everything{}), cmpopts.IgnoreFields(Everything{}, "In", "Out")); diff != "" {
		t.Errorf("configuration after a round trip (-want +got):\n%s", diff)
	}
}

// encode encodes v with the generated codec, inline.
func encode(v *All) []byte {
	w := wire.NewEncoder(nil, nil)
	sgnCodecAll.Encode(w, v)
	return w.Buf()
}

// FuzzDecodeAll feeds arbitrary bytes to the generated decoder of All. It
// must not panic; what it accepts must survive a round trip through our
// encoder, and read the same through cbor.Unmarshal.
func FuzzDecodeAll(f *testing.F) {
	for _, v := range values() {
		f.Add(encode(&v))
	}
	f.Add([]byte{0xa1, 0x61, 0x49, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xa1, 0x62, 0x49, 0x73, 0x9a, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var v All
		d := wire.NewDecoder(b)
		sgnCodecAll.Decode(d, &v)
		if d.Err() != nil {
			return
		}
		enc := encode(&v)
		var again All
		d = wire.NewDecoder(enc)
		sgnCodecAll.Decode(d, &again)
		if d.Err() != nil {
			t.Fatalf("decoding our own encoding %x: %v", enc, d.Err())
		}
		if diff := cmp.Diff(v, again, same); diff != "" {
			t.Fatalf("round trip changed the value (-first +second):\n%s", diff)
		}
		var theirs All
		if err := cbor.Unmarshal(enc, &theirs); err != nil {
			t.Fatalf("cbor.Unmarshal of our encoding %x: %v", enc, err)
		}
		if diff := cmp.Diff(v, theirs, same); diff != "" {
			t.Fatalf("cbor.Unmarshal reads our encoding differently (-ours +theirs):\n%s", diff)
		}
	})
}
