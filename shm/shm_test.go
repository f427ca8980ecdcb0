package shm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sgn-go/sgn/shm"
)

// A test process re-run with SHM_TEST_CHILD=name opens that segment, adds
// one to every byte, and exits: another process writing shared memory.
func TestMain(m *testing.M) {
	if name := os.Getenv("SHM_TEST_CHILD"); name != "" {
		s, err := shm.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := range s.Bytes() {
			s.Bytes()[i]++
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func uniqueName(t *testing.T) string {
	name := fmt.Sprintf("sgn-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))
	t.Cleanup(func() { shm.Unlink(name) })
	return name
}

func TestAnotherProcessSeesAndChangesTheBytes(t *testing.T) {
	name := uniqueName(t)
	s, err := shm.Create(name, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	copy(s.Bytes(), "hello")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHM_TEST_CHILD="+name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := s.Bytes()[:5]; !bytes.Equal(got, []byte("ifmmp")) {
		t.Errorf("after the child, the segment holds %q, want %q", got, "ifmmp")
	}
	if s.Bytes()[5] != 1 {
		t.Errorf("byte 5 is %d, want 1: the child's writes did not all arrive", s.Bytes()[5])
	}
}

func TestCreatingATakenNameFailsAndLeavesTheSegmentAlone(t *testing.T) {
	name := uniqueName(t)
	s, err := shm.Create(name, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Bytes()[0] = 42
	if _, err := shm.Create(name, 10); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create = %v, want fs.ErrExist", err)
	}
	o, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Bytes()[0] != 42 || len(o.Bytes()) != 10 {
		t.Errorf("the first segment changed: %v", o.Bytes())
	}
}

func TestUnlinkRemovesTheName(t *testing.T) {
	name := uniqueName(t)
	s, err := shm.Create(name, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := shm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	s.Bytes()[0] = 1 // the mapping outlives the name
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Unlink = %v, want fs.ErrNotExist", err)
	}
	if err := shm.Unlink(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Unlink = %v, want fs.ErrNotExist", err)
	}
}

func TestBadNamesAndSizesAreRefused(t *testing.T) {
	for _, name := range []string{"", "a/b", "..", strings.Repeat("x", 256)} {
		if _, err := shm.Create(name, 1); err == nil || !strings.Contains(err.Error(), "invalid segment name") {
			t.Errorf("Create(%q) = %v", name, err)
		}
	}
	if _, err := shm.Create(uniqueName(t), 0); err == nil || !strings.Contains(err.Error(), "not positive") {
		t.Errorf("Create of 0 bytes = %v", err)
	}
}
