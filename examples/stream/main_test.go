package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCtrlCDrainsTheStream builds the example and its workers, runs it
// until its progress line shows frames flowing, presses Ctrl+C, and checks
// that it drains and exits 0 with every frame sent received.
func TestCtrlCDrainsTheStream(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(bin, "stream"))
	cmd.Env = append(os.Environ(), "SGN_WORKER_DIR=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout := &strings.Builder{}
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	// Progress lines: "sgn 1s | counter 2.31M/s | ..." (stderr is not a
	// terminal here, so one line a second).
	flowing := regexp.MustCompile(`^sgn \d+s \| counter ([\d.]+)([kMG]?)/s \| checker`)
	sc := bufio.NewScanner(stderr)
	var rest []string
	deadline := time.AfterFunc(30*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer deadline.Stop()
	for sc.Scan() {
		if m := flowing.FindStringSubmatch(sc.Text()); m != nil {
			if rate, _ := strconv.ParseFloat(m[1], 64); rate > 0 {
				break
			}
		}
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl+C, as a terminal sends it
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	err = cmd.Wait()
	if err != nil {
		var ee *exec.ExitError
		errors.As(err, &ee)
		t.Fatalf("stream exited with %v after one Ctrl+C; stderr:\n%s", err, strings.Join(rest, "\n"))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	m := regexp.MustCompile(`^frames in=(\d+) out=(\d+)$`).FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last stdout line %q, want frames in=N out=M", lines[len(lines)-1])
	}
	in, _ := strconv.Atoi(m[1])
	out, _ := strconv.Atoi(m[2])
	if in == 0 || in != out {
		t.Errorf("frames in=%d out=%d, want equal and more than 0", in, out)
	}
	summary := strings.Join(rest, "\n")
	for _, want := range []string{"sgn counter: done, 0 frames in, " + m[1] + " out", "sgn tally: done, " + m[2] + " frames in, 0 out"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary on stderr does not say %q:\n%s", want, summary)
		}
	}
}
