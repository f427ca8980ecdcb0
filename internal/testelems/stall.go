package testelems

import (
	"fmt"
	"os"
	"time"

	"github.com/sgn-go/sgn"
)

// Stall is a sink that writes its process ID to PIDFile when it starts and
// then stops making progress, deaf to cancellation, as a computation that
// never checks its context would: in Start if InStart is set, else at its
// first frame.
//
//sgn:element
type Stall struct {
	In      sgn.Sink[int64] `sgn:"in"`
	PIDFile string
	InStart bool
}

// Start writes the PID file, and stalls if InStart is set.
func (s *Stall) Start(ctx *sgn.Context) error {
	if err := os.WriteFile(s.PIDFile, fmt.Appendf(nil, "%d", os.Getpid()), 0o644); err != nil {
		return err
	}
	for s.InStart {
		time.Sleep(time.Hour)
	}
	return nil
}

// Consume stalls at the first frame.
func (s *Stall) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	for {
		time.Sleep(time.Hour)
	}
}
