package sgn_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// seq returns from, from+1, ..., to.
func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// inProcess builds src → x → snk with every element in this process.
func inProcess(src *testelems.Count, x *testelems.Scale, snk *testelems.Collect, opts ...sgn.PipelineOption) *sgn.Pipeline {
	p := sgn.NewPipeline(opts...)
	p.Insert("src", src)
	p.Insert("scale", x)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &x.In)
	sgn.Link(&x.Out, &snk.In)
	return p
}

func scaled(s []int64, k int64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = v * k
	}
	return out
}

func TestInProcessPipelineDeliversEveryFrameInOrder(t *testing.T) {
	src := &testelems.Count{From: 1, To: 10000}
	x2 := &testelems.Scale{Factor: 2}
	snk := &testelems.Collect{}
	p := inProcess(src, x2, snk, sgn.QueueSize(3))

	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scaled(seq(1, 10000), 2), snk.Got()); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
	if !snk.SawEOS() {
		t.Error("sink never saw EOS")
	}
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already run") {
		t.Errorf("second Run() = %v, want an error", err)
	}
}

func TestFanOutGivesEveryConsumerEveryFrame(t *testing.T) {
	src := &testelems.Count{From: 1, To: 500}
	a, b := &testelems.Collect{}, &testelems.Collect{}
	p := sgn.NewPipeline(sgn.QueueSize(1))
	p.Insert("src", src)
	p.Insert("a", a)
	p.Insert("b", b)
	sgn.Link(&src.Out, &a.In)
	sgn.Link(&src.Out, &b.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*testelems.Collect{"a": a, "b": b} {
		if diff := cmp.Diff(seq(1, 500), c.Got()); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", name, diff)
		}
	}
}

func TestMultiPadElementReadsPadsInItsOwnOrder(t *testing.T) {
	a, b := &testelems.Count{From: 1, To: 300}, &testelems.Count{From: 1001, To: 1300}
	cat := &testelems.Concat{}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline(sgn.QueueSize(2))
	p.Insert("a", a)
	p.Insert("b", b)
	p.Insert("cat", cat)
	p.Insert("snk", snk)
	sgn.Link(&a.Out, &cat.A)
	sgn.Link(&b.Out, &cat.B)
	sgn.Link(&cat.Out, &snk.In)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(seq(1, 300), seq(1001, 1300)...), snk.Got()); diff != "" {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

func TestCheckNamesEveryConstructionMistake(t *testing.T) {
	src := &testelems.Count{To: 1}
	x := &testelems.Scale{}
	snk := &testelems.Collect{}
	stray := &testelems.Count{To: 1}
	other := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("src", src)
	p.Insert("x", x)
	p.Insert("snk", snk)
	p.Insert("snk", other) // duplicate name
	p.Insert("again", src) // same value twice
	sgn.Link(&src.Out, &snk.In)
	sgn.Link(&stray.Out, &snk.In) // a second upstream, from outside the pipeline

	err := p.Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded on a broken pipeline")
	}
	for _, want := range []string{
		`an element named "snk" is already in the pipeline`,
		`insert again: this github.com/sgn-go/sgn/internal/testelems.Count value is already inserted as "src"`,
		"x:snk:in: sink pad is not linked",
		"x:src:out: source pad is not linked",
		"snk:snk:in: linked from src:src:out and again from a pad of an element that is not inserted; a sink pad has one upstream",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q; it says:\n%v", want, err)
		}
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 5 {
		t.Errorf("got %d errors, want 5:\n%v", got, err)
	}
}

func TestLinkFromOutsideThePipelineIsAnError(t *testing.T) {
	src := &testelems.Count{To: 1}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	err := p.Check()
	if err == nil || !strings.Contains(err.Error(), "snk:snk:in: linked from a source pad of an element that is not in the pipeline; insert that element too") {
		t.Fatalf("Check() = %v", err)
	}
}

// Linking to an element that was never inserted is reported before
// anything runs, rather than hanging a Send that nobody will ever receive.
func TestLinkToAnElementOutsideThePipelineIsAnError(t *testing.T) {
	for _, inWorker := range []bool{false, true} {
		t.Run(fmt.Sprintf("inWorker=%v", inWorker), func(t *testing.T) {
			src := &testelems.Count{From: 1, To: 1000}
			snk := &testelems.Collect{}
			forgotten := &testelems.Collect{}
			p := sgn.NewPipeline(sgn.WorkerDir(workerDir))
			p.Insert("src", src, where(inWorker)...)
			p.Insert("snk", snk)
			sgn.Link(&src.Out, &snk.In)
			sgn.Link(&src.Out, &forgotten.In)
			linked := here(-1)
			err := runWithin(t, p, context.Background(), 10*time.Second)
			want := linked + `: src:src:out: linked to a sink pad of an element that is not in the pipeline; insert that element too`
			if err == nil || err.Error() != want {
				t.Fatalf("Run() = %v, want %q", err, want)
			}
		})
	}
}

// here returns the position of the line of its caller, offset by delta
// lines, as Check reports positions in this package's tests.
func here(delta int) string {
	_, file, line, _ := goruntime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line+delta)
}

// Check reports each mistake at the line that made it: an element's at
// its Insert, a link's at its Link.
func TestCheckSaysWhereEachMistakeWasMade(t *testing.T) {
	src := &testelems.Count{To: 1}
	x := &testelems.Scale{}
	snk := &testelems.Collect{}
	stray := &testelems.Count{To: 1}
	p := sgn.NewPipeline()
	p.Insert("src", src)
	srcAt := here(-1)
	p.Insert("x", x)
	xAt := here(-1)
	p.Insert("snk", snk)
	snkAt := here(-1)
	p.Insert("snk", &testelems.Collect{})
	dupAt := here(-1)
	p.Insert("again", src)
	againAt := here(-1)
	p.Insert("a:b", &testelems.Collect{})
	colonAt := here(-1)
	sgn.Link(&src.Out, &snk.In)
	sgn.Link(&stray.Out, &snk.In)
	strayAt := here(-1)
	sgn.Link(&stray.Out, &x.In) // x's only upstream, from outside the pipeline
	outsideAt := here(-1)

	err := p.Check()
	if err == nil {
		t.Fatal("Check passed a broken pipeline")
	}
	want := []string{
		dupAt + `: insert github.com/sgn-go/sgn/internal/testelems.Collect: an element named "snk" is already in the pipeline, inserted at ` + snkAt + `; choose another name`,
		againAt + `: insert again: this github.com/sgn-go/sgn/internal/testelems.Count value is already inserted as "src", at ` + srcAt + `; insert a new value (&T{...}) for each element`,
		colonAt + `: insert github.com/sgn-go/sgn/internal/testelems.Collect: the element name "a:b" has a ':', which separates the parts of a pad's full name (element:src:pad); choose a name without one`,
		outsideAt + `: x:snk:in: linked from a source pad of an element that is not in the pipeline; insert that element too`,
		xAt + `: x:src:out: source pad is not linked`,
		strayAt + `: snk:snk:in: linked from src:src:out and again from a pad of an element that is not inserted; a sink pad has one upstream`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("Check() (-want +got):\n%s", diff)
	}
}

func TestEmptyPipelineIsAnError(t *testing.T) {
	if err := sgn.NewPipeline().Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no elements") {
		t.Fatalf("Run() = %v", err)
	}
}

func TestElementErrorStopsThePipelineAndNamesTheElement(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1_000_000}
	x := &testelems.Scale{Factor: 1, FailAt: 50}
	snk := &testelems.Collect{}
	p := inProcess(src, x, snk)

	err := p.Run(context.Background())
	var ee *sgn.ElementError
	if !errors.As(err, &ee) || ee.Element != "scale" {
		t.Fatalf("Run() = %v, want an ElementError for scale", err)
	}
	if got, want := err.Error(), "scale: scale refuses 50"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	// The sink is stopped too, promptly: it got what it could of the 49
	// frames before the failure, in order, and nothing after.
	got := snk.Got()
	if diff := cmp.Diff(seq(1, int64(len(got))), got); diff != "" || len(got) > 49 {
		t.Errorf("sink received (-want +got):\n%s", diff)
	}
}

func TestPanicBecomesAnElementError(t *testing.T) {
	src := &testelems.Count{From: 1, To: 10}
	x := &testelems.Scale{PanicAt: 3}
	snk := &testelems.Collect{}
	p := inProcess(src, x, snk)

	err := p.Run(context.Background())
	var pe *sgn.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Run() = %v, want a PanicError", err)
	}
	if got, want := err.Error(), "scale: panic: scale cannot bear 3"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !strings.Contains(string(pe.Stack), "testelems.(*Scale).Process") {
		t.Errorf("stack does not show the panicking method:\n%s", pe.Stack)
	}
}

func TestCancellingTheContextStopsAnEndlessPipeline(t *testing.T) {
	src := &testelems.Count{From: 1, To: 1 << 62}
	snk := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("src", src)
	p.Insert("snk", snk)
	sgn.Link(&src.Out, &snk.In)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // before Run: the source must still notice, though its consumer is never slow
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
}

func TestLinkingPadsOfDifferentFrameTypesDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	out, err := exec.Command("go", "build", "-o", t.TempDir(), "./testdata/mismatch").CombinedOutput()
	if err == nil {
		t.Fatal("a program linking Source[int64] to Sink[string] compiled")
	}
	if !strings.Contains(string(out), "mismatch.go") || !strings.Contains(string(out), "Sink[string]") {
		t.Errorf("compiler output does not point at the mismatched link:\n%s", out)
	}
}
