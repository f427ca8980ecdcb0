package testelems

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/sgn-go/sgn"
)

// AllocTee sends Count frames of Len float64s, sample i of frame k being
// Sample(k, i, Len), on both A and B: one slice from sgn.Alloc in the two
// frames, as a tee that fills its output in place would.
//
//sgn:element
type AllocTee struct {
	A     sgn.Source[[]float64] `sgn:"a"`
	B     sgn.Source[[]float64] `sgn:"b"`
	Len   int64
	Count int64
}

// Run sends every frame on A, then on B.
func (t *AllocTee) Run(ctx *sgn.Context) error {
	for k := range t.Count {
		s, err := sgn.Alloc[float64](ctx, int(t.Len))
		if err != nil {
			return err
		}
		for i := range s {
			s[i] = Sample(k, int64(i), t.Len)
		}
		f := sgn.Frame[[]float64]{Data: s, EOS: k+1 >= t.Count}
		if err := t.A.Send(ctx, f); err != nil {
			return err
		}
		if err := t.B.Send(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// VerifyInTurn checks, as Verify does with Mul 1, every frame of A and then
// every frame of B: it reads all of A before it looks at B, as a join that
// concatenates its inputs does, so B's frames pile up meanwhile.
//
//sgn:element
type VerifyInTurn struct {
	A   sgn.Sink[[]float64] `sgn:"a"`
	B   sgn.Sink[[]float64] `sgn:"b"`
	Len int64

	frames int64
}

// Run checks A, then B.
func (v *VerifyInTurn) Run(ctx *sgn.Context) error {
	for _, in := range []*sgn.Sink[[]float64]{&v.A, &v.B} {
		for k := int64(0); ; k++ {
			f, err := in.Recv(ctx)
			if err != nil {
				return err
			}
			if !f.Gap {
				for i, x := range f.Data {
					if want := Sample(k, int64(i), v.Len); x != want {
						return fmt.Errorf("%s: frame %d, sample %d: %v, want %v", in.Name(), k, i, x, want)
					}
				}
				v.frames++
			}
			if f.EOS {
				break
			}
		}
	}
	return nil
}

// Frames returns the number of frames checked, on both pads.
func (v *VerifyInTurn) Frames() int64 { return v.frames }

// HeadFloats takes the first Limit frames of its input and returns, before
// EOS, while its upstream may still be sending.
//
//sgn:element
type HeadFloats struct {
	In    sgn.Sink[[]float64] `sgn:"in"`
	Limit int64
}

// Run takes Limit frames and returns.
func (h *HeadFloats) Run(ctx *sgn.Context) error {
	for range h.Limit {
		f, err := h.In.Recv(ctx)
		if err != nil || f.EOS {
			return err
		}
	}
	return nil
}

// Rows sends Count frames of Rows rows of Len float64s, as a multichannel
// instrument would: sample i of row r of frame k is Sample(k*Rows+r, i,
// Len). With Alloc, each row comes from sgn.Alloc.
//
//sgn:element
type Rows struct {
	Out   sgn.Source[[][]float64] `sgn:"out"`
	Rows  int64
	Len   int64
	Count int64
	Alloc bool

	k int64
}

// New fills the next frame.
func (r *Rows) New(ctx *sgn.Context) (sgn.Frame[[][]float64], error) {
	rows := make([][]float64, r.Rows)
	for j := range rows {
		if r.Alloc {
			var err error
			if rows[j], err = sgn.Alloc[float64](ctx, int(r.Len)); err != nil {
				return sgn.Frame[[][]float64]{}, err
			}
		} else {
			rows[j] = make([]float64, r.Len)
		}
		for i := range rows[j] {
			rows[j][i] = Sample(r.k*r.Rows+int64(j), int64(i), r.Len)
		}
	}
	r.k++
	return sgn.Frame[[][]float64]{Data: rows, EOS: r.k >= r.Count}, nil
}

// VerifyRows checks the frames of a Rows with the same Rows and Len.
//
//sgn:element
type VerifyRows struct {
	In   sgn.Sink[[][]float64] `sgn:"in"`
	Rows int64
	Len  int64

	frames int64
}

// Consume checks one frame.
func (v *VerifyRows) Consume(ctx *sgn.Context, f sgn.Frame[[][]float64]) error {
	if f.Gap {
		return nil
	}
	if int64(len(f.Data)) != v.Rows {
		return fmt.Errorf("frame %d has %d rows, want %d", v.frames, len(f.Data), v.Rows)
	}
	for j, row := range f.Data {
		for i, x := range row {
			if want := Sample(v.frames*v.Rows+int64(j), int64(i), v.Len); x != want || int64(len(row)) != v.Len {
				return fmt.Errorf("frame %d, row %d, sample %d of %d: %v, want %v", v.frames, j, i, len(row), x, want)
			}
		}
	}
	v.frames++
	return nil
}

// Frames returns the number of frames checked.
func (v *VerifyRows) Frames() int64 { return v.frames }

// Spawn starts a helper program, Command with Args, as an element may (a
// compressor, a shell), writes the helper's process ID to PIDFile, and
// sends an empty stream of float64 slices. It does not wait for the
// helper.
//
//sgn:element
type Spawn struct {
	Out     sgn.Source[[]float64] `sgn:"out"`
	Command string
	Args    []string
	PIDFile string
}

// New starts the helper and ends the stream.
func (s *Spawn) New(ctx *sgn.Context) (sgn.Frame[[]float64], error) {
	cmd := exec.Command(s.Command, s.Args...)
	if err := cmd.Start(); err != nil {
		return sgn.Frame[[]float64]{}, err
	}
	if err := os.WriteFile(s.PIDFile, fmt.Appendf(nil, "%d", cmd.Process.Pid), 0o644); err != nil {
		return sgn.Frame[[]float64]{}, err
	}
	cmd.Process.Release()
	return sgn.Frame[[]float64]{EOS: true, Gap: true}, nil
}
