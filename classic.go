package textclf

import (
	"context"
	"fmt"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/tensor"
)

// Classic is a classic model (fastText-style, TextCNN or BiLSTM) with its
// word segmentation. Its tokens are words, with their vocabulary ids (-1 for
// a word out of the vocabulary); it has no special tokens.
type Classic struct {
	clf    *classic.Classifier
	maxLen int
	ids    map[string]int
	source string
}

// NewClassic wraps a classic model. maxLength > 0 limits inputs to that
// many words; 0 means the model's own limit (TextCNN/BiLSTM's max_len;
// none for fastText).
func NewClassic(clf *classic.Classifier, maxLength int, source string) *Classic {
	if maxLength <= 0 && clf.Config.NN != nil {
		maxLength = clf.Config.NN.MaxLen
	}
	words := clf.Vocabulary()
	ids := make(map[string]int, len(words))
	for i, w := range words {
		if _, dup := ids[w]; !dup {
			ids[w] = i
		}
	}
	return &Classic{clf: clf, maxLen: maxLength, ids: ids, source: source}
}

// Network is the classic model itself.
func (c *Classic) Network() *classic.Classifier { return c.clf }

// Info implements Model.
func (c *Classic) Info() ModelInfo {
	cfg := c.clf.Config
	problem := SingleLabel
	if cfg.MultiLabel {
		problem = MultiLabel
	}
	info := ModelInfo{
		Kind: cfg.Arch, Architecture: cfg.Arch, Labels: cfg.Labels, ProblemType: problem,
		MaxLength: c.maxLen, Function: None, Threshold: cfg.Threshold,
		HiddenSize: c.clf.Dim(), VocabSize: len(c.ids), Parameters: c.clf.NumParameters(), Source: c.source,
	}
	if info.Threshold == 0 {
		info.Threshold = 0.5
	}
	if cfg.NN != nil && cfg.Arch == classic.ArchBiLSTM {
		info.HiddenSize, info.Layers = cfg.NN.Hidden, 1
	}
	return info
}

// Encode implements Model: the model's segmentation of the text and its
// pair, cut to MaxLength words when truncating (in windows sharing Stride
// words with Windows).
func (c *Classic) Encode(in Input, opt EncodeOptions) (Encoding, error) {
	pair := ""
	if in.Pair != nil {
		pair = *in.Pair
	}
	words, err := c.clf.Tokens(in.Text, pair)
	if err != nil {
		return Encoding{}, err
	}
	if !opt.Truncate || c.maxLen <= 0 || len(words) <= c.maxLen {
		return c.encoding(words), nil
	}
	if opt.TruncateLeft {
		words = words[len(words)-c.maxLen:]
		return c.encoding(words), nil
	}
	if !opt.Windows {
		return c.encoding(words[:c.maxLen]), nil
	}
	if opt.Stride < 0 || opt.Stride >= c.maxLen/2 {
		return Encoding{}, fmt.Errorf("window stride %d must be in [0, %d) for a max length of %d", opt.Stride, c.maxLen/2, c.maxLen)
	}
	first := c.encoding(words[:c.maxLen])
	for start := c.maxLen - opt.Stride; start+opt.Stride < len(words); start += c.maxLen - opt.Stride {
		first.Overflowing = append(first.Overflowing, c.encoding(words[start:min(start+c.maxLen, len(words))]))
	}
	return first, nil
}

func (c *Classic) encoding(words []string) Encoding {
	e := Encoding{Tokens: words, IDs: make([]int, len(words))}
	for i, w := range words {
		id, ok := c.ids[w]
		if !ok {
			id = -1
		}
		e.IDs[i] = id
	}
	return e
}

// Logits implements Model: the label probabilities (independent sigmoids
// for a multi-label model) of each input, inputs spread over the threads.
func (c *Classic) Logits(ctx context.Context, batch []Encoding) ([][]float32, error) {
	out := make([][]float32, len(batch))
	tensor.ParallelFor(len(batch), 1, func(lo, hi int) {
		for i := lo; i < hi && ctx.Err() == nil; i++ {
			out[i] = c.clf.ScoresTokens(batch[i].Tokens)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
