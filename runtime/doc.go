// Package runtime runs elements in worker processes: it starts a worker
// binary, speaks the wire protocol with it over two byte streams (two
// inherited pipes, on this host), moves
// frames both ways with credit-based flow control, keeps the accounts of
// the shared-memory slots that large payloads travel in, and supervises the
// worker until it ends, fails or has to be stopped. The worker side of the
// same protocol is [Serve].
//
// Package runtime knows nothing of element types: frames are opaque CBOR
// bodies to it. Package sgn attaches its typed pads to a [Conn]; users do
// not call this package directly.
//
// # Processes and transports
//
// A [Launcher] starts each process of a worker and gives the protocol its
// two byte streams. [Pipes], the default, starts the binary on this host
// with inherited pipes and the pipeline's shared memory, as described
// below. Package remote starts workers on other hosts and carries the same
// bytes over NATS; such a process shares no memory (Launcher.SharesMemory
// is false): its Hello names no pool and no segments, and the main
// process's Conn sends every payload that lies in a slot in the message
// instead ([Conn.InlineSlots]). Supervision is the same for both: a
// [Process] says when it has ended and how, and the last lines of its
// stderr.
//
// The main process starts a worker with extra descriptors: the worker reads
// the main process's messages on fd 3 and writes its own on fd 4; then come
// the slot pool and the shared segments, if the pipeline has them (the
// Hello says which descriptor is which). Its stdout and stderr stay its
// logs: stdout is the main process's stdout, and stderr is copied to the
// main process's stderr while the last lines are kept for error reports.
//
// A worker ignores SIGINT (Ctrl+C reaches the whole process group; the
// pipeline decides what it means). It never outlives the main process: on
// Linux it is started with a parent-death signal (SIGKILL), from a thread
// that lives as long as the process, and on any system it exits once the
// main process's pipe closes (giving its element two seconds to notice),
// whatever state it is in.
//
// # Messages
//
// Each message is a 4-byte little-endian length, a type byte and a body;
// the length counts the type byte and the body. Bodies are CBOR:
//
//	hello    main → worker  Hello: protocol version, element, configuration, pads, window, pool, segments
//	ready    worker → main  Ready: protocol version, process ID
//	frame    both ways      CBOR sequence: pad, flags, data[, metadata]
//	credit   both ways      CBOR sequence: pad, frames
//	freed    main → worker  CBOR sequence of slot, generation pairs: slots of its budget that are free again
//	eos      main → worker  (empty) sources should end their streams (Ctrl+C)
//	stop     main → worker  (empty) end now; pending frames are dropped
//	stats    worker → main  CBOR uint: nanoseconds its element has spent in its method (if the hello asked)
//	done     worker → main  (empty) the element returned and all its output was sent
//	error    worker → main  ErrorReport: the element's error or panic
//
// A frame's flags say whether it carries EOS, is a gap, and holds slot
// descriptors. Frames are appended to the connection's buffer by the
// goroutines that send them, and one writer goroutine per connection writes
// whatever has accumulated whenever the pipe is ready: an idle link sends at
// once, and a busy link sends large writes.
//
// There is no shutdown message. An orderly shutdown is EOS flowing through
// the pads: the element drains what is queued and ends after its last input
// frame; eos asks the worker's sources to start one. stop is the hard stop,
// after which the main process kills a worker that has not exited in time.
//
// # The frame path
//
// A frame crosses as few goroutines as the design allows, and none of them
// wakes for one frame when more are there:
//
//   - the sender encodes the frame into its pad's reused buffer (no
//     allocation per frame) and appends it to the connection's buffer;
//   - the connection's writer goroutine writes what has accumulated: when
//     it wakes, it lets frames that are being sent join for a few rounds
//     of the scheduler (a lone frame waits well under a microsecond), so a
//     busy link gets one write for many frames;
//   - the reader goroutine of the other end reads large chunks, decodes
//     each frame and puts it in the pad's queue, a lock-free ring whose
//     consumer is woken only if it sleeps, and then takes every frame
//     there without another hand-off;
//   - in the main process, a relay passes a worker's frames on from its
//     reader goroutine: undecoded to other workers, decoded once to the
//     main process's pads.
//
// Between two processes a frame therefore costs two hand-offs each way
// (sender to writer, reader to consumer), and a frame from one worker to
// another, through the main process, three. Credits go back an eighth of
// a window at a time, so that a sender is not left waiting while its
// receiver has room.
//
// Those hand-offs are not what a lone frame's round trip pays for. A
// goroutine woken by another one of an idle process runs next on the same
// processor once its waker sleeps: a fraction of a microsecond. Most of
// the time goes to the two crossings between processes: each write, a
// system call that also wakes the reader on the other side, and then that
// process's thread leaving the poller, finding a processor, reading and
// decoding. Timed at each step of BenchmarkRoundTrip on two cores shared
// with other work (a round trip of 32 to 35 µs there), each write took
// about 2.5 µs, each crossing from a write's end to the frame in the other
// process's hands 9 to 10 µs, and each process's hand-offs, with the work
// between them, about 3 µs. A sender that writes a lone frame itself,
// rather than waking the writer goroutine, saves about 0.3 µs of each
// write, too little to show in the round trip (35.6 µs against 35.8 µs,
// the medians of six runs of each, alternated), so only the writer
// goroutine writes.
//
// # Flow control
//
// Each pad may have at most Window frames in flight: those queued for its
// consumer and the one its consumer is working on. The receiver queues
// arriving frames in a channel of that capacity, so the reader never blocks
// on one slow pad while others wait behind it, and gives credits back as its
// consumer finishes with frames. A sender with no credit left waits.
// Backpressure therefore never relies on a blocked pipe write.
//
// Workers are linked through the main process. A [Relay] takes what a
// worker sends on a source pad and passes it on: as it is, without
// decoding, to the connections of other workers, and decoded once to the
// main process's sink pads. The worker's credits for that pad are the
// relay's: it gives one back once every destination has finished with the
// frame, so the window bounds the frames on the whole path, and no
// destination's queue can overflow.
//
// # Shared memory
//
// Byte and numeric slices of [DefaultInline] bytes or more travel in slots
// of a [Pool]: a memfd of fixed-size slots, created by the main process and
// mapped once by every process of the pipeline. The frame carries a
// descriptor (slot, generation, offset, length) where the bytes would be,
// and the receiver's slice is the sender's memory.
//
// Each element that sends frames to another process owns a [Budget] of
// slots: it takes free ones to fill, and gets them back once every receiver
// is done with them. A budget is per element, so that frames piling up in
// front of one consumer only use the slots of the elements that feed it.
// A sender never waits for a slot: when its budget has none free, the
// payload travels in the message instead. Waiting would deadlock branches
// that meet again, where the frames holding the slots wait for the frame
// that waits for a slot; the links' credits bound what is in flight
// either way.
//
// The main process keeps the accounts ([Ledger]): each slot's generation,
// its owner, and the frames that hold it (one reference per frame queued in
// the main process, per frame sent to a worker and not yet credited back).
// A slot whose last reference goes is free, at the next generation, and
// goes back to its owner: to a free list in the main process, or in a freed
// message to the worker. Workers keep no accounts. Every descriptor a
// worker sends is checked before anything reads the memory: it must be
// current, and name either a free slot of the worker's budget (the worker
// filled it) or a slot the worker holds (it passes on what it received).
// The frames in flight to a worker that ends are dropped, and their slots
// released, so a dead worker takes no slot with it.
package runtime
