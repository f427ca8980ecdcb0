package runtime

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	goruntime "runtime"
	"sync"

	"github.com/fxamacker/cbor/v2"

	"github.com/sgn-go/sgn/wire"
)

// ProtocolVersion is the version of the wire protocol spoken by this
// package. Parent and worker must agree on it; the handshake checks.
const ProtocolVersion = 1

// Message types.
const (
	msgHello  byte = 1
	msgReady  byte = 2
	msgFrame  byte = 3
	msgCredit byte = 4
	msgStop   byte = 5
	msgDone   byte = 6
	msgError  byte = 7
	msgEOS    byte = 8
	msgFreed  byte = 9
	msgStats  byte = 10
)

var msgNames = map[byte]string{
	msgHello: "hello", msgReady: "ready", msgFrame: "frame", msgCredit: "credit",
	msgStop: "stop", msgDone: "done", msgError: "error", msgEOS: "eos", msgFreed: "freed", msgStats: "stats",
}

// msgName names a message type for error messages, known or not.
func msgName(typ byte) string {
	if name, ok := msgNames[typ]; ok {
		return name
	}
	return fmt.Sprintf("unknown (type %d)", typ)
}

// maxMessage bounds one message, so that a corrupt length cannot make the
// reader allocate without limit.
const maxMessage = 1 << 30

// Hello is the parent's first message to a worker.
type Hello struct {
	Version int      `cbor:"version"`
	Element string   `cbor:"element"` // the element's name in the pipeline
	Type    string   `cbor:"type"`    // the element's Go type, package-qualified
	Schema  string   `cbor:"schema"`  // the fingerprint of the element's pads, frame types and configuration (sgn.Spec.Schema)
	Origin  string   `cbor:"origin"`  // the source the element's package was built from, if the build info says for sure; see package sgn
	Config  []byte   `cbor:"config"`  // the element's configuration, as its generated codec encodes it
	Sinks   []string `cbor:"sinks"`   // sink pad names, in wire order
	Sources []string `cbor:"sources"` // source pad names, in wire order
	// The window of each pad: the frames it may have in flight. A sink pad
	// queues that many, the one its element works on included.
	SinkWindows   []int `cbor:"sinkWindows"`
	SourceWindows []int `cbor:"sourceWindows"`
	// SourceCredits, if set, is the frames each source pad may send at
	// first, less than its window when the links still hold frames from
	// the worker this one replaces.
	SourceCredits []int `cbor:"sourceCredits,omitempty"`
	// Prompt asks the worker to credit each frame back as soon as its
	// element is done with it, rather than in batches: the main process
	// then knows what a restarted worker must be given again.
	Prompt bool `cbor:"prompt,omitempty"`
	// Stats asks the worker to report, in stats messages, the time its
	// element spends in its method.
	Stats bool `cbor:"stats,omitempty"`
	EOS   bool `cbor:"eos"` // EOS was requested before the worker started

	Pool     *PoolHello     `cbor:"pool,omitempty"`     // the slot pool, if the pipeline has one
	Segments []SegmentHello `cbor:"segments,omitempty"` // the pipeline's shared segments
}

// PoolHello tells a worker about the slot pool: where it is, its shape, and
// the slots of its element's budget that are free now (the others follow
// in freed messages as they become free).
type PoolHello struct {
	Name   string      `cbor:"name"`   // the name of the pool's segment
	FD     int         `cbor:"fd"`     // the descriptor the pool's memory is on
	Count  int         `cbor:"count"`  // slots
	Size   int         `cbor:"size"`   // bytes per slot
	Inline int         `cbor:"inline"` // slices this large or larger travel in slots
	Budget int         `cbor:"budget"` // the slots the element's budget owns
	Free   []wire.Slot `cbor:"free"`   // those of them that are free
}

// SegmentHello tells a worker about one of the pipeline's shared segments.
type SegmentHello struct {
	Name string `cbor:"name"`
	FD   int    `cbor:"fd"`   // the descriptor its memory is on
	Size int    `cbor:"size"` // bytes
	Meta []byte `cbor:"meta"` // its metadata, as CBOR (package sgn encodes it)
}

// Ready is the worker's answer to Hello.
type Ready struct {
	Version int `cbor:"version"`
	PID     int `cbor:"pid"`
}

// ErrorReport is what a worker sends when its element fails.
type ErrorReport struct {
	Message string `cbor:"message"`
	Panic   bool   `cbor:"panic,omitempty"`
	Stack   string `cbor:"stack,omitempty"`
}

// ErrProtocol is wrapped by errors about malformed or unexpected messages.
var ErrProtocol = errors.New("sgn protocol error")

// reader reads length-prefixed messages. The body it returns is valid until
// the next call.
type reader struct {
	r   *bufio.Reader
	hdr [5]byte
	buf []byte
}

func newReader(r io.Reader) *reader { return &reader{r: bufio.NewReaderSize(r, 256<<10)} }

func (r *reader) next() (typ byte, body []byte, err error) {
	if cap(r.buf) > keepBuffer {
		r.buf = nil // grown for an outsized message: give it back
	}
	hdr := r.hdr[:]
	if _, err := io.ReadFull(r.r, hdr); err != nil {
		return 0, nil, err // io.EOF only at a message boundary
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n == 0 || n > maxMessage {
		return 0, nil, fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	body, err = r.readBody(int(n) - 1)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return hdr[4], body, err
}

// keepBuffer is the largest buffer a reader or writer keeps between
// messages. One grown beyond it for an outsized message is given back once
// the message is done with, so that a worker that once sent 256 MiB does
// not cost its pipeline 256 MiB for the rest of its life.
const keepBuffer = 4 << 20

// readBody reads size bytes into the reader's buffer. The buffer grows as
// the bytes arrive, at most doubling and never beyond size, so a corrupt
// length costs no more memory than the bytes that actually follow it, and
// a message of N bytes costs about N.
func (r *reader) readBody(size int) ([]byte, error) {
	buf := r.buf[:0]
	for len(buf) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, max(2*cap(buf), 1<<20)))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r.r, buf[len(buf):min(size, cap(buf))])
		buf = buf[:len(buf)+n]
		if err != nil {
			r.buf = buf
			return nil, err
		}
	}
	r.buf = buf
	return buf, nil
}

// highWater is how many pending bytes make senders wait for the writer.
const highWater = 4 << 20

// writer batches messages from many goroutines into large writes. send
// appends to a buffer; one goroutine (run) writes whatever has accumulated
// each time the previous write completes.
type writer struct {
	w io.Writer

	mu      sync.Mutex
	room    sync.Cond // signalled when the buffer drains
	buf     []byte
	first   int   // the buffer's length when begin locked it
	start   int   // where the open message starts; -1: none is open
	err     error // sticky: the first write error, or errClosed
	closing bool

	// Bytes handed to the writer, and written, since it began: flush
	// waits for the second to catch up with the first.
	queued, written int64

	wake chan struct{} // capacity 1: there is something to write or close
	done chan struct{} // closed when run returns
}

var errClosed = errors.New("connection closed")

func newWriter(w io.Writer) *writer {
	wr := &writer{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	wr.room.L = &wr.mu
	return wr
}

// begin locks the writer and returns the buffer with a message header for
// typ appended; the caller appends the body and hands the buffer to end. Between begin and end the writer
// is locked: append only, never block.
//
// If wait is set, begin waits while the buffer holds highWater bytes or
// more: element goroutines sending frames wait for a slow pipe this way.
// Control messages (credits, stop) and frames a relay forwards never wait:
// the first are small and the other side needs them to make progress or to
// end; the second are bounded by their credits, and the goroutine that
// forwards them reads the pipe that gives credits back.
func (w *writer) begin(typ byte, wait bool) ([]byte, error) {
	w.mu.Lock()
	for wait && len(w.buf) >= highWater && w.err == nil && !w.closing {
		w.room.Wait()
	}
	if w.err != nil || w.closing {
		err := w.err
		w.mu.Unlock()
		if err == nil {
			err = errClosed
		}
		return nil, err
	}
	w.first = len(w.buf)
	w.start = len(w.buf)
	return append(w.buf, 0, 0, 0, 0, typ), nil
}

// end finishes the open message, if any, and unlocks the writer.
func (w *writer) end(b []byte) error {
	var err error
	if w.start >= 0 {
		b, err = w.seal(b)
	}
	w.queued += int64(len(b) - w.first)
	w.buf = b
	first := w.first
	w.mu.Unlock()
	if first == 0 && len(b) > 0 {
		w.poke()
	}
	return err
}

// seal writes the length of the message open at w.start; a message over
// maxMessage is dropped instead.
func (w *writer) seal(b []byte) ([]byte, error) {
	size := len(b) - w.start - 4
	if size > maxMessage {
		return b[:w.start], fmt.Errorf("%w: %s message of %d bytes exceeds the limit of %d", ErrProtocol, msgName(b[w.start+4]), size, maxMessage)
	}
	binary.LittleEndian.PutUint32(b[w.start:], uint32(size))
	return b, nil
}

// send writes one whole message; body, if not nil, appends its body.
func (w *writer) send(typ byte, body func([]byte) []byte) error {
	b, err := w.begin(typ, false)
	if err != nil {
		return err
	}
	if body != nil {
		b = body(b)
	}
	return w.end(b)
}

// flush waits until everything handed to the writer so far is written, or
// the writer has failed.
func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for target := w.queued; w.written < target && w.err == nil; {
		w.room.Wait()
	}
}

// prepend puts a whole message before everything queued: the first
// message of a connection whose frames were queued before it started.
func (w *writer) prepend(typ byte, body func([]byte) []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := body(append(make([]byte, 0, 64), 0, 0, 0, 0, typ))
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)-4))
	w.buf = append(msg, w.buf...)
	w.queued += int64(len(msg))
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run writes batches until close has been called and everything sent before
// it is written, or a write fails.
func (w *writer) run() {
	defer close(w.done)
	var out []byte
	for range w.wake {
		w.gather()
		w.mu.Lock()
		out, w.buf = w.buf, out[:0]
		closing := w.closing
		w.room.Broadcast()
		w.mu.Unlock()
		if len(out) > 0 {
			if _, err := w.w.Write(out); err != nil {
				w.fail(err)
				return
			}
			w.mu.Lock()
			w.written += int64(len(out))
			w.room.Broadcast()
			w.mu.Unlock()
			if cap(out) > keepBuffer {
				out = nil // grown for an outsized batch: give it back
			}
			w.poke() // look again: more may have come while writing
			continue
		}
		if closing {
			w.fail(errClosed)
			return
		}
	}
}

// gather lets frames that are being sent join the next write: while the
// buffer keeps growing, for a few rounds, the writer gives its processor
// away before it writes. A lone frame waits one round, well under a
// microsecond; a busy link gets writes of many frames instead of one
// system call per frame.
func (w *writer) gather() {
	w.mu.Lock()
	n := len(w.buf)
	w.mu.Unlock()
	for range gatherRounds {
		goruntime.Gosched()
		w.mu.Lock()
		grew := len(w.buf) > n
		n = len(w.buf)
		w.mu.Unlock()
		if !grew {
			return
		}
	}
}

// gatherRounds bounds how long gather lets a growing buffer grow.
const gatherRounds = 8

func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.room.Broadcast()
	w.mu.Unlock()
}

// close writes what is pending, then stops the writer. It returns the first
// write error, if any.
func (w *writer) close() error {
	w.mu.Lock()
	w.closing = true
	w.room.Broadcast()
	w.mu.Unlock()
	w.poke()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == errClosed {
		return nil
	}
	return w.err
}

func marshal(v any) func([]byte) []byte {
	return func(b []byte) []byte {
		data, err := cbor.Marshal(v)
		if err != nil {
			panic(err) // the control structs above always encode
		}
		return append(b, data...)
	}
}

func unmarshal(typ byte, body []byte, v any) error {
	if err := cbor.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: bad %s message: %v", ErrProtocol, msgName(typ), err)
	}
	return nil
}

var metaDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DefaultMapType: reflect.TypeFor[map[string]any](),
		IntDec:         cbor.IntDecConvertSigned,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// EncodeMeta encodes metadata (of a frame or a shared segment) as CBOR, or
// returns nil for none.
func EncodeMeta(m map[string]any) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	b, err := cbor.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("metadata cannot cross a process boundary: %w", err)
	}
	return b, nil
}

// DecodeMeta decodes metadata that EncodeMeta encoded, into these Go
// types: integers as int64, floats as float64, text as string, byte
// strings as []byte, arrays as []any and maps as map[string]any.
func DecodeMeta(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := metaDecMode.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding metadata: %w", err)
	}
	return m, nil
}
