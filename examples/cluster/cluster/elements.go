// Package cluster holds the elements of the cluster example: the numbers
// pipeline of SGN's subprocess tutorial (a source that counts, a transform
// that squares, a sink that logs), with the transform saying which process
// squared each number, so that the sink can tell which replica did what.
package cluster

//go:generate go tool sgngen generate

import (
	"fmt"
	"os"
	"strings"

	"github.com/sgn-go/sgn"
)

// A Squared is a number's square and the process that squared it.
type Squared struct {
	Number int64
	Square int64
	PID    int64 // the process of the transform (of the replica) that squared it
}

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

// Square squares every number it receives, and says which process did.
//
//sgn:element
type Square struct {
	Input  sgn.Sink[int64]     `sgn:"input"`
	Output sgn.Source[Squared] `sgn:"output"`
}

// Start reports the process the transform runs in.
func (s *Square) Start(ctx *sgn.Context) error {
	fmt.Printf("Transform subprocess started, process ID: %d\n", os.Getpid())
	return nil
}

// Process squares one frame.
func (s *Square) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[Squared], error) {
	out := sgn.Frame[Squared]{Gap: f.Gap, EOS: f.EOS}
	if !f.Gap {
		out.Data = Squared{Number: f.Data, Square: f.Data * f.Data, PID: int64(os.Getpid())}
		fmt.Printf("Transform: %d\n", out.Data.Square)
	}
	return out, nil
}

// Logger prints every square it receives, as the tutorial's sink does,
// and, at EOS, which process squared which numbers.
//
//sgn:element
type Logger struct {
	Result sgn.Sink[Squared] `sgn:"result"`

	pids []int64           // the processes that squared numbers, in the order they first did
	by   map[int64][]int64 // the numbers each squared
}

// Start reports the process the sink runs in.
func (l *Logger) Start(ctx *sgn.Context) error {
	fmt.Printf("Sink subprocess started, process ID: %d\n", os.Getpid())
	return nil
}

// Consume prints one frame; at EOS, who squared what.
func (l *Logger) Consume(ctx *sgn.Context, f sgn.Frame[Squared]) error {
	if !f.Gap {
		fmt.Printf("Sink received on %s: %d\n", l.Result.Name(), f.Data.Square)
		if l.by == nil {
			l.by = map[int64][]int64{}
		}
		if l.by[f.Data.PID] == nil {
			l.pids = append(l.pids, f.Data.PID)
		}
		l.by[f.Data.PID] = append(l.by[f.Data.PID], f.Data.Number)
	}
	if f.EOS {
		fmt.Printf("Sink received EOS on %s\n", l.Result.Name())
		for _, pid := range l.pids {
			var nums []string
			for _, n := range l.by[pid] {
				nums = append(nums, fmt.Sprint(n))
			}
			fmt.Printf("Process %d squared %s\n", pid, strings.Join(nums, ", "))
		}
	}
	return nil
}
