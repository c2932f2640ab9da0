package explain

import (
	"context"
	"errors"
	"fmt"

	"github.com/textclf/textclf/tokenizer"
)

// OutputsFunc runs a model on encoded inputs and returns the outputs of
// each (textclf.Classifier.LogitsOfEncodings is one).
type OutputsFunc func(ctx context.Context, encs []tokenizer.Encoding) ([][]float32, error)

// Occlude attributes the explained output of target on enc to its tokens by
// leave-one-out occlusion: a token's attribution is how much the output
// drops when that token alone is left out of the input (special tokens
// stay and get 0). The baseline leaves out every token that is not
// special. fn is Softmax, Sigmoid or None (the outputs are the scores
// already, as a classic model's). All the occluded inputs go to outputs in
// one call. It works for any model, and is how classic models, which have
// no gradients, are explained.
func Occlude(ctx context.Context, outputs OutputsFunc, enc tokenizer.Encoding, target int, fn string) (Attribution, error) {
	n := enc.Len()
	var keep []int // the tokens that can be left out
	for i := 0; i < n; i++ {
		if i >= len(enc.SpecialTokensMask) || enc.SpecialTokensMask[i] == 0 {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return Attribution{}, errors.New("no tokens to attribute")
	}
	if _, err := (Config{Function: fn}).withDefaults(); err != nil {
		return Attribution{}, err
	}
	encs := []tokenizer.Encoding{enc, without(enc, func(i int) bool { return true }, keep)}
	for _, i := range keep {
		encs = append(encs, without(enc, func(j int) bool { return j == i }, keep))
	}
	outs, err := outputs(ctx, encs)
	if err != nil {
		return Attribution{}, err
	}
	if len(outs) != len(encs) {
		return Attribution{}, fmt.Errorf("occlusion: %d outputs for %d inputs", len(outs), len(encs))
	}
	for i, o := range outs {
		if target < 0 || target >= len(o) {
			return Attribution{}, fmt.Errorf("occlusion: target %d is outside the %d outputs of input %d", target, len(o), i+1)
		}
	}
	a := Attribution{Tokens: make([]float32, n), Logits: outs[0]}
	a.Output = explained(fn, outs[0], target)
	a.BaselineOutput = explained(fn, outs[1], target)
	sum := 0.0
	for k, i := range keep {
		a.Tokens[i] = a.Output - explained(fn, outs[2+k], target)
		sum += float64(a.Tokens[i])
	}
	a.Delta = float32(sum - (float64(a.Output) - float64(a.BaselineOutput)))
	return a, nil
}

// without returns enc less the tokens i of candidates for which drop(i).
func without(enc tokenizer.Encoding, drop func(i int) bool, candidates []int) tokenizer.Encoding {
	gone := make(map[int]bool)
	for _, i := range candidates {
		if drop(i) {
			gone[i] = true
		}
	}
	var out tokenizer.Encoding
	for i := 0; i < enc.Len(); i++ {
		if gone[i] {
			continue
		}
		out.IDs = append(out.IDs, enc.IDs[i])
		if i < len(enc.TypeIDs) {
			out.TypeIDs = append(out.TypeIDs, enc.TypeIDs[i])
		}
		if i < len(enc.Tokens) {
			out.Tokens = append(out.Tokens, enc.Tokens[i])
		}
		if i < len(enc.AttentionMask) {
			out.AttentionMask = append(out.AttentionMask, enc.AttentionMask[i])
		}
		if i < len(enc.SpecialTokensMask) {
			out.SpecialTokensMask = append(out.SpecialTokensMask, enc.SpecialTokensMask[i])
		}
		if i < len(enc.Offsets) {
			out.Offsets = append(out.Offsets, enc.Offsets[i])
		}
		if i < len(enc.WordIDs) {
			out.WordIDs = append(out.WordIDs, enc.WordIDs[i])
		}
	}
	return out
}
