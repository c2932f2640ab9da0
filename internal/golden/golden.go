// Package golden reads the reference files that tests compare against:
// safetensors files of expected tensors and JSON case lists written by the
// generator scripts under scripts/.
package golden

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/textclf/textclf/safetensors"
)

// File is an open safetensors file of golden tensors.
type File struct{ F *safetensors.File }

// Open opens a golden safetensors file, closed when the test ends.
func Open(tb testing.TB, path string) File {
	tb.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return File{f}
}

// Has reports whether the file holds a tensor.
func (g File) Has(name string) bool {
	_, err := g.F.Tensor(name)
	return err == nil
}

// Floats returns a tensor as float32 values.
func (g File) Floats(tb testing.TB, name string) []float32 {
	tb.Helper()
	t, err := g.F.Tensor(name)
	if err != nil {
		tb.Fatalf("golden tensor %s: %v", name, err)
	}
	v, err := t.Float32()
	if err != nil {
		tb.Fatalf("golden tensor %s: %v", name, err)
	}
	return v
}

// Ints returns an integer tensor and its shape.
func (g File) Ints(tb testing.TB, name string) ([]int, []int) {
	tb.Helper()
	t, err := g.F.Tensor(name)
	if err != nil {
		tb.Fatalf("golden tensor %s: %v", name, err)
	}
	v, err := t.Int64()
	if err != nil {
		tb.Fatalf("golden tensor %s: %v", name, err)
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, t.Shape
}

// ReadJSON decodes a JSON file into v.
func ReadJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}
