package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/sgn-go/sgn/gen"
)

const usage = `usage: sgngen <command> [arguments]

commands:
	generate [packages]   write sgn_gen.go and worker mains (default package: .)
	check [packages]      exit 0 if generated files are current, 1 if stale, 2 on error
	new-element [-kind source|transform|sink] [-in Type] [-out Type] [-dir DIR] [-force] Name
	                      write a new element file to start from
	version               print sgngen's version

Run 'go doc github.com/sgn-go/sgn/cmd/sgngen' for the manual.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	printDir = outputDir()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "generate":
		return generate(args, stdout, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "new-element":
		return newElement(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "sgngen", version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sgngen: unknown command %q\n%s", cmd, usage)
	return 2
}

// version is the module version sgngen was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// parsePatterns parses the command line of a subcommand that takes only
// package patterns; it reports false after printing a usage error.
func parsePatterns(cmd string, args []string, stderr io.Writer) ([]string, bool) {
	fs := flag.NewFlagSet("sgngen "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if fs.Parse(args) != nil {
		return nil, false
	}
	return fs.Args(), true
}

func generate(args []string, stdout, stderr io.Writer) int {
	patterns, ok := parsePatterns("generate", args, stderr)
	if !ok {
		return 2
	}
	files, err := gen.Generate(".", patterns...)
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	_, removed, err := gen.Commit(files)
	for _, path := range removed {
		fmt.Fprintf(stdout, "sgngen: removed %s\n", rel(path))
	}
	if err != nil {
		printErr(stderr, err)
		return 1
	}
	return 0
}

func check(args []string, stdout, stderr io.Writer) int {
	patterns, ok := parsePatterns("check", args, stderr)
	if !ok {
		return 2
	}
	files, err := gen.Generate(".", patterns...)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	stale, err := gen.Stale(files)
	if err != nil {
		printErr(stderr, err)
		return 2
	}
	if len(stale) == 0 {
		return 0
	}
	for _, path := range stale {
		fmt.Fprintf(stdout, "%s\n", rel(path))
	}
	fmt.Fprintf(stderr, "sgngen: %d generated file(s) out of date; run go generate\n", len(stale))
	return 1
}

// printErr prints err, which may join many diagnostics, one per line, with
// their paths relative to printDir.
func printErr(w io.Writer, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printErr(w, e)
		}
		return
	}
	var d *gen.Diagnostic
	if errors.As(err, &d) {
		moved := *d
		if moved.Pos.Filename != "" {
			moved.Pos.Filename = rel(moved.Pos.Filename)
		}
		fmt.Fprintln(w, &moved)
		return
	}
	fmt.Fprintln(w, err)
}

// printDir is the directory that printed paths are relative to; see
// outputDir.
var printDir string

// outputDir returns the directory that printed paths are relative to: the
// one the user ran the command in. That is the working directory, except
// under go generate, which runs sgngen in the package's directory and does
// not tell it where go generate itself was run (it sets GOFILE, GOPACKAGE
// and PWD, the latter to the package's directory). The root of the main
// module, the directory of the go.mod that go env GOMOD names, is then
// taken instead: it is where go generate ./... is run.
func outputDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	if os.Getenv("GOFILE") == "" || os.Getenv("GOPACKAGE") == "" {
		return wd
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return wd
	}
	return filepath.Dir(gomod)
}

// rel returns path, absolute or relative to the working directory,
// relative to printDir (with ".." steps if it is not below it).
func rel(path string) string {
	if printDir == "" {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(printDir, abs); err == nil {
		return r
	}
	return path
}
