// Package testelems holds the elements that the project's tests run, in
// process and in worker processes. Their behaviour is set by configuration,
// so a test can make a worker fail, panic or crash at a chosen frame.
package testelems

//go:generate go tool sgngen generate

import (
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
)

// Count sends From, From+1, ..., To; the last frame carries EOS.
//
//sgn:element
type Count struct {
	Out  sgn.Source[int64] `sgn:"out"`
	From int64
	To   int64

	next    int64
	started bool
}

// New returns the next number.
func (c *Count) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	if !c.started {
		c.next, c.started = c.From, true
	}
	f := sgn.Frame[int64]{Data: c.next, EOS: c.next >= c.To}
	c.next++
	return f, nil
}

// Scale multiplies every number by Factor. It fails, panics or exits the
// process when it meets the number FailAt, PanicAt or ExitAt (0: never).
//
//sgn:element
type Scale struct {
	In      sgn.Sink[int64]   `sgn:"in"`
	Out     sgn.Source[int64] `sgn:"out"`
	Factor  int64
	FailAt  int64
	PanicAt int64
	ExitAt  int64
}

// Process scales one frame.
func (s *Scale) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	switch f.Data {
	case 0:
	case s.FailAt:
		return f, fmt.Errorf("scale refuses %d", f.Data)
	case s.PanicAt:
		panic(fmt.Sprintf("scale cannot bear %d", f.Data))
	case s.ExitAt:
		fmt.Fprintf(os.Stderr, "scale: exiting at %d\n", f.Data)
		os.Exit(3)
	}
	f.Data *= s.Factor
	return f, nil
}

// Collect keeps every number it receives. With File set, it also appends a
// line per frame to that file ("<pid> <number>", then "<pid> EOS"), so that a
// test can see what a worker received and where.
//
//sgn:element
type Collect struct {
	In   sgn.Sink[int64] `sgn:"in"`
	File string

	got []int64
	eos bool
	out *os.File
}

// Got returns the numbers received so far.
func (c *Collect) Got() []int64 { return c.got }

// SawEOS reports whether the EOS frame arrived.
func (c *Collect) SawEOS() bool { return c.eos }

// Start opens the output file, if any.
func (c *Collect) Start(ctx *sgn.Context) error {
	if c.File == "" {
		return nil
	}
	f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	c.out = f
	return err
}

// Consume records one frame.
func (c *Collect) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		c.got = append(c.got, f.Data)
		if c.out != nil {
			fmt.Fprintf(c.out, "%d %d\n", os.Getpid(), f.Data)
		}
	}
	if f.EOS {
		c.eos = true
		if c.out != nil {
			fmt.Fprintf(c.out, "%d EOS\n", os.Getpid())
			return c.out.Close()
		}
	}
	return nil
}

// Concat sends everything from pad a, then everything from pad b. It reads
// all of a before it looks at b, so b's frames pile up meanwhile: a test of
// flow control, which must not let one pad's backlog stall another.
//
//sgn:element
type Concat struct {
	A   sgn.Sink[int64]   `sgn:"a"`
	B   sgn.Sink[int64]   `sgn:"b"`
	Out sgn.Source[int64] `sgn:"out"`
}

// Run copies a, then b, to out.
func (c *Concat) Run(ctx *sgn.Context) error {
	for _, in := range []*sgn.Sink[int64]{&c.A, &c.B} {
		for {
			f, err := in.Recv(ctx)
			if err != nil {
				return err
			}
			last := f.EOS && in == &c.B
			if !f.Gap || last {
				if err := c.Out.Send(ctx, sgn.Frame[int64]{Data: f.Data, Gap: f.Gap, EOS: last}); err != nil {
					return err
				}
			}
			if f.EOS {
				break
			}
		}
	}
	return nil
}
