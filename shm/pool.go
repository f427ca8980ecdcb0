package shm

import (
	"fmt"
	"os"
	"unsafe"
)

// A Pool is a segment cut into equal slots, each aligned to a memory page.
type Pool struct {
	seg   *Segment
	size  int     // bytes per slot
	count int     // slots
	base  uintptr // address of slot 0
}

// NewPool creates a pool of count slots of at least size bytes each; the
// size is rounded up to a whole number of memory pages. Pages are only
// given memory when they are first touched, so a pool costs little more
// than the slots in use. The name is a segment's (see New).
func NewPool(name string, count, size int) (*Pool, error) {
	if count <= 0 || size <= 0 {
		return nil, fmt.Errorf("shm: pool of %d slots of %d bytes: both must be positive", count, size)
	}
	size = SlotSize(size)
	seg, err := New(name, count*size, nil)
	if err != nil {
		return nil, err
	}
	return newPool(seg, count, size), nil
}

// MapPool maps a pool that another process created and passed on as f. The
// Pool owns f from then on, also on error.
func MapPool(name string, f *os.File, count, size int) (*Pool, error) {
	if count <= 0 || size <= 0 || size != SlotSize(size) {
		f.Close()
		return nil, fmt.Errorf("shm: pool of %d slots of %d bytes: not a pool's shape", count, size)
	}
	seg, err := Map(name, nil, f, count*size)
	if err != nil {
		return nil, err
	}
	return newPool(seg, count, size), nil
}

func newPool(seg *Segment, count, size int) *Pool {
	return &Pool{seg: seg, size: size, count: count, base: uintptr(unsafe.Pointer(unsafe.SliceData(seg.data)))}
}

// SlotSize returns the size of the slots that a pool made for payloads of
// n bytes has: n rounded up to a whole number of memory pages.
func SlotSize(n int) int {
	page := os.Getpagesize()
	return (n + page - 1) / page * page
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.seg.Name() }

// Count returns the number of slots.
func (p *Pool) Count() int { return p.count }

// Size returns the size of one slot in bytes.
func (p *Pool) Size() int { return p.size }

// Slot returns slot i's memory. It panics if there is no slot i.
func (p *Pool) Slot(i int) []byte {
	return p.seg.data[i*p.size : (i+1)*p.size : (i+1)*p.size]
}

// Locate tells whether b lies in the pool, and if so in which slot and at
// which offset. A slice that straddles two slots does not lie in one.
func (p *Pool) Locate(b []byte) (slot, offset int, ok bool) {
	if len(b) == 0 || p.seg.data == nil {
		return 0, 0, false
	}
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if at < p.base || at-p.base >= uintptr(p.count*p.size) {
		return 0, 0, false
	}
	off := int(at - p.base)
	slot, offset = off/p.size, off%p.size
	if offset+len(b) > p.size {
		return 0, 0, false
	}
	return slot, offset, true
}

// File returns the pool's descriptor, for passing to a child process.
func (p *Pool) File() *os.File { return p.seg.File() }

// Close unmaps the pool and closes its descriptor; see Segment.Close.
func (p *Pool) Close() error { return p.seg.Close() }
