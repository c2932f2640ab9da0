package serve

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
)

// fakeModel is a Model whose outputs are a function of the text, so that
// a wrong answer (cross-talk between batched inputs) shows. Its length is
// the number of words plus two special tokens.
type fakeModel struct {
	labels    []string
	maxLen    int
	gate      chan struct{} // when set, Predict waits for a receive on it
	entered   chan int      // when set, Predict sends its batch size
	fail      error
	nan       bool
	encodeErr error

	mu      sync.Mutex
	batches [][]string
}

func newFake() *fakeModel { return &fakeModel{labels: []string{"a", "b", "c"}, maxLen: 16} }

func (f *fakeModel) Labels() []string    { return f.labels }
func (f *fakeModel) MultiLabel() bool    { return false }
func (f *fakeModel) MaxInputLength() int { return f.maxLen }
func (f *fakeModel) Kind() string        { return "fake" }

func (f *fakeModel) Encode(in Input, truncate bool) (Encoded, error) {
	if f.encodeErr != nil {
		return Encoded{}, f.encodeErr
	}
	words := strings.Fields(in.Text)
	if in.Pair != nil {
		words = append(words, strings.Fields(*in.Pair)...)
	}
	n := len(words) + 2
	if truncate && n > f.maxLen {
		n = f.maxLen
	}
	return Encoded{Len: n, Data: in.Text}, nil
}

func (f *fakeModel) Tokenize(text string, _ bool) ([]Token, error) {
	var out []Token
	for i, w := range strings.Fields(text) {
		out = append(out, Token{ID: i, Text: w})
	}
	return out, nil
}

// fakeLogits are the outputs the fake model gives a text.
func fakeLogits(text string) []float32 {
	var h float32
	for _, r := range text {
		h = h*1.3 + float32(r%17)
		h = float32(math.Mod(float64(h), 10))
	}
	return []float32{h, float32(len(text) % 5), -h / 2}
}

func (f *fakeModel) Predict(_ context.Context, batch []Encoded) ([][]float32, error) {
	texts := make([]string, len(batch))
	for i, b := range batch {
		texts[i] = b.Data.(string)
	}
	f.mu.Lock()
	f.batches = append(f.batches, texts)
	f.mu.Unlock()
	if f.entered != nil {
		f.entered <- len(batch)
	}
	if f.gate != nil {
		<-f.gate
	}
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([][]float32, len(batch))
	for i, t := range texts {
		out[i] = fakeLogits(t)
		if f.nan {
			out[i][0] = float32(math.NaN())
		}
	}
	return out, nil
}

func (f *fakeModel) Scores(out []float32, raw bool) []float32 {
	if raw {
		return append([]float32(nil), out...)
	}
	return softmax(out)
}

func softmax(x []float32) []float32 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	out := make([]float32, len(x))
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
	return out
}

func (f *fakeModel) seenBatches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

var errFake = errors.New("fake backend failure")
