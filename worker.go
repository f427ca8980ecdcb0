package sgn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/wire"
)

// WorkerDirEnv names the environment variable that says where worker
// binaries are, when the pipeline has no WorkerDir option.
const WorkerDirEnv = "SGN_WORKER_DIR"

// findWorker returns the path of n's worker binary, or an error that says
// where it looked and how to build it.
func (p *Pipeline) findWorker(n *node) (string, error) {
	var dir, from string
	switch {
	case p.workerDir != "":
		dir, from = p.workerDir, "the WorkerDir option"
	case os.Getenv(WorkerDirEnv) != "":
		dir, from = os.Getenv(WorkerDirEnv), "$"+WorkerDirEnv
	default:
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("%s: cannot find worker binary %s: %v; set %s", n.name, n.spec.Worker, err, WorkerDirEnv)
		}
		dir, from = filepath.Dir(exe), "the directory of "+filepath.Base(exe)
	}
	path := filepath.Join(dir, n.spec.Worker)
	st, err := os.Stat(path)
	if err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return path, nil
	}
	return "", fmt.Errorf("%s: worker binary %s not found in %s (%s); build it with:\n\tgo build -o %s%c %s",
		n.name, n.spec.Worker, dir, from, dir, filepath.Separator, n.spec.WorkerPkg)
}

// runWorker runs n in a worker process: the parent's half of the element.
// The element's sink pads feed the pipe; what the worker sends on its source
// pads is relayed to their links.
func (p *Pipeline) runWorker(ctx *Context, n *node, path string) error {
	var config []byte
	if n.spec.EncodeConfig != nil {
		w := wire.NewEncoder(nil, nil)
		n.spec.EncodeConfig(w)
		config = w.Buf()
	}
	w := &runtime.Worker{
		Element: n.name,
		Path:    path,
		Hello: runtime.Hello{
			Type:    n.spec.Type,
			Config:  config,
			Sinks:   padNames(n.spec.Sinks),
			Sources: padNames(n.spec.Sources),
			Window:  p.queueSize,
		},
		StopTimeout: p.stopTimeout,
	}
	for _, pad := range n.spec.Sinks {
		w.Outlets = append(w.Outlets, pad.(sinkPad).outlet())
	}
	p.addWorker(w)
	relayCtx, cancel := context.WithCancelCause(ctx.Context)
	defer cancel(nil)
	rc := &Context{Context: relayCtx, element: n.name, eos: ctx.eos}
	var relays sync.WaitGroup
	var relayErr error
	var once sync.Once
	for _, pad := range n.spec.Sources {
		in, forward := pad.(sourcePad).relay(p.queueSize)
		w.Inlets = append(w.Inlets, in)
		relays.Go(func() {
			if err := forward(rc); err != nil {
				once.Do(func() { relayErr = err })
				cancel(err)
			}
		})
	}
	err := w.Run(ctx)
	if err != nil {
		cancel(err) // the worker failed: its relays will never see EOS
	}
	relays.Wait()
	if err != nil {
		return err
	}
	return relayErr // nil, or the pipeline's cause if it stopped while relaying
}

func padNames(pads []Pad) []string {
	names := make([]string, len(pads))
	for i, p := range pads {
		names[i] = p.Name()
	}
	return names
}

// ServeWorker is the whole main function of a worker binary, which sgngen
// generates for every element type: it serves e to the pipeline that started
// the process, and exits. e is a zero value; the pipeline sends its
// configuration.
func ServeWorker(e Element) {
	os.Exit(runtime.Serve(func(h runtime.Hello) (*runtime.Binding, error) {
		return bindWorker(e, h)
	}))
}

// bindWorker configures e from the parent's Hello and wires its pads to the
// pipe.
func bindWorker(e Element, h runtime.Hello) (*runtime.Binding, error) {
	spec := e.SGNElement()
	if h.Type != spec.Type || !slices.Equal(h.Sinks, padNames(spec.Sinks)) || !slices.Equal(h.Sources, padNames(spec.Sources)) {
		exe, _ := os.Executable()
		return nil, fmt.Errorf("worker binary %s serves %s with sink pads %q and source pads %q, but the pipeline expects %s with %q and %q: rebuild the worker binaries",
			exe, spec.Type, padNames(spec.Sinks), padNames(spec.Sources), h.Type, h.Sinks, h.Sources)
	}
	switch {
	case spec.DecodeConfig != nil:
		d := wire.NewDecoder(h.Config)
		spec.DecodeConfig(d)
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("decoding the configuration of %s: %w", spec.Type, err)
		}
	case len(h.Config) > 0:
		exe, _ := os.Executable()
		return nil, fmt.Errorf("worker binary %s serves a %s without configuration, but the pipeline sent some: rebuild the worker binaries", exe, spec.Type)
	}
	n := &node{name: h.Element, elem: e, spec: spec, inWorker: true}
	eos := make(chan struct{})
	var eosOnce sync.Once
	b := &runtime.Binding{RequestEOS: func() { eosOnce.Do(func() { close(eos) }) }}
	if h.EOS {
		b.RequestEOS()
	}
	for _, pad := range spec.Sinks {
		pad.base().node = n
		pad.(sinkPad).open(h.Window)
		b.Inlets = append(b.Inlets, pad.(sinkPad).inlet())
	}
	for _, pad := range spec.Sources {
		pad.base().node = n
		b.Outlets = append(b.Outlets, pad.(sourcePad).attach(h.Window))
	}
	b.Run = func(ctx context.Context) error {
		err := runElement(&Context{Context: ctx, element: h.Element, inWorker: true, eos: eos}, e, &spec)
		var pe *PanicError
		if errors.As(err, &pe) {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", h.Element, pe.Value, pe.Stack)
		}
		return err
	}
	return b, nil
}
