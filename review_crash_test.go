package sgn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sgn-go/sgn/internal/testelems"
)

// A worker that crashes at its first frame has answered the handshake: it
// read the hello, sent ready and took a frame. Its failure is a crash
// ("worker stopped before EOS"), not "exited before answering the
// handshake: is ... an sgn worker binary?". The worker's ready is queued
// for its writer goroutine, which, with one processor (GOMAXPROCS=1, as Go
// sets it in a container limited to one CPU), has not run yet when the
// element takes the frames the main process sent ahead and exits.
func TestAWorkerThatCrashesAtItsFirstFrameIsNotCalledANonWorker(t *testing.T) {
	t.Setenv("GOMAXPROCS", "1") // the workers'; this process has started already
	p, _ := chain(t, 100, &testelems.Scale{Factor: 1, ExitAt: 1}, true, false)
	err := p.Run(context.Background())
	if err == nil || strings.Contains(err.Error(), "handshake") || !strings.Contains(err.Error(), "scale: worker stopped before EOS") {
		t.Fatalf("Run = %v, want the crash reported as one", err)
	}
}
