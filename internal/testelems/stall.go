package testelems

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sgn-go/sgn"
)

// Stall is a sink that writes its process ID to PIDFile (if set) when it
// starts and then stops making progress: in Start if InStart is set, else
// at its first frame. It is deaf to cancellation, as a computation that
// never checks its context would, unless Heeds is set: then it returns
// when the pipeline stops.
//
//sgn:element
type Stall struct {
	In      sgn.Sink[int64] `sgn:"in"`
	PIDFile string
	InStart bool
	Heeds   bool
}

// Start writes the PID file, and stalls if InStart is set.
func (s *Stall) Start(ctx *sgn.Context) error {
	if s.PIDFile != "" {
		if err := os.WriteFile(s.PIDFile, fmt.Appendf(nil, "%d", os.Getpid()), 0o644); err != nil {
			return err
		}
	}
	if s.InStart {
		return s.stall(ctx)
	}
	return nil
}

// Consume stalls at the first frame.
func (s *Stall) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error { return s.stall(ctx) }

func (s *Stall) stall(ctx *sgn.Context) error {
	if s.Heeds {
		<-ctx.Done()
		return context.Cause(ctx)
	}
	for {
		time.Sleep(time.Hour)
	}
}
