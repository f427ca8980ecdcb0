package runtime

import (
	"os/exec"
	goruntime "runtime"
	"sync"
	"syscall"
)

// start starts a worker process so that the kernel kills it when this
// process dies, however it dies (SIGKILL included): the worker is started
// with a parent-death signal. Linux sends that signal when the thread
// that started the child ends, not the process, so every worker is started
// from one goroutine locked to a thread that lives as long as the process.
func start(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawn)
		go spawner()
	})
	s := spawn{cmd: cmd, done: make(chan error, 1)}
	spawns <- s
	return <-s.done
}

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawns    chan spawn
)

func spawner() {
	goruntime.LockOSThread() // and never unlock: the thread must not end
	for s := range spawns {
		if s.cmd.SysProcAttr == nil {
			s.cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		s.cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		s.done <- s.cmd.Start()
	}
}
