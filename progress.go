package sgn

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Progress prints a compact line on w every second while the pipeline runs:
// how long it has run, each element's frames per second, and the fullest
// queue, the sign of a bottleneck behind it:
//
//	sgn 12s | source 2.31M/s | square 2.31M/s | print 2.30M/s | fullest queue: print 98/101
//
// A replicated element (see Replicas) shows as its name and its number
// of replicas, "square×4", with the rate of the element as a whole; the
// fullest queue may be a replica's, "square[2]".
//
// When it ends, it prints a line per element: its state, the frames it
// took in and sent out, and the time it spent in its method; a replicated
// element's line is followed by one for each replica. On a terminal
// the progress line is redrawn in place; elsewhere (a file, a pipe) each
// second gets a line of its own. It measures busy time, as MeasureBusy
// does.
func Progress(w io.Writer) PipelineOption {
	return func(p *Pipeline) {
		p.busy = true
		pr := &progress{w: w, tty: isTerminal(w)}
		p.watchers = append(p.watchers, watcher{period: time.Second, fn: pr.show})
	}
}

// progress draws Progress's lines.
type progress struct {
	w       io.Writer
	tty     bool
	started time.Time
	shown   int // width of the line on the terminal
}

func (pr *progress) show(st Stats) {
	if pr.started.IsZero() {
		pr.started = st.At
	}
	finished := true
	for _, e := range st.Elements {
		switch e.State {
		case StateDone, StateFailed, StateStopped:
		default:
			finished = false
		}
	}
	if finished {
		pr.summary(st)
		return
	}
	line := pr.line(st)
	if pr.tty {
		fmt.Fprintf(pr.w, "\r%-*s", pr.shown, line)
		pr.shown = max(pr.shown, len(line))
		return
	}
	fmt.Fprintln(pr.w, line)
}

// line is the progress line of st.
func (pr *progress) line(st Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sgn %s", st.At.Sub(pr.started).Round(time.Second))
	fullest, fill := "", -1.0
	for _, e := range st.Elements {
		pads := e.Sinks
		if len(pads) == 0 {
			pads = e.Sources
		}
		_, rate := total(pads)
		name := e.Name
		if len(e.Replicas) > 0 {
			name += fmt.Sprintf("×%d", len(e.Replicas))
		}
		fmt.Fprintf(&b, " | %s %s/s", name, count(rate))
		for _, q := range append([]ElementStats{e}, e.Replicas...) {
			for _, s := range q.Sinks {
				if s.Bound > 0 && float64(s.Queue)/float64(s.Bound) > fill {
					fill = float64(s.Queue) / float64(s.Bound)
					fullest = fmt.Sprintf("%s %d/%d", q.Name, s.Queue, s.Bound)
				}
			}
		}
	}
	if fullest != "" {
		fmt.Fprintf(&b, " | fullest queue: %s", fullest)
	}
	return b.String()
}

// summary prints a line per element, once the pipeline has ended.
func (pr *progress) summary(st Stats) {
	if pr.tty && pr.shown > 0 {
		fmt.Fprintf(pr.w, "\r%-*s\r", pr.shown, "")
	}
	for _, e := range withReplicas(st.Elements) {
		in, _ := total(e.Sinks)
		out, _ := total(e.Sources)
		fmt.Fprintf(pr.w, "sgn %s: %s, %d frames in, %d out, busy %v", e.Name, e.State, in, out, e.Busy.Round(time.Millisecond))
		if e.Restarts > 0 {
			fmt.Fprintf(pr.w, ", %d restarts", e.Restarts)
		}
		fmt.Fprintln(pr.w)
	}
}

// count formats a number of frames compactly: 950, 12.3k, 2.31M.
func count(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
