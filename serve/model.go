package serve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/tokenizer"
)

// Input is one input of /predict: a text, or a pair of texts for
// sentence-pair models.
type Input struct {
	Text string
	Pair *string
}

// Encoded is an input tokenized by a Model, waiting for a batch.
type Encoded struct {
	// Len is the number of tokens: what the batch token budget counts.
	Len int
	// Data is the model's own form of the input.
	Data any
}

// Token is one token of /tokenize. Start and Stop are code point offsets
// into the text (nil for special tokens).
type Token struct {
	ID      int    `json:"id"`
	Text    string `json:"text"`
	Special bool   `json:"special"`
	Start   *int   `json:"start"`
	Stop    *int   `json:"stop"`
}

// Model is what the server needs from a classifier. The server calls
// Encode and Tokenize from many goroutines at once, Predict from one.
type Model interface {
	// Labels are the label names by label id.
	Labels() []string
	// MultiLabel reports whether scores are independent sigmoids rather
	// than a softmax over the labels.
	MultiLabel() bool
	// MaxInputLength is the most tokens an input may have (0: no limit).
	MaxInputLength() int
	// Kind names the model family ("bert", "fasttext"...), for /info.
	Kind() string
	// Encode tokenizes one input. With truncate, an input longer than
	// MaxInputLength is cut to it; otherwise it is returned whole (the
	// server rejects it).
	Encode(in Input, truncate bool) (Encoded, error)
	// Tokenize returns the tokens of a text, as /tokenize shows them.
	Tokenize(text string, addSpecialTokens bool) ([]Token, error)
	// Predict runs the model on a batch and returns the raw outputs of
	// each input (logits for a transformer), in batch order.
	Predict(ctx context.Context, batch []Encoded) ([][]float32, error)
	// Scores turns one input's raw outputs into label scores: softmax, or
	// sigmoids for a multi-label model; with raw, the raw outputs.
	Scores(out []float32, raw bool) []float32
}

// Transformer serves a textclf.Classifier. Its batches go through
// LogitsOfEncodings, so the classifier's BatchSize should be at least the
// server's MaxBatchRequests to get one forward pass per batch.
type Transformer struct {
	clf   *textclf.Classifier
	whole *tokenizer.Tokenizer // no truncation
}

// NewTransformer wraps a loaded transformer classifier. Its MaxLength is
// the server's max input length.
func NewTransformer(clf *textclf.Classifier) *Transformer {
	t := *clf.Tokenizer
	t.Truncation = nil
	t.Padding = nil
	return &Transformer{clf: clf, whole: &t}
}

// Labels implements Model.
func (t *Transformer) Labels() []string { return t.clf.Labels }

// MultiLabel implements Model: sigmoid scores as the text-classification
// pipeline gives them (multi-label and single-output models).
func (t *Transformer) MultiLabel() bool { return t.clf.DefaultFunction() == textclf.Sigmoid }

// MaxInputLength implements Model.
func (t *Transformer) MaxInputLength() int { return t.clf.MaxLength() }

// Kind implements Model.
func (t *Transformer) Kind() string { return t.clf.Model.Config.ModelType }

// Encode implements Model.
func (t *Transformer) Encode(in Input, truncate bool) (Encoded, error) {
	tk := t.whole
	if truncate {
		tk = t.clf.Tokenizer
	}
	var e tokenizer.Encoding
	var err error
	if in.Pair != nil {
		e, err = tk.EncodePair(in.Text, *in.Pair, true)
	} else {
		e, err = tk.Encode(in.Text, true)
	}
	if err != nil {
		return Encoded{}, err
	}
	e.Overflowing = nil
	return Encoded{Len: e.Len(), Data: e}, nil
}

// Tokenize implements Model.
func (t *Transformer) Tokenize(text string, addSpecialTokens bool) ([]Token, error) {
	e, err := t.whole.Encode(text, addSpecialTokens)
	if err != nil {
		return nil, err
	}
	runes := []rune(text)
	out := make([]Token, e.Len())
	for i, id := range e.IDs {
		tok := Token{ID: id, Text: e.Tokens[i]}
		if e.SpecialTokensMask[i] == 1 {
			tok.Special = true
		} else {
			start, stop := e.Offsets[i][0], e.Offsets[i][1]
			if start >= 0 && start <= stop && stop <= len(runes) {
				tok.Text = string(runes[start:stop])
			}
			tok.Start, tok.Stop = &start, &stop
		}
		out[i] = tok
	}
	return out, nil
}

// maxPadding bounds the padding of a forward pass: its padded tokens are
// at most this many times its real tokens.
const maxPadding = 1.25

// Predict implements Model. It sorts the batch by length and cuts it into
// forward passes whose padding stays under maxPadding (a batch of mixed
// lengths padded to the longest would waste most of its compute), with one
// LogitsOfEncodings call each.
func (t *Transformer) Predict(ctx context.Context, batch []Encoded) ([][]float32, error) {
	encs := make([]tokenizer.Encoding, len(batch))
	for i, b := range batch {
		e, ok := b.Data.(tokenizer.Encoding)
		if !ok {
			return nil, fmt.Errorf("input %d was not encoded by this model", i)
		}
		encs[i] = e
	}
	out := make([][]float32, len(batch))
	for _, group := range paddingGroups(encs) {
		sub := make([]tokenizer.Encoding, len(group))
		for i, j := range group {
			sub[i] = encs[j]
		}
		logits, err := t.clf.LogitsOfEncodings(ctx, sub)
		if err != nil {
			return nil, err
		}
		for i, j := range group {
			out[j] = logits[i]
		}
	}
	return out, nil
}

// paddingGroups returns the indices of encs in groups of similar length:
// sorted by length, a group grows while its size × longest stays within
// maxPadding × its real tokens.
func paddingGroups(encs []tokenizer.Encoding) [][]int {
	order := make([]int, len(encs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return encs[order[a]].Len() < encs[order[b]].Len() })
	var groups [][]int
	var cur []int
	real := 0
	for _, j := range order {
		l := encs[j].Len()
		if len(cur) > 0 && float64((len(cur)+1)*l) > maxPadding*float64(real+l) {
			groups = append(groups, cur)
			cur, real = nil, 0
		}
		cur = append(cur, j)
		real += l
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// Scores implements Model.
func (t *Transformer) Scores(out []float32, raw bool) []float32 {
	if raw {
		return textclf.ApplyFunction(out, textclf.None)
	}
	return textclf.ApplyFunction(out, t.clf.DefaultFunction())
}

// Classic serves a classic model (fastText-style, TextCNN, BiLSTM). Its
// tokens are the model's segmentation; they have no ids beyond the
// vocabulary's line numbers.
type Classic struct {
	clf    *classic.Classifier
	maxLen int
	vocab  map[string]int
}

// NewClassic wraps a classic model. maxLen > 0 limits inputs to that many
// tokens; dir, when not empty, is the model directory whose vocab.txt gives
// /tokenize its ids (-1 for words out of it).
func NewClassic(clf *classic.Classifier, dir string, maxLen int) *Classic {
	c := &Classic{clf: clf, maxLen: maxLen}
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, classic.VocabFile)); err == nil {
			words := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			c.vocab = make(map[string]int, len(words))
			for i, w := range words {
				if _, dup := c.vocab[w]; !dup {
					c.vocab[w] = i
				}
			}
		}
	}
	return c
}

// Labels implements Model.
func (c *Classic) Labels() []string { return c.clf.Config.Labels }

// MultiLabel implements Model.
func (c *Classic) MultiLabel() bool { return c.clf.Config.MultiLabel }

// MaxInputLength implements Model.
func (c *Classic) MaxInputLength() int { return c.maxLen }

// Kind implements Model.
func (c *Classic) Kind() string { return c.clf.Config.Arch }

// Encode implements Model.
func (c *Classic) Encode(in Input, truncate bool) (Encoded, error) {
	pair := ""
	if in.Pair != nil {
		pair = *in.Pair
	}
	toks, err := c.clf.Tokens(in.Text, pair)
	if err != nil {
		return Encoded{}, err
	}
	if truncate && c.maxLen > 0 && len(toks) > c.maxLen {
		toks = toks[:c.maxLen]
	}
	return Encoded{Len: len(toks), Data: toks}, nil
}

// Tokenize implements Model. Classic models add no special tokens.
func (c *Classic) Tokenize(text string, _ bool) ([]Token, error) {
	toks, err := c.clf.Tokens(text, "")
	if err != nil {
		return nil, err
	}
	out := make([]Token, len(toks))
	for i, w := range toks {
		id, ok := c.vocab[w]
		if !ok {
			id = -1
		}
		out[i] = Token{ID: id, Text: w}
	}
	return out, nil
}

// Predict implements Model; classic models score one input at a time.
func (c *Classic) Predict(ctx context.Context, batch []Encoded) ([][]float32, error) {
	out := make([][]float32, len(batch))
	for i, b := range batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		toks, ok := b.Data.([]string)
		if !ok {
			return nil, fmt.Errorf("input %d was not encoded by this model", i)
		}
		out[i] = c.clf.ScoresTokens(toks)
	}
	return out, nil
}

// Scores implements Model. Classic models give probabilities (or
// sigmoids) directly, so raw scores are the same scores.
func (c *Classic) Scores(out []float32, _ bool) []float32 { return append([]float32(nil), out...) }
