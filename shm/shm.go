package shm

import (
	"fmt"
	"os"
	"unsafe"
)

// A Segment is a region of shared memory, mapped in this process.
type Segment struct {
	name string
	meta map[string]any
	f    *os.File // the memfd, until Close
	data []byte   // the mapping, until Close
}

// New creates a segment of size bytes, zeroed, and maps it. The name is for
// people and error messages (it shows in /proc/<pid>/fd as memfd:sgn:name);
// meta is carried with the segment for whoever receives it.
func New(name string, size int, meta map[string]any) (*Segment, error) {
	if size <= 0 {
		return nil, fmt.Errorf("shm: segment %q: size %d is not positive", name, size)
	}
	f, err := memfd("sgn:"+name, size)
	if err != nil {
		return nil, fmt.Errorf("shm: segment %q: %w", name, err)
	}
	return mapSegment(name, meta, f, size)
}

// Map maps a segment that another process created and passed on as f, of
// size bytes. The Segment owns f from then on, also on error.
func Map(name string, meta map[string]any, f *os.File, size int) (*Segment, error) {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: segment %q: %w", name, err)
	}
	if st.Size() != int64(size) {
		f.Close()
		return nil, fmt.Errorf("shm: segment %q: the descriptor holds %d bytes, not %d", name, st.Size(), size)
	}
	return mapSegment(name, meta, f, size)
}

func mapSegment(name string, meta map[string]any, f *os.File, size int) (*Segment, error) {
	data, err := mmap(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: segment %q: map %d bytes: %w", name, size, err)
	}
	return &Segment{name: name, meta: meta, f: f, data: data}, nil
}

// Name returns the segment's name.
func (s *Segment) Name() string { return s.name }

// Meta returns the metadata the segment was created with. It is shared, not
// copied: do not change it.
func (s *Segment) Meta() map[string]any { return s.meta }

// Len returns the segment's size in bytes.
func (s *Segment) Len() int { return len(s.data) }

// Bytes returns the segment's memory. Writes are seen by every process that
// has the segment mapped. The slice is invalid after Close.
func (s *Segment) Bytes() []byte { return s.data }

// File returns the segment's descriptor, for passing to a child process.
// It is nil after Close.
func (s *Segment) File() *os.File { return s.f }

// Close unmaps the segment from this process and closes its descriptor.
// The memory itself is freed once no process has it open or mapped. Close
// may be called more than once.
func (s *Segment) Close() error {
	var err error
	if s.data != nil {
		err = munmap(s.data)
		s.data = nil
	}
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
		s.f = nil
	}
	if err != nil {
		return fmt.Errorf("shm: segment %q: %w", s.name, err)
	}
	return nil
}

// Number is the set of element types a view can have.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint | ~uintptr |
		~float32 | ~float64
}

// View returns the segment's memory as a slice of E, without copying: as
// many whole elements as fit. The slice is invalid after Close.
func View[E Number](s *Segment) []E { return view[E](s.data) }

func view[E Number](b []byte) []E {
	var zero E
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(b))), n)
}
