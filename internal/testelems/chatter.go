package testelems

import (
	"fmt"
	"os"

	"github.com/sgn-go/sgn"
)

// Chatter passes numbers through, printing a line for each on stdout and
// one on stderr, both starting with Tag. With Burst, its first frame also
// prints Burst lines on stderr at once, then "<Tag> burst over".
//
//sgn:element
type Chatter struct {
	In    sgn.Sink[int64]   `sgn:"in"`
	Out   sgn.Source[int64] `sgn:"out"`
	Tag   string
	Burst int64
	Crash Crash

	burst bool
}

// Process prints and passes one frame.
func (c *Chatter) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
	if !c.burst && c.Burst > 0 {
		c.burst = true
		for i := range c.Burst {
			fmt.Fprintf(os.Stderr, "%s burst line %d of %d, padded to be a longer line than most lines are\n", c.Tag, i, c.Burst)
		}
		fmt.Fprintf(os.Stderr, "%s burst over\n", c.Tag)
	}
	if !f.Gap {
		fmt.Printf("%s says %d on stdout\n", c.Tag, f.Data)
		fmt.Fprintf(os.Stderr, "%s says %d on stderr\n", c.Tag, f.Data)
	}
	if err := c.Crash.tick(c.Tag); err != nil {
		return f, err
	}
	return f, nil
}
