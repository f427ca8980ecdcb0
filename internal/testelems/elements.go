// Package testelems holds the elements that the project's tests run, in
// process and in worker processes. Their behaviour is set by configuration,
// so a test can make a worker fail, panic or crash at a chosen frame.
package testelems

//go:generate go tool sgngen generate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/sgn-go/sgn"
)

// Count sends From, From+1, ..., To; the last frame carries EOS.
//
//sgn:element
type Count struct {
	Out   sgn.Source[int64] `sgn:"out"`
	From  int64
	To    int64
	Crash Crash

	next    int64
	started bool
}

// New returns the next number.
func (c *Count) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	if err := c.Crash.tick("count"); err != nil {
		return sgn.Frame[int64]{}, err
	}
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
	Crash   Crash
}

// Process scales one frame.
func (s *Scale) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if err := s.Crash.tick("scale"); err != nil {
		return f, err
	}
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
	In    sgn.Sink[int64] `sgn:"in"`
	File  string
	Crash Crash

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
	if err := c.Crash.tick("collect"); err != nil {
		return err
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

// Head takes the first Limit frames of its input and then finishes, before
// EOS, while its upstream may still be sending.
//
//sgn:element
type Head struct {
	In    sgn.Sink[int64] `sgn:"in"`
	Limit int64
}

// Run takes Limit frames and returns.
func (h *Head) Run(ctx *sgn.Context) error {
	for range h.Limit {
		f, err := h.In.Recv(ctx)
		if err != nil {
			return err
		}
		if f.EOS {
			return nil
		}
	}
	return nil
}

// UntilEOS reads its input until Recv reports ErrEOS, as the documentation
// of Sink.Recv allows.
//
//sgn:element
type UntilEOS struct {
	In sgn.Sink[int64] `sgn:"in"`
}

// Run reads until ErrEOS.
func (u *UntilEOS) Run(ctx *sgn.Context) error {
	for {
		_, err := u.In.Recv(ctx)
		if errors.Is(err, sgn.ErrEOS) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Blob sends Count byte slices of Size bytes; the last carries EOS. At frame
// ExitAt (0: never) it exits the process with status 3.
//
//sgn:element
type Blob struct {
	Out    sgn.Source[[]byte] `sgn:"out"`
	Size   int64
	Count  int64
	ExitAt int64

	n int64
}

// New returns the next slice.
func (b *Blob) New(ctx *sgn.Context) (sgn.Frame[[]byte], error) {
	b.n++
	if b.n == b.ExitAt {
		fmt.Fprintf(os.Stderr, "blob: exiting at %d\n", b.n)
		os.Exit(3)
	}
	return sgn.Frame[[]byte]{Data: make([]byte, b.Size), EOS: b.n >= b.Count}, nil
}

// BlobSink counts the byte slices it receives. With PIDFile set, it writes
// its process ID there when it starts. It exits the process with status 3 at
// frame ExitAt, and returns, before EOS, after Limit frames (0: never). With
// Stuck set, after its first frame it sleeps forever, deaf to cancellation,
// as a computation that never checks its context would.
//
//sgn:element
type BlobSink struct {
	In      sgn.Sink[[]byte] `sgn:"in"`
	PIDFile string
	ExitAt  int64
	Limit   int64
	Stuck   bool

	frames, bytes int64
}

// Start writes the PID file.
func (b *BlobSink) Start(ctx *sgn.Context) error {
	if b.PIDFile == "" {
		return nil
	}
	return os.WriteFile(b.PIDFile, fmt.Appendf(nil, "%d", os.Getpid()), 0o644)
}

// Run counts frames until EOS or Limit.
func (b *BlobSink) Run(ctx *sgn.Context) error {
	for {
		f, err := b.In.Recv(ctx)
		if err != nil {
			return err
		}
		b.frames++
		b.bytes += int64(len(f.Data))
		for b.Stuck {
			time.Sleep(time.Hour)
		}
		if b.frames == b.ExitAt {
			fmt.Fprintf(os.Stderr, "blobsink: exiting at %d\n", b.frames)
			os.Exit(3)
		}
		if f.EOS || b.frames == b.Limit {
			return nil
		}
	}
}

// Frames returns the number of frames received.
func (b *BlobSink) Frames() int64 { return b.frames }

// A Reading is a struct frame: it exercises the generated struct codecs
// across process boundaries.
type Reading struct {
	Seq    int64
	Values []float64
	Label  string `cbor:"label"`
	Raw    []byte
	Ok     bool
}

// Describe turns each number n into a Reading, with metadata {"seq": n}.
//
//sgn:element
type Describe struct {
	In    sgn.Sink[int64]     `sgn:"in"`
	Out   sgn.Source[Reading] `sgn:"out"`
	Label string
}

// Process describes one number.
func (d *Describe) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[Reading], error) {
	r := Reading{Seq: f.Data, Values: []float64{float64(f.Data), float64(f.Data) / 2}, Label: d.Label, Raw: []byte{byte(f.Data)}, Ok: f.Data%2 == 0}
	return sgn.Frame[Reading]{Data: r, Gap: f.Gap, Meta: map[string]any{"seq": f.Data}}, nil
}

// Relabel appends Suffix to every Reading's label and adds its pid to the
// metadata, keeping the rest of the frame.
//
//sgn:element
type Relabel struct {
	In     sgn.Sink[Reading]   `sgn:"in"`
	Out    sgn.Source[Reading] `sgn:"out"`
	Suffix string
}

// Process relabels one Reading.
func (r *Relabel) Process(ctx *sgn.Context, f sgn.Frame[Reading]) (sgn.Frame[Reading], error) {
	f.Data.Label += r.Suffix
	if f.Meta != nil {
		f.Meta["pid"] = int64(os.Getpid())
	}
	return f, nil
}

// Readings keeps every frame it receives.
//
//sgn:element
type Readings struct {
	In sgn.Sink[Reading] `sgn:"in"`

	got []sgn.Frame[Reading]
}

// Consume keeps one frame.
func (r *Readings) Consume(ctx *sgn.Context, f sgn.Frame[Reading]) error {
	r.got = append(r.got, f)
	return nil
}

// Got returns the frames received, the EOS frame included.
func (r *Readings) Got() []sgn.Frame[Reading] { return r.got }

// Touch passes byte slices through, incrementing the first byte of each.
//
//sgn:element
type Touch struct {
	In  sgn.Sink[[]byte]   `sgn:"in"`
	Out sgn.Source[[]byte] `sgn:"out"`
}

// Process touches one slice.
func (t *Touch) Process(ctx *sgn.Context, f sgn.Frame[[]byte]) (sgn.Frame[[]byte], error) {
	if len(f.Data) > 0 {
		f.Data[0]++
	}
	return f, nil
}

// Int64Codec is the generated codec of int64 frames, for the elements that
// tests write by hand.
var Int64Codec = sgnCodecInt64

// OneBlob sends one byte slice of Size bytes, then waits until the pipeline
// stops: a worker that stays alive after a large message.
//
//sgn:element
type OneBlob struct {
	Out  sgn.Source[[]byte] `sgn:"out"`
	Size int64
}

// Run sends the slice and waits.
func (o *OneBlob) Run(ctx *sgn.Context) error {
	b := make([]byte, o.Size)
	for i := range b {
		b[i] = byte(i)
	}
	if err := o.Out.Send(ctx, sgn.Frame[[]byte]{Data: b}); err != nil {
		return err
	}
	<-ctx.Done()
	return context.Cause(ctx)
}

// BytesCodec is the generated codec of []byte frames, for the elements that
// tests write by hand.
var BytesCodec = sgnCodecBytes

// Tally counts the numbers it receives and checks that each is Step more
// than the one before (the first: First), without keeping them: a sink for
// benchmarks, whose cost is the pipeline's, not its own.
//
//sgn:element
type Tally struct {
	In    sgn.Sink[int64] `sgn:"in"`
	First int64
	Step  int64

	frames int64
}

// Consume checks and counts one number.
func (t *Tally) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if f.Gap {
		return nil
	}
	if want := t.First + t.frames*t.Step; f.Data != want {
		return fmt.Errorf("frame %d is %d, want %d", t.frames, f.Data, want)
	}
	t.frames++
	return nil
}

// Frames returns the number of frames counted.
func (t *Tally) Frames() int64 { return t.frames }

// Mallocs passes numbers through, and counts the heap allocations of its
// process from the frame After on: the last frame, the one with EOS,
// carries that count in place of its number. It shows what a frame costs
// in allocations in a worker process.
//
//sgn:element
type Mallocs struct {
	In    sgn.Sink[int64]   `sgn:"in"`
	Out   sgn.Source[int64] `sgn:"out"`
	After int64

	from uint64
}

// Process passes one frame through.
func (m *Mallocs) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if f.Data == m.After || f.EOS {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if f.EOS {
			f.Data = int64(ms.Mallocs - m.from)
		}
		m.from = ms.Mallocs
	}
	return f, nil
}
