package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// A test binary started with SGN_RUNTIME_TEST_WORKER set plays a worker
// that misbehaves as that variable says.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SGN_RUNTIME_TEST_WORKER"); mode != "" {
		os.Exit(misbehave(mode))
	}
	os.Exit(m.Run())
}

// misbehave serves a worker whose element sends one frame on its pad 0,
// with slot descriptors that mode picks, then says it is done.
func misbehave(mode string) int {
	return Serve(func(j *Job) (*Binding, error) {
		return &Binding{
			RequestEOS: func() {},
			Run: func(ctx context.Context) error {
				var s wire.Slot
				switch mode {
				case "forged":
					s = wire.Slot{Index: uint32(j.Pool.mem.Count()) + 3, Len: 8}
				case "stale":
					s, _ = j.Budget.pop()
					s.Gen++
					s.Len = 8
				case "another's":
					s = wire.Slot{Index: 0, Len: 8} // the main process's budget owns slot 0
				case "honest":
					s, _ = j.Budget.pop()
					s.Len = 8
				}
				body := wire.AppendSlot(nil, s)
				return j.Conn.Out(0).Send(ctx, FlagEOS, body, []wire.Slot{s})
			},
		}, nil
	})
}

// newTestPool returns a pool of n slots of one page each, owned by no
// budget yet, closed when the test ends.
func newTestPool(t *testing.T, n int) *Pool {
	t.Helper()
	mem, err := shm.NewPool(fmt.Sprintf("test-%d", os.Getpid()), n, 4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	return NewPool(mem, 16)
}

// A worker's slot descriptors are checked before anything reads the
// memory they point to: one for a slot that does not exist, one whose
// generation has passed, and one for a slot of another budget are each a
// failure of the worker's element; nothing is delivered, and no slot stays
// held. An honest one is delivered.
func TestDescriptorsFromAWorkerAreChecked(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, want string }{
		{"forged", "forged slot 7"},
		{"stale", "the slot is at generation 0; a slice of shared memory was sent after its frame was done with"},
		{"another's", "forged slot 0 (generation 0, bytes 0 to 8): the worker neither filled nor received it"},
		{"honest", ""},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			p := newTestPool(t, 4)
			if _, err := p.NewBudget(2); err != nil { // slots 0 and 1: the main process's
				t.Fatal(err)
			}
			b, err := p.NewWorkerBudget(2) // slots 2 and 3
			if err != nil {
				t.Fatal(err)
			}
			c := NewConn(nil, []int{4})
			c.Account(p, b)
			relay := NewRelay(c, 0)
			consumed, _ := relay.AddLocal()
			var delivered [][]uint32
			relay.SetLocal(func(flags uint64, body []byte, slots []uint32) error {
				delivered = append(delivered, slots)
				if err := p.Hold(slots); err != nil {
					return err
				}
				p.Release(slots) // the consumer is done at once
				consumed(1)
				return nil
			})
			w := &Worker{
				Element: "x", Path: exe, Conn: c, Pool: p, Budget: b,
				Hello: Hello{Sources: []string{"out"}},
			}
			t.Setenv("SGN_RUNTIME_TEST_WORKER", tc.mode)
			t.Setenv("GORACE", "atexit_sleep_ms=0") // a worker built with -race would linger a second at exit
			err = w.Run(context.Background())
			if tc.want == "" {
				if err != nil || len(delivered) != 1 || len(delivered[0]) != 1 {
					t.Fatalf("Run() = %v, delivered %v; want one frame with one slot", err, delivered)
				}
			} else {
				var we *WorkerError
				if !errors.As(err, &we) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Run() = %v, want a WorkerError saying %q", err, tc.want)
				}
				if len(delivered) > 0 {
					t.Errorf("a frame with a bad descriptor was delivered: %v", delivered)
				}
			}
			if held := p.Held(); held != 0 {
				t.Errorf("%d slots still held after the worker ended", held)
			}
		})
	}
}

// The ledger's rules, step by step: a slot's references come from the
// frames that hold it, and it is free, at a new generation, once the last
// is gone.
func TestSlotsAreFreeOnceTheLastFrameIsDone(t *testing.T) {
	p := newTestPool(t, 2)
	b, err := p.NewBudget(2)
	if err != nil {
		t.Fatal(err)
	}
	s, mem, ok := b.Take()
	if !ok {
		t.Fatal("no free slot in a new budget")
	}
	if len(mem) != 4096 || s.Gen != 0 {
		t.Fatalf("took %v with %d bytes", s, len(mem))
	}
	// Two receivers in this process and one frame on a connection.
	if err := p.Hold([]uint32{s.Index}); err != nil {
		t.Fatal(err)
	}
	if err := p.Hold([]uint32{s.Index}); err != nil {
		t.Fatal(err)
	}
	c := NewConn([]int{4}, nil)
	p.ledger.sent(c.Out(0), []wire.Slot{s})
	p.Release([]uint32{s.Index}) // the sender is done with it
	p.Release([]uint32{s.Index})
	p.Release([]uint32{s.Index})
	if p.Held() != 1 {
		t.Fatalf("with a frame still on the connection, %d slots are held, want 1", p.Held())
	}
	p.ledger.credited(c.Out(0), 1)
	if p.Held() != 0 {
		t.Fatalf("once credited, %d slots are held, want 0", p.Held())
	}
	if err := p.Hold([]uint32{s.Index}); err == nil || !strings.Contains(err.Error(), "used after its frame was done with") {
		t.Errorf("Hold of a free slot = %v", err)
	}
	// It comes back at a new generation.
	var again wire.Slot
	for range 2 {
		if again, _, ok = b.Take(); !ok {
			t.Fatal("no free slot")
		}
		if again.Index == s.Index {
			break
		}
	}
	if again.Index != s.Index || again.Gen != s.Gen+1 {
		t.Errorf("the slot came back as %v, want slot %d at generation %d", again, s.Index, s.Gen+1)
	}
}

// Take never waits: with every slot of the budget held, it says so at once,
// and a released slot is free to take again.
func TestTakeNeverWaits(t *testing.T) {
	p := newTestPool(t, 1)
	b, err := p.NewBudget(1)
	if err != nil {
		t.Fatal(err)
	}
	s, _, ok := b.Take()
	if !ok {
		t.Fatal("no free slot in a new budget")
	}
	if _, _, ok := b.Take(); ok {
		t.Fatal("Take took a slot that is held")
	}
	p.Release([]uint32{s.Index})
	if again, _, ok := b.Take(); !ok || again.Index != s.Index || again.Gen != s.Gen+1 {
		t.Errorf("after the release, Take = %v, %v; want slot %d at generation %d", again, ok, s.Index, s.Gen+1)
	}
}

// Frames dropped with their connection (the worker is gone) give their
// slots back.
func TestDroppedFramesReleaseTheirSlots(t *testing.T) {
	p := newTestPool(t, 3)
	b, err := p.NewBudget(3)
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn([]int{8}, nil)
	c.Account(p, b)
	for range 3 {
		s, _, ok := b.Take()
		if !ok {
			t.Fatal("no free slot")
		}
		p.ledger.sent(c.Out(0), []wire.Slot{s})
		p.Release([]uint32{s.Index})
	}
	if p.Held() != 3 {
		t.Fatalf("%d slots held with three frames in flight", p.Held())
	}
	c.Out(0).Close()
	if p.Held() != 0 {
		t.Errorf("%d slots held after the connection's frames were dropped", p.Held())
	}
}
