package runtime

import (
	"context"
	"os"
	"testing"

	"github.com/sgn-go/sgn/wire"
)

// A test binary started with SGN_REVIEW_WORKER=unflagged plays a worker
// whose one frame holds the descriptor of a slot that is not its own (slot
// 0, of the main process's budget), without the frame flag that says it
// holds descriptors.
func init() {
	if os.Getenv("SGN_REVIEW_WORKER") != "unflagged" {
		return
	}
	os.Exit(Serve(func(j *Job) (*Binding, error) {
		return &Binding{
			RequestEOS: func() {},
			Run: func(ctx context.Context) error {
				body := wire.AppendSlot(nil, wire.Slot{Index: 0, Len: 8})
				return j.Conn.Out(0).Send(ctx, FlagEOS, body, nil) // no FlagSlots
			},
		}, nil
	}))
}

// Every descriptor a worker sends is checked before anything reads the
// memory it points to, whether or not the frame's flags admit to holding
// descriptors: a frame that names another budget's slot without FlagSlots
// fails the worker, and its Local (which decodes with the pool, as package
// sgn's does) never resolves it.
func TestADescriptorWithoutTheSlotsFlagIsCheckedToo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPool(t, 4)
	if _, err := p.NewBudget(2); err != nil { // slots 0 and 1: the main process's
		t.Fatal(err)
	}
	b, err := p.NewWorkerBudget(2)
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(nil, []int{4})
	c.Account(p, b)
	relay := NewRelay(c, 0)
	consumed, _ := relay.AddLocal()
	var read [][]byte
	var d wire.Decoder
	relay.SetLocal(func(flags uint64, body []byte, slots []uint32) error {
		d.Reset(body)
		d.SetResolver(nil) // as package sgn's decoders do for a frame without FlagSlots
		if flags&FlagSlots != 0 {
			d.SetResolver(p)
		}
		if got := d.Bytes(); d.Err() == nil {
			read = append(read, got)
		}
		consumed(1)
		return d.Err()
	})
	w := &Worker{
		Element: "x", Path: exe, Conn: c, Pool: p, Budget: b,
		Hello: Hello{Sources: []string{"out"}},
	}
	t.Setenv("SGN_REVIEW_WORKER", "unflagged")
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	err = w.Run(context.Background())
	if len(read) > 0 {
		t.Errorf("the main process read %d bytes of slot 0, which the worker neither filled nor received", len(read[0]))
	}
	if err == nil {
		t.Errorf("Run() = nil, want the worker to fail for its forged descriptor")
	}
	if held := p.Held(); held != 0 {
		t.Errorf("%d slots still held after the worker ended", held)
	}
}
