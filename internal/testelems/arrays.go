package testelems

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/shm"
)

// Sample returns element i of frame k of a Ramp of n samples per frame: a
// value that no other sample of the run has.
func Sample(k, i, n int64) float64 { return float64(k*n + i) }

// Ramp sends Count frames of Len float64 samples; sample i of frame k
// (counted from 0) is Sample(k, i, Len). With Alloc, it fills slices from
// sgn.Alloc, which cross a process boundary without a copy; without, it
// fills new ordinary slices, which are copied once.
//
//sgn:element
type Ramp struct {
	Out   sgn.Source[[]float64] `sgn:"out"`
	Len   int64
	Count int64
	Alloc bool

	k int64
}

// New fills the next frame.
func (r *Ramp) New(ctx *sgn.Context) (sgn.Frame[[]float64], error) {
	var s []float64
	if r.Alloc {
		var err error
		if s, err = sgn.Alloc[float64](ctx, int(r.Len)); err != nil {
			return sgn.Frame[[]float64]{}, err
		}
	} else {
		s = make([]float64, r.Len)
	}
	for i := range s {
		s[i] = Sample(r.k, int64(i), r.Len)
	}
	r.k++
	return sgn.Frame[[]float64]{Data: s, EOS: r.k >= r.Count}, nil
}

// Affine maps every sample x to Mul*x + Add: in place, or, with Copy, into
// a new ordinary slice, or, with Alloc, into a slice from sgn.Alloc.
//
//sgn:element
type Affine struct {
	In    sgn.Sink[[]float64]   `sgn:"in"`
	Out   sgn.Source[[]float64] `sgn:"out"`
	Mul   float64
	Add   float64
	Copy  bool
	Alloc bool
	Crash Crash
}

// Process maps one frame.
func (a *Affine) Process(ctx *sgn.Context, f sgn.Frame[[]float64]) (sgn.Frame[[]float64], error) {
	if err := a.Crash.tick("affine"); err != nil {
		return f, err
	}
	out := f.Data
	switch {
	case a.Copy:
		out = make([]float64, len(f.Data))
	case a.Alloc:
		var err error
		if out, err = sgn.Alloc[float64](ctx, len(f.Data)); err != nil {
			return f, err
		}
	}
	for i, x := range f.Data {
		out[i] = a.Mul*x + a.Add
	}
	f.Data = out
	return f, nil
}

// Verify checks that sample i of frame k is Mul*Sample(k, i, Len) + Add,
// and fails at the first that is not. It counts frames, and with Delay it
// takes that long over each, so that its upstream runs out of slots. With
// Memory "slots", it also fails if a frame's samples are not in the
// pipeline's slot pool, as the kernel reports this process's mappings; with
// "copy", if they are; with "count", it only counts the frames in slots.
//
//sgn:element
type Verify struct {
	In     sgn.Sink[[]float64] `sgn:"in"`
	Len    int64
	Mul    float64
	Add    float64
	Delay  time.Duration
	Memory string

	frames, inSlots int64
}

// Consume checks one frame.
func (v *Verify) Consume(ctx *sgn.Context, f sgn.Frame[[]float64]) error {
	if f.Gap {
		return nil
	}
	if int64(len(f.Data)) != v.Len {
		return fmt.Errorf("frame %d has %d samples, want %d", v.frames, len(f.Data), v.Len)
	}
	for i, x := range f.Data {
		if want := v.Mul*Sample(v.frames, int64(i), v.Len) + v.Add; x != want {
			return fmt.Errorf("frame %d, sample %d: %v, want %v", v.frames, i, x, want)
		}
	}
	if v.Memory != "" {
		mapping, err := MappingOf(unsafe.Pointer(&f.Data[0]))
		if err != nil {
			return err
		}
		inPool := strings.HasPrefix(mapping, "/memfd:sgn:slots")
		if inPool {
			v.inSlots++
		}
		if v.Memory != "count" && inPool != (v.Memory == "slots") {
			return fmt.Errorf("frame %d lies in %q; want it in %s", v.frames, mapping, v.Memory)
		}
	}
	v.frames++
	time.Sleep(v.Delay)
	return nil
}

// Frames returns the number of frames checked.
func (v *Verify) Frames() int64 { return v.frames }

// InSlots returns the number of frames that lay in slots, with Memory set.
func (v *Verify) InSlots() int64 { return v.inSlots }

// A Chunk is a struct frame with a large slice inside, as instruments send.
type Chunk struct {
	Seq     int64
	Rate    float64
	Samples []float32
	Channel string
}

// Chunks sends Count chunks of Len samples; sample i of chunk k is
// float32(Sample(k, i, Len)). With Alloc, Samples comes from sgn.Alloc.
//
//sgn:element
type Chunks struct {
	Out   sgn.Source[Chunk] `sgn:"out"`
	Len   int64
	Count int64
	Alloc bool

	k int64
}

// New fills the next chunk.
func (c *Chunks) New(ctx *sgn.Context) (sgn.Frame[Chunk], error) {
	var s []float32
	if c.Alloc {
		var err error
		if s, err = sgn.Alloc[float32](ctx, int(c.Len)); err != nil {
			return sgn.Frame[Chunk]{}, err
		}
	} else {
		s = make([]float32, c.Len)
	}
	for i := range s {
		s[i] = float32(Sample(c.k, int64(i), c.Len))
	}
	f := sgn.Frame[Chunk]{Data: Chunk{Seq: c.k, Rate: 16384, Samples: s, Channel: "H1"}, EOS: c.k+1 >= c.Count}
	c.k++
	return f, nil
}

// Gain multiplies a chunk's samples by Factor, in place, and appends Tag to
// its channel.
//
//sgn:element
type Gain struct {
	In     sgn.Sink[Chunk]   `sgn:"in"`
	Out    sgn.Source[Chunk] `sgn:"out"`
	Factor float32
	Tag    string
}

// Process scales one chunk.
func (g *Gain) Process(ctx *sgn.Context, f sgn.Frame[Chunk]) (sgn.Frame[Chunk], error) {
	for i := range f.Data.Samples {
		f.Data.Samples[i] *= g.Factor
	}
	f.Data.Channel += g.Tag
	return f, nil
}

// VerifyChunks checks that chunk k has Seq k and sample i equal to
// Factor*float32(Sample(k, i, Len)), with channel Channel.
//
//sgn:element
type VerifyChunks struct {
	In      sgn.Sink[Chunk] `sgn:"in"`
	Len     int64
	Factor  float32
	Channel string

	chunks int64
}

// Consume checks one chunk.
func (v *VerifyChunks) Consume(ctx *sgn.Context, f sgn.Frame[Chunk]) error {
	if f.Gap {
		return nil
	}
	c := f.Data
	if c.Seq != v.chunks || c.Rate != 16384 || c.Channel != v.Channel || int64(len(c.Samples)) != v.Len {
		return fmt.Errorf("chunk %d arrived as seq %d, rate %v, channel %q, %d samples", v.chunks, c.Seq, c.Rate, c.Channel, len(c.Samples))
	}
	for i, x := range c.Samples {
		if want := v.Factor * float32(Sample(v.chunks, int64(i), v.Len)); x != want {
			return fmt.Errorf("chunk %d, sample %d: %v, want %v", v.chunks, i, x, want)
		}
	}
	v.chunks++
	return nil
}

// Chunks returns the number of chunks checked.
func (v *VerifyChunks) Chunks() int64 { return v.chunks }

// Bump reads the shared segment named Segment as float64s, sends their sum
// in one frame with EOS, then adds 1 to each, as the tutorial's worker does
// with its shared array. It reports the segment's metadata key Key in the
// frame's metadata.
//
//sgn:element
type Bump struct {
	Out     sgn.Source[float64] `sgn:"out"`
	Segment string
	Key     string
}

// New sums and bumps the segment.
func (b *Bump) New(ctx *sgn.Context) (sgn.Frame[float64], error) {
	seg, err := ctx.Segment(b.Segment)
	if err != nil {
		return sgn.Frame[float64]{}, err
	}
	var sum float64
	v := shm.View[float64](seg)
	for i := range v {
		sum += v[i]
		v[i]++
	}
	meta := map[string]any{"pid": int64(os.Getpid()), b.Key: seg.Meta()[b.Key]}
	return sgn.Frame[float64]{Data: sum, EOS: true, Meta: meta}, nil
}

// Floats keeps the float64 frames it receives.
//
//sgn:element
type Floats struct {
	In sgn.Sink[float64] `sgn:"in"`

	got []sgn.Frame[float64]
}

// Consume keeps one frame.
func (f *Floats) Consume(ctx *sgn.Context, fr sgn.Frame[float64]) error {
	f.got = append(f.got, fr)
	return nil
}

// Got returns the frames received.
func (f *Floats) Got() []sgn.Frame[float64] { return f.got }

// MappingOf returns the name of the memory mapping that p lies in, as
// /proc/self/maps gives it ("" for anonymous memory, such as Go's heap).
func MappingOf(p unsafe.Pointer) (string, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	at := uint64(uintptr(p))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && l <= at && at < h {
			if len(fields) < 6 {
				return "", nil
			}
			return strings.Join(fields[5:], " "), nil
		}
	}
	return "", fmt.Errorf("address %#x is in no mapping of this process", at)
}

// Stamp sends Count frames of Len float64s, writing only the first, with
// the frame's number (from 0): the cost of moving a large frame, without
// the cost of filling it. With Alloc the slices come from sgn.Alloc; else
// from make, which zeroes them.
//
//sgn:element
type Stamp struct {
	Out   sgn.Source[[]float64] `sgn:"out"`
	Len   int64
	Count int64
	Alloc bool

	k int64
}

// New stamps the next frame.
func (s *Stamp) New(ctx *sgn.Context) (sgn.Frame[[]float64], error) {
	var d []float64
	if s.Alloc {
		var err error
		if d, err = sgn.Alloc[float64](ctx, int(s.Len)); err != nil {
			return sgn.Frame[[]float64]{}, err
		}
	} else {
		d = make([]float64, s.Len)
	}
	d[0] = float64(s.k)
	s.k++
	return sgn.Frame[[]float64]{Data: d, EOS: s.k >= s.Count}, nil
}

// Restamp adds 1 to the first value of each frame, in place.
//
//sgn:element
type Restamp struct {
	In  sgn.Sink[[]float64]   `sgn:"in"`
	Out sgn.Source[[]float64] `sgn:"out"`
}

// Process restamps one frame.
func (r *Restamp) Process(ctx *sgn.Context, f sgn.Frame[[]float64]) (sgn.Frame[[]float64], error) {
	f.Data[0]++
	return f, nil
}

// CheckStamps fails unless frame k's first value is k + Add.
//
//sgn:element
type CheckStamps struct {
	In  sgn.Sink[[]float64] `sgn:"in"`
	Add float64

	frames int64
}

// Consume checks one frame.
func (c *CheckStamps) Consume(ctx *sgn.Context, f sgn.Frame[[]float64]) error {
	if f.Gap {
		return nil
	}
	if want := float64(c.frames) + c.Add; f.Data[0] != want {
		return fmt.Errorf("frame %d is stamped %v, want %v", c.frames, f.Data[0], want)
	}
	c.frames++
	return nil
}

// Frames returns the number of frames checked.
func (c *CheckStamps) Frames() int64 { return c.frames }

// StampChunks sends Count chunks of Len float32 samples, writing only the
// first sample and the scalars. With Alloc the samples come from sgn.Alloc.
//
//sgn:element
type StampChunks struct {
	Out   sgn.Source[Chunk] `sgn:"out"`
	Len   int64
	Count int64
	Alloc bool

	k int64
}

// New stamps the next chunk.
func (s *StampChunks) New(ctx *sgn.Context) (sgn.Frame[Chunk], error) {
	var d []float32
	if s.Alloc {
		var err error
		if d, err = sgn.Alloc[float32](ctx, int(s.Len)); err != nil {
			return sgn.Frame[Chunk]{}, err
		}
	} else {
		d = make([]float32, s.Len)
	}
	d[0] = float32(s.k)
	f := sgn.Frame[Chunk]{Data: Chunk{Seq: s.k, Rate: 16384, Samples: d, Channel: "H1"}, EOS: s.k+1 >= s.Count}
	s.k++
	return f, nil
}

// CheckChunkStamps fails unless chunk k has Seq k and its first sample is
// k times Factor.
//
//sgn:element
type CheckChunkStamps struct {
	In     sgn.Sink[Chunk] `sgn:"in"`
	Factor float32

	chunks int64
}

// Consume checks one chunk.
func (c *CheckChunkStamps) Consume(ctx *sgn.Context, f sgn.Frame[Chunk]) error {
	if f.Gap {
		return nil
	}
	if f.Data.Seq != c.chunks || f.Data.Samples[0] != float32(c.chunks)*c.Factor {
		return fmt.Errorf("chunk %d arrived as seq %d, first sample %v", c.chunks, f.Data.Seq, f.Data.Samples[0])
	}
	c.chunks++
	return nil
}

// Chunks returns the number of chunks checked.
func (c *CheckChunkStamps) Chunks() int64 { return c.chunks }

// RestampChunk doubles the first sample of each chunk, in place.
//
//sgn:element
type RestampChunk struct {
	In  sgn.Sink[Chunk]   `sgn:"in"`
	Out sgn.Source[Chunk] `sgn:"out"`
}

// Process restamps one chunk.
func (r *RestampChunk) Process(ctx *sgn.Context, f sgn.Frame[Chunk]) (sgn.Frame[Chunk], error) {
	f.Data.Samples[0] *= 2
	return f, nil
}
