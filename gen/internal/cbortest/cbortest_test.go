package cbortest

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

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
		Dur:   -90 * time.Second,
		When:  time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.FixedZone("", -3*3600)),
		Whens: []time.Time{{}, time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)},
		PI:    &i64, PPt: &Point{X: -1}, PS: &[]float64{0.5}, PP: &ps,
		Arr: [3]int16{-1, 0, 300}, B4: [4]byte{0xde, 0xad, 0xbe, 0xef},
		Pts:    [2]Point{{X: 1}, {Label: "second"}},
		Cube:   [2][3]float32{{1, 2, 3}, {float32(math.Inf(1)), 0, -0.5}},
		MS:     map[string]int{"b": 2, "a": 1, "aa": -3, "": 0, strings.Repeat("long", 10): 40},
		MI:     map[int64]Point{-1: {X: 1}, 0: {}, 1 << 40: {Label: "far"}, -300: {Y: 3}},
		MU:     map[uint8][]float64{255: {1}, 0: nil, 7: {}},
		ML:     map[Level]*Inner{"nil": nil, "one": {Depth: 1}},
		MM:     map[string]map[int32]string{"x": {1: "one", -1: "minus one"}, "nil": nil},
		Stamps: map[string]time.Time{"epoch": time.Unix(0, 0).UTC(), "zero": {}},
	}
}

var (
	i64 int64 = -7
	s         = "pointed at"
	ps        = &s
)

// values are the All values that both codecs must agree on.
func values() map[string]All {
	empty := All{
		Raw: []byte{}, Is: []int{}, F64s: []float64{}, Ss: []string{}, Path: []Point{},
		Grid: [][]float64{}, Blob: Blob{}, Smp: Samples{},
		Whens: []time.Time{}, PS: &[]float64{}, MS: map[string]int{}, MM: map[string]map[int32]string{"": {}},
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

// coreDet is the fxamacker/cbor encoding mode that generated codecs agree
// with byte for byte, numeric slices aside (see model): the one package
// gen documents.
var coreDet = func() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339Nano, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// model returns v as fxamacker/cbor sees what generated codecs write: the
// same value, except that a slice of integers (other than bytes) or floats
// is an RFC 8746 typed array, a cbor.Tag holding its little-endian bytes,
// and a struct is a map of its encoded fields (which coreDet sorts as it
// sorts a struct's).
func model(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return model(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if tag, ok := typedTags[v.Type().Elem().Kind()]; ok {
			size := int(v.Type().Elem().Size())
			mem := unsafe.Slice((*byte)(v.UnsafePointer()), v.Len()*size)
			return cbor.Tag{Number: tag, Content: append([]byte{}, mem...)}
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes()
		}
		items := make([]any, v.Len())
		for i := range items {
			items[i] = model(v.Index(i))
		}
		return items
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface() // fxamacker writes a byte array as a byte string
		}
		items := make([]any, v.Len())
		for i := range items {
			items[i] = model(v.Index(i))
		}
		return items
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := reflect.MakeMap(reflect.MapOf(v.Type().Key(), reflect.TypeFor[any]()))
		for it := v.MapRange(); it.Next(); {
			val := reflect.New(reflect.TypeFor[any]()).Elem() // nil stays an entry
			if x := model(it.Value()); x != nil {
				val.Set(reflect.ValueOf(x))
			}
			m.SetMapIndex(it.Key(), val)
		}
		return m.Interface()
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return v.Interface()
		}
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			key, ok := f.Tag.Lookup("cbor")
			if !ok {
				key = f.Tag.Get("json")
			}
			key, _, _ = strings.Cut(key, ",")
			if !f.IsExported() || key == "-" {
				continue
			}
			if key == "" {
				key = f.Name
			}
			m[key] = model(v.Field(i))
		}
		return m
	}
	return v.Interface()
}

// typedTags are the RFC 8746 tags of little-endian typed arrays.
var typedTags = map[reflect.Kind]uint64{
	reflect.Int8: 72, reflect.Int16: 77, reflect.Int32: 78, reflect.Int64: 79, reflect.Int: 79,
	reflect.Uint16: 69, reflect.Uint32: 70, reflect.Uint64: 71, reflect.Uint: 71,
	reflect.Float32: 85, reflect.Float64: 86,
}

// theirs is what fxamacker/cbor writes for what generated code writes for v.
func theirs(t testing.TB, v any) []byte {
	t.Helper()
	b, err := coreDet.Marshal(model(reflect.ValueOf(v)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFramesEncodeAsFxamackerDoes(t *testing.T) {
	for name, v := range values() {
		t.Run(name, func(t *testing.T) {
			v.Skip, v.hidden = "not sent", 7
			ours := encode(&v)
			if want := theirs(t, v); !bytes.Equal(ours, want) {
				t.Fatalf("sgngen's codec and fxamacker/cbor disagree:\nours   %x\ntheirs %x", ours, want)
			}
			// What fxamacker writes for the Go value itself, numeric
			// slices as arrays, and what it writes for the model, decode
			// alike.
			native, err := coreDet.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			for what, b := range map[string][]byte{"cbor.Marshal's bytes": native, "our bytes": ours} {
				var got All
				d := wire.NewDecoder(b)
				sgnCodecAll.Decode(d, &got)
				if d.Err() != nil || d.Len() != 0 {
					t.Fatalf("decoding %s: err %v, %d bytes left", what, d.Err(), d.Len())
				}
				if diff := cmp.Diff(v, got, same); diff != "" {
					t.Errorf("our decoder on %s (-sent +got):\n%s", what, diff)
				}
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

// configFields mirrors Everything's configuration fields, for fxamacker.
type configFields struct {
	Gain   float64
	Names  []string
	Origin Point
	Levels []int16
	Raw    []byte
	Mode   Level `cbor:"mode"`
	Every  time.Duration
	Limits map[string]float64
	Parent *Point
	Since  time.Time
}

func TestConfigEncodesAsFxamackerDoes(t *testing.T) {
	e := &Everything{Gain: 2.5, Names: []string{"a", "b"}, Origin: Point{X: 1, Label: "o"}, Levels: []int16{-1}, Mode: "fast", Local: true,
		Every: time.Millisecond, Limits: map[string]float64{"hi": 1, "lo": -1}, Parent: &Point{Y: 2}, Since: time.Unix(1e9, 0).UTC()}
	w := wire.NewEncoder(nil, nil)
	e.SGNElement().EncodeConfig(w)
	ours := w.Buf()
	wantBytes := theirs(t, configFields{Gain: e.Gain, Names: e.Names, Origin: e.Origin, Levels: e.Levels, Raw: e.Raw, Mode: e.Mode,
		Every: e.Every, Limits: e.Limits, Parent: e.Parent, Since: e.Since})
	if !bytes.Equal(ours, wantBytes) {
		t.Fatalf("EncodeConfig and fxamacker/cbor disagree:\nours   %x\ntheirs %x", ours, wantBytes)
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
// encoder, whose bytes must be fxamacker/cbor's for the same value.
func FuzzDecodeAll(f *testing.F) {
	for _, v := range values() {
		f.Add(encode(&v))
		native, err := coreDet.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(native)
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
		if want := theirs(t, v); !bytes.Equal(enc, want) {
			t.Fatalf("fxamacker/cbor writes the value differently:\nours   %x\ntheirs %x", enc, want)
		}
	})
}
