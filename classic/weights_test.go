package classic

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/nn"
)

func TestWeightsRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.safetensors")
	ps := []*nn.Param{
		{Name: "a", Shape: []int{2, 3}, W: []float32{1, 2, 3, 4, 5, -6.5}},
		{Name: "b", Shape: []int{1}, W: []float32{7}},
	}
	if err := writeWeights(p, ps); err != nil {
		t.Fatal(err)
	}
	back := []*nn.Param{{Name: "b", Shape: []int{1}}, {Name: "a", Shape: []int{2, 3}}}
	if err := readWeights(p, back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back[0].W, ps[1].W) || !slices.Equal(back[1].W, ps[0].W) {
		t.Fatalf("round trip %v %v, want %v %v", back[1].W, back[0].W, ps[0].W, ps[1].W)
	}
	if err := writeWeights(p, []*nn.Param{{Name: "x", Shape: []int{4}, W: []float32{1}}}); err == nil || !strings.Contains(err.Error(), `tensor "x"`) || !strings.Contains(err.Error(), p) {
		t.Fatalf("shape mismatch error %v", err)
	}
	// The failed write left the earlier file whole.
	if err := readWeights(p, []*nn.Param{{Name: "a", Shape: []int{2, 3}}}); err != nil {
		t.Fatalf("failed write damaged the file: %v", err)
	}
	// A tensor missing, of another shape or of an integer type is an error
	// naming the file and the tensor.
	for _, want := range []*nn.Param{{Name: "c", Shape: []int{1}}, {Name: "a", Shape: []int{3, 2}}, {Name: "a", Shape: []int{6}}} {
		err := readWeights(p, []*nn.Param{want})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"`+want.Name+`"`) {
			t.Errorf("reading %s %v: error %v, want one naming the file and the tensor", want.Name, want.Shape, err)
		}
	}
	ints := filepath.Join(dir, "ints")
	os.WriteFile(ints, stFile(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4), 0o644)
	if err := readWeights(ints, []*nn.Param{{Name: "a", Shape: []int{1}}}); err == nil || !strings.Contains(err.Error(), ints) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("integer tensor: error %v", err)
	}
	good, _ := os.ReadFile(p)
	for name, b := range map[string][]byte{
		"short":   good[:len(good)-2],
		"header":  good[:5],
		"json":    append([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '{'}, good[10:]...),
		"overlap": stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"beyond":  stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4),
	} {
		q := filepath.Join(dir, name)
		os.WriteFile(q, b, 0o644)
		if err := readWeights(q, []*nn.Param{{Name: "a", Shape: []int{2}}}); err == nil || !strings.Contains(err.Error(), q) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

// stFile returns a safetensors file with the given header and data bytes.
func stFile(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), make([]byte, data)...)
}

// FuzzLoadWeights loads saved models whose model.safetensors is fuzzed: a
// model that loads must give a score per label.
func FuzzLoadWeights(f *testing.F) {
	dirs := []string{"../testdata/classic/saved/fasttext", "../testdata/classic/saved/textcnn"}
	for i, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, WeightsFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
		f.Add(b[:len(b)/2], uint8(i))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		src, dir := dirs[int(which)%len(dirs)], t.TempDir()
		for _, name := range []string{ConfigFile, VocabFile} {
			c, err := os.ReadFile(filepath.Join(src, name))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, name), c, 0o644)
		}
		os.WriteFile(filepath.Join(dir, WeightsFile), b, 0o644)
		c, err := Load(dir)
		if err != nil {
			if !strings.Contains(err.Error(), WeightsFile) {
				t.Fatalf("error %v does not name the weights file", err)
			}
			return
		}
		if s := c.ScoresTokens([]string{"match", "goal", "unseen"}); len(s) != len(c.Config.Labels) {
			t.Fatalf("%d scores for %d labels", len(s), len(c.Config.Labels))
		}
	})
}
