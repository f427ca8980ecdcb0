package shm_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sgn-go/sgn/shm"
)

// A test process re-run with SHM_TEST_CHILD=size maps the segment it was
// given on fd 3, adds one to every float64 in it, and exits: another
// process writing shared memory.
func TestMain(m *testing.M) {
	if size := os.Getenv("SHM_TEST_CHILD"); size != "" {
		n, _ := strconv.Atoi(size)
		s, err := shm.Map("child", nil, os.NewFile(3, "segment"), n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := range shm.View[float64](s) {
			shm.View[float64](s)[i]++
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs the test binary as a child with f on its fd 3.
func runChild(t *testing.T, f *os.File, size int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHM_TEST_CHILD="+strconv.Itoa(size))
	cmd.ExtraFiles = []*os.File{f}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// mappedSegments counts this process's mappings of sgn memory, as the
// kernel reports them.
func mappedSegments(t *testing.T) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	return strings.Count(string(maps), "memfd:sgn:")
}

func TestAnotherProcessSeesAndChangesTheSegment(t *testing.T) {
	s, err := shm.New("array", 5*8, map[string]any{"dtype": "float64"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := shm.View[float64](s)
	if len(v) != 5 {
		t.Fatalf("a view of 40 bytes has %d float64s", len(v))
	}
	copy(v, []float64{1, 2, 3, 4, 5})
	runChild(t, s.File(), s.Len())
	for i, x := range v {
		if x != float64(i+2) {
			t.Fatalf("after the child added 1, the segment holds %v", v)
		}
	}
	if s.Meta()["dtype"] != "float64" || s.Name() != "array" {
		t.Errorf("name %q, meta %v", s.Name(), s.Meta())
	}
}

func TestCloseReleasesTheMapping(t *testing.T) {
	before := mappedSegments(t)
	s, err := shm.New("released", 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := mappedSegments(t); got != before+1 {
		t.Fatalf("after New, %d sgn mappings, want %d", got, before+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := mappedSegments(t); got != before {
		t.Errorf("after Close, %d sgn mappings, want %d", got, before)
	}
	if s.Bytes() != nil || s.File() != nil {
		t.Errorf("a closed segment still hands out its memory or descriptor")
	}
}

func TestBadSizesAreRefused(t *testing.T) {
	if _, err := shm.New("empty", 0, nil); err == nil || !strings.Contains(err.Error(), "not positive") {
		t.Errorf("New of 0 bytes = %v", err)
	}
	if _, err := shm.NewPool("none", 0, 4096); err == nil {
		t.Errorf("NewPool of 0 slots succeeded")
	}
	s, err := shm.New("short", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := shm.Map("short", nil, dup(t, s.File()), 8192); err == nil || !strings.Contains(err.Error(), "holds 4096 bytes, not 8192") {
		t.Errorf("Map with the wrong size = %v", err)
	}
}

func TestPoolSlotsArePagesAndLocateFindsThem(t *testing.T) {
	p, err := shm.NewPool("pool", 4, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	page := os.Getpagesize()
	if p.Size()%page != 0 || p.Size() < 5000 || p.Count() != 4 {
		t.Fatalf("pool of %d slots of %d bytes; want 4 slots of a page multiple ≥ 5000", p.Count(), p.Size())
	}
	cases := []struct {
		name         string
		b            []byte
		slot, offset int
		ok           bool
	}{
		{"a whole slot", p.Slot(2), 2, 0, true},
		{"inside a slot", p.Slot(1)[100:200], 1, 100, true},
		{"the last byte", p.Slot(3)[p.Size()-1:], 3, p.Size() - 1, true},
		{"ordinary memory", make([]byte, 10), 0, 0, false},
		{"empty", p.Slot(0)[:0], 0, 0, false},
	}
	for _, tc := range cases {
		slot, offset, ok := p.Locate(tc.b)
		if slot != tc.slot || offset != tc.offset || ok != tc.ok {
			t.Errorf("Locate(%s) = %d, %d, %v; want %d, %d, %v", tc.name, slot, offset, ok, tc.slot, tc.offset, tc.ok)
		}
	}
}

func TestAnotherProcessWritesASlot(t *testing.T) {
	p, err := shm.NewPool("pool", 2, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q, err := shm.MapPool("pool", dup(t, p.File()), 2, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	q.Slot(1)[0] = 7
	if p.Slot(1)[0] != 7 {
		t.Errorf("a write through a second mapping is not seen through the first")
	}
	if _, err := shm.MapPool("pool", dup(t, p.File()), 2, 100); err == nil {
		t.Errorf("MapPool accepted a slot size that is not a page multiple")
	}
}

func dup(t *testing.T, f *os.File) *os.File {
	t.Helper()
	g, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_RDWR, 0)
	if err != nil {
		t.Skip(err)
	}
	return g
}
