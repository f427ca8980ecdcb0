package sgn

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
)

// callerAt returns the position, file:line, of the caller of the function
// that calls it, skip frames further up: where the user called Insert or
// Link. The file is relative to the working directory if it is under it.
// It costs a microsecond or so, paid when the pipeline is built.
func callerAt(skip int) string {
	_, file, line, ok := goruntime.Caller(skip + 2)
	if !ok {
		return ""
	}
	if wd := workingDir(); wd != "" {
		if rel, err := filepath.Rel(wd, file); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			file = rel
		}
	}
	return file + ":" + strconv.Itoa(line)
}

var workingDir = sync.OnceValue(func() string {
	wd, _ := os.Getwd()
	return wd
})

// at prefixes msg with a position, as compilers do: "main.go:12: msg".
func at(pos, msg string) string {
	if pos == "" {
		return msg
	}
	return pos + ": " + msg
}

// linkedAt returns where Link linked the source pad from to p: the
// position of the call.
func (p *Sink[T]) linkedAt(from Pad) string {
	if p.from != nil && Pad(p.from) == from {
		return p.fromAt
	}
	for i, s := range p.extra {
		if Pad(s) == from && i < len(p.extraAt) {
			return p.extraAt[i]
		}
	}
	return ""
}

// linkPosition returns where Link linked from to the sink pad to.
func linkPosition(to, from Pad) string {
	if s, ok := to.(interface{ linkedAt(Pad) string }); ok {
		return s.linkedAt(from)
	}
	return ""
}
