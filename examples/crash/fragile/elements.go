// Package fragile holds the elements of the crash example: a transform
// that panics every few frames, and what feeds it and reads it.
package fragile

//go:generate go tool sgngen generate

import (
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
)

// Numbers sends 1, 2, ..., Count; the last carries EOS.
//
//sgn:element
type Numbers struct {
	Out   sgn.Source[int64] `sgn:"out"`
	Count int64

	n int64
}

// New sends the next number.
func (s *Numbers) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	s.n++
	return sgn.Frame[int64]{Data: s.n, EOS: s.n >= s.Count}, nil
}

// Squarer squares numbers, and panics at the PanicAt-th frame its process
// handles, as a computation with a bug that bites now and then would.
//
//sgn:element
type Squarer struct {
	In      sgn.Sink[int64]   `sgn:"in"`
	Out     sgn.Source[int64] `sgn:"out"`
	PanicAt int64

	handled int64
}

// Process squares one number.
func (s *Squarer) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	s.handled++
	if s.handled == s.PanicAt {
		panic(fmt.Sprintf("squarer in pid %d cannot bear %d", os.Getpid(), f.Data))
	}
	f.Data *= f.Data
	return f, nil
}

// Total adds up what it receives.
//
//sgn:element
type Total struct {
	In sgn.Sink[int64] `sgn:"in"`

	frames, sum int64
}

// Consume adds one number.
func (t *Total) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		t.frames++
		t.sum += f.Data
	}
	return nil
}

// Frames and Sum return what it received.
func (t *Total) Frames() int64 { return t.frames }
func (t *Total) Sum() int64    { return t.sum }
