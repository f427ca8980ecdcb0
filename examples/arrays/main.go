// Command arrays runs the complete NumPy example of SGN's subprocess
// tutorial in Go: a source generates 5 arrays of 5 random values in this
// process, a transform squares them in a worker process, and a sink sums
// them in another. It also shares an array with the pipeline, as the
// tutorial's to_shm("my_shared_array", ...) does: the transform's worker
// adds 1 to every value, and this process prints the result after Run.
//
// The arrays travel in shared memory: the source fills slots of the
// pipeline's pool (sgn.Alloc), the transform squares them where they are,
// and the sink reads them there. With -size and -frames it sends large
// arrays instead (of 0, 1, 2, ...), quietly, and prints the throughput.
//
// Build it together with its workers, then run it:
//
//	go build -o bin/ ./examples/arrays/...
//	bin/arrays
//	bin/arrays -size 131072 -frames 2000   # 1 MiB arrays
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/arrays/arrays"
	"github.com/sgn-go/sgn/shm"
)

func main() {
	size := flag.Int64("size", 5, "values per array")
	frames := flag.Int64("frames", 5, "arrays to send")
	flag.Parse()
	tutorial := *size == 5 && *frames == 5
	fmt.Printf("Main process ID: %d\n", os.Getpid())

	p := sgn.NewPipeline(sgn.HandleSignals())
	shared, err := p.Share("my_shared_array", 5*8, map[string]any{"dtype": "float64"})
	if err != nil {
		fail(err)
	}
	defer shared.Close()
	copy(shm.View[float64](shared), []float64{1, 2, 3, 4, 5})

	source := &arrays.Generator{Size: *size, Count: *frames, Random: tutorial, Print: tutorial}
	transform := &arrays.Squarer{Shared: "my_shared_array", Print: tutorial}
	sink := &arrays.Summer{Print: tutorial}
	p.Insert("source", source)
	p.Insert("transform", transform, sgn.InWorker())
	p.Insert("sink", sink, sgn.InWorker())
	sgn.Link(&source.Arrays, &transform.Input)
	sgn.Link(&transform.Output, &sink.Result)

	start := time.Now()
	if err := p.Run(context.Background()); err != nil {
		fail(err)
	}
	elapsed := time.Since(start)

	fmt.Printf("Main: shared array after the run: %v\n", shm.View[float64](shared))
	if !tutorial {
		bytes := float64(*size * *frames * 8)
		fmt.Printf("Moved %d arrays of %d float64 (%.1f MiB) through two workers, filled, squared and summed on the way, in %v: %.2f GB/s\n",
			*frames, *size, bytes/(1<<20), elapsed.Round(time.Millisecond), bytes/elapsed.Seconds()/1e9)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "arrays:", err)
	os.Exit(1)
}
