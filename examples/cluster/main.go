// Command cluster runs the numbers pipeline of SGN's subprocess tutorial
// with its workers on "other hosts": a source counts 1 to 10 in this
// process, a transform squares the numbers as two replicas, and a sink
// prints them, each in a worker reached over NATS only.
//
// It plays every part of a cluster on one machine. It starts a NATS server
// inside itself, on a free port of 127.0.0.1, and three worker binaries as
// separate processes, each given nothing but the server's URL, as one would
// on three hosts:
//
//	cluster-square -nats nats://127.0.0.1:PORT   (twice)
//	cluster-logger -nats nats://127.0.0.1:PORT
//
// Then it builds the pipeline with the transform as
// sgn.Replicas(2, sgn.Remote(l)) and the sink as sgn.Remote(l), where l
// claims free workers over its own connection to the server, and runs it.
// A worker runs each element it is given in a new process of its own
// binary, whose output goes to the worker's; this program relays the
// workers' standard output to its own, line by line. The tutorial's lines
// follow: each process says its ID as it starts, the transforms print
// what they square, and the sink prints the squares in order (the
// replicas' outputs are put back in the order of their inputs), then, at
// EOS, which process squared which numbers: two different processes, the
// two replicas. Last, it stops the workers (SIGTERM) and the server, and
// waits for each; a worker that this process leaves, even killed, gets
// SIGTERM (Linux), and stops its element's process.
//
// Build it together with its workers, then run it:
//
//	go build -o bin/ ./examples/cluster/...
//	bin/cluster
//
// or: make demo-cluster. With -v, the workers' logs (stderr) show too.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/cluster/cluster"
	"github.com/sgn-go/sgn/remote"
)

func main() {
	verbose := flag.Bool("v", false, "show the workers' logs (their stderr)")
	flag.Parse()
	if err := run(*verbose); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(verbose bool) (err error) {
	fmt.Printf("Main process ID: %d\n", os.Getpid())
	dir, err := workerDir()
	if err != nil {
		return err
	}

	// The server every "host" reaches.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		return fmt.Errorf("starting a NATS server: %w", err)
	}
	go ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		return errors.New("the NATS server did not start within 10s")
	}
	url := ns.ClientURL()
	fmt.Printf("NATS server listening on %s\n", url)

	// The workers, each told only the server's URL.
	var workers []*worker
	defer func() {
		if stopErr := stopAll(workers); err == nil {
			err = stopErr
		}
		if err != nil && !verbose {
			for _, w := range workers {
				fmt.Fprintf(os.Stderr, "%s (pid %d) said on stderr:\n%s", w.name, w.cmd.Process.Pid, w.stderr.String())
			}
		}
	}()
	for _, name := range []string{"cluster-square", "cluster-square", "cluster-logger"} {
		w, err := startWorker(filepath.Join(dir, name), url, verbose)
		if err != nil {
			return err
		}
		workers = append(workers, w)
		fmt.Printf("Worker %s started, process ID: %d\n", name, w.cmd.Process.Pid)
	}

	// The pipeline, on a connection of its own.
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	l := remote.NewLauncher(nc)

	source := &cluster.Counter{Limit: 10}
	transform := &cluster.Square{}
	sink := &cluster.Logger{}
	p := sgn.NewPipeline(sgn.HandleSignals()) // Ctrl+C: EOS, then stop
	p.Insert("source", source)
	p.Insert("transform", transform, sgn.Replicas(2, sgn.Remote(l)))
	p.Insert("sink", sink, sgn.Remote(l))
	sgn.Link(&source.Numbers, &transform.Input)
	sgn.Link(&transform.Output, &sink.Result)
	return p.Run(context.Background())
}

// workerDir returns where the worker binaries are: $SGN_WORKER_DIR if it is
// set, else the directory of this executable, where go build -o bin/ puts
// them.
func workerDir() (string, error) {
	if dir := os.Getenv(sgn.WorkerDirEnv); dir != "" {
		return dir, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Dir(exe), nil
}

// A worker is a worker binary serving pipelines over NATS.
type worker struct {
	name   string
	cmd    *exec.Cmd
	stderr syncBuffer // its logs, shown if the run fails
}

// output serializes the lines that the workers relay to this process's
// standard output and error.
var output sync.Mutex

// startWorker starts the worker binary at path with -nats url, relaying
// its standard output, line by line, to this process's.
func startWorker(path, url string, verbose bool) (*worker, error) {
	w := &worker{name: filepath.Base(path), cmd: exec.Command(path, "-nats", url)}
	w.cmd.Stdout = &lines{to: os.Stdout}
	w.cmd.Stderr = &w.stderr
	if verbose {
		w.cmd.Stderr = io.MultiWriter(&w.stderr, &lines{to: os.Stderr})
	}
	w.cmd.WaitDelay = 5 * time.Second // for its output to end, once it has exited
	orphanless(w.cmd)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting a worker (build the example with its workers: go build -o bin/ ./examples/cluster/...): %w", err)
	}
	return w, nil
}

// stopAll stops the workers, as SIGINT or SIGTERM would on their hosts, and
// waits for them; one still running after 10 seconds is killed.
func stopAll(workers []*worker) error {
	var errs []error
	for _, w := range workers {
		w.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range workers {
		timer := time.AfterFunc(10*time.Second, func() { w.cmd.Process.Kill() })
		err := w.cmd.Wait()
		timer.Stop()
		if err != nil {
			errs = append(errs, fmt.Errorf("worker %s (pid %d): %w", w.name, w.cmd.Process.Pid, err))
		}
	}
	return errors.Join(errs...)
}

// lines writes what it is given to another writer, whole lines at a time,
// so that the lines of several processes do not mix.
type lines struct {
	to      io.Writer
	partial []byte
}

func (l *lines) Write(b []byte) (int, error) {
	l.partial = append(l.partial, b...)
	end := bytes.LastIndexByte(l.partial, '\n')
	if end < 0 {
		return len(b), nil
	}
	output.Lock()
	_, err := l.to.Write(l.partial[:end+1])
	output.Unlock()
	l.partial = append(l.partial[:0], l.partial[end+1:]...)
	return len(b), err
}

// syncBuffer is a bytes.Buffer that a worker's output goroutine writes and
// this one reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
