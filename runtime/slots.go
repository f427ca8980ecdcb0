package runtime

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sgn-go/sgn/shm"
	"github.com/sgn-go/sgn/wire"
)

// DefaultInline is the size, in bytes, from which a byte or numeric slice
// travels in a slot rather than in the message.
const DefaultInline = 16 << 10

// A Pool is one process's side of a pipeline's slot pool: the memory, and
// what the process knows of each slot. The main process keeps the
// accounts (a Ledger); a worker only knows the generation at which it last
// saw each slot, and the free slots of its element's Budget.
type Pool struct {
	mem    *shm.Pool
	inline int
	ledger *Ledger         // main process
	gens   []atomic.Uint32 // worker: each slot's generation, as last seen
	next   int             // main process: the first slot no budget owns yet
}

// NewPool returns the main process's side of a pool: every slot free,
// owned by no budget yet. Slices of inline bytes or more travel in slots.
func NewPool(mem *shm.Pool, inline int) *Pool {
	return &Pool{mem: mem, inline: inline, ledger: &Ledger{accts: make([]account, mem.Count())}}
}

// Mem returns the pool's memory.
func (p *Pool) Mem() *shm.Pool { return p.mem }

// Inline returns the size from which slices travel in slots.
func (p *Pool) Inline() int { return p.inline }

// workerPool returns a worker's side of a pool, with the budget of n slots
// its element owns, of which grant are free.
func workerPool(mem *shm.Pool, inline, n int, grant []wire.Slot) (*Pool, *Budget) {
	p := &Pool{mem: mem, inline: inline, gens: make([]atomic.Uint32, mem.Count())}
	b := &Budget{pool: p}
	for _, s := range grant {
		p.gens[s.Index].Store(s.Gen)
		b.push(s)
	}
	return p, b
}

// gen returns slot i's current generation, as this process knows it.
func (p *Pool) gen(i int) uint32 {
	if l := p.ledger; l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.accts[i].gen
	}
	return p.gens[i].Load()
}

// Resolve maps a slot descriptor to the pool's memory (wire.Resolver). A
// descriptor that runs outside its slot is an error. In a worker it also
// records the slot's generation, which the worker repeats if it sends the
// payload on.
func (p *Pool) Resolve(s wire.Slot) ([]byte, error) {
	if s.Index >= uint32(p.mem.Count()) {
		return nil, fmt.Errorf("stale or forged %v: the pool has %d slots", s, p.mem.Count())
	}
	size := uint64(p.mem.Size())
	if s.Offset > size || s.Len > size-s.Offset {
		return nil, fmt.Errorf("forged %v: it runs past the end of its %d-byte slot", s, size)
	}
	if p.gens != nil {
		p.gens[s.Index].Store(s.Gen)
	}
	return p.mem.Slot(int(s.Index))[s.Offset : s.Offset+s.Len], nil
}

// Place tells where the slice p travels: if it lies in a slot already, in
// that slot (placed is false); else, if it is large enough, fits a slot, b
// is not nil and has a free slot, in that slot, into which it is copied
// (placed is true); else inline (ok is false).
func (p *Pool) Place(mem []byte, b *Budget) (s wire.Slot, placed, ok bool) {
	if i, off, in := p.mem.Locate(mem); in {
		return wire.Slot{Index: uint32(i), Gen: p.gen(i), Offset: uint64(off), Len: uint64(len(mem))}, false, true
	}
	if b == nil || len(mem) < p.inline || len(mem) > p.mem.Size() {
		return wire.Slot{}, false, false
	}
	s, slot, ok := b.Take()
	if !ok {
		return wire.Slot{}, false, false
	}
	copy(slot, mem)
	s.Len = uint64(len(mem))
	return s, true, true
}

// Held returns the number of slots that frames still hold (in the main
// process, which keeps the accounts): none, once a pipeline has ended.
func (p *Pool) Held() int {
	n := 0
	if l := p.ledger; l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, a := range l.accts {
			if a.refs != 0 {
				n++
			}
		}
	}
	return n
}

// Hold takes one more reference to each of slots, for a frame that goes to
// one more receiver in this process. Only the main process keeps
// references; in a worker, Hold does nothing.
func (p *Pool) Hold(slots []uint32) error {
	if len(slots) == 0 || p.ledger == nil {
		return nil
	}
	return p.ledger.hold(slots)
}

// Release drops one reference to each of slots; a slot without references
// is free, and goes back to its budget. In a worker, Release does nothing.
func (p *Pool) Release(slots []uint32) {
	if len(slots) > 0 && p.ledger != nil {
		p.ledger.release(slots)
	}
}

// A Budget is the set of slots one element fills: it takes a free one,
// the slot travels in the element's frames, and it comes back once every
// receiver is done with it. Each element has its own, so that an element
// whose frames pile up somewhere only uses its own slots, never another's.
type Budget struct {
	pool *Pool
	// Its free slots, with their generation, last freed on top: reusing
	// the slot freed last keeps the memory a busy element touches small.
	// Unused for a worker's budget in the main process.
	mu   sync.Mutex
	free []wire.Slot

	// Main process only.
	own    []uint32 // the slots it owns
	worker bool     // the budget of a worker's element
	conn   *Conn    // a worker's budget: where its freed slots go; nil while the worker is down
}

// NewBudget gives n slots of the pool to the budget of an element of the
// main process. It fails if the pool has fewer than n slots left.
func (p *Pool) NewBudget(n int) (*Budget, error) { return p.newBudget(n, false) }

// NewWorkerBudget gives n slots of the pool to the budget of a worker's
// element, which a Worker grants it when it starts.
func (p *Pool) NewWorkerBudget(n int) (*Budget, error) { return p.newBudget(n, true) }

func (p *Pool) newBudget(n int, worker bool) (*Budget, error) {
	if p.next+n > p.mem.Count() {
		return nil, fmt.Errorf("the pool has %d slots left, not %d", p.mem.Count()-p.next, n)
	}
	b := &Budget{pool: p, worker: worker}
	l := p.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := p.next; i < p.next+n; i++ {
		b.own = append(b.own, uint32(i))
		l.accts[i].owner = b
		if !worker {
			b.push(wire.Slot{Index: uint32(i), Gen: l.accts[i].gen})
		}
	}
	p.next += n
	return b, nil
}

// Take takes a free slot, if there is one, and returns its descriptor
// (the whole slot) and memory. It never waits: when all the slots are in
// frames, the caller sends its payload in the message instead. Waiting
// could deadlock a pipeline whose branches meet again (a diamond), where
// the frames that hold the slots wait for the frame that waits for a slot;
// the links' credits bound what is in flight either way.
func (b *Budget) Take() (wire.Slot, []byte, bool) {
	s, ok := b.pop()
	if !ok {
		return wire.Slot{}, nil, false
	}
	if l := b.pool.ledger; l != nil {
		l.mu.Lock()
		l.accts[s.Index].refs = 1
		l.mu.Unlock()
	}
	slot := b.pool.mem.Slot(int(s.Index))
	s.Len = uint64(len(slot))
	return s, slot, true
}

// Give gives back a slot that was taken and not sent.
func (b *Budget) Give(s wire.Slot) {
	if l := b.pool.ledger; l != nil {
		l.release([]uint32{s.Index})
		return
	}
	b.push(wire.Slot{Index: s.Index, Gen: s.Gen})
}

// push puts a free slot on top of the budget's free slots.
func (b *Budget) push(s wire.Slot) {
	b.mu.Lock()
	b.free = append(b.free, s)
	b.mu.Unlock()
}

// pop takes the free slot on top, if there is one.
func (b *Budget) pop() (wire.Slot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) == 0 {
		return wire.Slot{}, false
	}
	s := b.free[len(b.free)-1]
	b.free = b.free[:len(b.free)-1]
	return s, true
}

// grant makes b the budget of the worker at the other end of c, and
// returns its free slots, for the worker's Hello.
func (b *Budget) grant(c *Conn) []wire.Slot {
	l := b.pool.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	b.conn = c
	var free []wire.Slot
	for _, i := range b.own {
		if l.accts[i].refs == 0 {
			free = append(free, wire.Slot{Index: i, Gen: l.accts[i].gen})
		}
	}
	return free
}

// revoke records that b's worker is gone: its slots that become free wait
// for the next grant.
func (b *Budget) revoke() {
	l := b.pool.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	b.conn = nil
}

// freed makes a slot that the main process freed available to the
// worker's budget again.
func (b *Budget) freed(slot, gen uint32) {
	b.pool.gens[slot].Store(gen)
	b.push(wire.Slot{Index: slot, Gen: gen})
}

// A Ledger keeps the accounts of a pool's slots in the main process: each
// slot's generation, how many references to it are alive, and which budget
// owns it. References are held by frames: one per frame queued for an
// element of the main process, one per frame sent to a worker and not yet
// credited back (see Out), one while a slot is being filled. Workers keep
// no accounts; every slot descriptor a worker sends is checked here.
type Ledger struct {
	mu    sync.Mutex
	accts []account
}

type account struct {
	gen   uint32
	refs  int32
	owner *Budget
}

func (l *Ledger) hold(slots []uint32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, i := range slots {
		if l.accts[i].refs <= 0 {
			return fmt.Errorf("slot %d is free: a slice of shared memory was used after its frame was done with; copy what you keep", i)
		}
	}
	for _, i := range slots {
		l.accts[i].refs++
	}
	return nil
}

func (l *Ledger) release(slots []uint32) {
	var freed []freedSlot
	l.mu.Lock()
	for _, i := range slots {
		freed = l.unref(i, freed)
	}
	l.mu.Unlock()
	sendFreed(freed)
}

// A freedSlot is a slot of a worker's budget that has become free, to be
// sent to the worker once the ledger is unlocked.
type freedSlot struct {
	c         *Conn
	slot, gen uint32
}

// unref drops one reference to slot i; l.mu is held.
func (l *Ledger) unref(i uint32, freed []freedSlot) []freedSlot {
	a := &l.accts[i]
	a.refs--
	if a.refs > 0 {
		return freed
	}
	if a.refs < 0 {
		panic(fmt.Sprintf("sgn: slot %d released more often than it was held", i))
	}
	a.gen++
	switch b := a.owner; {
	case !b.worker:
		b.push(wire.Slot{Index: i, Gen: a.gen})
	case b.conn != nil:
		freed = append(freed, freedSlot{b.conn, i, a.gen})
	}
	return freed
}

func sendFreed(freed []freedSlot) {
	for len(freed) > 0 {
		c := freed[0].c
		var rest []freedSlot
		c.send(msgFreed, func(b []byte) []byte {
			for _, f := range freed {
				if f.c != c {
					rest = append(rest, f)
					continue
				}
				b = wire.AppendUint(b, uint64(f.slot))
				b = wire.AppendUint(b, uint64(f.gen))
			}
			return b
		})
		freed = rest
	}
}

// sent records a frame sent on o with slots, each of which gains a
// reference until the receiver credits the frame back. A slot that nothing
// holds any more is refused: its memory may be another frame's already. It
// reports false if o is closed: the frame is dropped, and holds nothing.
func (l *Ledger) sent(o *Out, slots []wire.Slot) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.closed.Load() {
		return false, nil
	}
	o.sent++
	if len(slots) == 0 {
		return true, nil
	}
	h := hold{seq: o.sent, slots: make([]uint32, 0, len(slots))}
	for _, s := range slots {
		if a := l.accts[s.Index]; a.refs <= 0 || a.gen != s.Gen {
			o.sent--
			return false, fmt.Errorf("%v is free: a slice of shared memory was sent after its frame was done with; copy what you keep", s)
		}
		if !containsSlot(h.slots, s.Index) {
			h.slots = append(h.slots, s.Index)
		}
	}
	if o.c.held == nil {
		o.c.held = make([]int32, len(l.accts))
	}
	for _, i := range h.slots {
		l.accts[i].refs++
		o.c.held[i]++
	}
	o.holds = append(o.holds, h)
	return true, nil
}

// credited records that o's receiver is done with n more frames.
func (l *Ledger) credited(o *Out, n int64) {
	var freed []freedSlot
	l.mu.Lock()
	o.done += n
	k := 0
	for ; k < len(o.holds) && o.holds[k].seq <= o.done; k++ {
		for _, i := range o.holds[k].slots {
			o.c.held[i]--
			freed = l.unref(i, freed)
		}
	}
	o.holds = o.holds[k:]
	l.mu.Unlock()
	sendFreed(freed)
}

// drop releases the slots of every frame in flight on o, whose receiver
// is gone.
func (l *Ledger) drop(o *Out) {
	var freed []freedSlot
	l.mu.Lock()
	for _, h := range o.holds {
		for _, i := range h.slots {
			o.c.held[i]--
			freed = l.unref(i, freed)
		}
	}
	o.holds, o.done = nil, o.sent
	l.mu.Unlock()
	sendFreed(freed)
}

// accept checks the slot descriptors of a frame that the worker at the
// other end of c sent, whose budget is b: each must be current, and either
// a free slot of b (the worker filled it) or a slot the worker holds (it
// sends on a payload it received). Each accepted slot gains a reference,
// which the caller releases once it has passed the frame on.
func (l *Ledger) accept(c *Conn, b *Budget, slots []wire.Slot) ([]uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var idx []uint32
	for _, s := range slots {
		if s.Index >= uint32(len(l.accts)) {
			return nil, fmt.Errorf("forged %v: the pool has %d slots", s, len(l.accts))
		}
		a := &l.accts[s.Index]
		if s.Gen != a.gen {
			return nil, fmt.Errorf("stale %v: the slot is at generation %d; a slice of shared memory was sent after its frame was done with", s, a.gen)
		}
		if containsSlot(idx, s.Index) {
			continue
		}
		held := c.held != nil && c.held[s.Index] > 0
		if !held && (a.refs != 0 || a.owner != b) {
			return nil, fmt.Errorf("forged %v: the worker neither filled nor received it", s)
		}
		idx = append(idx, s.Index)
	}
	for _, i := range idx {
		l.accts[i].refs++
	}
	return idx, nil
}

func containsSlot(s []uint32, i uint32) bool {
	for _, j := range s {
		if j == i {
			return true
		}
	}
	return false
}
