// Package templates holds the text/template files from which
// "sgngen new-element" writes a new element and its test: for each kind of
// element, <kind>.go.tmpl (the element) and <kind>_test.go.tmpl (its
// test), for the kinds source, transform and sink.
//
// Each template is executed with a [Data]. The element template's output
// is a Go file that compiles once go generate has written the package's
// sgn_gen.go; the test template's output is a test of that file, in the
// same package, that passes as written: a source sends Count frames, the
// last with EOS; a transform gives one frame per frame, with the same gap
// flag and metadata (and, if its frame types are the same, the same data);
// a sink receives every frame.
package templates

import "embed"

// FS holds the templates.
//
//go:embed *.tmpl
var FS embed.FS

// Data is what a template is executed with.
type Data struct {
	Package  string // the package clause's name
	Name     string // the element's type name, exported
	In       string // the frame type of the sink pad (transform and sink)
	Out      string // the frame type of the source pad (source and transform)
	InSample string // a Go expression of type In that is not its zero value, or "" to use the zero value
	Generate bool   // the package has no //go:generate line for sgngen yet: add one
}

// Kinds are the kinds of element there is a template for, each in
// <kind>.go.tmpl, with its test in <kind>_test.go.tmpl.
var Kinds = []string{"source", "transform", "sink"}
