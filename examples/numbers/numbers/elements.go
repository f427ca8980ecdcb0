// Package numbers holds the elements of the numbers example, the first
// pipeline of SGN's subprocess tutorial: a source that counts, a transform
// that squares, and a sink that logs.
package numbers

//go:generate go tool sgngen generate

import (
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
)

// Counter counts from 1 to Limit, one frame per number; the last frame
// carries EOS.
//
//sgn:element
type Counter struct {
	Numbers sgn.Source[int64] `sgn:"numbers"`
	Limit   int64

	n int64
}

// New returns the next number.
func (c *Counter) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	c.n++
	return sgn.Frame[int64]{Data: c.n, EOS: c.n >= c.Limit}, nil
}

// Square squares every number it receives.
//
//sgn:element
type Square struct {
	Input  sgn.Sink[int64]   `sgn:"input"`
	Output sgn.Source[int64] `sgn:"output"`
}

// Start reports the process the transform runs in.
func (s *Square) Start(ctx *sgn.Context) error {
	fmt.Printf("Transform subprocess started, process ID: %d\n", os.Getpid())
	return nil
}

// Process squares one frame.
func (s *Square) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if !f.Gap {
		f.Data *= f.Data
		fmt.Printf("Transform: %d\n", f.Data)
	}
	return f, nil
}

// Logger prints every frame it receives.
//
//sgn:element
type Logger struct {
	Result sgn.Sink[int64] `sgn:"result"`
}

// Start reports the process the sink runs in.
func (l *Logger) Start(ctx *sgn.Context) error {
	fmt.Printf("Sink subprocess started, process ID: %d\n", os.Getpid())
	return nil
}

// Consume prints one frame.
func (l *Logger) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		fmt.Printf("Sink received on %s: %d\n", l.Result.Name(), f.Data)
	}
	if f.EOS {
		fmt.Printf("Sink received EOS on %s\n", l.Result.Name())
	}
	return nil
}
