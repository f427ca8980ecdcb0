// Command mismatch must not compile: it links a source pad of int64 frames
// to a sink pad of string frames. TestLinkingPadsOfDifferentFrameTypesDoesNotCompile
// builds it.
package main

import "github.com/sgn-go/sgn"

func main() {
	var out sgn.Source[int64]
	var in sgn.Sink[string]
	sgn.Link(&out, &in)
}
