package runtime

import (
	"os"
	"syscall"
)

const fSetPipeSz = 1031 // F_SETPIPE_SZ

// setPipeSize asks for a larger pipe buffer. Failure is harmless: the pipe
// keeps its default size (the system may cap it, see
// /proc/sys/fs/pipe-max-size).
func setPipeSize(f *os.File, n int) {
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(n))
		})
	}
}
