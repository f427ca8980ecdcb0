package testelems

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"time"

	"github.com/sgn-go/sgn"
)

// A Work is a number, and the process and element that worked on it.
type Work struct {
	N       int64
	PID     int64
	Element string
}

// Toil turns each number n into Work{N: n*Factor, PID: its process ID,
// Element: the name it runs under (a replica's, "x[1]")}. For each frame it
// does Spin rounds of arithmetic, and sleeps up to MaxSleep, a time drawn
// from a generator seeded by its element's name, so that replicas run at
// unequal speeds; the one named Slow sleeps SlowSleep more. The output for
// the number EndAt (0: none) carries EOS.
//
//sgn:element
type Toil struct {
	In        sgn.Sink[int64]  `sgn:"in"`
	Out       sgn.Source[Work] `sgn:"out"`
	Factor    int64
	Spin      int64
	MaxSleep  time.Duration
	Slow      string
	SlowSleep time.Duration
	EndAt     int64
	Crash     Crash

	rng *rand.Rand
	mix uint64 // the arithmetic's result, kept so that it is done
}

// Process works on one number.
func (t *Toil) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[Work], error) {
	if err := t.Crash.tick("toil"); err != nil {
		return sgn.Frame[Work]{}, err
	}
	x := t.mix + uint64(f.Data)
	for range t.Spin {
		x = x*6364136223846793005 + 1442695040888963407
	}
	t.mix = x
	if t.MaxSleep > 0 {
		if t.rng == nil {
			h := fnv.New64a()
			h.Write([]byte(ctx.Element()))
			t.rng = rand.New(rand.NewPCG(h.Sum64(), 1))
		}
		time.Sleep(time.Duration(t.rng.Int64N(int64(t.MaxSleep))))
	}
	if t.Slow != "" && ctx.Element() == t.Slow {
		time.Sleep(t.SlowSleep)
	}
	w := Work{N: f.Data * t.Factor, PID: int64(os.Getpid()), Element: ctx.Element()}
	return sgn.Frame[Work]{Data: w, Gap: f.Gap, EOS: t.EndAt != 0 && f.Data == t.EndAt}, nil
}

// Works keeps every frame it receives, the EOS frame included.
//
//sgn:element
type Works struct {
	In sgn.Sink[Work] `sgn:"in"`

	got []sgn.Frame[Work]
}

// Consume keeps one frame.
func (w *Works) Consume(ctx *sgn.Context, f sgn.Frame[Work]) error {
	w.got = append(w.got, f)
	return nil
}

// Got returns the frames received.
func (w *Works) Got() []sgn.Frame[Work] { return w.got }

// TallyWork counts the works it receives and checks that each number is
// Step more than the one before (the first: First), without keeping them:
// a sink for benchmarks.
//
//sgn:element
type TallyWork struct {
	In    sgn.Sink[Work] `sgn:"in"`
	First int64
	Step  int64

	frames int64
}

// Consume checks and counts one work.
func (t *TallyWork) Consume(ctx *sgn.Context, f sgn.Frame[Work]) error {
	if f.Gap {
		return nil
	}
	if want := t.First + t.frames*t.Step; f.Data.N != want {
		return fmt.Errorf("work %d is for %d, want %d", t.frames, f.Data.N, want)
	}
	t.frames++
	return nil
}

// Frames returns the number of works counted.
func (t *TallyWork) Frames() int64 { return t.frames }
