package sgn_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// heldSink takes one frame, says so on got, waits on next, drops the frame,
// says so on dropped, and waits for the pipeline to stop.
type heldSink struct {
	In           sgn.Sink[[]byte]
	got, dropped chan int
	next         chan struct{}
}

func (h *heldSink) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:  "sgn_test.heldSink",
		Sinks: []sgn.Pad{h.In.Init("in", testelems.BytesCodec)},
		Run: func(ctx *sgn.Context) error {
			f, err := h.In.Recv(ctx)
			if err != nil {
				return err
			}
			h.got <- len(f.Data)
			<-h.next
			f = sgn.Frame[[]byte]{}
			h.dropped <- 0
			_, err = h.In.Recv(ctx)
			return err
		},
	}
}

// heapInUse returns the bytes of live heap, after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// A large message from a worker costs the main process about its size while
// its frame is held, and nothing once the frame is dropped, although the
// worker lives on.
func TestALargeMessageIsNotKeptAfterItsFrame(t *testing.T) {
	const n = 64 << 20 // larger than a slot: it travels in the message
	src := &testelems.OneBlob{Size: n}
	snk := &heldSink{got: make(chan int), dropped: make(chan int), next: make(chan struct{})}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.Slots(1, 1<<20))
	p.Insert("src", src, sgn.InWorker())
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	base := heapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if got := <-snk.got; got != n {
		t.Fatalf("the frame has %d bytes, want %d", got, n)
	}
	holding := heapInUse() - base
	snk.next <- struct{}{}
	<-snk.dropped
	after := heapInUse() - base
	cancel()
	<-done
	if holding > n+n/4 {
		t.Errorf("while the frame of %d MiB is held, the heap grew by %d MiB", n>>20, holding>>20)
	}
	if after > n/8 {
		t.Errorf("once the frame of %d MiB is dropped, the heap is still %d MiB larger", n>>20, after>>20)
	}
}
