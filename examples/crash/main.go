// Command crash shows what happens when a worker's element panics: a
// transform in a worker squares the numbers 1 to 20 and panics at the 5th
// frame its process handles.
//
// Without a restart policy, the run fails: the program exits 1, and its
// error names the element and the panic. With -restart, the pipeline starts
// a new worker each time, gives it the frames its predecessor had not
// answered, and the run completes, with every square once:
//
//	go build -o bin/ ./examples/crash/...
//	bin/crash            # crash: squarer: panic: squarer in pid 4242 cannot bear 5 ...
//	bin/crash -restart   # received 20 squares, sum 2870, after 4 restarts
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/crash/fragile"
)

func main() {
	restart := flag.Bool("restart", false, "restart the worker when it panics")
	flag.Parse()

	numbers := &fragile.Numbers{Count: 20}
	squarer := &fragile.Squarer{PanicAt: 5}
	total := &fragile.Total{}

	p := sgn.NewPipeline(sgn.HandleSignals())
	p.Insert("numbers", numbers)
	if *restart {
		p.Insert("squarer", squarer, sgn.InWorker(), sgn.Restart(10, time.Minute))
	} else {
		p.Insert("squarer", squarer, sgn.InWorker())
	}
	p.Insert("total", total)
	sgn.Link(&numbers.Out, &squarer.In)
	sgn.Link(&squarer.Out, &total.In)

	if err := p.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
	fmt.Printf("received %d squares, sum %d, after %d restarts\n", total.Frames(), total.Sum(), p.Status()[1].Restarts)
}
