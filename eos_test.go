package sgn_test

import (
	"context"
	"testing"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// A transform that ends its stream early ends the run, as the pipeline's
// streams have all reached their end, even though its source would send
// for ever: the source is asked to end its stream, as by RequestEOS.
func TestAStreamEndedEarlyEndsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		transformInWorker, sinkIn bool
	}{
		{"in process", false, false},
		{"transform in a worker", true, false},
		{"sink in a worker", false, true},
		{"both in workers", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 1 << 40}
			x := &testelems.Toil{Factor: 10, EndAt: 5}
			snk := &testelems.Works{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src)
			p.Insert("x", x, where(tc.transformInWorker)...)
			p.Insert("snk", snk, where(tc.sinkIn)...)
			sgn.Link(&src.Out, &x.In)
			sgn.Link(&x.Out, &snk.In)
			if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
				t.Fatal(err)
			}
			for _, st := range p.Status() {
				if st.State != sgn.StateDone {
					t.Errorf("%s is %v after Run; want done", st.Name, st.State)
				}
			}
			if tc.sinkIn {
				return // the sink's frames are in its worker
			}
			got := snk.Got()
			if len(got) != 5 || !got[4].EOS {
				t.Fatalf("the sink got %d frames (%+v); want 5, the last with EOS", len(got), got)
			}
			for i, f := range got {
				if f.Data.N != int64(i+1)*10 {
					t.Errorf("frame %d is %d, want %d", i, f.Data.N, (i+1)*10)
				}
			}
		})
	}
}
