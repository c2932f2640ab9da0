package textclf

import (
	"context"
	"errors"
	"fmt"

	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// FillMaskPrediction is one proposal of transformers' fill-mask pipeline
// for a mask: its probability, token id, the token decoded, and the input
// with the mask replaced by it, decoded.
type FillMaskPrediction struct {
	Score    float64 `json:"score"`
	Token    int     `json:"token"`
	TokenStr string  `json:"token_str"`
	Sequence string  `json:"sequence"`
}

// FillMasker fills in the mask tokens of texts with a masked language model
// (BertForMaskedLM, RobertaForMaskedLM), as pipeline("fill-mask").
type FillMasker struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	// MaskToken is the tokenizer's mask token ([MASK] or <mask>).
	MaskToken string
	maskID    int
	// Warnings are the loading notices (an MLM head newly initialised).
	Warnings []string
}

// OpenFillMask loads a masked language model directory or hub id and its
// tokenizer. A checkpoint without an MLM head (a classifier) loads with a
// newly initialised one, reported in Warnings, as transformers does.
func OpenFillMask(ctx context.Context, name string) (*FillMasker, error) {
	dir, _, err := hub.ResolveModel(ctx, name, "", hub.FromEnv())
	if err != nil {
		return nil, err
	}
	m, rep, err := model.LoadMaskedLM(dir, 42)
	if err != nil {
		return nil, err
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	tk.Padding, tk.Truncation = nil, nil
	f := &FillMasker{Model: m, Tokenizer: tk, Warnings: rep.Warnings, maskID: -1}
	for _, t := range []string{"[MASK]", "<mask>"} {
		if id, ok := tk.TokenToID(t); ok {
			f.MaskToken, f.maskID = t, id
			break
		}
	}
	if f.maskID < 0 {
		return nil, fmt.Errorf("model %s: the tokenizer has no mask token ([MASK] or <mask>)", dir)
	}
	if n := tk.VocabSize(); n > m.Config.VocabSize {
		return nil, fmt.Errorf("model %s: the tokenizer has %d tokens, the model's vocab_size is %d", dir, n, m.Config.VocabSize)
	}
	return f, nil
}

// Fill returns, for each mask token of text, its topK most probable tokens
// (the softmax over the vocabulary at its position), best first, each with
// the sequence it makes: the input's ids with that mask replaced and the
// padding removed, decoded — without special tokens when the text has one
// mask, with them when it has several (so the other masks stay visible), as
// transformers' FillMaskPipeline.postprocess. A text without a mask token
// is an error.
func (f *FillMasker) Fill(text string, topK int) ([][]FillMaskPrediction, error) {
	if topK <= 0 {
		topK = 5
	}
	enc, err := f.Tokenizer.Encode(text, true)
	if err != nil {
		return nil, err
	}
	if len(enc.IDs) > f.Model.MaxTokens() {
		return nil, fmt.Errorf("the text has %d tokens, more than the model's %d", len(enc.IDs), f.Model.MaxTokens())
	}
	var rows []int
	for i, id := range enc.IDs {
		if id == f.maskID {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("no mask token (" + f.MaskToken + ") found in the input")
	}
	in := model.PadBatch([][]int{enc.IDs}, [][]int{enc.TypeIDs}, f.Model.PadID())
	logits, err := f.Model.MaskedLMLogits(in, rows)
	if err != nil {
		return nil, err
	}
	v := f.Model.Config.VocabSize
	single := len(rows) == 1
	padID, hasPad := -1, false
	for _, t := range []string{"[PAD]", "<pad>"} {
		if padID, hasPad = f.Tokenizer.TokenToID(t); hasPad {
			break
		}
	}
	out := make([][]FillMaskPrediction, len(rows))
	for i, row := range rows {
		for _, p := range model.TopK(logits[i*v:(i+1)*v], topK) {
			ids := make([]int, 0, len(enc.IDs))
			for j, id := range enc.IDs {
				if j == row {
					id = p.ID
				}
				if !hasPad || id != padID {
					ids = append(ids, id)
				}
			}
			seq, err := f.Tokenizer.Decode(ids, single)
			if err != nil {
				return nil, err
			}
			tok, err := f.Tokenizer.Decode([]int{p.ID}, false)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], FillMaskPrediction{Score: float64(p.Score), Token: p.ID, TokenStr: tok, Sequence: seq})
		}
	}
	return out, nil
}
