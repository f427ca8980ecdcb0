package templates

import (
	"bytes"
	"go/format"
	"strings"
	"testing"
	"text/template"
)

// Every kind has an element template and a test template, and each
// renders to Go source that gofmt accepts: the element marked and named,
// its test named after it.
func TestTemplatesRenderGo(t *testing.T) {
	for _, kind := range Kinds {
		for _, data := range []Data{
			{Package: "demo", Name: "Thing", In: "[]float64", Out: "string", InSample: "[]float64{7}"},
			{Package: "demo", Name: "Thing", In: "Point", Out: "Point", Generate: true},
		} {
			src := render(t, kind+".go.tmpl", data)
			for _, want := range []string{"package demo\n", "//sgn:element\ntype Thing struct"} {
				if !strings.Contains(src, want) {
					t.Errorf("%s: output lacks %q:\n%s", kind, want, src)
				}
			}
			if got := strings.Contains(src, "//go:generate go tool sgngen generate"); got != data.Generate {
				t.Errorf("%s with Generate %v: has the go:generate line: %v", kind, data.Generate, got)
			}
			test := render(t, kind+"_test.go.tmpl", data)
			for _, want := range []string{"package demo\n", "var _ sgn.Element = (*Thing)(nil)\n", "func TestThing(t *testing.T) {\n"} {
				if !strings.Contains(test, want) {
					t.Errorf("%s test: output lacks %q:\n%s", kind, want, test)
				}
			}
			if data.InSample != "" && kind != "source" && !strings.Contains(test, "Data: "+data.InSample) {
				t.Errorf("%s test: does not send frames with data %s:\n%s", kind, data.InSample, test)
			}
		}
	}
}

func render(t *testing.T, name string, data Data) string {
	t.Helper()
	tmpl, err := template.ParseFS(FS, name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		t.Fatalf("%s: output is not Go: %v\n%s", name, err, buf.Bytes())
	}
	return string(src)
}
