package sgn

import (
	"context"
	goruntime "runtime"
	"sync"
	"sync/atomic"
)

// A queue holds the frames of one link for its consumer: a ring with one
// producer (the element, or the relay, that sends on the link) and one
// consumer (the element that receives). It does what a buffered channel
// does, without a lock, and wakes a side only when that side is waiting:
// a consumer that wakes up takes every frame that is there, one after the
// other, without a hand-off per frame, so that a busy link costs a few
// atomic operations per frame.
type queue[T any] struct {
	buf   []item[T]
	mask  uint64
	bound uint64        // frames it holds at most
	taken chan struct{} // capacity 1: wakes a waiting producer
	put   chan struct{} // capacity 1: wakes a waiting consumer

	// Draining a finished element's queue, by the closer and by a late
	// sender, takes turns: the only time it has two takers.
	drainMu sync.Mutex
	_       cacheLine

	// The consumer's: the next frame to take, and the producer's tail as
	// last seen, so that it reads the producer's cache line only when it
	// seems to have caught up.
	head     atomic.Uint64
	seenTail uint64
	_        cacheLine

	// The producer's, likewise.
	tail     atomic.Uint64
	seenHead uint64
	_        cacheLine

	// Each side reads the other's flag after every move, and a flag is
	// written only when a side goes to sleep: on a line of their own, the
	// reads hit the cache while both sides are busy.
	takerWaits  atomic.Bool
	putterWaits atomic.Bool
	_           cacheLine

	// A side about to sleep says so (takerWaits, putterWaits), then looks
	// again; the other side, having moved, wakes it if it said so. The
	// atomics are sequentially consistent, so no wake-up is lost.
}

// cacheLine keeps what one side writes off the cache line of what the
// other side writes.
type cacheLine [64]byte

func newQueue[T any](bound int) *queue[T] {
	size := 1
	for size < bound {
		size <<= 1
	}
	return &queue[T]{
		buf:   make([]item[T], size),
		mask:  uint64(size - 1),
		bound: uint64(max(1, bound)),
		taken: make(chan struct{}, 1),
		put:   make(chan struct{}, 1),
	}
}

// spins is how often a side that finds nothing to do gives its processor
// away before it goes to sleep: the other side may be about to move, and a
// sleep and a wake-up cost more than a few yields.
const spins = 4

// tryPut queues it if there is room.
func (q *queue[T]) tryPut(it item[T]) bool {
	t := q.tail.Load()
	if t-q.seenHead >= q.bound {
		q.seenHead = q.head.Load()
		if t-q.seenHead >= q.bound {
			return false
		}
	}
	q.buf[t&q.mask] = it
	q.tail.Store(t + 1)
	if q.takerWaits.Load() {
		wake(q.put)
	}
	return true
}

// putWait queues it, waiting for room unless done or ctx is closed first.
// It reports whether it queued it.
func (q *queue[T]) putWait(ctx context.Context, done <-chan struct{}, it item[T]) (bool, error) {
	for i := 0; ; i++ {
		if q.tryPut(it) {
			return true, nil
		}
		if i < spins {
			goruntime.Gosched()
			continue
		}
		q.putterWaits.Store(true)
		if q.tryPut(it) {
			q.putterWaits.Store(false)
			return true, nil
		}
		select {
		case <-q.taken:
		case <-done:
			q.putterWaits.Store(false)
			return false, nil
		case <-ctx.Done():
			q.putterWaits.Store(false)
			return false, context.Cause(ctx)
		}
		q.putterWaits.Store(false)
	}
}

// tryTake takes the oldest frame, if there is one.
func (q *queue[T]) tryTake() (item[T], bool) {
	h := q.head.Load()
	if h == q.seenTail {
		q.seenTail = q.tail.Load()
		if h == q.seenTail {
			return item[T]{}, false
		}
	}
	it := q.buf[h&q.mask]
	q.buf[h&q.mask] = item[T]{}
	q.head.Store(h + 1)
	if q.putterWaits.Load() {
		wake(q.taken)
	}
	return it, true
}

// takeWait takes the oldest frame, waiting for one unless ctx is closed
// first.
func (q *queue[T]) takeWait(ctx context.Context) (item[T], error) {
	for i := 0; ; i++ {
		if it, ok := q.tryTake(); ok {
			return it, nil
		}
		if i < spins {
			goruntime.Gosched()
			continue
		}
		q.takerWaits.Store(true)
		if it, ok := q.tryTake(); ok {
			q.takerWaits.Store(false)
			return it, nil
		}
		select {
		case <-q.put:
		case <-ctx.Done():
			q.takerWaits.Store(false)
			return item[T]{}, context.Cause(ctx)
		}
		q.takerWaits.Store(false)
	}
}

// len returns the frames queued; from another goroutine, a moment's view.
func (q *queue[T]) len() int { return int(q.tail.Load() - q.head.Load()) }

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
