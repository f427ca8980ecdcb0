package sgn

import (
	"fmt"
	"reflect"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// This file joins typed pads to the runtime's connections. A run places
// every link by where its two elements run:
//
//	main → main      the sink pad's queue; Send waits while it is full
//	main → worker    an Out of the worker's Conn; Send waits for a credit
//	worker → main    the worker's Relay decodes into the sink pad's queue
//	worker → worker  the Relay forwards the encoded frame to the other
//	                 worker's Conn, without decoding it
//
// and, in a worker, its element's source pads are Outs of its Conn and its
// sink pads are fed by the Conn's reader.

// connect places p's links for a run of the main process (see run).
func (p *Source[T]) connect(r *run) {
	from := p.node
	p.local, p.remote = nil, nil
	if !from.inWorker {
		for _, s := range p.to {
			if s.node.inWorker {
				p.remote = append(p.remote, s.node.conn.Out(s.index))
				continue
			}
			s.open(s.node.queue)
			s.pool = r.pool
			p.local = append(p.local, s)
		}
		// Frames may hold slots whatever feeds this element: an upstream in
		// this process may pass on a worker's slices, in place.
		p.scan = r.pool != nil && hasSlices[T]()
		return
	}
	relay := runtime.NewRelay(from.conn, p.index)
	if from.relays == nil {
		from.relays = make([]*runtime.Relay, len(from.spec.Sources))
	}
	from.relays[p.index] = relay
	var locals []*Sink[T]
	for _, s := range p.to {
		if s.node.inWorker {
			relay.AddRemote(s.node.conn.Out(s.index))
			continue
		}
		s.open(s.node.window()) // credits bound what arrives, the frame being worked on included
		s.pool = r.pool
		consumed, finished := relay.AddLocal()
		s.consumed = func(bool) { consumed(1) }
		s.finished = finished
		locals = append(locals, s)
	}
	if len(locals) == 0 {
		return
	}
	var d wire.Decoder
	var res wire.Resolver
	if r.pool != nil {
		res = r.pool
	}
	codec := p.codec
	var f Frame[T] // reused: decoding through the codec's function value would put a fresh one on the heap
	relay.SetLocal(func(flags uint64, body []byte, slots []uint32) error {
		if err := codec.decodeFrame(&d, res, flags, body, &f); err != nil {
			return fmt.Errorf("%s: %w", p.FullName(), err)
		}
		defer func() { f = Frame[T]{} }() // keep nothing of it: its data is its receivers'
		for _, s := range locals {
			if err := s.deliver(item[T]{f, slots}); err != nil {
				return err
			}
		}
		return nil
	})
}

// attach makes p, a source pad of a worker's element, send its frames on
// outgoing pad p.index of c.
func (p *Source[T]) attach(c *runtime.Conn) {
	p.local, p.remote = nil, []*runtime.Out{c.Out(p.index)}
}

// inlet makes p, a sink pad of a worker's element, receive the frames of
// incoming pad p.index of c.
func (p *Sink[T]) inlet(c *runtime.Conn, pool *runtime.Pool) {
	p.open(c.InWindow(p.index)) // credits bound what arrives, the frame being worked on included
	p.pool = pool
	i := p.index
	p.consumed = func(urgent bool) { c.Consumed(i, 1, urgent) }
	in := &inlet[T]{pad: p}
	if pool != nil {
		in.res.pool = pool
	}
	c.SetIn(i, in)
}

// inlet decodes a worker's incoming frames into its sink pad's queue.
type inlet[T any] struct {
	pad *Sink[T]
	dec wire.Decoder
	res slotResolver
	f   Frame[T] // reused, as in connect
}

// Deliver decodes a frame into the queue (runtime.In).
func (in *inlet[T]) Deliver(flags uint64, body []byte) error {
	in.res.slots = nil
	var res wire.Resolver
	if in.res.pool != nil {
		res = &in.res
	}
	if err := in.pad.codec.decodeFrame(&in.dec, res, flags, body, &in.f); err != nil {
		return fmt.Errorf("%s: %w", in.pad.FullName(), err)
	}
	err := in.pad.deliver(item[T]{in.f, in.res.slots})
	in.f = Frame[T]{} // keep nothing of it: its data is its receiver's
	return err
}

// deliver queues a frame that arrived from another process. It never
// waits: the sender held a credit for it, so the queue has room.
func (p *Sink[T]) deliver(it item[T]) error {
	select {
	case <-p.done:
		return nil // finished: its frames are no longer counted
	default:
	}
	if it.f.EOS && p.node.eosIn != nil {
		p.node.eosIn()
	}
	if err := p.pool.Hold(it.slots); err != nil {
		return fmt.Errorf("%s: %w", p.FullName(), err)
	}
	if !p.q.tryPut(it) {
		p.pool.Release(it.slots)
		return fmt.Errorf("%s: %w: frame beyond the credit window", p.FullName(), runtime.ErrProtocol)
	}
	if p.arrived != nil {
		p.arrived()
	}
	if len(it.slots) > 0 {
		select {
		case <-p.done:
			p.drain()
		default:
		}
	}
	return nil
}

// hasSlices reports whether values of T can hold byte or numeric slices,
// which may travel in slots.
func hasSlices[T any]() bool { return typeHasSlices(reflect.TypeFor[T](), 0) }

func typeHasSlices(t reflect.Type, depth int) bool {
	if depth > 32 { // a recursive type: sgngen refuses those
		return false
	}
	switch t.Kind() {
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			return true
		}
		return typeHasSlices(t.Elem(), depth+1)
	case reflect.Array, reflect.Pointer:
		return typeHasSlices(t.Elem(), depth+1)
	case reflect.Map:
		return typeHasSlices(t.Key(), depth+1) || typeHasSlices(t.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if typeHasSlices(t.Field(i).Type, depth+1) {
				return true
			}
		}
	}
	return false
}
