package testelems

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// A Crash makes an element fail at the At-th frame its process handles
// (0: never), the way How names: "exit" ends the process with status 3,
// "kill" has it killed by SIGKILL, "panic" panics, and "error" returns an
// error. The count is per process, so a restarted worker fails again At
// frames later; with Once set, only a process that finds no file at that
// path fails (it makes the file first), as with a fault that passes.
type Crash struct {
	At   int64
	How  string
	Once string

	handled int64
}

// tick counts one frame, and fails if it is the one.
func (c *Crash) tick(what string) error {
	c.handled++
	if c.At == 0 || c.handled != c.At {
		return nil
	}
	if c.Once != "" {
		f, err := os.OpenFile(c.Once, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return nil // failed once already
		}
		f.Close()
	}
	switch c.How {
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "panic":
		panic(fmt.Sprintf("%s: crash at frame %d of pid %d", what, c.handled, os.Getpid()))
	case "error":
		return fmt.Errorf("%s: failure at frame %d of pid %d", what, c.handled, os.Getpid())
	default:
		fmt.Fprintf(os.Stderr, "%s: exiting at frame %d of pid %d\n", what, c.handled, os.Getpid())
		os.Exit(3)
	}
	return errors.New("unreachable")
}
