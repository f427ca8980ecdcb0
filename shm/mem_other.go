//go:build !linux

package shm

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("shared memory needs Linux (memfd_create)")

func memfd(string, int) (*os.File, error) { return nil, errUnsupported }
func mmap(*os.File, int) ([]byte, error)  { return nil, errUnsupported }
func munmap([]byte) error                 { return errUnsupported }
