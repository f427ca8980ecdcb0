package sgn

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DOT returns the pipeline as a Graphviz graph, to be rendered with, for
// example, dot -Tsvg pipeline.dot > pipeline.svg.
//
// Each element is a box with its name in bold and its Go type below it:
// the package's last path element and the type's name ("numbers.Square"),
// or the full import path when two types of the pipeline would otherwise
// read the same. Its sink pads form a column on its left, light blue, and
// its source pads one on its right, green; every link is an arrow from
// source pad to sink pad, drawn left to right. Elements in this process are
// blue; elements that run in a worker process (InWorker) are orange, with
// "worker process" under their type, or "worker process on another host"
// (Remote). A replicated element (see Replicas) is one box that counts its
// replicas and says where they run, "3 replicas: 2 on other hosts, 1 in
// this process", orange if one of them runs in a worker.
//
// DOT draws a pipeline that fails Check too, so that its mistakes can be
// seen: a pad that Check names is red (tomato), whether it is not linked or
// linked wrongly; the extra links into a sink pad that has more than one
// upstream are thick red arrows labelled "extra upstream"; and an element
// that a pad is linked to but that is not in the pipeline is a dashed red
// box, with its name and type if it was inserted in another pipeline, or
// "not inserted" and the pad if it was not: its name, or "?" if the
// element's Insert never ran, as pads are named there. Such a box stands
// for one pad, as the pipeline cannot tell which pads belong to the same
// element. Links to those boxes are dashed red arrows.
//
// The output depends only on how the pipeline was built: elements and
// links come in the order they were inserted and linked, and the same
// pipeline gives the same text. Names are escaped, whatever they contain;
// names with characters that cannot be printed are shown Go-quoted. DOT
// starts nothing, and may be called before or after Run.
func (p *Pipeline) DOT() string {
	g := p.graph()
	var b strings.Builder
	b.WriteString("digraph pipeline {\n")
	b.WriteString("\trankdir=LR;\n")
	b.WriteString("\tnode [shape=plaintext, fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, x := range g.boxes {
		b.WriteString("\n")
		x.writeDOT(&b)
	}
	if len(g.edges) > 0 {
		b.WriteString("\n")
	}
	for _, e := range g.edges {
		fmt.Fprintf(&b, "\t%s:%s:e -> %s:%s:w", e.from.id, e.fromPort.id, e.to.id, e.toPort.id)
		switch e.kind {
		case extraLink:
			b.WriteString(" [color=tomato, fontcolor=tomato, penwidth=2, label=\"extra upstream\"]")
		case outsideLink:
			b.WriteString(" [color=tomato, style=dashed]")
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid returns the pipeline as a Mermaid flowchart, for Markdown: put it
// in a ```mermaid block.
//
// Each element is a node that reads its name and its Go type, shortened as
// for DOT; an element that runs in a worker process is a box with double
// sides (Mermaid's subroutine shape), orange, with "worker" as its last
// line ("worker on another host" for one placed with Remote). A replicated element's last line counts its replicas as DOT does,
// and it is drawn as a worker if one of them runs in one. Each link is an
// arrow labelled with its pads, "source pad → sink pad".
//
// As DOT does, Mermaid draws a pipeline that fails Check: a pad that is not
// linked is a small red node joined to its element by a dotted arrow and
// labelled with the pad's name and "not linked"; the extra links into a
// sink pad that has more than one upstream are thick red arrows whose
// label ends in "extra upstream"; an element that a pad is linked to but
// that is not in the pipeline is a dashed red node ("not inserted", or "in
// another pipeline"), reached by a dotted red arrow.
//
// Node identifiers are made of the element's place in the pipeline and its
// name reduced to ASCII letters, digits and underscores; labels are
// quoted, with Mermaid's entity codes (#34; for a double quote) for
// characters that would end or change them. As for DOT, the output depends
// only on how the pipeline was built.
func (p *Pipeline) Mermaid() string {
	g := p.graph()
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	var (
		n       int      // links written so far: linkStyle counts them
		red     []string // the numbers of the links to draw red
		classes = map[string]bool{}
	)
	class := func(c string) string {
		classes[c] = true
		return ":::" + c
	}
	for _, x := range g.boxes {
		lines := []string{x.name}
		if x.typ != "" {
			lines = append(lines, x.typ)
		}
		open, close, cls := "[\"", "\"]", ""
		switch x.kind {
		case workerBox:
			if x.replicas == "" {
				lines = append(lines, "worker"+x.elsewhere())
			}
			open, close, cls = "[[\"", "\"]]", class("worker")
		case foreignBox:
			lines = append(lines, "in another pipeline")
			cls = class("outside")
		case strayBox:
			lines = []string{"not inserted"}
			if pad := x.onlyPad(); pad.name != "" {
				lines = append(lines, map[string]string{"snk": "sink", "src": "source"}[pad.kind]+" pad "+pad.name)
			}
			cls = class("outside")
		}
		if x.replicas != "" {
			lines = append(lines, x.replicas)
		}
		for i := range lines {
			lines[i] = mermaidText(lines[i])
		}
		fmt.Fprintf(&b, "    %s%s%s%s%s\n", x.id, open, strings.Join(lines, "<br/>"), close, cls)
	}
	for _, x := range g.boxes {
		for _, pad := range x.sinks {
			if pad.state == unlinked {
				fmt.Fprintf(&b, "    %s([\"%s\"])%s -.-> %s\n", pad.node, mermaidText(pad.name+": not linked"), class("unlinked"), x.id)
				n++
			}
		}
		for _, pad := range x.sources {
			if pad.state == unlinked {
				fmt.Fprintf(&b, "    %s -.-> %s([\"%s\"])%s\n", x.id, pad.node, mermaidText(pad.name+": not linked"), class("unlinked"))
				n++
			}
		}
	}
	for _, e := range g.edges {
		label := e.fromPort.label() + " → " + e.toPort.label()
		arrow := "-->"
		switch e.kind {
		case extraLink:
			label += ": extra upstream"
			arrow = "==>"
			red = append(red, strconv.Itoa(n))
		case outsideLink:
			arrow = "-.->"
			red = append(red, strconv.Itoa(n))
		}
		fmt.Fprintf(&b, "    %s %s|\"%s\"| %s\n", e.from.id, arrow, mermaidText(label), e.to.id)
		n++
	}
	if len(red) > 0 {
		fmt.Fprintf(&b, "    linkStyle %s stroke:tomato,color:tomato\n", strings.Join(red, ","))
	}
	for _, c := range []string{"worker", "unlinked", "outside"} { // a fixed order
		if classes[c] {
			fmt.Fprintf(&b, "    classDef %s %s\n", c, mermaidClasses[c])
		}
	}
	return b.String()
}

var mermaidClasses = map[string]string{
	"worker":   "fill:#ffd8a8,stroke:#e8590c,stroke-width:2px",
	"unlinked": "fill:tomato,stroke:#c92a2a,color:#000",
	"outside":  "fill:#fff,stroke:tomato,stroke-dasharray:5 5",
}

// A graph is what DOT and Mermaid draw: the pipeline's elements in the
// order they were inserted, then the boxes that stand for what its pads are
// linked to outside it, in the order they were found; and the links.
type graph struct {
	boxes []*box
	edges []edge
	ids   map[string]bool // identifiers taken, of boxes and of Mermaid's pad nodes
}

type boxKind int

const (
	inProcessBox boxKind = iota // an element of the pipeline, run in this process
	workerBox                   // an element of the pipeline, run in a worker
	foreignBox                  // an element inserted in another pipeline
	strayBox                    // a pad of an element never inserted
)

// A box is an element, or what stands for one.
type box struct {
	id             string // a DOT and Mermaid identifier
	kind           boxKind
	name           string // the element's name, printable; "" for a strayBox
	typ            string // its Go type, shortened by graph; "" for a strayBox
	replicas       string // a replicated element's replicas, counted (see replicaSummary)
	remote         bool   // a workerBox whose worker is on another host (Remote)
	sinks, sources []*port
}

// elsewhere says where a worker box's worker runs, after "worker": on
// another host, or, on this one, nothing.
func (x *box) elsewhere() string {
	if x.remote {
		return " on another host"
	}
	return ""
}

// A port is a pad of a box.
type port struct {
	id    string // unique in its box: "snk_" or "src_" and the pad's name, reduced
	kind  string // "snk" or "src"
	name  string // the pad's name, printable
	state padState
	node  string // the identifier of its Mermaid node, if it is drawn as one (unlinked)
}

type padState int

const (
	linked   padState = iota
	unlinked          // Check says it is not linked
	wrong             // Check names it for another mistake
)

func (x *port) label() string {
	if x.name == "" {
		return "?"
	}
	return x.name
}

func (x *box) onlyPad() *port {
	if len(x.sinks) > 0 {
		return x.sinks[0]
	}
	return x.sources[0]
}

type edgeKind int

const (
	link        edgeKind = iota // between two elements of the pipeline
	extraLink                   // into a sink pad that has an upstream already
	outsideLink                 // to or from a box outside the pipeline
)

type edge struct {
	from, to         *box
	fromPort, toPort *port
	kind             edgeKind
}

// graph collects what DOT and Mermaid draw. Maps are only looked up, never
// ranged over, so the result depends only on the order of p.nodes and of
// their pads and links.
func (p *Pipeline) graph() *graph {
	g := &graph{ids: map[string]bool{}}
	ours := map[*node]*box{}
	for i, n := range p.nodes {
		kind := inProcessBox
		if n.inWorker {
			kind = workerBox
		}
		for _, r := range n.replicas {
			if r.inWorker {
				kind = workerBox
			}
		}
		ours[n] = g.elementBox(fmt.Sprintf("e%d", i), n, kind)
		ours[n].replicas = n.replicaSummary()
		ours[n].remote = n.remote != nil
	}
	foreign := map[*node]*box{}
	stray := map[Pad]*box{}
	// find returns the box and port that stand for pad, a pad at the other
	// end of a link, of kind "snk" or "src".
	find := func(pad Pad, kind string) (*box, *port) {
		b := pad.base()
		if n := b.node; n != nil {
			x := ours[n]
			if x == nil {
				if x = foreign[n]; x == nil {
					x = g.elementBox(fmt.Sprintf("ext%d", len(g.boxes)-len(p.nodes)), n, foreignBox)
					foreign[n] = x
				}
			}
			if kind == "snk" {
				return x, x.sinks[b.index]
			}
			return x, x.sources[b.index]
		}
		x := stray[pad]
		if x == nil {
			x = &box{kind: strayBox}
			x.id = g.id(fmt.Sprintf("ext%d", len(g.boxes)-len(p.nodes)), b.name)
			pt := &port{id: kind, kind: kind, name: printable(b.name)}
			if b.name != "" {
				pt.id += "_" + reduce(b.name)
			}
			if kind == "snk" {
				x.sinks = []*port{pt}
			} else {
				x.sources = []*port{pt}
			}
			g.boxes = append(g.boxes, x)
			stray[pad] = x
		}
		return x, x.onlyPad()
	}
	for _, n := range p.nodes {
		x := ours[n]
		for i, pad := range n.spec.Sinks {
			pt := x.sinks[i]
			from, extra := pad.(sinkPad).upstream()
			switch {
			case from == nil:
				pt.state = unlinked
			case ours[from.base().node] == nil:
				// Drawn here: a pad outside has no downstream to draw it from.
				pt.state = wrong
				fx, fp := find(from, "src")
				g.edges = append(g.edges, edge{fx, x, fp, pt, outsideLink})
			}
			for _, e := range extra {
				pt.state = wrong
				fx, fp := find(e, "src")
				g.edges = append(g.edges, edge{fx, x, fp, pt, extraLink})
			}
		}
		for i, pad := range n.spec.Sources {
			pt := x.sources[i]
			to := pad.(sourcePad).downstream()
			if len(to) == 0 {
				pt.state = unlinked
			}
			for _, s := range to {
				kind := link
				if ours[s.base().node] == nil {
					kind, pt.state = outsideLink, wrong
				}
				tx, tp := find(s, "snk")
				g.edges = append(g.edges, edge{x, tx, pt, tp, kind})
			}
		}
	}
	for _, x := range g.boxes {
		for _, pt := range append(x.sinks[:len(x.sinks):len(x.sinks)], x.sources...) {
			if pt.state == unlinked {
				pt.node = g.id(x.id, pt.id)
			}
		}
	}
	g.shortenTypes()
	return g
}

// elementBox adds the box of an inserted element.
func (g *graph) elementBox(prefix string, n *node, kind boxKind) *box {
	x := &box{id: g.id(prefix, n.name), kind: kind, name: printable(n.name), typ: n.spec.Type}
	taken := map[string]bool{}
	ports := func(pads []Pad, kind string) []*port {
		var out []*port
		for _, pad := range pads {
			id := unique(taken, kind+"_"+reduce(pad.Name()))
			out = append(out, &port{id: id, kind: kind, name: printable(pad.Name())})
		}
		return out
	}
	x.sinks = ports(n.spec.Sinks, "snk")
	x.sources = ports(n.spec.Sources, "src")
	g.boxes = append(g.boxes, x)
	return x
}

// id returns a new identifier, safe in DOT and Mermaid: prefix, and name
// reduced to ASCII letters, digits and underscores.
func (g *graph) id(prefix, name string) string {
	if r := reduce(name); r != "" {
		prefix += "_" + r
	}
	return unique(g.ids, prefix)
}

// unique returns s, or s with a number added if s is taken, and takes it.
func unique(taken map[string]bool, s string) string {
	id := s
	for i := 2; taken[id]; i++ {
		id = s + "_" + strconv.Itoa(i)
	}
	taken[id] = true
	return id
}

// reduce maps s to an identifier's tail: ASCII letters and digits are
// kept, anything else becomes an underscore, and it is cut at 32 bytes.
func reduce(s string) string {
	var b strings.Builder
	for _, c := range s {
		if b.Len() == 32 {
			break
		}
		if c < utf8.RuneSelf && (c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// printable returns s as it is drawn: itself, or Go-quoted (without the
// quotes) if it has characters that cannot be printed or is not UTF-8.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// shortenTypes replaces every box's Go type with its short form, the
// package's last path element and the type's name (and type arguments, as
// they are), unless another type of the graph has the same short form.
func (g *graph) shortenTypes() {
	short := func(t string) string {
		end := strings.IndexByte(t, '[') // type arguments are left alone
		if end < 0 {
			end = len(t)
		}
		return t[strings.LastIndex(t[:end], "/")+1:]
	}
	full := map[string]string{} // short form → a full type that has it
	same := map[string]bool{}   // short forms of more than one type
	for _, x := range g.boxes {
		if x.typ == "" {
			continue
		}
		s := short(x.typ)
		if t, ok := full[s]; ok && t != x.typ {
			same[s] = true
		}
		full[s] = x.typ
	}
	for _, x := range g.boxes {
		if s := short(x.typ); !same[s] {
			x.typ = s
		}
		x.typ = printable(x.typ)
	}
}

// writeDOT writes the box as a DOT node with an HTML-like label: a table
// whose header names the element, with its sink pads in a column on the
// left and its source pads in one on the right, each a cell whose port is
// the pad's.
func (x *box) writeDOT(b *strings.Builder) {
	var head []string
	var attrs, bg, sinkBG, sourceBG string
	border := "1"
	switch x.kind {
	case inProcessBox:
		bg, sinkBG, sourceBG = "DodgerBlue", "lightblue", "MediumAquaMarine"
		head = []string{"<B>" + htmlText(x.name) + "</B>", htmlText(x.typ)}
	case workerBox:
		bg, sinkBG, sourceBG = "Orange", "lightblue", "MediumAquaMarine"
		head = []string{"<B>" + htmlText(x.name) + "</B>", htmlText(x.typ)}
		if x.replicas == "" {
			head = append(head, "<I>worker process"+htmlText(x.elsewhere())+"</I>")
		}
	case foreignBox:
		attrs, border = ", shape=box, style=dashed, color=tomato", "0"
		bg, sinkBG, sourceBG = "white", "white", "white"
		head = []string{"<B>" + htmlText(x.name) + "</B>", htmlText(x.typ), "<I>in another pipeline</I>"}
	case strayBox:
		attrs, border = ", shape=box, style=dashed, color=tomato", "0"
		bg, sinkBG, sourceBG = "white", "white", "white"
		head = []string{"<I>not inserted</I>"}
	}
	if x.replicas != "" {
		head = append(head, "<I>"+htmlText(x.replicas)+"</I>")
	}
	fmt.Fprintf(b, "\t%s [label=<\n", x.id)
	fmt.Fprintf(b, "\t\t<TABLE BORDER=%q CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"4\" BGCOLOR=%q>\n", border, bg)
	for _, h := range head {
		fmt.Fprintf(b, "\t\t<TR><TD COLSPAN=\"2\">%s</TD></TR>\n", h)
	}
	b.WriteString("\t\t<TR>")
	for _, side := range []struct {
		ports []*port
		color string
	}{{x.sinks, sinkBG}, {x.sources, sourceBG}} {
		if len(side.ports) == 0 {
			b.WriteString("<TD></TD>")
			continue
		}
		b.WriteString("<TD><TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\">")
		for _, pt := range side.ports {
			color := side.color
			if pt.state != linked {
				color = "tomato"
			}
			fmt.Fprintf(b, "<TR><TD PORT=%q BGCOLOR=%q>%s</TD></TR>", pt.id, color, htmlText(pt.label()))
		}
		b.WriteString("</TABLE></TD>")
	}
	b.WriteString("</TR>\n")
	fmt.Fprintf(b, "\t\t</TABLE>>%s];\n", attrs)
}

// htmlText escapes s for the text of a DOT HTML-like label.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;").Replace(s)
}

// mermaidText escapes s for a quoted Mermaid label: characters that would
// end the label or be read as markup become entity codes (#34; for a
// double quote), as does # itself.
func mermaidText(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '"', '#', '&', '<', '>', '|', '`', '\\':
			fmt.Fprintf(&b, "#%d;", c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
