package main

import (
	"os/exec"
	goruntime "runtime"
	"syscall"
)

// The workers' parent-death signal is sent when the thread that started
// them ends: they are started from the main goroutine, which stays on the
// main thread, which ends with the process.
func init() { goruntime.LockOSThread() }

// orphanless has the worker started by cmd get SIGTERM when this process
// ends, however it ends, and keeps it out of this process's group, so that
// a Ctrl+C at the terminal reaches this process alone (which drains the
// pipeline, then stops the workers).
func orphanless(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
