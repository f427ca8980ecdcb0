package sgn_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// replicated builds src → x → snk, x a Toil run as replicas with opts.
func replicated(n int64, x *testelems.Toil, opts ...sgn.ElementOption) (*sgn.Pipeline, *testelems.Works) {
	src := &testelems.Count{From: 1, To: n}
	snk := &testelems.Works{}
	p := sgn.NewPipeline(sgn.WorkerDir(workerDir), sgn.QueueSize(8))
	p.Insert("src", src)
	p.Insert("x", x, opts...)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	return p, snk
}

// checkWorks fails the test unless the frames are the works of 1..n times
// factor, in order, the last with EOS and no other; it returns how many
// each element (each replica) did.
func checkWorks(t *testing.T, got []sgn.Frame[testelems.Work], n, factor int64) map[string]int {
	t.Helper()
	var nums []int64
	by := map[string]int{}
	for i, f := range got {
		if f.EOS != (i == len(got)-1) {
			t.Errorf("frame %d of %d has EOS %v", i, len(got), f.EOS)
		}
		nums = append(nums, f.Data.N)
		by[f.Data.Element]++
	}
	if diff := cmp.Diff(scaled(seq(1, n), factor), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	return by
}

// Replicas of unequal speeds, in workers and in this process: the output is
// the input's order exactly, with one EOS at its end, and every replica did
// some of the work.
func TestReplicasKeepTheInputsOrder(t *testing.T) {
	const n = 3000
	x := &testelems.Toil{Factor: 3, MaxSleep: 200 * time.Microsecond}
	p, snk := replicated(n, x, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(2))
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	by := checkWorks(t, snk.Got(), n, 3)
	pids := map[int64]bool{}
	for _, f := range snk.Got() {
		pids[f.Data.PID] = true
	}
	for k := range 4 {
		name := fmt.Sprintf("x[%d]", k)
		if by[name] == 0 {
			t.Errorf("replica %s did none of the work: %v", name, by)
		}
	}
	if len(pids) != 3 || !pids[int64(os.Getpid())] {
		t.Errorf("the work was done in processes %v; want this one (%d) and two workers", pids, os.Getpid())
	}
}
