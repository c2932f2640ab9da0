package safetensors

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// residentPages is the process's resident set in pages (/proc/self/statm).
func residentPages(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	n, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRelease: releasing a tensor of a mapped file keeps its values (read
// from the file again) and its neighbours', and on Linux gives its pages
// back: the resident set falls by most of the tensor's size. A File made by
// Parse (bytes in memory, not a mapping) is left as it is. An unknown name
// is an error naming it.
func TestRelease(t *testing.T) {
	const n = 4 << 20 // 16 MB of float32
	big := make([]float32, n)
	for i := range big {
		big[i] = float32(i%1000) - 500
	}
	small := []float32{1, 2, 3}
	tensors := []Tensor{FromFloat32("a", []int{3}, small), FromFloat32("big", []int{n}, big), FromFloat32("z", []int{3}, small)}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	values := func(name string) []float32 {
		st, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.Float32()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Logf("resident before touching: %d", residentPages(t))
	var sum float32
	for _, v := range values("big") { // touch every page
		sum += v
	}
	t.Logf("sum %g", sum)
	before := residentPages(t)
	if err := f.Release("big"); err != nil {
		t.Fatal(err)
	}
	after := residentPages(t)
	if runtime.GOOS == "linux" {
		pages := 4 * n / os.Getpagesize()
		t.Logf("resident pages %d → %d (the tensor: %d pages)", before, after, pages)
		if before-after < pages/2 {
			t.Errorf("Release gave back %d pages of the tensor's %d", before-after, pages)
		}
	}
	if !slices.Equal(values("big"), big) || !slices.Equal(values("a"), small) || !slices.Equal(values("z"), small) {
		t.Fatal("values changed by Release")
	}
	if err := f.Release("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Release of an unknown tensor: err = %v", err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Release("big"); err != nil {
		t.Fatal(err)
	}
	st, _ := p.Tensor("big")
	if v, _ := st.Float32(); !slices.Equal(v, big) {
		t.Fatal("Release changed the bytes of a parsed (in-memory) file")
	}
}
