// Command sgngen generates the code that makes //sgn:element structs
// runnable by package sgn: their SGNElement methods, the CBOR codecs of their
// frame and configuration types, and a worker main per element.
//
// Put this line in a package with elements, and run go generate:
//
//	//go:generate go tool sgngen generate
package main
