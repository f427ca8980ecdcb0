package main

import (
	"fmt"
	"io"
)

func newElement(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sgngen new-element: not yet")
	return 2
}
