//go:build !linux

package runtime

import "os/exec"

// start starts a worker process. Without a parent-death signal, a worker
// notices that its parent has died when the parent's pipe closes.
func start(cmd *exec.Cmd) error { return cmd.Start() }
