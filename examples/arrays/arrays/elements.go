// Package arrays holds the elements of the arrays example, the complete
// NumPy example of SGN's subprocess tutorial: a source of random arrays, a
// transform that squares them, a sink that sums them, and the reading of
// an array shared with every process.
package arrays

//go:generate go tool sgngen generate

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/shm"
)

// Generator sends Count arrays of Size float64 values: random values in
// [0, 1) with Random set, else 0, 1, 2, ...; it prints each when Print is
// set. Its arrays come from sgn.Alloc: when they go to another process,
// they are written once, in shared memory, and never copied.
//
//sgn:element
type Generator struct {
	Arrays sgn.Source[[]float64] `sgn:"arrays"`
	Size   int64
	Count  int64
	Random bool
	Print  bool

	n int64
}

// New makes the next array.
func (g *Generator) New(ctx *sgn.Context) (sgn.Frame[[]float64], error) {
	data, err := sgn.Alloc[float64](ctx, int(g.Size))
	if err != nil {
		return sgn.Frame[[]float64]{}, err
	}
	for i := range data {
		if g.Random {
			data[i] = rand.Float64()
		} else {
			data[i] = float64(i)
		}
	}
	g.n++
	if g.Print {
		fmt.Printf("Source: Generated array %d: %v\n", g.n, data)
	}
	return sgn.Frame[[]float64]{Data: data, EOS: g.n >= g.Count}, nil
}

// Squarer squares every value of the arrays it receives, in place: the
// array it sends on is the memory it received. When it starts, it reads
// the shared array named Shared, if set, and adds 1 to every value, as the
// tutorial's subprocess does.
//
//sgn:element
type Squarer struct {
	Input  sgn.Sink[[]float64]   `sgn:"input"`
	Output sgn.Source[[]float64] `sgn:"output"`
	Shared string
	Print  bool
}

// Start reports the process, and updates the shared array.
func (s *Squarer) Start(ctx *sgn.Context) error {
	fmt.Printf("Transform subprocess started, process ID: %d\n", os.Getpid())
	if s.Shared == "" {
		return nil
	}
	seg, err := ctx.Segment(s.Shared)
	if err != nil {
		return err
	}
	array := shm.View[float64](seg)
	fmt.Printf("Shared array: %v\n", array)
	for i := range array {
		array[i]++
	}
	fmt.Printf("Modified array: %v\n", array)
	return nil
}

// Process squares one array.
func (s *Squarer) Process(ctx *sgn.Context, f sgn.Frame[[]float64]) (sgn.Frame[[]float64], error) {
	for i, x := range f.Data {
		f.Data[i] = x * x
	}
	if s.Print && !f.Gap {
		fmt.Printf("Transform: Processed array: %v\n", f.Data)
	}
	return f, nil
}

// Summer sums every array it receives, printing each sum when Print is
// set, and the EOS.
//
//sgn:element
type Summer struct {
	Result sgn.Sink[[]float64] `sgn:"result"`
	Print  bool

	arrays int64
	total  float64
}

// Start reports the process.
func (s *Summer) Start(ctx *sgn.Context) error {
	fmt.Printf("Sink subprocess started, process ID: %d\n", os.Getpid())
	return nil
}

// Consume sums one array.
func (s *Summer) Consume(ctx *sgn.Context, f sgn.Frame[[]float64]) error {
	if !f.Gap {
		var sum float64
		for _, x := range f.Data {
			sum += x
		}
		s.arrays++
		s.total += sum
		if s.Print {
			fmt.Printf("Sink: Received array on %s, sum: %v\n", s.Result.Name(), sum)
		}
	}
	if f.EOS {
		fmt.Printf("Sink: Received EOS on %s (%d arrays, total %v)\n", s.Result.Name(), s.arrays, s.total)
	}
	return nil
}
