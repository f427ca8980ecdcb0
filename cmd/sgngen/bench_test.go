package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkGenerate50 times sgngen generate, the built command, on a
// package of 50 elements (sources, transforms and sinks of ten struct frame
// types, in five files) from scratch: each run writes sgn_gen.go and 50
// worker mains. It reports seconds per run.
func BenchmarkGenerate50(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	tool := filepath.Join(b.TempDir(), "sgngen")
	build := exec.Command("go", "build", "-o", tool, "./cmd/sgngen")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building sgngen: %v\n%s", err, out)
	}
	dir := newModule(b)
	for file := range 5 {
		var src strings.Builder
		src.WriteString("package elems\n\nimport \"github.com/sgn-go/sgn\"\n")
		for i := range 10 {
			n := file*10 + i
			frame := fmt.Sprintf("Frame%d", n%10)
			if file == 0 {
				fmt.Fprintf(&src, "\ntype %s struct {\n\tSeq     int64\n\tRate    float64\n\tLabel   string\n\tTags    map[string]string\n\tSamples []float32\n\tPoints  []Point%d\n}\n\ntype Point%d struct{ X, Y float64 }\n", frame, n, n)
			}
			switch n % 3 {
			case 0:
				fmt.Fprintf(&src, "\n//sgn:element\ntype E%d struct {\n\tOut   sgn.Source[%s] `sgn:\"out\"`\n\tLimit int64\n\tn     int64\n}\n\nfunc (e *E%d) New(ctx *sgn.Context) (sgn.Frame[%s], error) {\n\treturn sgn.Frame[%s]{EOS: true}, nil\n}\n", n, frame, n, frame, frame)
			case 1:
				fmt.Fprintf(&src, "\n//sgn:element\ntype E%d struct {\n\tIn   sgn.Sink[%s]   `sgn:\"in\"`\n\tOut  sgn.Source[%s] `sgn:\"out\"`\n\tGain float64\n}\n\nfunc (e *E%d) Process(ctx *sgn.Context, f sgn.Frame[%s]) (sgn.Frame[%s], error) {\n\treturn f, nil\n}\n", n, frame, frame, n, frame, frame)
			default:
				fmt.Fprintf(&src, "\n//sgn:element\ntype E%d struct {\n\tIn sgn.Sink[%s] `sgn:\"in\"`\n}\n\nfunc (e *E%d) Consume(ctx *sgn.Context, f sgn.Frame[%s]) error { return nil }\n", n, frame, n, frame)
			}
		}
		putFile(b, filepath.Join(dir, "elems", fmt.Sprintf("elems%d.go", file)), src.String())
	}
	generate := func() {
		cmd := exec.Command(tool, "generate", "./...")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sgngen generate: %v\n%s", err, out)
		}
	}
	generate() // the go command's caches are warm, as they are for a user
	workers, _ := filepath.Glob(filepath.Join(dir, "elems", "sgnworkers", "*", "main.go"))
	if len(workers) != 50 {
		b.Fatalf("generate wrote %d worker mains, want 50", len(workers))
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, path := range append(workers, filepath.Join(dir, "elems", "sgn_gen.go")) {
			if err := os.Remove(path); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		generate()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
}
