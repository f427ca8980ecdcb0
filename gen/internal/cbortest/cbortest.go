// Package cbortest holds an element whose frame and configuration types use
// every kind of type that sgngen encodes. Its sgn_gen.go is sgngen's real
// output, and its tests hold the generated codecs to what
// github.com/fxamacker/cbor/v2 writes and reads.
package cbortest

//go:generate go tool sgngen generate

import (
	"time"

	"github.com/sgn-go/sgn"
)

// Celsius is a named float.
type Celsius float64

// Blob is a named byte slice.
type Blob []byte

// Samples is a named slice.
type Samples []int32

// Level is a named string.
type Level string

// Point is a struct used inside All, alone and in a slice.
type Point struct {
	X, Y  float64
	Label string `json:"label"`
}

// Inner is a struct inside a struct, with a slice of structs.
type Inner struct {
	Depth  int
	Points []Point
}

// Empty is a struct with nothing to encode.
type Empty struct {
	_     struct{} `cbor:"-"`
	count int
}

// All has a field of every kind.
type All struct {
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U     uint
	U8    uint8
	U16   uint16
	U32   uint32
	U64   uint64
	F32   float32
	F64   float64
	B     bool
	S     string
	Raw   []byte
	Is    []int
	I8s   []int8
	I16s  []int16
	I32s  []int32
	I64s  []int64
	Us    []uint
	U16s  []uint16
	U32s  []uint32
	U64s  []uint64
	F32s  []float32
	F64s  []float64
	Bs    []bool
	Ss    []string
	Temp  Celsius
	Temps []Celsius
	Blob  Blob
	Smp   Samples
	Lvl   Level
	Lvls  []Level
	At    Point
	Path  []Point
	Grid  [][]float64
	Words [][]string
	Blobs [][]byte
	Inner Inner
	None  Empty
	Note  string `cbor:"note"`
	Kind  string `json:"kind"`
	Skip  string `cbor:"-"`

	Dur    time.Duration
	When   time.Time
	Whens  []time.Time
	PI     *int64
	PPt    *Point
	PS     *[]float64
	PP     **string
	Arr    [3]int16
	B4     [4]byte
	Pts    [2]Point
	Cube   [2][3]float32
	MS     map[string]int
	MI     map[int64]Point
	MU     map[uint8][]float64
	ML     map[Level]*Inner
	MM     map[string]map[int32]string
	Stamps map[string]time.Time

	hidden int
}

// Everything passes All frames through, and has configuration fields of
// several kinds.
//
//sgn:element
type Everything struct {
	In  sgn.Sink[All]   `sgn:"in"`
	Out sgn.Source[All] `sgn:"out"`

	Gain   float64
	Names  []string
	Origin Point
	Levels []int16
	Raw    []byte
	Mode   Level `cbor:"mode"`
	Local  bool  `cbor:"-"`
	Every  time.Duration
	Limits map[string]float64
	Parent *Point
	Since  time.Time
}

// Process passes a frame through.
func (e *Everything) Process(ctx *sgn.Context, f sgn.Frame[All]) (sgn.Frame[All], error) {
	return f, nil
}

// Block is a frame of 1024 samples and a few scalars, for the codec
// benchmarks.
type Block struct {
	Seq     int64
	Rate    float64
	Gain    float32
	Channel string
	Valid   bool
	Samples []float32
}

// Blocks passes Block frames through.
//
//sgn:element
type Blocks struct {
	In  sgn.Sink[Block]   `sgn:"in"`
	Out sgn.Source[Block] `sgn:"out"`
}

// Process passes a frame through.
func (b *Blocks) Process(ctx *sgn.Context, f sgn.Frame[Block]) (sgn.Frame[Block], error) {
	return f, nil
}
