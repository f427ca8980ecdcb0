//go:build !linux

package main

import "os/exec"

// orphanless does nothing here: only Linux has parent-death signals.
func orphanless(cmd *exec.Cmd) {}
