package sgn_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
)

// BenchmarkNATSWorkerInt64 is nats_worker_fps: b.N int64 frames from a
// source in this process through a transform on a worker over NATS (an
// embedded server; the worker binary a separate process, started with
// -nats) to a sink in this process.
func BenchmarkNATSWorkerInt64(b *testing.B) { benchNATSWorker(b, sgn.DefaultQueueSize, 0) }

// BenchmarkNATSWorkerInt64Queue1000 is nats_worker_q1000_fps: the same
// with queues of 1000 frames. A link's frames in flight are bounded by its
// queue, so its rate by the queue over the round trip; across hosts the
// round trip is longer than through a pipe, and a deeper queue pays.
func BenchmarkNATSWorkerInt64Queue1000(b *testing.B) { benchNATSWorker(b, 1000, 0) }

// BenchmarkNATSReplicasInt64 is nats_replicas_fps: the same as
// nats_worker_fps with the transform as 4 replicas, each on a worker over
// NATS (4 worker binaries, separate processes): the frames are spread over
// them by credit and their outputs put back in order in this process.
func BenchmarkNATSReplicasInt64(b *testing.B) { benchNATSWorker(b, sgn.DefaultQueueSize, 4) }

// benchNATSWorker runs b.N int64 frames through a Scale on workers over
// NATS, queues of queueSize frames: one worker (replicas 0), or the
// transform as that many replicas, each on a worker of its own.
func benchNATSWorker(b *testing.B, queueSize, replicas int) {
	s := natstest.Start(b, nil)
	l := remote.NewLauncher(connect(b, s.ClientURL()))
	where, agents := sgn.Remote(l), 1
	if replicas > 0 {
		where, agents = sgn.Replicas(replicas, sgn.Remote(l)), replicas
	}
	for range agents {
		startAgent(b, "testelems-scale", s.ClientURL())
	}
	src := &testelems.Count{From: 1, To: int64(b.N)}
	x := &testelems.Scale{Factor: 2}
	snk := &testelems.Tally{First: 2, Step: 2}
	p := sgn.NewPipeline(sgn.QueueSize(queueSize))
	p.Insert("src", src)
	p.Insert("scale", x, where)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if snk.Frames() != int64(b.N) {
		b.Fatalf("sink got %d frames, want %d", snk.Frames(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkNATSPubSub64 is floor_nats_msgs: what the embedded server does
// alone with 64-byte messages, one connection publishing, another
// subscribed, in the same run as nats_worker_fps.
func BenchmarkNATSPubSub64(b *testing.B) {
	s := natstest.Start(b, nil)
	pub, sub := connect(b, s.ClientURL()), connect(b, s.ClientURL())
	var got atomic.Int64
	all := make(chan struct{})
	subscription, err := sub.Subscribe("floor", func(*nats.Msg) {
		if got.Add(1) == int64(b.N) {
			close(all)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	subscription.SetPendingLimits(-1, -1)
	if err := sub.Flush(); err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	b.ResetTimer()
	for range b.N {
		if err := pub.Publish("floor", msg); err != nil {
			b.Fatal(err)
		}
	}
	pub.Flush()
	<-all
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkNATSRoundTrip is BenchmarkRoundTrip with the transform on a
// worker over NATS: one frame at a time, each timed.
func BenchmarkNATSRoundTrip(b *testing.B) {
	s := natstest.Start(b, nil)
	startAgent(b, "testelems-scale", s.ClientURL())
	l := remote.NewLauncher(connect(b, s.ClientURL()))
	pong := make(chan struct{}, 1)
	src := &pinger{n: b.N, pong: pong}
	x := &testelems.Scale{Factor: 1}
	snk := &ponger{pong: pong}
	p := sgn.NewPipeline()
	p.Insert("src", src)
	p.Insert("x", x, sgn.Remote(l))
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	slices.Sort(src.rtts)
	pct := func(q float64) float64 { return float64(src.rtts[int(q*float64(len(src.rtts)-1))]) / 1e3 }
	b.ReportMetric(pct(0.5), "µs-p50")
	b.ReportMetric(pct(0.99), "µs-p99")
}
