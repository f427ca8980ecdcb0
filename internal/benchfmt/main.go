// Command benchfmt turns `go test -bench` output on stdin into the lines
// `make bench` promises: one "BENCH <name> <value> <unit>" per figure, where
// name is the benchmark's name without its "Benchmark" prefix and GOMAXPROCS
// suffix. Other lines are dropped.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var procs = regexp.MustCompile(`-\d+$`)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procs.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		for i := 2; i+1 < len(f); i += 2 {
			fmt.Printf("BENCH %s %s %s\n", name, f[i], f[i+1])
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "benchfmt:", err)
		os.Exit(1)
	}
}
