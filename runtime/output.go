package runtime

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Streams of a worker's output, as the "stream" attribute of its log
// records says.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// An output takes what one worker process writes on stdout or stderr and
// passes it on line by line: as log records, with the element's name and
// the process ID, or, for stdout unless it is logged, as raw lines. Its
// Write never blocks the worker for long: lines wait in a queue of
// outputQueue bytes for a slow consumer (a terminal, say), and when the
// queue is full, the oldest are dropped and counted, and the count is
// logged. The last lines of stderr are kept apart for crash reports, so
// that they are never lost.
type output struct {
	stream string
	log    *slog.Logger  // with the element and, once started, pid attributes
	raw    io.Writer     // nil: lines are logged
	tail   *tail         // stderr: the last lines, for crash reports
	ready  chan struct{} // closed by start, once log has the pid

	mu      sync.Mutex
	partial []byte   // the line being written, without its newline yet
	queue   [][]byte // whole lines, waiting for the consumer
	size    int      // bytes in queue
	dropped int      // lines dropped since the last report
	closed  bool
	more    chan struct{} // capacity 1: the queue grew, or closed
	done    chan struct{} // closed when emit returns
}

// outputQueue is how many bytes of lines an output holds for a consumer
// that is slower than the worker.
const outputQueue = 1 << 20

// maxLine is the longest line passed on whole; longer ones are cut.
const maxLine = 64 << 10

func newOutput(stream string, log *slog.Logger, raw io.Writer, tail *tail) *output {
	o := &output{stream: stream, log: log, raw: raw, tail: tail, ready: make(chan struct{}), more: make(chan struct{}, 1), done: make(chan struct{})}
	go o.emit()
	return o
}

// start gives the output the worker's process ID (0 if it did not
// start), with which it logs; lines wait for it.
func (o *output) start(pid int) {
	if pid != 0 {
		o.log = o.log.With("pid", pid)
	}
	close(o.ready)
}

// Write splits p into lines and queues them (io.Writer). It does not wait
// for the consumer.
func (o *output) Write(p []byte) (int, error) {
	if o.tail != nil {
		o.tail.Write(p)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			o.partial = append(o.partial, rest...)
			if n := len(o.partial) / maxLine * maxLine; n > 0 {
				o.push(o.partial[:n:n])
				o.partial = bytes.Clone(o.partial[n:])
			}
			break
		}
		line := rest[:i]
		if len(o.partial) > 0 {
			line = append(o.partial, line...)
			o.partial = nil
		} else {
			line = bytes.Clone(line)
		}
		o.push(line)
		rest = rest[i+1:]
	}
	return len(p), nil
}

// push queues a line, cut into pieces of maxLine bytes, dropping the
// oldest lines if the queue is full; o.mu is held.
func (o *output) push(line []byte) {
	for len(line) > maxLine {
		o.push(line[:maxLine:maxLine])
		line = line[maxLine:]
	}
	o.queue = append(o.queue, line)
	o.size += len(line)
	for o.size > outputQueue && len(o.queue) > 1 {
		o.size -= len(o.queue[0])
		o.queue[0] = nil
		o.queue = o.queue[1:]
		o.dropped++
	}
	select {
	case o.more <- struct{}{}:
	default:
	}
}

// emit passes queued lines to the consumer, one by one, and says how many
// were dropped as soon as some were, until the output is closed and empty.
func (o *output) emit() {
	defer close(o.done)
	<-o.ready
	for {
		o.mu.Lock()
		for len(o.queue) == 0 && o.dropped == 0 && !o.closed {
			o.mu.Unlock()
			<-o.more
			o.mu.Lock()
		}
		if dropped := o.dropped; dropped > 0 {
			o.dropped = 0
			o.mu.Unlock()
			o.dropLog(dropped)
			continue
		}
		if len(o.queue) == 0 { // and closed
			o.mu.Unlock()
			return
		}
		line := o.queue[0]
		o.queue[0] = nil
		o.queue = o.queue[1:]
		o.size -= len(line)
		o.mu.Unlock()
		o.pass(line)
	}
}

func (o *output) dropLog(n int) {
	o.log.Warn("worker output dropped: the consumer of its lines was too slow", "stream", o.stream, "lines", n)
}

func (o *output) pass(line []byte) {
	if o.raw != nil {
		o.raw.Write(append(line, '\n'))
		return
	}
	o.log.Info(strings.TrimRight(string(line), "\r"), "stream", o.stream)
}

// close passes on what is left, a last partial line included, and waits up
// to wait for the consumer to take it; what it has not taken then is
// dropped.
func (o *output) close(wait time.Duration) {
	o.mu.Lock()
	if len(o.partial) > 0 {
		o.push(o.partial)
		o.partial = nil
	}
	o.closed = true
	o.mu.Unlock()
	select {
	case o.more <- struct{}{}:
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-o.done:
	case <-t.C:
		o.mu.Lock()
		n := len(o.queue) + o.dropped
		o.queue, o.size, o.dropped = nil, 0, 0
		o.mu.Unlock()
		if n > 0 {
			o.dropLog(n)
		}
	}
}
