package serve

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"

	"github.com/textclf/textclf"
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

func (f *fakeModel) Info() textclf.ModelInfo {
	return textclf.ModelInfo{Kind: "fake", Labels: f.labels, ProblemType: textclf.SingleLabel, MaxLength: f.maxLen, Function: textclf.Softmax}
}

// Encode gives an input len(words)+2 tokens (the words alone without
// special tokens); its Tokens carry the text, which the logits depend on.
func (f *fakeModel) Encode(in textclf.Input, opt textclf.EncodeOptions) (textclf.Encoding, error) {
	if f.encodeErr != nil {
		return textclf.Encoding{}, f.encodeErr
	}
	words := strings.Fields(in.Text)
	if in.Pair != nil {
		words = append(words, strings.Fields(*in.Pair)...)
	}
	if opt.NoSpecialTokens {
		return textclf.Encoding{IDs: make([]int, len(words)), Tokens: words}, nil
	}
	n := len(words) + 2
	if opt.Truncate && n > f.maxLen {
		n = f.maxLen
	}
	return textclf.Encoding{IDs: make([]int, n), Tokens: []string{in.Text}}, nil
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

func (f *fakeModel) Logits(_ context.Context, batch []textclf.Encoding) ([][]float32, error) {
	texts := make([]string, len(batch))
	for i, b := range batch {
		texts[i] = b.Tokens[0]
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

func (f *fakeModel) seenBatches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

var errFake = errors.New("fake backend failure")
