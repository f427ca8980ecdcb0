package shm

import (
	"os"

	"golang.org/x/sys/unix"
)

// memfd creates an anonymous shared-memory file of size bytes. It is
// close-on-exec: a child process gets it only when it is passed on
// explicitly.
func memfd(name string, size int) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func mmap(f *os.File, size int) ([]byte, error) {
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	return b, nil
}

func munmap(b []byte) error { return os.NewSyscallError("munmap", unix.Munmap(b)) }
