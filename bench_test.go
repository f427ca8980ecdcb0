package sgn_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// The benchmarks behind make bench's figures. Each reports its figure as a
// metric (frames/s, GB/s, µs, ms) besides ns/op; internal/benchfmt names
// them. A run includes starting and stopping its workers, which b.N
// amortises.

// benchSmall runs b.N int64 frames through count → scale → tally, with the
// scale and the tally where asked, and reports frames per second.
func benchSmall(b *testing.B, scaleInWorker, sinkInWorker bool, opts ...sgn.PipelineOption) {
	src := &testelems.Count{From: 1, To: int64(b.N)}
	x := &testelems.Scale{Factor: 2}
	snk := &testelems.Tally{First: 2, Step: 2}
	p := sgn.NewPipeline(append([]sgn.PipelineOption{sgn.WorkerDir(workerDir)}, opts...)...)
	p.Insert("src", src)
	p.Insert("scale", x, where(scaleInWorker)...)
	p.Insert("snk", snk, where(sinkInWorker)...)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	b.ReportAllocs() // this process's: a run's setup, amortised to 0 a frame
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if !sinkInWorker && snk.Frames() != int64(b.N) {
		b.Fatalf("sink got %d frames, want %d", snk.Frames(), b.N)
	}
	if got := p.Stats().Elements[2].Sinks[0].Frames; got != int64(b.N) {
		b.Fatalf("sink got %d frames, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkInProcessInt64 is small_inproc_fps: three goroutines, two links.
func BenchmarkInProcessInt64(b *testing.B) { benchSmall(b, false, false) }

// BenchmarkWorkerInt64 is small_worker_fps: the transform in a worker.
func BenchmarkWorkerInt64(b *testing.B) { benchSmall(b, true, false) }

// BenchmarkWorker2Int64 is small_worker2_fps: transform and sink in workers.
func BenchmarkWorker2Int64(b *testing.B) { benchSmall(b, true, true) }

// observed asks for everything a user can watch a pipeline with: stats ten
// times a second, which measure the time inside each element's method. Next to the
// benchmarks above, which ask for nothing, it shows what watching costs.
func observed() []sgn.PipelineOption {
	return []sgn.PipelineOption{sgn.OnStats(100*time.Millisecond, func(sgn.Stats) {})}
}

// BenchmarkInProcessInt64Observed is small_inproc_observed_fps.
func BenchmarkInProcessInt64Observed(b *testing.B) { benchSmall(b, false, false, observed()...) }

// BenchmarkWorkerInt64Observed is small_worker_observed_fps.
func BenchmarkWorkerInt64Observed(b *testing.B) { benchSmall(b, true, false, observed()...) }

// pinger sends a frame, and the next only once the previous has come back
// (its pong says so): the round trip of one frame at a time.
type pinger struct {
	Out  sgn.Source[int64]
	n    int
	pong chan struct{}
	rtts []time.Duration
}

func (p *pinger) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:    "sgn_test.pinger",
		Sources: []sgn.Pad{p.Out.Init("out", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			for i := range p.n {
				start := time.Now()
				if err := p.Out.Send(ctx, sgn.Frame[int64]{Data: int64(i), EOS: i == p.n-1}); err != nil {
					return err
				}
				select {
				case <-p.pong:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
				p.rtts = append(p.rtts, time.Since(start))
			}
			return nil
		},
	}
}

// ponger tells the pinger each frame it receives.
type ponger struct {
	In   sgn.Sink[int64]
	pong chan struct{}
}

func (p *ponger) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:  "sgn_test.ponger",
		Sinks: []sgn.Pad{p.In.Init("in", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			return sgn.RunSink(ctx, &p.In, func(ctx *sgn.Context, f sgn.Frame[int64]) error {
				p.pong <- struct{}{}
				return nil
			})
		},
	}
}

// BenchmarkRoundTrip is rtt_us_p50 and rtt_us_p99: one frame at a time from
// this process through a transform in a worker and back, each timed.
func BenchmarkRoundTrip(b *testing.B) {
	pong := make(chan struct{}, 1)
	src := &pinger{n: b.N, pong: pong}
	x := &testelems.Scale{Factor: 1}
	snk := &ponger{pong: pong}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("x", x, sgn.InWorker())
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

// lastSent is a source of n frames that notes when its last one has been
// sent.
type lastSent struct {
	Out  sgn.Source[int64]
	n    int64
	sent time.Time
}

func (l *lastSent) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:    "sgn_test.lastSent",
		Sources: []sgn.Pad{l.Out.Init("out", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			for i := range l.n {
				if err := l.Out.Send(ctx, sgn.Frame[int64]{Data: i + 1, EOS: i == l.n-1}); err != nil {
					return err
				}
			}
			l.sent = time.Now()
			return nil
		},
	}
}

// BenchmarkShutdown is shutdown_ms: from the moment the last frame has left
// the source to the moment Run returns, with a transform and a sink in
// workers, which must finish their work and exit.
func BenchmarkShutdown(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		src := &lastSent{n: 1000}
		x := &testelems.Scale{Factor: 1}
		snk := &testelems.Tally{First: 1, Step: 1}
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
		p.Insert("src", src)
		p.Insert("x", x, sgn.InWorker())
		p.Insert("snk", snk, sgn.InWorker())
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(src.sent)
	}
	b.ReportMetric(float64(total)/float64(b.N)/1e6, "ms")
}

// firstFrame is a sink that notes when its first frame arrived.
type firstFrame struct {
	In    sgn.Sink[int64]
	first time.Time
}

func (f *firstFrame) SGNElement() sgn.Spec {
	return sgn.Spec{
		Type:  "sgn_test.firstFrame",
		Sinks: []sgn.Pad{f.In.Init("in", testelems.Int64Codec)},
		Run: func(ctx *sgn.Context) error {
			return sgn.RunSink(ctx, &f.In, func(ctx *sgn.Context, fr sgn.Frame[int64]) error {
				if f.first.IsZero() {
					f.first = time.Now()
				}
				return nil
			})
		},
	}
}

// BenchmarkWorkerStart is worker_start_ms: from Run to the first frame out
// of a source in a worker, in this process.
func BenchmarkWorkerStart(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		src := &testelems.Count{From: 1, To: 3}
		snk := &firstFrame{}
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
		p.Insert("src", src, sgn.InWorker())
		p.Insert("snk", snk)
		sgn.Link(&src.Out, &snk.In)
		start := time.Now()
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += snk.first.Sub(start)
	}
	b.ReportMetric(float64(total)/float64(b.N)/1e6, "ms")
}

// BenchmarkChain is frames/s through a chain of n transforms in workers,
// between a source and a sink in this process.
func BenchmarkChain(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			src := &testelems.Count{From: 1, To: int64(b.N)}
			snk := &testelems.Tally{First: 1, Step: 1}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src)
			out := &src.Out
			for i := range n {
				x := &testelems.Scale{Factor: 1}
				p.Insert(fmt.Sprintf("x%d", i), x, sgn.InWorker())
				sgn.Link(out, &x.In)
				out = &x.Out
			}
			p.Insert("snk", snk)
			sgn.Link(out, &snk.In)
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if snk.Frames() != int64(b.N) {
				b.Fatalf("sink got %d frames, want %d", snk.Frames(), b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkPipelines is frames/s, all together, of k pipelines run at once,
// each with its transform in a worker.
func BenchmarkPipelines(b *testing.B) {
	for _, k := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("pipelines=%d", k), func(b *testing.B) {
			per := max(1, b.N/k)
			var wg sync.WaitGroup
			errs := make(chan error, k)
			b.ResetTimer()
			for range k {
				wg.Go(func() {
					src := &testelems.Count{From: 1, To: int64(per)}
					x := &testelems.Scale{Factor: 1}
					snk := &testelems.Tally{First: 1, Step: 1}
					p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
					p.Insert("src", src)
					p.Insert("x", x, sgn.InWorker())
					p.Insert("snk", snk)
					sgn.Link(&src.Out, &x.In)
					sgn.Link(&x.Out, &snk.In)
					if err := p.Run(context.Background()); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(per*k)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
