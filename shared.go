package sgn

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"unsafe"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// Share creates a segment of shared memory of size bytes, zeroed, under a
// name that is unique in the pipeline, with metadata: SGN's
// to_shm(name, bytes, **metadata). Every element of the pipeline, in this
// process or in a worker, finds it by name with Context.Segment; they all
// see the same bytes, not copies, so what one writes the others read (after
// Run, this process sees what the workers wrote). Fill it through
// Segment.Bytes or a typed view:
//
//	seg, err := p.Share("calibration", 5*8, map[string]any{"dtype": "float64"})
//	copy(shm.View[float64](seg), []float64{1, 2, 3, 4, 5})
//
// Metadata must be CBOR-encodable, as a frame's is. A name that is taken
// is an error that wraps fs.ErrExist, and leaves every other segment as it
// was. Segments must be shared before Run.
//
// The memory has no name outside the pipeline: workers receive it as an
// inherited descriptor, and it is freed when every process that uses it
// has exited or closed it, whether the run ended normally, failed, or the
// main process was killed. In this process it stays mapped after Run, for
// the program to read; Segment.Close unmaps it.
func (p *Pipeline) Share(name string, size int, meta map[string]any) (*shm.Segment, error) {
	if p.ran {
		return nil, fmt.Errorf("share %q: the pipeline has already run; share segments before Run", name)
	}
	if name == "" {
		return nil, fmt.Errorf("share: the segment name is empty")
	}
	if _, ok := p.segments[name]; ok {
		return nil, fmt.Errorf("share %q: %w: a segment of that name is already shared with this pipeline", name, fs.ErrExist)
	}
	encoded, err := runtime.EncodeMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("share %q: %w", name, err)
	}
	seg, err := shm.New(name, size, meta)
	if err != nil {
		return nil, err
	}
	if p.segments == nil {
		p.segments = map[string]*shared{}
	}
	p.segments[name] = &shared{seg: seg, meta: encoded}
	return seg, nil
}

// shared is a segment the pipeline shares, with its metadata encoded for
// workers.
type shared struct {
	seg  *shm.Segment
	meta []byte
}

// Segment returns the pipeline's shared segment of that name (see
// Pipeline.Share), mapped in the element's process.
func (c *Context) Segment(name string) (*shm.Segment, error) {
	if s, ok := c.segments[name]; ok {
		return s, nil
	}
	if len(c.segments) == 0 {
		return nil, fmt.Errorf("%s: no shared segment named %q: the pipeline shares none (see Pipeline.Share)", c.element, name)
	}
	names := slices.Sorted(maps.Keys(c.segments))
	return nil, fmt.Errorf("%s: no shared segment named %q; the pipeline shares %s", c.element, name, strings.Join(names, ", "))
}

// Alloc returns a slice of n elements for the element to fill and send in a
// frame. When the frame goes to another process, a slice from Alloc costs no
// copy: it is a slot of the pipeline's shared memory, and the frame carries
// only its place. Otherwise it is an ordinary slice.
//
// Unlike make, Alloc does not zero the slice: a slot is reused from frame to
// frame, so set every element. The slice is the element's until it has sent
// the frames that carry it: send it on as many pads as you like, one frame
// after the other; once the element sends a frame without it, or its New,
// Process or Consume returns (for an element with Run, when Run returns),
// it is no longer the element's to use. Each element has a few slots (see
// Slots): when all of them are in frames that their consumers have not
// finished with, Alloc returns an ordinary slice, which travels in the
// message, copied. It never waits, and fails only if n is negative.
//
// A slice smaller than the pipeline's inline threshold (16 KiB) or larger
// than a slot is made with make: it travels in the message.
func Alloc[E shm.Number](ctx *Context, n int) ([]E, error) {
	if n < 0 {
		return nil, fmt.Errorf("%s: Alloc of %d elements", ctx.element, n)
	}
	var zero E
	size := n * int(unsafe.Sizeof(zero))
	if ctx.budget == nil || size < ctx.pool.Inline() || size > ctx.pool.Mem().Size() {
		return make([]E, n), nil
	}
	s, mem, ok := ctx.budget.Take()
	if !ok {
		return make([]E, n), nil
	}
	ctx.allocs = append(ctx.allocs, alloc{slot: s})
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(mem))), n), nil
}

// An alloc is a slot that Alloc handed out, and whether a frame has
// carried it yet.
type alloc struct {
	slot    wire.Slot
	carried bool
}

// allocsSent records that a frame carrying the given slots was sent. The
// element's allocations that it carried are marked; those that an earlier
// frame carried, and this one does not, now belong to their receivers
// alone.
func (c *Context) allocsSent(slots []uint32) {
	kept := c.allocs[:0]
	for _, a := range c.allocs {
		switch {
		case containsSlot(slots, a.slot.Index):
			a.carried = true
		case a.carried:
			c.pool.Release([]uint32{a.slot.Index})
			continue
		}
		kept = append(kept, a)
	}
	clear(c.allocs[len(kept):])
	c.allocs = kept
}

// freeAllocs lets go of the slots Alloc handed out: those frames carried
// are their receivers' (in a worker, the main process accounts for them),
// the others go back to the element's budget.
func (c *Context) freeAllocs() {
	for _, a := range c.allocs {
		if a.carried {
			c.pool.Release([]uint32{a.slot.Index})
		} else {
			c.budget.Give(a.slot)
		}
	}
	clear(c.allocs)
	c.allocs = c.allocs[:0]
}

var _ wire.Placer = (*placer)(nil)
