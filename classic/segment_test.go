package classic

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSegment(t *testing.T) {
	cases := []struct {
		seg  Segmenter
		in   string
		want []string
	}{
		{Segmenter{}, "Hello, world! Don't e-mail me...", []string{"Hello", ",", "world", "!", "Don't", "e-mail", "me", ".", ".", "."}},
		{Segmenter{Lower: true}, "It's GREAT (really)", []string{"it's", "great", "(", "really", ")"}},
		{Segmenter{Mode: SegmentWhitespace}, "a,b  c\td", []string{"a,b", "c", "d"}},
		{Segmenter{}, "体验2D巅峰 倚天", []string{"体", "验", "2D", "巅", "峰", "倚", "天"}},
		{Segmenter{}, "  ", nil},
	}
	for _, c := range cases {
		got, err := c.seg.Segment(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v %q: %q, want %q", c.seg, c.in, got, c.want)
		}
	}
	if _, err := (Segmenter{Mode: "bpe"}).Segment("x"); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestSegmentChineseWords(t *testing.T) {
	got, err := Segmenter{Mode: SegmentChineseWords}.Segment("我爱北京天安门，Hello world")
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(got, "|")
	// Words, not characters: 北京 and 天安门 stay whole; punctuation and
	// Latin words are split as in the default mode.
	for _, w := range []string{"北京", "天安门", "，", "Hello", "world"} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("zh-words segmentation %q lacks %q", joined, w)
		}
	}
}

func TestWeightsRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.safetensors")
	ws := Weights{"a": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}}, "b": {Shape: []int{1}, Data: []float32{7}}}
	if err := WriteWeights(p, ws); err != nil {
		t.Fatal(err)
	}
	back, err := ReadWeights(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ws) {
		t.Fatalf("round trip %v, want %v", back, ws)
	}
	if err := WriteWeights(p, Weights{"x": {Shape: []int{4}, Data: []float32{1}}}); err == nil || !strings.Contains(err.Error(), `tensor "x"`) {
		t.Fatalf("shape mismatch error %v", err)
	}
	// The failed write left the earlier file whole.
	if _, err := ReadWeights(p); err != nil {
		t.Fatalf("failed write damaged the file: %v", err)
	}
	good, _ := os.ReadFile(p)
	for name, b := range map[string][]byte{"short": good[:len(good)-2], "header": good[:5], "json": append([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '{'}, good[10:]...)} {
		q := filepath.Join(dir, name)
		os.WriteFile(q, b, 0o644)
		if _, err := ReadWeights(q); err == nil || !strings.Contains(err.Error(), q) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

func FuzzReadWeights(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed")
	if err := WriteWeights(p, Weights{"a": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		q := filepath.Join(t.TempDir(), "w")
		os.WriteFile(q, b, 0o644)
		ws, err := ReadWeights(q)
		if err != nil {
			return
		}
		for n, w := range ws {
			size := 1
			for _, s := range w.Shape {
				size *= s
			}
			if size != len(w.Data) {
				t.Fatalf("tensor %q: shape %v, %d values", n, w.Shape, len(w.Data))
			}
		}
	})
}
