package textclf

import (
	"context"
	"fmt"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// Transformer is a sequence classification transformer with its tokenizer,
// as transformers' text-classification pipeline uses them.
type Transformer struct {
	model  *model.Model
	whole  *tokenizer.Tokenizer // no truncation, no padding
	maxLen int
	labels []string
	source string
}

// NewTransformer pairs a model with its tokenizer. maxLength truncates
// inputs (special tokens included); 0 means the model's limit
// (max_position_embeddings, less RoBERTa's padding offset, at most 512
// except for ModernBERT: all its 8,192).
func NewTransformer(m *model.Model, tk *tokenizer.Tokenizer, maxLength int, source string) (*Transformer, error) {
	limit := m.MaxTokens()
	switch {
	case maxLength > limit:
		return nil, fmt.Errorf("max length %d exceeds the model's %d positions", maxLength, limit)
	case maxLength <= 0:
		maxLength = m.DefaultMaxTokens()
	}
	whole := *tk
	whole.Truncation, whole.Padding = nil, nil
	labels := m.Config.Labels
	if len(labels) != m.NumLabels {
		labels = make([]string, m.NumLabels)
		for i := range labels {
			labels[i] = fmt.Sprintf("LABEL_%d", i)
		}
	}
	return &Transformer{model: m, whole: &whole, maxLen: maxLength, labels: labels, source: source}, nil
}

// Network is the model itself.
func (t *Transformer) Network() *model.Model { return t.model }

// Tokenizer is the model's tokenizer, without truncation or padding.
func (t *Transformer) Tokenizer() *tokenizer.Tokenizer { return t.whole }

// Info implements Model.
func (t *Transformer) Info() ModelInfo {
	cfg := t.model.Config
	// The text-classification pipeline's default function: none for a
	// config that says regression, sigmoid for multi-label and one-label
	// models, else softmax.
	fn := Softmax
	switch {
	case cfg.ProblemType == model.Regression:
		fn = None
	case t.model.ProblemType == model.MultiLabel || t.model.NumLabels == 1:
		fn = Sigmoid
	}
	return ModelInfo{
		Kind: cfg.ModelType, Architecture: t.model.Architecture(), Labels: t.labels, ProblemType: t.model.ProblemType,
		MaxLength: t.maxLen, Function: fn, Threshold: 0.5,
		HiddenSize: cfg.HiddenSize, Layers: cfg.NumHiddenLayers, Heads: cfg.NumAttentionHeads,
		VocabSize: cfg.VocabSize, MaxPositions: cfg.MaxPositionEmbeddings,
		Parameters: int64(t.model.NumParameters()), Source: t.source,
	}
}

// Encode implements Model.
func (t *Transformer) Encode(in Input, opt EncodeOptions) (Encoding, error) {
	tk := t.whole
	if opt.Truncate {
		c := *t.whole
		// Without windows the tokens beyond maxLen are not needed, and a
		// long text is tokenized only as far as they are certain.
		c.Truncation = &tokenizer.Truncation{MaxLength: t.maxLen, Strategy: tokenizer.LongestFirst, Direction: tokenizer.TruncateRight,
			DropOverflow: !opt.Windows}
		if opt.TruncateLeft {
			c.Truncation.Direction = tokenizer.TruncateLeft
		}
		if opt.Windows {
			if opt.Stride < 0 || opt.Stride >= t.maxLen/2 {
				return Encoding{}, fmt.Errorf("window stride %d must be in [0, %d) for a max length of %d", opt.Stride, t.maxLen/2, t.maxLen)
			}
			c.Truncation.Stride = opt.Stride
		}
		tk = &c
	} else if n := opt.StopAfter + 1; opt.StopAfter > 0 && (opt.NoSpecialTokens || n >= t.whole.NumSpecialTokensToAdd(in.Pair != nil)) {
		c := *t.whole
		c.Truncation = &tokenizer.Truncation{MaxLength: n, Strategy: tokenizer.LongestFirst, Direction: tokenizer.TruncateRight, DropOverflow: true}
		tk = &c
	}
	ctx := opt.Context
	if ctx == nil {
		ctx = context.Background()
	}
	e, err := tk.EncodeInput(ctx, in, !opt.NoSpecialTokens)
	if err != nil {
		return Encoding{}, err
	}
	if !opt.Windows {
		e.Overflowing = nil
	}
	return e, nil
}

// Logits implements Model: one forward pass over the batch, padded to its
// longest input.
func (t *Transformer) Logits(ctx context.Context, batch []Encoding) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := make([][]int, len(batch))
	types := make([][]int, len(batch))
	for i, e := range batch {
		ids[i], types[i] = e.IDs, e.TypeIDs
	}
	logits, err := t.model.Forward(model.PadBatch(ids, types, t.model.PadID()))
	if err != nil {
		return nil, err
	}
	l := t.model.NumLabels
	out := make([][]float32, len(batch))
	for i := range out {
		out[i] = logits[i*l : (i+1)*l : (i+1)*l]
	}
	return out, nil
}
