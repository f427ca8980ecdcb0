package sgn_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// countingSource sends 1, 2, 3, ... until the pipeline stops, and counts
// the frames whose Send has returned: the frames the pipeline holds.
type countingSource struct {
	Out  sgn.Source[int64]
	sent atomic.Int64
}

func (c *countingSource) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:    "sgn_test.countingSource",
		Sources: []sgn.Pad{c.Out.Init("out", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			for n := int64(1); ; n++ {
				if err := c.Out.Send(ctx, sgn.Frame[int64]{Data: n}); err != nil {
					return err
				}
				c.sent.Add(1)
			}
		},
	}
}

// held runs p, whose source src feeds a chain that ends in a stalled sink,
// until src has sent want frames, lets it try to send more, and returns
// how many it sent. Then it stops p.
func held(t *testing.T, p *sgn.Pipeline, src *countingSource, want int64) int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); src.sent.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	// Nothing tells when a blocked Send would have returned: give any
	// frame beyond the bound time to get through.
	time.Sleep(100 * time.Millisecond)
	got := src.sent.Load()
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run has not returned 20s after it was cancelled")
	}
	return got
}

// Each link holds at most its consumer's queue and the frame the consumer
// works on, wherever the elements run: behind a sink that has stopped, a
// chain of n links holds n × (QueueSize+1) frames, in-process links, links
// to workers and links between workers alike; Queue sets an element's own.
func TestLinksHoldTheirQueueAndNoMore(t *testing.T) {
	const q = 3
	for _, tc := range []struct {
		name       string
		scales     []bool // where each transform of the chain runs: in a worker?
		sinkWorker bool
		queues     []int // Queue of each transform, then of the sink; 0: QueueSize
		want       int64
	}{
		{"one in-process link", nil, false, nil, q + 1},
		{"one link to a worker", nil, true, nil, q + 1},
		{"three in-process links", []bool{false, false}, false, nil, 3 * (q + 1)},
		{"three links between workers", []bool{true, true}, true, nil, 3 * (q + 1)},
		{"links in and out of workers", []bool{true, false}, true, nil, 3 * (q + 1)},
		{"worker to worker to here", []bool{true, true}, false, nil, 3 * (q + 1)},
		{"queues of the elements' own", []bool{true}, false, []int{1, 6}, 2 + 7},
		{"queues of the elements' own, in workers", []bool{false, true}, true, []int{0, 2, 9}, (q + 1) + 3 + 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := func(i int, inWorker bool) []sgn.ElementOption {
				o := where(inWorker)
				if i < len(tc.queues) && tc.queues[i] > 0 {
					o = append(o, sgn.Queue(tc.queues[i]))
				}
				return o
			}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(q), sgn.StopTimeout(10*time.Second))
			src := &countingSource{}
			p.Insert("src", src)
			out := &src.Out
			for i, inWorker := range tc.scales {
				x := &testelems.Scale{Factor: 1}
				p.Insert("scale"+string(rune('a'+i)), x, opts(i, inWorker)...)
				sgn.Link(out, &x.In)
				out = &x.Out
			}
			stall := &testelems.Stall{Heeds: true}
			p.Insert("stall", stall, opts(len(tc.scales), tc.sinkWorker)...)
			sgn.Link(out, &stall.In)
			if got := held(t, p, src, tc.want); got != tc.want {
				t.Errorf("the links held %d frames, want %d", got, tc.want)
			}
		})
	}
}
