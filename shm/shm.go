package shm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Dir is where segments live.
const Dir = "/dev/shm"

// A Segment is a shared-memory segment mapped into this process.
type Segment struct {
	name string
	data []byte
}

// Create creates a segment of size bytes, zeroed, and maps it. It fails with
// an error wrapping fs.ErrExist if the name is taken.
func Create(name string, size int) (*Segment, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("shm: create %q: size %d is not positive", name, size)
	}
	f, err := os.OpenFile(path(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, unwrapPath(err))
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("shm: create %q: %w", name, unwrapPath(err))
	}
	s, err := mapFile(name, f, size)
	if err != nil {
		os.Remove(f.Name())
	}
	return s, err
}

// Open maps an existing segment, whole.
func Open(name string) (*Segment, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path(name), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("shm: open %q: %w", name, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("shm: open %q: %w", name, err)
	}
	return mapFile(name, f, int(st.Size()))
}

func mapFile(name string, f *os.File, size int) (*Segment, error) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: map %q (%d bytes): %w", name, size, err)
	}
	return &Segment{name: name, data: data}, nil
}

// Name returns the segment's name.
func (s *Segment) Name() string { return s.name }

// Bytes returns the segment's memory. Writes are seen by every process that
// has the segment mapped. The slice is invalid after Close.
func (s *Segment) Bytes() []byte { return s.data }

// Close unmaps the segment from this process; the segment itself remains
// until it is unlinked.
func (s *Segment) Close() error {
	if s.data == nil {
		return nil
	}
	err := syscall.Munmap(s.data)
	s.data = nil
	if err != nil {
		return fmt.Errorf("shm: unmap %q: %w", s.name, err)
	}
	return nil
}

// Unlink removes the segment's name; processes that have it mapped keep
// their mapping until they close it.
func Unlink(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.Remove(path(name)); err != nil {
		return fmt.Errorf("shm: unlink %q: %w", name, unwrapPath(err))
	}
	return nil
}

func path(name string) string { return filepath.Join(Dir, name) }

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || len(name) > 255 {
		return fmt.Errorf("shm: invalid segment name %q: want 1 to 255 bytes without '/'", name)
	}
	return nil
}

// unwrapPath drops the *PathError's path, which names /dev/shm, so that the
// message speaks of the segment.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
