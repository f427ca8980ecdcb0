package sgn_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/squares/stages"
)

// A pipeline of three elements, all in this process: count 1 to 5, square,
// print. The elements are those of the README's walkthrough, in package
// github.com/sgn-go/sgn/examples/squares/stages; your own are structs
// marked //sgn:element, made elements by go generate.
func ExamplePipeline() {
	count := &stages.Count{Limit: 5}
	square := &stages.Square{}
	print := &stages.Print{}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square)
	p.Insert("print", print)
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &print.In)

	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1
	// 4
	// 9
	// 16
	// 25
}

// The same pipeline with the transform and the sink in worker processes:
// InWorker moves an element to the worker binary sgngen generated for its
// type. The workers must be built first, into the directory WorkerDir names
// (without it, $SGN_WORKER_DIR, or the directory of the running program):
//
//	go build -o bin/ ./...
//
// go test builds no worker binaries, so this example is compiled, not run;
// examples/squares is the same program, to build and run.
func ExampleInWorker() {
	count := &stages.Count{Limit: 5}
	square := &stages.Square{}
	print := &stages.Print{}

	p := sgn.NewPipeline(sgn.WorkerDir("bin"), sgn.HandleSignals())
	p.Insert("count", count)
	p.Insert("square", square, sgn.InWorker())
	p.Insert("print", print, sgn.InWorker())
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &print.In)

	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err) // names the element that failed, and its worker's exit status
	}
}

// Check reports every mistake, each at the line that made it: here a pad
// left unlinked, at the line that inserted its element.
func ExamplePipeline_Check() {
	count := &stages.Count{Limit: 3}
	square := &stages.Square{}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square)
	sgn.Link(&count.Out, &square.In)

	fmt.Println(p.Check())
	// Output: example_test.go:73: square:src:out: source pad is not linked
}

// A transform run as four replicas: frames are spread over them, and
// their outputs come back in the order of their inputs. Replicas(4,
// sgn.InWorker()) would run each in a worker process of its own.
func ExampleReplicas() {
	count := &stages.Count{Limit: 8}
	square := &stages.Square{}
	print := &stages.Print{}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square, sgn.Replicas(4))
	p.Insert("print", print)
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &print.In)

	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range p.Status()[1].Replicas {
		fmt.Println(r.Name, r.State)
	}
	// Output:
	// 1
	// 4
	// 9
	// 16
	// 25
	// 36
	// 49
	// 64
	// square[0] done
	// square[1] done
	// square[2] done
	// square[3] done
}
