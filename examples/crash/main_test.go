package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestCrashAndRestart builds the example and its worker, as a user would,
// and runs it both ways.
func TestCrashAndRestart(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(filepath.Join(bin, "crash"), args...)
		cmd.Env = append(os.Environ(), "SGN_WORKER_DIR=")
		var o, e []byte
		o, err = cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			e = ee.Stderr
		}
		return string(o), string(e), err
	}

	stdout, stderr, err := run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("without -restart: %v, want exit status 1", err)
	}
	if !regexp.MustCompile(`(?m)^crash: squarer: panic: squarer in pid \d+ cannot bear 5 \(worker pid \d+, exit status 1\)$`).MatchString(stderr) {
		t.Errorf("without -restart, stderr does not name the element and its panic:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("without -restart, stdout: %q", stdout)
	}

	stdout, stderr, err = run("-restart")
	if err != nil {
		t.Fatalf("with -restart: %v\n%s", err, stderr)
	}
	// 1..20 squared; the 5th frame of each process panics, and each
	// restarted worker gets the frame again: 4 restarts.
	if want := "received 20 squares, sum 2870, after 4 restarts\n"; stdout != want {
		t.Errorf("with -restart, stdout %q, want %q", stdout, want)
	}
}
