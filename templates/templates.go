// Package templates holds the text/template files from which
// "sgngen new-element" writes a new element: one file per kind of element,
// source.go.tmpl, transform.go.tmpl and sink.go.tmpl.
//
// Each template is executed with a [Data]. Its output is a Go file that
// compiles once go generate has written the package's sgn_gen.go.
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
	Generate bool   // the package has no //go:generate line for sgngen yet: add one
}

// Kinds are the kinds of element there is a template for, each in
// <kind>.go.tmpl.
var Kinds = []string{"source", "transform", "sink"}
