// Package shm provides named shared-memory segments: SGN's to_shm. A
// segment is created by one process under a name, mapped by any process that
// opens the name, and removed with Unlink; its bytes are shared, not copied,
// so a large read-mostly array can be handed to every worker.
//
// On Linux a segment is a file in /dev/shm, mapped with mmap, so the names
// are the ones POSIX shm_open uses and other programs (Python's
// multiprocessing.shared_memory among them) can open them.
//
// Creating a name that exists fails with an error that wraps fs.ErrExist;
// unlike SGN, it never touches other segments. Removing every segment a
// pipeline created when it ends, also when it crashes, and the pool of
// reusable slots for frame payloads are built on this package by the
// pipeline and the runtime.
package shm
