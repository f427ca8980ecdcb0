package sgn_test

import (
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/examples/numbers/numbers"
	"github.com/sgn-go/sgn/examples/squares/stages"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/graph (go test -run TestGraph -update)")

// golden compares got with the file testdata/graph/name byte for byte, or
// writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "graph", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\nto write it, run: go test -run TestGraph -update", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (-want +got):\n%s\nif the change is intended, run: go test -run TestGraph -update", path, cmp.Diff(string(want), got))
	}
}

// tutorial builds the pipeline of examples/numbers, SGN's first subprocess
// tutorial: a source in this process, a transform and a sink in workers.
func tutorial() *sgn.Pipeline {
	source := &numbers.Counter{Limit: 10}
	transform := &numbers.Square{}
	sink := &numbers.Logger{}
	p := sgn.NewPipeline()
	p.Insert("source", source)
	p.Insert("transform", transform, sgn.InWorker())
	p.Insert("sink", sink, sgn.InWorker())
	sgn.Link(&source.Numbers, &transform.Input)
	sgn.Link(&transform.Output, &sink.Result)
	return p
}

// broken builds a pipeline with every mistake that Check reports about
// links: an unlinked sink pad, a sink pad linked twice (whose second
// upstream is then unlinked itself), a link from an element never inserted
// (whose pads have no names, as SGNElement was never called), a link to
// one whose Insert was refused (a name taken), and a link to an element of
// another pipeline.
func broken() *sgn.Pipeline {
	count := &testelems.Count{To: 3}
	concat := &testelems.Concat{}
	collect := &testelems.Collect{}
	extra := &testelems.Count{To: 3}
	scale := &testelems.Scale{Factor: 2}
	stray := &testelems.Count{To: 3}  // never inserted
	twin := &testelems.Collect{}      // refused: its name is taken
	elsewhere := &testelems.Collect{} // in another pipeline
	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("concat", concat, sgn.InWorker()) // its pad b is not linked
	p.Insert("collect", collect)
	p.Insert("extra", extra)
	p.Insert("scale", scale, sgn.InWorker())
	p.Insert("collect", twin)
	sgn.NewPipeline().Insert("elsewhere", elsewhere)
	sgn.Link(&count.Out, &concat.A)
	sgn.Link(&count.Out, &elsewhere.In)
	sgn.Link(&concat.Out, &collect.In)
	sgn.Link(&extra.Out, &collect.In) // collect's in has an upstream already
	sgn.Link(&stray.Out, &scale.In)
	sgn.Link(&scale.Out, &twin.In)
	return p
}

func TestGraphTutorial(t *testing.T) {
	p := tutorial()
	if err := p.Check(); err != nil {
		t.Fatalf("the tutorial's pipeline fails Check: %v", err)
	}
	golden(t, "numbers.dot", p.DOT())
	golden(t, "numbers.mmd", p.Mermaid())
}

func TestGraphBroken(t *testing.T) {
	p := broken()
	// What the graph marks is what Check reports.
	wantErrs := []string{
		"concat:snk:b: sink pad is not linked",
		"collect:snk:in: linked from concat:src:out and again from extra:src:out",
		"extra:src:out: source pad is not linked",
		"scale:snk:in: linked from a source pad of an element that is not in the pipeline",
		"scale:src:out: linked to sink pad \"in\" of an element that is not in the pipeline",
		`an element named "collect" is already in the pipeline`,
		"count:src:out: linked to elsewhere:snk:in, which belongs to another pipeline",
	}
	err := p.Check()
	if err == nil {
		t.Fatal("Check passes the broken pipeline")
	}
	for _, w := range wantErrs {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Check does not report %q; it says:\n%v", w, err)
		}
	}
	golden(t, "broken.dot", p.DOT())
	golden(t, "broken.mmd", p.Mermaid())
}

// The README shows the tutorial's pipeline as Mermaid draws it.
func TestGraphREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)[strings.Index(string(readme), "## Seeing the pipeline"):]
	_, block, ok := strings.Cut(section, "```mermaid\n")
	block, _, _ = strings.Cut(block, "```")
	if want := tutorial().Mermaid(); !ok || block != want {
		t.Errorf("README.md's section Seeing the pipeline has, in its mermaid block:\n%s\nwant the tutorial's pipeline:\n%s", block, want)
	}
}

// nasty is an element whose type and pad names are chosen by the test.
type nasty struct {
	typ            string
	sinks, sources []string
	in             []sgn.Sink[int64]
	out            []sgn.Source[int64]
}

func (e *nasty) SGNElement() sgn.Spec {
	spec := sgn.Spec{Type: e.typ, Method: "Run"}
	if e.in == nil {
		e.in, e.out = make([]sgn.Sink[int64], len(e.sinks)), make([]sgn.Source[int64], len(e.sources))
	}
	for i, name := range e.sinks {
		spec.Sinks = append(spec.Sinks, e.in[i].Init(name, sgn.Codec[int64]{}))
	}
	for i, name := range e.sources {
		spec.Sources = append(spec.Sources, e.out[i].Init(name, sgn.Codec[int64]{}))
	}
	return spec
}

// nastyNames are element and pad names that DOT and Mermaid must escape,
// and how they are shown.
var nastyNames = []struct{ name, shown string }{
	{`say "hi"`, `say "hi"`},
	{`<b>bold</b> & <i>`, `<b>bold</b> & <i>`},
	{`a b\c`, `a b\c`},
	{"end", "end"},
	{"line\nbreak\x00", `line\nbreak\x00`},
	{"#quot; | `tick`", "#quot; | `tick`"},
	{"\xff\xfe not UTF-8", `\xff\xfe not UTF-8`},
	{"subgraph {x} --> [y]; // z", "subgraph {x} --> [y]; // z"},
	{"a-b", "a-b"},
}

// escaping builds a chain of elements in workers named nastyNames, with
// pads and type arguments named after them too; the last element has two
// more sink pads whose names reduce to the identifier of its first, and its
// source pad is not linked.
func escaping() *sgn.Pipeline {
	p := sgn.NewPipeline()
	var prev *nasty
	for i, n := range nastyNames {
		e := &nasty{typ: "example.com/x/odd.T[" + n.name + "]", sources: []string{nastyNames[(i+1)%len(nastyNames)].name}}
		if prev != nil {
			e.sinks = []string{n.name}
		}
		if i == len(nastyNames)-1 {
			e.sinks = append(e.sinks, "a_b", "a b")
		}
		p.Insert(n.name, e, sgn.InWorker())
		if prev != nil {
			sgn.Link(&prev.out[0], &e.in[0])
		}
		prev = e
	}
	return p
}

func TestGraphEscaping(t *testing.T) {
	p := escaping()
	dot, mmd := p.DOT(), p.Mermaid()
	golden(t, "escaping.dot", dot)
	golden(t, "escaping.mmd", mmd)

	// Besides the golden files, which a careless -update could bless: every
	// line has one of the expected shapes, with plain identifiers; label
	// text has nothing that could end or change its label; and unescaped,
	// it gives the names back.
	const id = `[A-Za-z][A-Za-z0-9_]*`
	dotLines := regexp.MustCompile(`^(` + strings.Join([]string{
		`digraph pipeline \{`, `\trankdir=LR;`, `\t(node|edge) \[[^\]]*\];`, ``, `\}`,
		`\t` + id + ` \[label=<`,
		`\t` + id + `:` + id + `:e -> ` + id + `:` + id + `:w( \[[^\]]*\])?;`,
	}, "|") + `)$`)
	tag := regexp.MustCompile(`</?(TABLE|TR|TD|B|I)( [A-Z]+="[A-Za-z0-9_]*")*>`)
	entity := regexp.MustCompile(`&(amp|lt|gt|quot);`)
	dotText := map[string]bool{}
	inLabel := false
	for _, line := range strings.Split(strings.TrimSuffix(dot, "\n"), "\n") {
		switch {
		case inLabel:
			line, inLabel = strings.TrimSuffix(line, ">];"), !strings.HasSuffix(line, ">];")
			for _, text := range tag.Split(strings.TrimSpace(line), -1) {
				if strings.ContainsAny(entity.ReplaceAllString(text, ""), "<>&\"\x00\n") {
					t.Errorf("DOT: label text %q is not escaped", text)
				}
				dotText[html.UnescapeString(text)] = true
			}
		case !dotLines.MatchString(line):
			t.Errorf("DOT: unexpected line %q", line)
		default:
			inLabel = strings.HasSuffix(line, "[label=<")
		}
	}
	const label = `"([^"]*)"`
	shape := `(\[` + label + `\]|\[\[` + label + `\]\]|\(\[` + label + `\]\))`
	mmdLines := regexp.MustCompile(`^    (` + strings.Join([]string{
		id + shape + `(:::[a-z]+)?`,
		id + shape + `:::unlinked -\.-> ` + id,
		id + ` -\.-> ` + id + shape + `:::unlinked`,
		id + ` (-->|==>|-\.->)\|` + label + `\| ` + id,
		`linkStyle [0-9,]+ [a-z:,]+`, `classDef [a-z]+ [^"]+`,
	}, "|") + `)$`)
	code := regexp.MustCompile(`#([0-9]+);`)
	mmdText := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(mmd, "\n"), "\n")[1:] {
		if !mmdLines.MatchString(line) {
			t.Errorf("Mermaid: unexpected line %q", line)
		}
		for _, m := range regexp.MustCompile(label).FindAllStringSubmatch(line, -1) {
			for _, text := range strings.Split(m[1], "<br/>") {
				if strings.ContainsAny(text, "<>&|`\\\x00\n") {
					t.Errorf("Mermaid: label text %q is not escaped", text)
				}
				text = code.ReplaceAllStringFunc(text, func(c string) string {
					n, _ := strconv.Atoi(code.FindStringSubmatch(c)[1])
					return string(rune(n))
				})
				mmdText[text] = true
			}
		}
	}
	for _, n := range nastyNames {
		if !dotText[n.shown] {
			t.Errorf("DOT does not show %q as %q", n.name, n.shown)
		}
		if !dotText["odd.T["+n.shown+"]"] {
			t.Errorf("DOT does not show the type of %q as %q", n.name, "odd.T["+n.shown+"]")
		}
		if !mmdText[n.shown] {
			t.Errorf("Mermaid does not show %q as %q", n.name, n.shown)
		}
		if !mmdText[n.shown+" → "+n.shown] && n.name != nastyNames[0].name {
			t.Errorf("Mermaid does not label the link into %q as %q", n.name, n.shown+" → "+n.shown)
		}
	}
}

// TestGraphDeterministic builds the same pipelines twice: the text must not
// depend on map order or on memory addresses.
// replicas builds a pipeline with replicated transforms: one whose
// replicas run in workers and here, one whose replicas all run here.
func replicas() *sgn.Pipeline {
	count := &testelems.Count{To: 3}
	square := &testelems.Scale{Factor: 2}
	describe := &testelems.Describe{}
	readings := &testelems.Readings{}
	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square, sgn.Replicas(2, sgn.InWorker()), sgn.Replicas(1))
	p.Insert("describe", describe, sgn.Replicas(4))
	p.Insert("readings", readings)
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &describe.In)
	sgn.Link(&describe.Out, &readings.In)
	return p
}

// A replicated element is one box that counts its replicas.
func TestGraphReplicas(t *testing.T) {
	golden(t, "replicas.dot", replicas().DOT())
	golden(t, "replicas.mmd", replicas().Mermaid())
}

// remoteReplicas builds a pipeline whose transform runs as replicas on
// other hosts and in a worker here, and whose sink runs on another host.
func remoteReplicas() *sgn.Pipeline {
	l := remote.NewLauncher(nil) // drawing claims no worker
	count := &testelems.Count{To: 3}
	square := &testelems.Scale{Factor: 2}
	collect := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square, sgn.Replicas(2, sgn.Remote(l)), sgn.Replicas(1, sgn.InWorker()))
	p.Insert("collect", collect, sgn.Remote(l))
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &collect.In)
	return p
}

// Elements and replicas on other hosts say so.
func TestGraphRemote(t *testing.T) {
	golden(t, "remote.dot", remoteReplicas().DOT())
	golden(t, "remote.mmd", remoteReplicas().Mermaid())
}

func TestGraphDeterministic(t *testing.T) {
	for _, build := range []func() *sgn.Pipeline{tutorial, broken, escaping, replicas, remoteReplicas} {
		p, q := build(), build()
		for range 20 {
			if p.DOT() != q.DOT() || p.Mermaid() != q.Mermaid() {
				t.Fatalf("two pipelines built alike draw differently:\n%s\n%s", p.DOT(), q.DOT())
			}
		}
	}
}

// Go types are shortened to the package's last path element and the
// type's name, unless two types of the pipeline would read the same.
func TestGraphTypeNames(t *testing.T) {
	p := sgn.NewPipeline()
	a := &nasty{typ: "example.com/a/odd.T", sources: []string{"out"}}
	b := &nasty{typ: "example.com/b/odd.T", sinks: []string{"in"}}
	c := &nasty{typ: "example.com/c/plain.T", sinks: []string{"in"}}
	p.Insert("a", a)
	p.Insert("b", b)
	p.Insert("c", c)
	for _, want := range []string{">example.com/a/odd.T<", ">example.com/b/odd.T<", ">plain.T<"} {
		if dot := p.DOT(); !strings.Contains(dot, want) {
			t.Errorf("DOT has no %q:\n%s", want, dot)
		}
	}
	for _, want := range []string{`"a<br/>example.com/a/odd.T"`, `"b<br/>example.com/b/odd.T"`, `"c<br/>plain.T"`} {
		if mmd := p.Mermaid(); !strings.Contains(mmd, want) {
			t.Errorf("Mermaid has no %q:\n%s", want, mmd)
		}
	}
}

// TestGraphRenders has Graphviz read every graph the other tests draw, if
// it is installed.
func TestGraphRenders(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz's dot is not installed")
	}
	for name, build := range map[string]func() *sgn.Pipeline{"tutorial": tutorial, "broken": broken, "escaping": escaping, "replicas": replicas, "remote": remoteReplicas} {
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = strings.NewReader(build().DOT())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		switch {
		case err != nil:
			t.Errorf("%s: dot -Tsvg: %v\n%s", name, err, stderr.String())
		case stderr.Len() > 0:
			t.Errorf("%s: dot -Tsvg warns:\n%s", name, stderr.String())
		case !strings.Contains(string(out), "</svg>"):
			t.Errorf("%s: dot -Tsvg wrote no SVG:\n%s", name, out)
		}
	}
}

// Mermaid draws the pipeline for Markdown; elements in workers are
// double-sided boxes.
func ExamplePipeline_Mermaid() {
	count := &stages.Count{Limit: 5}
	square := &stages.Square{}
	print := &stages.Print{}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("square", square, sgn.InWorker())
	p.Insert("print", print)
	sgn.Link(&count.Out, &square.In)
	sgn.Link(&square.Out, &print.In)

	fmt.Print(p.Mermaid())
	// Output:
	// flowchart LR
	//     e0_count["count<br/>stages.Count"]
	//     e1_square[["square<br/>stages.Square<br/>worker"]]:::worker
	//     e2_print["print<br/>stages.Print"]
	//     e0_count -->|"out → in"| e1_square
	//     e1_square -->|"out → in"| e2_print
	//     classDef worker fill:#ffd8a8,stroke:#e8590c,stroke-width:2px
}
