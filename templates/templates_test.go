package templates

import (
	"bytes"
	"go/format"
	"strings"
	"testing"
	"text/template"
)

// Every kind has a template, and each renders to Go source that gofmt
// accepts, with the element marked and named.
func TestTemplatesRenderGo(t *testing.T) {
	for _, kind := range Kinds {
		for _, generate := range []bool{false, true} {
			tmpl, err := template.ParseFS(FS, kind+".go.tmpl")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			data := Data{Package: "demo", Name: "Thing", In: "[]float64", Out: "string", Generate: generate}
			if err := tmpl.Execute(&buf, data); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			src, err := format.Source(buf.Bytes())
			if err != nil {
				t.Fatalf("%s: output is not Go: %v\n%s", kind, err, buf.Bytes())
			}
			for _, want := range []string{"package demo\n", "//sgn:element\ntype Thing struct"} {
				if !strings.Contains(string(src), want) {
					t.Errorf("%s: output lacks %q:\n%s", kind, want, src)
				}
			}
			if got := strings.Contains(string(src), "//go:generate go tool sgngen generate"); got != generate {
				t.Errorf("%s with Generate %v: has the go:generate line: %v", kind, generate, got)
			}
		}
	}
}
