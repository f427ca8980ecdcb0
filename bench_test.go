package sgn_test

import (
	"context"
	"testing"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// benchChain runs b.N int64 frames through count → scale → collect, with
// the scale placed as asked, and reports frames per second. A run includes
// starting and stopping its workers, which b.N amortises.
func benchChain(b *testing.B, scaleInWorker bool) {
	src := &testelems.Count{From: 1, To: int64(b.N)}
	x := &testelems.Scale{Factor: 2}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("scale", x, where(scaleInWorker)...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := len(snk.Got()); got != b.N {
		b.Fatalf("sink got %d frames, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkInProcessInt64 is the baseline: three goroutines, two channels.
func BenchmarkInProcessInt64(b *testing.B) { benchChain(b, false) }

// BenchmarkWorkerInt64 sends every frame to a worker process and back.
func BenchmarkWorkerInt64(b *testing.B) { benchChain(b, true) }

// BenchmarkWorkerStartToFinish runs a whole pipeline per iteration, one frame
// through a transform in a worker: the cost of starting a worker, the
// handshake, EOS and shutdown (SGN spends about 5 s per worker in shutdown
// alone).
func BenchmarkWorkerStartToFinish(b *testing.B) {
	for b.Loop() {
		src := &testelems.Count{From: 1, To: 1}
		x := &testelems.Scale{Factor: 2}
		snk := &testelems.Collect{}
		p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
		p.Insert("src", src)
		p.Insert("scale", x, sgn.InWorker())
		p.Insert("snk", snk)
		sgn.Link(&src.Out, &x.In)
		sgn.Link(&x.Out, &snk.In)
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
