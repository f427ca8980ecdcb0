package sgn_test

import (
	"context"
	"flag"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// spin is the arithmetic a benchmark's Toil does per frame: 4000 rounds
// take about 4 µs on the machines the README's figures come from.
var spin = flag.Int64("spin", 4000, "rounds of arithmetic per frame in BenchmarkReplicas")

// benchToil runs b.N int64 frames through count → toil → tally, the toil
// doing spin rounds of arithmetic per frame and placed by opts, and
// reports frames per second.
func benchToil(b *testing.B, spin int64, opts ...sgn.ElementOption) {
	src := &testelems.Count{From: 1, To: int64(b.N)}
	x := &testelems.Toil{Factor: 1, Spin: spin}
	snk := &testelems.TallyWork{First: 1, Step: 1}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
	p.Insert("src", src)
	p.Insert("x", x, opts...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	cpu := cpuTime()
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if snk.Frames() != int64(b.N) {
		b.Fatalf("sink got %d frames, want %d", snk.Frames(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/frame")
}

// cpuTime returns the CPU time, user and system, of this process and of
// its children that have ended: a run's workers, once it has returned.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	var total time.Duration
	for _, tv := range []syscall.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		total += time.Duration(tv.Nano())
	}
	return total
}

// BenchmarkReplicas is work_worker_fps, a transform that does about 4 µs of
// work per frame (see -spin) in a worker, and replicas_N_fps, the same
// transform as N replicas in workers (replicas_here_2_fps: two in this
// process). Each also reports the CPU time, of every process, per frame.
func BenchmarkReplicas(b *testing.B) {
	b.Run("worker", func(b *testing.B) { benchToil(b, *spin, sgn.InWorker()) })
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchToil(b, *spin, sgn.Replicas(n, sgn.InWorker())) })
	}
	b.Run("here=2", func(b *testing.B) { benchToil(b, *spin, sgn.Replicas(2)) })
}

// BenchmarkReplicasNoWork is what replicas cost a transform that does no
// work: the frames' extra way through this process.
func BenchmarkReplicasNoWork(b *testing.B) {
	b.Run("worker", func(b *testing.B) { benchToil(b, 0, sgn.InWorker()) })
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchToil(b, 0, sgn.Replicas(n, sgn.InWorker())) })
	}
}
