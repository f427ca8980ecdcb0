// Package runtime runs elements in worker processes: it starts a worker
// binary, speaks the wire protocol with it over two inherited pipes, streams
// frames both ways with credit-based flow control, and supervises it until it
// ends, fails or has to be stopped. The worker side of the same protocol is
// [Serve].
//
// Package runtime knows nothing of element types: it moves frames as opaque
// CBOR through the [Outlet] and [Inlet] interfaces, which package sgn
// implements on its typed pads. Users do not call it directly; sgn.Pipeline
// and the generated worker mains do.
//
// # Processes and pipes
//
// The parent starts a worker with two extra pipes: the worker reads the
// parent's messages on fd 3 and writes its own on fd 4. Its stdout and stderr
// stay its logs: stdout is the parent's stdout, and stderr is copied to the
// parent's stderr while the last lines are kept for error reports. A worker
// ignores SIGINT (Ctrl+C reaches the whole process group; the parent decides
// what it means) and ends when its parent's pipe closes, so a parent that dies
// leaves no orphan behind.
//
// # Messages
//
// Each message is a 4-byte little-endian length, a type byte and a body;
// the length counts the type byte and the body. Bodies are CBOR:
//
//	hello    parent → worker  Hello: protocol version, element, configuration, pads, window
//	ready    worker → parent  Ready: protocol version, process ID
//	frame    both ways        CBOR sequence: pad index, flags, data[, metadata]
//	credit   both ways        CBOR sequence: pad index, frames
//	eos      parent → worker  (empty) sources should end their streams (Ctrl+C)
//	stop     parent → worker  (empty) end now; pending frames are dropped
//	done     worker → parent  (empty) the element returned and all its output was sent
//	error    worker → parent  ErrorReport: the element's error or panic
//
// Frames travel in batches: every pad's frames are appended to one buffer, and
// a single writer goroutine writes whatever has accumulated whenever the pipe
// is ready, so an idle link sends at once and a busy link sends large writes.
// Each frame is its own message rather than an entry in a batch message:
// batching happens at the write, which costs the same syscalls and keeps the
// reader simple.
//
// There is no shutdown message. An orderly shutdown is EOS flowing through
// the pads: the element drains what is queued and ends after its last input
// frame; eos asks the worker's sources to start one. stop is the hard stop,
// after which the parent kills a worker that has not exited in time.
//
// # Flow control
//
// Each pad may have at most Window frames in flight. The receiver queues
// arriving frames in a channel of that capacity, so the reader never blocks on
// one slow pad while others wait behind it, and returns credits as the frames
// are consumed. A sender with no credit left waits. Backpressure therefore
// never relies on a blocked pipe write.
package runtime
