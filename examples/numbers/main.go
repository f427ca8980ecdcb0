// Command numbers runs the first pipeline of SGN's subprocess tutorial: a
// source counts 1 to 10 in this process, a transform squares the numbers in a
// worker process, and a sink prints them in another.
//
// Build it together with its workers, then run it:
//
//	go build -o bin/ ./examples/numbers/...
//	bin/numbers
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/numbers/numbers"
)

func main() {
	fmt.Printf("Main process ID: %d\n", os.Getpid())

	source := &numbers.Counter{Limit: 10}
	transform := &numbers.Square{}
	sink := &numbers.Logger{}

	p := sgn.NewPipeline(sgn.HandleSignals()) // Ctrl+C: EOS, then stop

	p.Insert("source", source)
	p.Insert("transform", transform, sgn.InWorker())
	p.Insert("sink", sink, sgn.InWorker())
	sgn.Link(&source.Numbers, &transform.Input)
	sgn.Link(&transform.Output, &sink.Result)

	if err := p.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "numbers:", err)
		os.Exit(1)
	}
}
