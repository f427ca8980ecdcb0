package gen

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// A transform whose Process has a value receiver, run in its worker
// process, sees the configuration the pipeline gave it: Spec.Run calls
// Process on the element that DecodeConfig set, not on a copy taken before.
func TestValueReceiverProcessSeesItsConfigurationInAWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline with a worker process")
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	dir := writeCase(t, txtar.Parse([]byte(`
-- elems/elems.go --
package elems

import (
	"fmt"

	"github.com/sgn-go/sgn"
)

//sgn:element
type Count struct {
	Out sgn.Source[int64] `+"`sgn:\"out\"`"+`
	n   int64
}

func (c *Count) New(ctx *sgn.Context) (sgn.Frame[int64], error) {
	c.n++
	return sgn.Frame[int64]{Data: c.n, EOS: c.n == 3}, nil
}

//sgn:element
type Gain struct {
	In     sgn.Sink[int64]   `+"`sgn:\"in\"`"+`
	Out    sgn.Source[int64] `+"`sgn:\"out\"`"+`
	Factor int64
}

func (g Gain) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if !ctx.InWorker() {
		return f, fmt.Errorf("Gain runs in-process")
	}
	f.Data *= g.Factor
	return f, nil
}

//sgn:element
type Print struct {
	In sgn.Sink[int64] `+"`sgn:\"in\"`"+`
}

func (p *Print) Consume(ctx *sgn.Context, f sgn.Frame[int64]) error {
	if !f.Gap {
		fmt.Println(f.Data)
	}
	return nil
}
-- run/main.go --
package main

import (
	"context"
	"log"

	"example.com/golden/elems"
	"github.com/sgn-go/sgn"
)

func main() {
	count, gain, print := &elems.Count{}, &elems.Gain{Factor: 10}, &elems.Print{}
	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("gain", gain, sgn.InWorker())
	p.Insert("print", print)
	sgn.Link(&count.Out, &gain.In)
	sgn.Link(&gain.Out, &print.In)
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
`)))
	files, err := Generate(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Commit(files); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "bin/", "./...")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -o bin/ ./...: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(dir, "bin", "run")).CombinedOutput()
	if err != nil {
		t.Fatalf("the pipeline failed: %v\n%s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{"10", "20", "30"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the pipeline printed %q; want %q", got, want)
	}
}
