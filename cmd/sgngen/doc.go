// Command sgngen generates the code that makes //sgn:element structs
// runnable by package sgn: their SGNElement methods, the CBOR codecs of
// their frame and configuration types, and a worker main per element, so
// that an element can run in-process or in its own process.
//
// Pin it in your module and add one line to each package with elements:
//
//	go get -tool github.com/sgn-go/sgn/cmd/sgngen
//
//	//go:generate go tool sgngen generate
//
// then run go generate ./... and build the pipeline with its workers side
// by side: go build -o bin/ ./...
//
// To use a clone of github.com/sgn-go/sgn instead (before it is published,
// or to try a change), replace the module and add the tool with go mod
// edit, then go mod tidy:
//
//	go mod edit -replace github.com/sgn-go/sgn=../path/to/sgn -tool github.com/sgn-go/sgn/cmd/sgngen
//	go mod tidy
//
// Usage:
//
//	sgngen generate [packages]
//	sgngen check [packages]
//	sgngen new-element [-kind source|transform|sink] [-in Type] [-out Type] [-dir DIR] [-force] Name
//	sgngen version
//
// Packages are go list patterns; the default is ".".
//
// generate writes sgn_gen.go and sgnworkers/<pkg>-<element>/main.go for
// every package with elements. It leaves files whose bytes would not
// change untouched, writes the others atomically, and removes (and prints)
// generated files whose element is gone. It exits 0 on success, 1 after
// printing every problem found, one per line as path:line:col: message,
// paths relative to the working directory (../other/e.go:7:2 for a package
// outside it), and 2 on a bad command line.
//
// Run by go generate (GOFILE and GOPACKAGE are set), sgngen runs in the
// package's directory, and go generate does not say in which directory it
// was run itself. Paths are then relative to the root of the main module,
// the directory of the go.mod file that go env GOMOD names, where
// go generate ./... is run: pkg/wrong.go:6:6, not wrong.go:6:6.
//
// check generates in memory and compares with the disk. It exits 0 if
// every generated file is current, 1 if any is stale (it prints their
// paths, including files generate would remove), and 2 on an error (it
// prints the problems). CI runs it to catch a forgotten go generate.
//
// new-element writes a new element file, <lowercased Name>.go, and its
// test, <lowercased Name>_test.go, into the package in DIR (default "."),
// from the templates of package github.com/sgn-go/sgn/templates: a source
// (pad "out" of type -out), a transform (pad "in" of type -in, pad "out" of
// type -out) or a sink (pad "in" of type -in). The types default to int64
// and must be builtin types that sgngen encodes, types declared in that
// package, or slices, arrays, maps and pointers of these; -in is refused
// for a source and -out for a sink, which have no such pad. The package
// name is taken from the Go files in DIR, or from DIR's name if it has
// none, and the file gets the
// go:generate line if no file of the package has it yet. It refuses to
// overwrite either file unless -force is given. It exits 0 on success, 1
// on an error, 2 without a Name, and prints the next steps: go generate
// ./..., go test on the package, go build -o bin/ ./....
//
// After go generate, the new element compiles and runs, and its test
// passes: it calls the element's method as the pipeline does and checks
// that a source sends Count frames, the last with EOS; that a transform
// gives one frame per frame with the same gap flag and metadata (and, with
// one frame type in and out, the same data); that a sink receives every
// frame. Fill in the TODOs of both files.
//
// version prints the version of the module sgngen was built from.
//
// The rules for elements, pads, methods and frame types are in the
// documentation of package github.com/sgn-go/sgn/gen.
package main
