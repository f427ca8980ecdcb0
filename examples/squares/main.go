// Command squares is the README's walkthrough: a source counts, a
// transform squares in a worker process, a sink prints in another.
//
// Build it together with its workers, then run it:
//
//	go build -o bin/ ./examples/squares/...
//	bin/squares
package main

import (
	"context"
	"log"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/squares/stages"
)

func main() {
	count := &stages.Count{Limit: 5}
	square := &stages.Square{}
	print := &stages.Print{}

	p := sgn.NewPipeline(sgn.HandleSignals())
	p.Insert("count", count)
	p.Insert("square", square, sgn.InWorker())
	p.Insert("print", print, sgn.InWorker())
	sgn.Link(&count.Out, &square.In) // SGN's link_map {square:snk:in: count:src:out}
	sgn.Link(&square.Out, &print.In)
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
