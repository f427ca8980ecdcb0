// Command stream runs an endless pipeline until Ctrl+C: a counter in this
// process, a transform in a worker that checks every number and passes it
// on, and a sink in another worker that checks them again. It prints its
// progress on stderr every second.
//
// The first Ctrl+C asks the counter to end its stream: the pipeline drains,
// every number sent is received, and the program exits 0; its last line on
// stdout says how many frames went in and came out:
//
//	go build -o bin/ ./examples/stream/...
//	bin/stream
//	sgn 3s | counter 2.31M/s | checker 2.31M/s | tally 2.30M/s | fullest queue: tally 100/101
//	^C
//	sgn counter: done, 0 frames in, 7012345 out, busy 310ms
//	...
//	frames in=7012345 out=7012345
//
// A second Ctrl+C stops it at once, and a third ends it whatever it is
// doing.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/stream/counting"
)

func main() {
	counter := &counting.Counter{}
	checker := &counting.Checker{}
	tally := &counting.Tally{}

	p := sgn.NewPipeline(sgn.HandleSignals(), sgn.Progress(os.Stderr))
	p.Insert("counter", counter)
	p.Insert("checker", checker, sgn.InWorker())
	p.Insert("tally", tally, sgn.InWorker())
	sgn.Link(&counter.Out, &checker.In)
	sgn.Link(&checker.Out, &tally.In)

	if err := p.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "stream:", err)
		os.Exit(1)
	}
	st := p.Stats()
	in := st.Elements[0].Sources[0].Frames // sent by the counter
	out := st.Elements[2].Sinks[0].Frames  // received by the tally
	fmt.Printf("frames in=%d out=%d\n", in, out)
}
