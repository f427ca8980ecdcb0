// Package stages holds the elements of the README's walkthrough: a source
// that counts, a transform that squares, a sink that prints.
package stages

//go:generate go tool sgngen generate

import (
	"fmt"

	"github.com/sgn-go/sgn"
)

// Count sends 1, 2, ... Limit, the last with EOS.
//
//sgn:element
type Count struct {
	Out   sgn.Source[int64] `sgn:"out"`
	Limit int64

	n int64
}

// New returns the next number.
func (c *Count) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	c.n++
	return sgn.Frame[int64]{Data: c.n, EOS: c.n == c.Limit}, nil
}

// Square squares every number.
//
//sgn:element
type Square struct {
	In  sgn.Sink[int64]   `sgn:"in"`
	Out sgn.Source[int64] `sgn:"out"`
}

// Process squares one frame; a gap frame has no number to square.
func (s *Square) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if !f.Gap {
		f.Data *= f.Data
	}
	return f, nil
}

// Print prints every number, one per line.
//
//sgn:element
type Print struct {
	In sgn.Sink[int64] `sgn:"in"`
}

// Consume prints one frame. A gap frame has no number: Ctrl+C ends the
// stream with an empty EOS frame that is a gap.
func (p *Print) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		fmt.Println(f.Data)
	}
	return nil
}
