// Package shm provides the shared memory of a pipeline: segments that a
// pipeline shares with its workers by name (SGN's to_shm), and the pool of
// slots that large frame payloads travel in.
//
// Memory here has no name in any file system. A [Segment] is a memfd: an
// anonymous file that lives as long as some process holds it open or
// mapped. The process that creates it passes its descriptor to the worker
// processes it starts, and each maps it; when the last of them has exited,
// the kernel frees the memory, however they ended: normally, with an error,
// or killed. Nothing can be left behind in /dev/shm, and no other process
// can open a segment by guessing its name.
//
// A segment's bytes are shared, not copied: a write in one process is seen
// by every other process that has the segment mapped. [View] gives typed
// access to them, as a slice that aliases the segment:
//
//	seg, err := shm.New("calibration", 5*8, nil)
//	...
//	v := shm.View[float64](seg) // len(v) == 5
//
// A [Pool] is a segment cut into slots of one size. The runtime puts a
// frame's large byte and numeric slices in slots, so that the frame's
// message carries a small descriptor instead of the bytes, and the
// receiver's slice is the slot itself. Which process may use which slot,
// and when a slot is free again, is the runtime's business; this package
// only maps the memory and tells where a slice lies in it.
//
// Mappings are made once and reused. A slice obtained from a segment or a
// pool is valid until the segment or pool is closed in this process;
// touching it afterwards is a fault.
package shm
