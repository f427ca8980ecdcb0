package sgn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sgn-go/sgn/remote"
	"github.com/sgn-go/sgn/runtime"
	"github.com/sgn-go/sgn/shm"
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
	build := fmt.Sprintf("go build -o %s%c %s", dir, filepath.Separator, n.spec.WorkerPkg)
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0:
		return path, nil
	case err == nil && st.IsDir():
		return "", fmt.Errorf("%s: worker binary %s in %s (%s) is a directory, not a program; remove it and build the worker with:\n\t%s",
			n.name, n.spec.Worker, dir, from, build)
	case err == nil && st.Mode().IsRegular():
		return "", fmt.Errorf("%s: worker binary %s in %s (%s) is not executable (mode %v); make it executable with chmod +x %s, or rebuild it with:\n\t%s",
			n.name, n.spec.Worker, dir, from, st.Mode().Perm(), path, build)
	case err == nil:
		return "", fmt.Errorf("%s: worker binary %s in %s (%s) is not a regular file (%v); rebuild it with:\n\t%s",
			n.name, n.spec.Worker, dir, from, st.Mode().Type(), build)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: worker binary %s in %s (%s): %v", n.name, n.spec.Worker, dir, from, err)
	}
	if from != "the WorkerDir option" && from != "$"+WorkerDirEnv && builtByGoRun(path) {
		return "", fmt.Errorf("%s: worker binary %s not found: go run (or go test) built this program in %s, a directory of the go command's without worker binaries; build them into a directory of yours, once and whenever their elements change, and name it in $%s, at the module's root:\n\tgo build -o bin/ ./...\n\t%s=bin go run .",
			n.name, n.spec.Worker, dir, WorkerDirEnv, WorkerDirEnv)
	}
	return "", fmt.Errorf("%s: worker binary %s not found in %s (%s); build it with:\n\t%s",
		n.name, n.spec.Worker, dir, from, build)
}

// builtByGoRun reports whether path, in the directory of the running
// executable, is in a directory of the go command's: the temporary
// directory where go run and go test build programs ($GOTMPDIR or the
// system's, in a go-build* directory), or the build cache where go run
// keeps the programs it builds (since Go 1.24: <cache>/<2 hex digits>/<hash>-d/<program>).
func builtByGoRun(path string) bool {
	var tmps []string
	if d := os.Getenv("GOTMPDIR"); d != "" {
		tmps = append(tmps, d)
	}
	for _, tmp := range append(tmps, os.TempDir()) {
		if rel, err := filepath.Rel(tmp, path); err == nil && strings.HasPrefix(rel, "go-build") {
			return true
		}
	}
	exeDir := filepath.Dir(path)
	hash, bucket := filepath.Base(exeDir), filepath.Base(filepath.Dir(exeDir))
	return cacheEntry.MatchString(hash) && len(bucket) == 2 && strings.HasPrefix(hash, bucket)
}

// cacheEntry matches the directory of a program in the go command's build
// cache.
var cacheEntry = regexp.MustCompile(`^[0-9a-f]{64}-d$`)

// runWorker runs n in a worker process: the main process's half of the
// element. Its links were placed on n.conn by the run.
func (r *run) runWorker(ctx *Context, n *node, path string) error {
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
			Type:     n.spec.Type,
			Schema:   n.spec.Schema,
			Origin:   buildOrigin(typePackage(n.spec.Type)),
			Config:   config,
			Sinks:    padNames(n.spec.Sinks),
			Sources:  padNames(n.spec.Sources),
			Segments: r.segmentHellos,
		},
		Conn:        n.conn,
		Launcher:    n.launcher(),
		Pool:        r.pool,
		Budget:      n.budget,
		Segments:    r.segmentList,
		StopTimeout: r.p.stopTimeout,
		Restart:     n.runtimePolicy(),
		OnState:     n.onState,
		Logger:      r.p.logger,
		LogStdout:   r.p.logStdout,
	}
	if r.p.busy {
		w.Busy = func(ns int64) { n.busy.Store(ns) }
	}
	if n.remote != nil {
		w.Path = n.spec.Worker // its name, for messages: the binary is on the other host
	}
	r.p.addWorker(w)
	return w.Run(ctx)
}

// launcher returns what starts n's worker processes: nil for the default,
// pipes on this host.
func (n *node) launcher() runtime.Launcher {
	if n.remote != nil {
		return n.remote
	}
	return nil
}

// typePackage returns the import path of the package of a
// package-qualified type name, example.com/m/stages.Count.
func typePackage(typ string) string {
	if i := strings.LastIndexByte(typ, '.'); i > 0 {
		return typ[:i]
	}
	return typ
}

// buildOrigin says where this binary's copy of the package pkg came from,
// when its build information says so for sure: "module <path>@<version>
// <sum>" for a package of a dependency at a version, "commit <revision> of
// <path>" for a package of the main module built from a checkout without
// uncommitted changes (go build stamps the revision unless -buildvcs=false).
// Otherwise it returns "": no build information, no VCS stamp (go run, go
// test, -buildvcs=false, no version control), uncommitted changes, or a
// module replaced by a directory. Two binaries whose origins differ were
// built from different code; two with the same origin, or an unknown one,
// may have been too.
func buildOrigin(pkg string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return originIn(bi, pkg)
}

// originIn is buildOrigin from the build information bi.
func originIn(bi *debug.BuildInfo, pkg string) string {
	var mod *debug.Module
	for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
		if (pkg == m.Path || strings.HasPrefix(pkg, m.Path+"/")) && (mod == nil || len(m.Path) > len(mod.Path)) {
			mod = m
		}
	}
	switch {
	case mod == nil:
		return ""
	case mod == &bi.Main:
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" && settings["vcs.modified"] == "false" {
			return "commit " + rev + " of " + mod.Path
		}
		return ""
	case mod.Replace != nil:
		mod = mod.Replace
	}
	if mod.Version == "" || mod.Version == "(devel)" {
		return "" // a directory
	}
	return strings.TrimSpace("module " + mod.Path + "@" + mod.Version + " " + mod.Sum)
}

// sameKind reports whether two origins are known and of one kind: a
// commit of the main module can only be compared with another.
func sameKind(a, b string) bool {
	kind := func(s string) string { k, _, _ := strings.Cut(s, " "); return k }
	return a != "" && b != "" && kind(a) == kind(b)
}

// describeOrigin spells an origin for an error message.
func describeOrigin(o string) string {
	return strings.TrimPrefix(o, "module ")
}

// orNone is s, or "(none)" if it is empty: the schema of an element
// generated before elements had one.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
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
//
// Started by hand with a NATS URL (-nats URL, or $SGN_NATS_URL), the binary
// serves e's type to pipelines on other hosts instead, one run at a time,
// each in a new process of its own, until SIGINT or SIGTERM (see
// remote.Main).
func ServeWorker(e Element) {
	if !runtime.Piped() && remote.Wanted(os.Args[1:]) {
		os.Exit(remote.Main(e.SGNElement().Type, "", os.Args[1:]))
	}
	os.Exit(runtime.Serve(func(j *runtime.Job) (*runtime.Binding, error) {
		return bindWorker(e, j)
	}))
}

// bindWorker configures e from the main process's Hello and wires its pads
// to the Conn.
func bindWorker(e Element, j *runtime.Job) (*runtime.Binding, error) {
	h := j.Hello
	spec := e.SGNElement()
	if h.Type != spec.Type || !slices.Equal(h.Sinks, padNames(spec.Sinks)) || !slices.Equal(h.Sources, padNames(spec.Sources)) {
		exe, _ := os.Executable()
		return nil, fmt.Errorf("worker binary %s serves %s with sink pads %q and source pads %q, but the pipeline expects %s with %q and %q: rebuild the worker binaries",
			exe, spec.Type, padNames(spec.Sinks), padNames(spec.Sources), h.Type, h.Sinks, h.Sources)
	}
	if h.Schema != spec.Schema {
		exe, _ := os.Executable()
		return nil, fmt.Errorf("worker binary %s serves %s with schema %s, but the pipeline's %s has schema %s: the element's pads, frame types or configuration fields changed since one of the two binaries was built; rebuild the worker binaries",
			exe, spec.Type, orNone(spec.Schema), h.Type, orNone(h.Schema))
	}
	if theirs, ours := h.Origin, buildOrigin(typePackage(spec.Type)); sameKind(theirs, ours) && theirs != ours {
		exe, _ := os.Executable()
		return nil, fmt.Errorf("worker binary %s was built from %s, the pipeline's binary from %s: the code of %s may differ; rebuild the worker binaries",
			exe, describeOrigin(ours), describeOrigin(theirs), spec.Type)
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
	segments := map[string]*shm.Segment{}
	for _, s := range j.Segments {
		segments[s.Name()] = s
	}
	n := &node{name: h.Element, elem: e, spec: spec, inWorker: true}
	for i, pad := range spec.Sinks {
		pad.base().node, pad.base().index = n, i
		pad.(sinkPad).inlet(j.Conn, j.Pool)
	}
	for i, pad := range spec.Sources {
		pad.base().node, pad.base().index = n, i
		pad.(sourcePad).attach(j.Conn)
	}
	eos := make(chan struct{})
	var eosOnce sync.Once
	b := &runtime.Binding{RequestEOS: func() { eosOnce.Do(func() { close(eos) }) }}
	if h.EOS {
		b.RequestEOS()
	}
	var busy atomic.Int64
	if h.Stats {
		b.Busy = busy.Load
	}
	b.Run = func(ctx context.Context) error {
		c := &Context{Context: ctx, element: h.Element, inWorker: true, eos: eos, segments: segments, pool: j.Pool, budget: j.Budget}
		if h.Stats {
			c.busy = &busy
		}
		err := runElement(c, e, &spec, nil)
		for _, pad := range spec.Sinks {
			pad.(sinkPad).close()
		}
		var pe *PanicError
		if errors.As(err, &pe) {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", h.Element, pe.Value, pe.Stack)
		}
		return err
	}
	return b, nil
}
