// Package sgn builds streaming pipelines of typed elements that can run in
// separate, supervised processes.
//
// An element is a Go struct marked with a //sgn:element comment. Its pads are
// fields of type [Source] (frames the element sends) or [Sink] (frames it
// receives), named by an sgn tag; every other exported field is
// configuration. The frame type is the pad's type parameter:
//
//	//sgn:element
//	type Square struct {
//		In  sgn.Sink[int64]   `sgn:"input"`
//		Out sgn.Source[int64] `sgn:"output"`
//	}
//
//	func (s *Square) Process(ctx *sgn.Context, f sgn.Frame[int64]) (sgn.Frame[int64], error) {
//		f.Data *= f.Data
//		return f, nil
//	}
//
// sgngen (run by go generate) writes the element's SGNElement method, the
// CBOR codecs of its frame and configuration types, and a worker main, so
// that the element can run in its own process.
//
// An element does its work in one of these methods:
//
//	New(ctx) (Frame[T], error)                  a source with one pad: called until a frame has EOS
//	Process(ctx, Frame[T]) (Frame[U], error)    one sink pad and one source pad: one frame in, one out
//	Consume(ctx, Frame[T]) error                a sink with one pad: called for every frame, EOS included
//	Run(ctx) error                              any pads: the whole loop, with Sink.Recv and Source.Send
//
// and may have a Start(ctx) error method, called once before any frame,
// where the element runs.
//
// # Pipelines
//
// A [Pipeline] holds named elements, linked pad to pad with [Link]; linking
// pads of different frame types does not compile. Each element runs
// concurrently (a goroutine, or a worker process with [InWorker]), links are
// bounded queues, and frames keep their order on every pad. Run returns when
// every element has finished: sources once they have sent EOS, sinks once
// they have received it. An element that returns without sending EOS on a
// source pad has one sent for it (an empty frame with EOS and Gap set).
//
// Each link queues at most QueueSize frames (SGN's queue_maxsize) for its
// consumer, besides the one the consumer is working on; a sender waits while
// the queue is full, wherever the two elements run.
//
// Full pad names follow SGN: "element:src:pad" and "element:snk:pad".
//
// [Pipeline.DOT] and [Pipeline.Mermaid] draw the pipeline as a graph, for
// Graphviz (dot -Tsvg) or for Markdown: each element with its name, Go type
// and pads, links from pad to pad, and the elements that run in workers
// set apart. They draw a pipeline that fails Check as well, its mistakes in
// red: unlinked pads, a sink pad's extra upstreams, links to elements that
// are not in the pipeline.
//
// [Pipeline.RequestEOS] asks every source to end its stream, so that the
// pipeline drains and ends normally; sources with a New method do so by
// themselves, others watch [Context.EOSRequested]. With [HandleSignals], the
// first Ctrl+C (SIGINT) or SIGTERM does this, and the second stops the
// pipeline at once.
//
// # Workers
//
// An element inserted with InWorker runs in its worker binary, found next to
// the running executable (go build -o bin/ ./... puts them there), in
// $SGN_WORKER_DIR, or in the directory given by [WorkerDir]. A program
// started with go run is built in a directory of the go command's, where
// there are none: build the workers into a directory once, and run
// SGN_WORKER_DIR=bin go run . (the error says so). A worker binary built
// from another version of its element is refused before the first frame;
// see package gen for what is and is not detected. Frames travel
// over pipes as CBOR; see package runtime for the protocol and the
// supervision rules. An error or panic in a worker fails the run with an
// [ElementError] that names the element. A worker never outlives the
// process that started it.
//
// An element inserted with [Remote] runs in a worker on another host: a
// worker binary started there with -nats URL serves its element type over
// NATS, and the pipeline claims a free one through a remote.Launcher. See
// package remote; shared memory does not cross hosts.
// # Replicas
//
// A transform with Process can run as several replicas, in this process, in
// workers, or in workers on other hosts, with [Replicas]: frames are spread over them by credit, and
// the element's output keeps its input's order. Status, Stats, Progress,
// DOT and Mermaid show the element once, with its replicas under it.
//
// # Shared memory
//
// Large payloads are not copied between processes. A byte or numeric slice
// of 16 KiB or more, anywhere in a frame (the Samples []float32 field of a
// struct counts), travels in a slot of the pipeline's shared memory: the
// message carries only where it is, and the receiver's slice is the memory
// the sender wrote. A sender with an ordinary slice pays one copy into a
// slot; one that fills a slice from [Alloc] pays none, and neither does a
// transform that changes the frame it received and sends it on. In-process
// links never copy. See [Slots] for the pool's shape and what happens to a
// slice too large for a slot.
//
// A frame is its consumer's until its next Recv, or, for Process and
// Consume, until the method returns: the slot its slices lie in is then
// reused. An element that keeps data longer copies it (slices.Clone).
//
// [Pipeline.Share] is SGN's to_shm: it shares a segment of memory, with
// metadata, that every element finds by name with [Context.Segment]; what
// one process writes in it, the others see. The pipeline's shared memory
// has no name in the file system: workers inherit it, and the kernel frees
// it once the processes that use it have exited, however they ended.
package sgn
