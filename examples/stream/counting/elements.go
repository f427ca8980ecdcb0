// Package counting holds the elements of the stream example: an endless
// counter, a transform that checks and passes numbers on, and a sink that
// checks them again.
package counting

//go:generate go tool sgngen generate

import (
	"fmt"

	"github.com/sgn-go/sgn"
)

// Counter counts 1, 2, 3, ... until the pipeline asks it to end its
// stream (Ctrl+C).
//
//sgn:element
type Counter struct {
	Out sgn.Source[int64] `sgn:"out"`

	n int64
}

// New sends the next number.
func (c *Counter) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	c.n++
	return sgn.Frame[int64]{Data: c.n}, nil
}

// Checker passes numbers on, and fails if one is missing or out of order.
//
//sgn:element
type Checker struct {
	In  sgn.Sink[int64]   `sgn:"in"`
	Out sgn.Source[int64] `sgn:"out"`

	last int64
}

// Process checks one number.
func (c *Checker) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if !f.Gap {
		if f.Data != c.last+1 {
			return f, fmt.Errorf("got %d after %d", f.Data, c.last)
		}
		c.last = f.Data
	}
	return f, nil
}

// Tally checks numbers as Checker does, and counts them.
//
//sgn:element
type Tally struct {
	In sgn.Sink[int64] `sgn:"in"`

	last int64
}

// Consume checks one number.
func (t *Tally) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		if f.Data != t.last+1 {
			return fmt.Errorf("got %d after %d", f.Data, t.last)
		}
		t.last = f.Data
	}
	return nil
}
