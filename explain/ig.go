package explain

import (
	"context"
	"errors"
	"fmt"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/tokenizer"
)

// The functions that turn a model's outputs into the explained output, as
// the text-classification pipeline names them.
const (
	Softmax = "softmax" // the probability of the target among the labels
	Sigmoid = "sigmoid" // the target's own probability (multi-label, one-label)
	None    = "none"    // the target's raw output (regression)
)

// DefaultPassTokens bounds the padded tokens of one forward and backward
// pass of integrated gradients when Config.InternalBatchSize is 0: as many
// steps go into a pass as fit.
const DefaultPassTokens = 2048

// Config says how integrated gradients are computed.
type Config struct {
	// Steps is the number of points on the path (Captum's n_steps);
	// 0 means DefaultSteps.
	Steps int
	// Method is GaussLegendre (default when "") or RiemannTrapezoid.
	Method string
	// InternalBatchSize bounds the sequences of one forward and backward
	// pass, as Captum's internal_batch_size: the steps of the inputs are
	// run InternalBatchSize/len(inputs) at a time (at least one). 0 puts as
	// many steps in a pass as fit DefaultPassTokens padded tokens.
	InternalBatchSize int
	// Function turns the logits into the explained output: Softmax
	// (default when ""), Sigmoid or None.
	Function string
}

// Attribution is the integrated gradients of one input.
type Attribution struct {
	// Tokens holds one attribution per token of the input (special tokens
	// included): Captum's attribution on the embeddings output, summed
	// over the hidden dimension.
	Tokens []float32
	// Output and BaselineOutput are the explained output F at the input
	// and at the baseline.
	Output, BaselineOutput float32
	// Delta is Captum's convergence delta: Σ Tokens − (Output − BaselineOutput).
	Delta float32
	// Logits are the model's outputs on the input.
	Logits []float32
}

// Baseline returns Captum's usual text baseline for an encoded input: the
// same sequence with every token that is not special replaced by padID
// ([CLS] [PAD] … [SEP]).
func Baseline(enc tokenizer.Encoding, padID int) []int {
	ids := make([]int, len(enc.IDs))
	for i, id := range enc.IDs {
		ids[i] = padID
		if i < len(enc.SpecialTokensMask) && enc.SpecialTokensMask[i] == 1 {
			ids[i] = id
		}
	}
	return ids
}

// IntegratedGradients attributes the explained output of target label
// targets[i] on inputs[i] to its tokens, as Captum's
// LayerIntegratedGradients on the embeddings module of m
// (bert.embeddings, roberta.embeddings, distilbert.embeddings) with
// multiply_by_inputs: the path runs in a straight line from the embeddings
// output of the baseline (Baseline: non-special tokens replaced by the pad
// token, the same positions and token types) to that of the input, the
// gradient is taken at cfg.Steps points of cfg.Method, and the weighted sum
// of the gradients times (input − baseline) is summed over the hidden
// dimension. The inputs are padded to the longest into one batch, and the
// interpolation points run in passes of cfg.InternalBatchSize sequences.
func IntegratedGradients(ctx context.Context, m *model.Model, inputs []tokenizer.Encoding, targets []int, cfg Config) ([]Attribution, error) {
	if len(inputs) == 0 {
		return nil, errors.New("integrated gradients: no inputs")
	}
	if len(targets) != len(inputs) {
		return nil, fmt.Errorf("integrated gradients: %d targets for %d inputs", len(targets), len(inputs))
	}
	for i, enc := range inputs {
		if enc.Len() == 0 {
			return nil, fmt.Errorf("input %d: no tokens to attribute", i+1)
		}
		if targets[i] < 0 || targets[i] >= m.NumLabels {
			return nil, fmt.Errorf("input %d: target %d is not a label id in [0, %d)", i+1, targets[i], m.NumLabels)
		}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	alphas, weights, err := Quadrature(cfg.Method, cfg.Steps)
	if err != nil {
		return nil, err
	}

	// The input and the baseline, padded together.
	b := len(inputs)
	ids, types, baseIDs := make([][]int, b), make([][]int, b), make([][]int, b)
	for i, enc := range inputs {
		ids[i], types[i], baseIDs[i] = enc.IDs, enc.TypeIDs, Baseline(enc, m.PadID())
	}
	in := model.PadBatch(ids, types, m.PadID())
	base := model.PadBatch(baseIDs, types, m.PadID())
	base.PositionIDs = m.PositionIDs(in)
	embIn, err := m.EmbeddingOutput(in)
	if err != nil {
		return nil, err
	}
	embBase, err := m.EmbeddingOutput(base)
	if err != nil {
		return nil, err
	}
	diff := make([]float32, len(embIn))
	for i := range diff {
		diff[i] = embIn[i] - embBase[i]
	}

	// F at the input and at the baseline, in one pass.
	both := model.PadBatch(append(append([][]int{}, ids...), baseIDs...), append(append([][]int{}, types...), types...), m.PadID())
	both.PositionIDs = append(append([]int{}, base.PositionIDs...), base.PositionIDs...)
	logits, err := m.Forward(both)
	if err != nil {
		return nil, err
	}
	l := m.NumLabels
	out := make([]Attribution, b)
	for i := range out {
		out[i].Logits = append([]float32(nil), logits[i*l:(i+1)*l]...)
		out[i].Output = explained(cfg.Function, logits[i*l:(i+1)*l], targets[i])
		out[i].BaselineOutput = explained(cfg.Function, logits[(b+i)*l:(b+i+1)*l], targets[i])
	}

	// The gradients along the path, weighted and summed.
	perPass := cfg.InternalBatchSize / b
	if cfg.InternalBatchSize == 0 {
		perPass = DefaultPassTokens / (b * in.T)
	}
	perPass = max(1, min(perPass, len(alphas)))
	t, c := in.T, m.Config.HiddenSize
	seq := t * c // values of one sequence
	total := make([]float32, len(diff))
	for start := 0; start < len(alphas); start += perPass {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := min(perPass, len(alphas)-start)
		pass := &model.Batch{B: k * b, T: t, InputIDs: repeat(in.InputIDs, k), AttentionMask: repeat(in.AttentionMask, k),
			TokenTypeIDs: repeat(in.TokenTypeIDs, k), PositionIDs: repeat(base.PositionIDs, k)}
		x := make([]float32, k*len(diff))
		for a := 0; a < k; a++ {
			alpha := float32(alphas[start+a])
			xa := x[a*len(diff) : (a+1)*len(diff)]
			for i := range xa {
				xa[i] = embBase[i] + alpha*diff[i]
			}
		}
		_, dx, err := m.EmbeddingGradient(pass, x, func(logits, dLogits []float32) {
			for r := 0; r < k*b; r++ {
				outputGradient(cfg.Function, dLogits[r*l:(r+1)*l], logits[r*l:(r+1)*l], targets[r%b])
			}
		})
		if err != nil {
			return nil, err
		}
		for a := 0; a < k; a++ {
			w := float32(weights[start+a])
			tensor.Axpy(w, dx[a*len(diff):(a+1)*len(diff)], total)
		}
	}
	for i := range out {
		out[i].Tokens = make([]float32, inputs[i].Len())
		sum := 0.0
		for j := range out[i].Tokens {
			off := i*seq + j*c
			var s float32
			for h := 0; h < c; h++ {
				s += total[off+h] * diff[off+h]
			}
			out[i].Tokens[j] = s
			sum += float64(s)
		}
		out[i].Delta = float32(sum - (float64(out[i].Output) - float64(out[i].BaselineOutput)))
	}
	return out, nil
}

func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Steps == 0:
		cfg.Steps = DefaultSteps
	case cfg.Steps < 0:
		return cfg, fmt.Errorf("steps must be positive, got %d", cfg.Steps)
	}
	if cfg.Method == "" {
		cfg.Method = GaussLegendre
	}
	if cfg.InternalBatchSize < 0 {
		return cfg, fmt.Errorf("internal batch size must not be negative, got %d", cfg.InternalBatchSize)
	}
	switch cfg.Function {
	case "":
		cfg.Function = Softmax
	case Softmax, Sigmoid, None:
	default:
		return cfg, fmt.Errorf("function must be %s, %s or %s, got %q", Softmax, Sigmoid, None, cfg.Function)
	}
	return cfg, nil
}

// repeat returns k copies of s one after the other (nil for nil).
func repeat(s []int, k int) []int {
	if s == nil {
		return nil
	}
	out := make([]int, 0, k*len(s))
	for i := 0; i < k; i++ {
		out = append(out, s...)
	}
	return out
}

// explained is the output F of the target given the logits of one input.
func explained(fn string, logits []float32, target int) float32 {
	switch fn {
	case Softmax:
		p := make([]float32, len(logits))
		tensor.Softmax(p, logits, 1, len(logits))
		return p[target]
	case Sigmoid:
		s := []float32{logits[target]}
		tensor.Sigmoid(s, s)
		return s[0]
	}
	return logits[target]
}

// outputGradient writes dF/dlogits of one input into d.
func outputGradient(fn string, d, logits []float32, target int) {
	switch fn {
	case Softmax:
		p := make([]float32, len(logits))
		tensor.Softmax(p, logits, 1, len(logits))
		for j := range d {
			d[j] = -p[target] * p[j]
		}
		d[target] += p[target]
	case Sigmoid:
		s := explained(Sigmoid, logits, target)
		d[target] = s * (1 - s)
	default:
		d[target] = 1
	}
}
