package remote

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// This file carries one direction of a run's byte stream over a NATS
// subject: a sender cuts what is written into messages of at most the
// server's maximum payload, numbered; a receiver joins them in order and
// checks their numbers, so that messages lost while a connection was
// interrupted fail the run instead of corrupting its stream.

// Message kinds on a run's subjects: the first byte of every message.
const (
	kindData      byte = 'd' // bytes of the protocol's stream
	kindHeartbeat byte = 'h' // nothing: the sender is alive
	kindExit      byte = 'x' // worker → main: the worker's process ended (an exitReport); the last message
	kindKill      byte = 'k' // main → worker: kill the process now
)

// header is the kind byte and the message's sequence number, big-endian:
// the messages of a subject are numbered from 1.
const header = 9

// Heartbeats: each side sends one every heartbeat, and takes the other
// side for gone once it has heard nothing from it for silence.
const (
	heartbeat = 250 * time.Millisecond
	silence   = time.Second
)

// A sender publishes one direction of a run's stream on a subject.
type sender struct {
	nc      *nats.Conn
	subject string
	max     int // payload bytes per message, the header included

	mu  sync.Mutex
	seq uint64
	buf []byte
}

func newSender(nc *nats.Conn, subject string) *sender {
	return &sender{nc: nc, subject: subject, max: int(nc.MaxPayload())}
}

// send publishes one message of the given kind.
func (s *sender) send(kind byte, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publish(kind, payload)
}

// publish publishes one message; s.mu is held.
func (s *sender) publish(kind byte, payload []byte) error {
	s.seq++
	b := append(s.buf[:0], kind, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(b[1:header], s.seq)
	b = append(b, payload...)
	s.buf = b
	if cap(s.buf) > 2*s.max {
		s.buf = nil
	}
	return s.nc.Publish(s.subject, b)
}

// Write sends p as data, in as many messages as the server's maximum
// payload needs (io.Writer).
func (s *sender) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chunk := max(1, s.max-header)
	n := 0
	for n < len(p) {
		m := min(len(p)-n, chunk)
		if err := s.publish(kindData, p[n:n+m]); err != nil {
			return n, fmt.Errorf("publishing on NATS: %w", err)
		}
		n += m
	}
	return n, nil
}

// A receiver takes the messages of one direction of a run's stream, from a
// subscription's handler, and is read as the stream's bytes (io.Reader).
// Messages other than data go to control, in order, from the handler.
type receiver struct {
	control func(kind byte, payload []byte)
	heard   atomic.Int64 // when the last message arrived, in Unix nanoseconds

	// to, if set, takes the data at once, from the handler, instead of
	// Read: a pipe to a worker process, which reads without stopping
	// (credits bound what it is sent), so that a frame is not handed
	// from goroutine to goroutine once more on its way. After a failed
	// write, data is dropped.
	to     io.Writer
	toDead bool

	mu     sync.Mutex
	more   sync.Cond // data arrived, or the stream ended
	chunks [][]byte  // data not read yet
	next   uint64    // the sequence number expected next
	end    error     // what Read returns once chunks are read: io.EOF, or why the stream broke
	broken bool      // a gap was seen: later messages are not numbered as expected
}

func newReceiver(control func(kind byte, payload []byte)) *receiver {
	r := &receiver{control: control, next: 1}
	r.more.L = &r.mu
	r.heard.Store(time.Now().UnixNano())
	return r
}

// handle takes one message (a nats.MsgHandler).
func (r *receiver) handle(m *nats.Msg) {
	r.heard.Store(time.Now().UnixNano())
	if len(m.Data) < header {
		r.fail(fmt.Errorf("a message of %d bytes on %s, shorter than its header", len(m.Data), m.Subject))
		return
	}
	kind, seq := m.Data[0], binary.BigEndian.Uint64(m.Data[1:header])
	r.mu.Lock()
	if seq != r.next && !r.broken {
		r.broken = true
		if r.end == nil {
			r.end = &GapError{Subject: m.Subject, Want: r.next, Got: seq}
		}
		r.more.Broadcast()
		r.mu.Unlock()
		r.control(kindGap, nil)
		r.mu.Lock()
	}
	r.next = seq + 1
	if kind == kindData && r.to != nil {
		ok := !r.broken && !r.toDead
		r.mu.Unlock()
		if ok {
			if _, err := r.to.Write(m.Data[header:]); err != nil {
				r.mu.Lock()
				r.toDead = true
				r.mu.Unlock()
			}
		}
		return
	}
	if kind == kindData {
		if !r.broken && r.end == nil {
			r.chunks = append(r.chunks, m.Data[header:])
			r.more.Signal()
		}
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	if kind != kindHeartbeat {
		r.control(kind, m.Data[header:])
	}
}

// kindGap is what control is told when the stream breaks: messages were
// lost.
const kindGap byte = 0

// Read reads the stream's bytes, in order (io.Reader).
func (r *receiver) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.chunks) == 0 && r.end == nil {
		r.more.Wait()
	}
	if len(r.chunks) == 0 {
		return 0, r.end
	}
	n := 0
	for n < len(p) && len(r.chunks) > 0 {
		c := copy(p[n:], r.chunks[0])
		n += c
		if c == len(r.chunks[0]) {
			r.chunks[0] = nil
			r.chunks = r.chunks[1:]
		} else {
			r.chunks[0] = r.chunks[0][c:]
		}
	}
	return n, nil
}

// close ends the stream once what has arrived is read: Read returns err
// then (io.EOF for a clean end). The first end wins.
func (r *receiver) close(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end == nil {
		r.end = err
	}
	r.more.Broadcast()
}

// fail breaks the stream: Read returns err at once, and what is buffered
// is dropped.
func (r *receiver) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end == nil {
		r.end = err
	}
	r.chunks = nil
	r.more.Broadcast()
}

// silent reports whether nothing has arrived for silence.
func (r *receiver) silent(now time.Time) bool {
	return now.Sub(time.Unix(0, r.heard.Load())) > silence
}

// A GapError reports messages of a run's stream that never arrived: the
// connection of one side to NATS was interrupted, and the server dropped
// what it could not deliver meanwhile.
type GapError struct {
	Subject   string
	Want, Got uint64 // the sequence number expected, and the one that came
}

func (e *GapError) Error() string {
	return fmt.Sprintf("message %d of %s arrived when %d was due: messages were lost while a connection to NATS was interrupted", e.Got, e.Subject, e.Want)
}

var errRunOver = errors.New("the run is over")
