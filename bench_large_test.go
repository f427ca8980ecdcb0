package sgn_test

import (
	"context"
	"testing"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// mib1 is the number of float64 in 1 MiB.
const mib1 = 1 << 20 / 8

// reportGBps reports bytes moved per second, in GB/s.
func reportGBps(b *testing.B, bytes int64) {
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e9, "GB/s")
	b.ReportMetric(0, "ns/op")
}

// benchLarge sends b.N frames of 1 MiB of float64 from this process
// through a transform in a worker, which changes them in place, back to a
// sink in this process. With alloc, the source fills slots from sgn.Alloc
// (no copy on the whole path); without, it makes ordinary slices, copied
// once into slots.
func benchLarge(b *testing.B, alloc bool) {
	src := &testelems.Stamp{Len: mib1, Count: int64(b.N), Alloc: alloc}
	x := &testelems.Restamp{}
	snk := &testelems.CheckStamps{Add: 1}
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
	if snk.Frames() != int64(b.N) {
		b.Fatalf("the sink checked %d frames, want %d", snk.Frames(), b.N)
	}
	reportGBps(b, int64(b.N)<<20)
}

// BenchmarkLargeWorker is 1 MiB []float64 frames through a worker
// transform, filled in place: large_worker_gbps.
func BenchmarkLargeWorker(b *testing.B) { benchLarge(b, true) }

// BenchmarkLargeWorkerCopied is the same with ordinary slices, each copied
// once into a slot.
func BenchmarkLargeWorkerCopied(b *testing.B) { benchLarge(b, false) }

// BenchmarkLargeWorkerStruct sends struct frames holding 1 MiB of float32
// and a few scalars, filled in place, through a worker transform.
func BenchmarkLargeWorkerStruct(b *testing.B) {
	src := &testelems.StampChunks{Len: 1 << 20 / 4, Count: int64(b.N), Alloc: true}
	x := &testelems.RestampChunk{}
	snk := &testelems.CheckChunkStamps{Factor: 2}
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
	if snk.Chunks() != int64(b.N) {
		b.Fatalf("the sink checked %d chunks, want %d", snk.Chunks(), b.N)
	}
	reportGBps(b, int64(b.N)<<20)
}

// BenchmarkMemcpy1MiB is the floor the large-frame figures are judged by:
// copying 1 MiB from one buffer to another, alternating between enough
// buffers that the copies are not served from the cache alone.
func BenchmarkMemcpy1MiB(b *testing.B) {
	const n = 16
	var bufs [n][]byte
	for i := range bufs {
		bufs[i] = make([]byte, 1<<20)
		bufs[i][0] = byte(i)
	}
	i := 0
	for b.Loop() {
		copy(bufs[(i+1)%n], bufs[i%n])
		i++
	}
	reportGBps(b, int64(b.N)<<20)
}
