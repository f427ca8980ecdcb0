package gen

import (
	"bytes"
	"errors"
	"fmt"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// ElementFile is the name of the file that sgngen writes in a package with
// elements.
const ElementFile = "sgn_gen.go"

// WorkerDir is the directory, in a package with elements, that holds a
// worker main for each element.
const WorkerDir = "sgnworkers"

// A File is a generated file: its path and its content, or, with Remove
// set, a file sgngen generated before that must go.
type File struct {
	Path    string // absolute
	Content []byte // nil when Remove is set
	Remove  bool
}

// A Diagnostic is a problem in the user's code, at a position.
type Diagnostic struct {
	Pos token.Position // Filename relative to the directory Generate ran in; Line 0 if unknown
	Msg string
}

func (d *Diagnostic) Error() string {
	if d.Pos.Filename == "" && !d.Pos.IsValid() {
		return d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// Generate loads the packages that match patterns (go list patterns, "."
// if none), relative to dir, and returns the files that sgngen generates
// for them, sorted by path. It writes nothing.
//
// If any package has a problem, Generate returns no files and an error
// that joins every problem found, each as path:line:col: message with the
// path relative to dir.
func Generate(dir string, patterns ...string) ([]File, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pkgs, err := load(dir, patterns)
	if err != nil {
		return nil, err
	}
	return generate(dir, pkgs)
}

// load lists the packages that match patterns and type-checks, from
// source, those whose files mention the element directive. The others are
// returned as listed, without types: they have no elements.
//
// Type-checking from source, rather than from compiled export data, means
// that a dependency that does not compile under BuildTag (because its own
// code uses its generated declarations) costs a type error there, ignored,
// instead of a failed load.
func load(dir string, patterns []string) ([]*packages.Package, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	cfg := &packages.Config{
		Mode:       packages.NeedName | packages.NeedFiles,
		Dir:        dir,
		BuildFlags: []string{"-tags=" + BuildTag},
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("sgngen: listing %s: %w", strings.Join(patterns, " "), err)
	}
	orphans, err := orphans(dir, patterns, pkgs)
	if err != nil {
		return nil, err
	}
	pkgs = append(pkgs, orphans...)
	var paths []string
	for _, p := range pkgs {
		if mentionsDirective(p.GoFiles) {
			paths = append(paths, p.PkgPath)
		}
	}
	if len(paths) == 0 {
		return pkgs, nil
	}
	cfg.Mode |= packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports | packages.NeedDeps
	cfg.Fset = token.NewFileSet()
	typed, err := packages.Load(cfg, paths...)
	if err != nil {
		return nil, fmt.Errorf("sgngen: loading %s: %w", strings.Join(paths, " "), err)
	}
	byPath := map[string]*packages.Package{}
	for _, p := range typed {
		byPath[p.PkgPath] = p
	}
	for i, p := range pkgs {
		if t := byPath[p.PkgPath]; t != nil {
			pkgs[i] = t
		}
	}
	return pkgs, nil
}

// orphans returns the packages that match a pattern with "..." only
// without BuildTag, as listed without it: directories whose only Go file
// is a generated sgn_gen.go, left behind when the package's own files were
// deleted. Listed with BuildTag, such a directory has no Go files, and a
// "..." pattern leaves it out; its generated files have to go all the
// same.
func orphans(dir string, patterns []string, tagged []*packages.Package) ([]*packages.Package, error) {
	if !slices.ContainsFunc(patterns, func(p string) bool { return strings.Contains(p, "...") }) {
		return nil, nil // a named directory is listed, with its ignored files
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: dir}
	all, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("sgngen: listing %s: %w", strings.Join(patterns, " "), err)
	}
	listed := map[string]bool{}
	for _, p := range tagged {
		listed[p.PkgPath] = true
	}
	var orphans []*packages.Package
	for _, p := range all {
		if !listed[p.PkgPath] && slices.Contains(p.GoFiles, filepath.Join(p.Dir, ElementFile)) {
			orphans = append(orphans, p)
			listed[p.PkgPath] = true
		}
	}
	// Worker mains whose package directory has no Go files left at all.
	for _, p := range tagged {
		workers, worker := path.Split(p.PkgPath)
		pkgPath, ok := strings.CutSuffix(workers, "/"+WorkerDir+"/")
		if !ok || listed[pkgPath] || filepath.Base(filepath.Dir(p.Dir)) != WorkerDir || worker == "" {
			continue
		}
		orphans = append(orphans, &packages.Package{PkgPath: pkgPath, Dir: filepath.Dir(filepath.Dir(p.Dir))})
		listed[pkgPath] = true
	}
	return orphans, nil
}

// mentionsDirective reports whether any of files has a line that is the
// element directive, or is meant to be. It reads the files as text, so
// that it works on files that do not parse.
func mentionsDirective(files []string) bool {
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for line := range bytes.Lines(data) {
			if isDirective(string(bytes.TrimSpace(line))) {
				return true
			}
		}
	}
	return false
}

// generate is Generate on loaded packages.
func generate(dir string, pkgs []*packages.Package) ([]File, error) {
	pkgs = append([]*packages.Package{}, pkgs...)
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].PkgPath < pkgs[j].PkgPath })
	a := &analyser{dir: dir}
	var files []File
	var infos []*pkgInfo
	for i, pkg := range pkgs {
		if i > 0 && pkg.PkgPath == pkgs[i-1].PkgPath {
			continue
		}
		before := len(a.diags)
		if !a.loadErrors(pkg) {
			continue
		}
		info := &pkgInfo{pkg: pkg}
		if pkg.Types != nil {
			a.fset = pkg.Fset
			info = a.analysePackage(pkg)
		}
		if len(a.diags) > before {
			sortDiagnostics(a.diags[before:])
			continue
		}
		fs, err := packageFiles(info)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
		infos = append(infos, info)
	}
	a.workerCollisions(infos)
	if len(a.diags) > 0 {
		return nil, errors.Join(a.diags...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// workerCollisions reports, at each of them, elements of different
// packages whose worker binaries have the same name: go build -o bin/ would
// keep only one.
func (a *analyser) workerCollisions(infos []*pkgInfo) {
	type owner struct {
		pkg string
		e   *element
	}
	byWorker := map[string][]owner{}
	for _, info := range infos {
		for _, e := range info.elements {
			byWorker[e.worker] = append(byWorker[e.worker], owner{info.pkg.PkgPath, e})
		}
	}
	for _, info := range infos {
		for _, e := range info.elements {
			var others []string
			for _, o := range byWorker[e.worker] {
				if o.e != e {
					others = append(others, o.pkg+"."+o.e.name)
				}
			}
			if len(others) == 0 {
				continue
			}
			a.diags = append(a.diags, &Diagnostic{Pos: e.pos, Msg: fmt.Sprintf(
				"sgn: %s: its worker binary is named %s, as is the worker of %s: rename one of the types or packages (a worker is named <package name>-<lowercased type name>)",
				e.name, e.worker, strings.Join(others, " and "))})
		}
	}
}

// loadErrors reports the errors that stop a package from being analysed:
// it does not exist, or it has elements and does not parse. It returns
// whether the package can be analysed. Type errors do not count: the package
// may use declarations that only its (excluded) generated file has.
func (a *analyser) loadErrors(pkg *packages.Package) bool {
	if pkg.Types == nil && (len(pkg.GoFiles) > 0 || len(pkg.Errors) == 0 || slices.Contains(pkg.IgnoredFiles, filepath.Join(pkg.Dir, ElementFile))) {
		return true // no elements; only listed, or only its generated files are left
	}
	ok := true
	for _, e := range pkg.Errors {
		if e.Kind == packages.TypeError {
			continue
		}
		ok = false
		d := &Diagnostic{Msg: e.Msg}
		if e.Pos != "" && e.Pos != "-" {
			d.Pos = parsePosition(e.Pos)
			d.Pos.Filename = a.relative(d.Pos.Filename)
		}
		a.diags = append(a.diags, d)
	}
	return ok && pkg.TypesInfo != nil
}

// parsePosition parses a position as go/packages spells it: file:line:col,
// file:line or file.
func parsePosition(s string) token.Position {
	var p token.Position
	for _, n := range []*int{&p.Column, &p.Line} {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			break
		}
		v, err := strconv.Atoi(s[i+1:])
		if err != nil {
			break
		}
		*n, s = v, s[:i]
	}
	if p.Line == 0 { // only one number: it was the line
		p.Line, p.Column = p.Column, 0
	}
	p.Filename = s
	return p
}

func (a *analyser) position(pos token.Pos) token.Position {
	p := a.fset.Position(pos)
	p.Filename = a.relative(p.Filename)
	return p
}

// relative returns path (or a path:line:col) relative to a.dir: under it,
// or with ".." steps (../bad/b.go) if it is elsewhere.
func (a *analyser) relative(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	if rel, err := filepath.Rel(a.dir, path); err == nil {
		return rel
	}
	return path
}

// packageFiles returns the files of one analysed package: sgn_gen.go and
// the worker mains of its elements, and the removal of generated files
// that no longer have an element.
func packageFiles(info *pkgInfo) ([]File, error) {
	dir := info.pkg.Dir
	if dir == "" && len(info.pkg.GoFiles) > 0 {
		dir = filepath.Dir(info.pkg.GoFiles[0])
	}
	if dir == "" {
		return nil, nil
	}
	var files []File
	want := map[string]bool{}
	if len(info.elements) > 0 {
		g := newEmitter(info)
		src, err := g.elementFile()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", info.pkg.PkgPath, err)
		}
		files = append(files, File{Path: filepath.Join(dir, ElementFile), Content: src})
		for _, e := range info.elements {
			src, err := g.workerFile(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", info.pkg.PkgPath, err)
			}
			path := filepath.Join(dir, WorkerDir, e.worker, "main.go")
			want[path] = true
			files = append(files, File{Path: path, Content: src})
		}
	} else if isGenerated(filepath.Join(dir, ElementFile)) {
		files = append(files, File{Path: filepath.Join(dir, ElementFile), Remove: true})
	}
	old, _ := filepath.Glob(filepath.Join(dir, WorkerDir, "*", "main.go"))
	for _, path := range old {
		if !want[path] && isGenerated(path) {
			files = append(files, File{Path: path, Remove: true})
		}
	}
	return files, nil
}

// isGenerated reports whether the file at path starts with Header.
func isGenerated(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(Header)+1)
	n, _ := f.Read(buf)
	return bytes.HasPrefix(buf[:n], []byte(Header+"\n"))
}

// sortDiagnostics sorts one package's diagnostics by position.
func sortDiagnostics(diags []error) {
	pos := func(err error) token.Position {
		if d, ok := err.(*Diagnostic); ok {
			return d.Pos
		}
		return token.Position{}
	}
	sort.SliceStable(diags, func(i, j int) bool {
		p, q := pos(diags[i]), pos(diags[j])
		if p.Filename != q.Filename {
			return p.Filename < q.Filename
		}
		if p.Line != q.Line {
			return p.Line < q.Line
		}
		return p.Column < q.Column
	})
}
