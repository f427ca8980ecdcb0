package runtime

import (
	"fmt"
	"os"
)

// pipeSize is the capacity asked for each pipe: large enough that a batch of
// frames rarely waits for the reader.
const pipeSize = 1 << 20

// pipe returns a pipe, enlarged where the system allows.
func pipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("create pipe: %w", err)
	}
	setPipeSize(w, pipeSize)
	return r, w, nil
}
