package textclf

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/textclf/textclf/data"
)

// Options configure Open and NewClassifier.
type Options struct {
	// Revision is the hub revision (branch, tag or commit) of a hub id.
	Revision string
	// MaxLength truncates inputs to this many tokens, special tokens
	// included. 0 means the model's limit (a transformer's
	// max_position_embeddings, less RoBERTa's padding offset, at most 512
	// except for ModernBERT;
	// TextCNN/BiLSTM's max_len; none for fastText).
	MaxLength int
	// BatchSize is the most inputs per forward pass (default 16).
	BatchSize int
	// Threads limits the compute threads (default: all cores).
	Threads int
	// Dtype is what a transformer's Linear layers run in: "" or "f32" as
	// stored, "int8" quantized on load (model.Model.Quantize: int8 weights
	// per output channel, inputs quantized per row at run time), "bf16"
	// rounded on load (model.Model.ToBF16: bfloat16 weights and inputs,
	// float32 sums). An int8 checkpoint (textclf quantize) runs in int8
	// whatever Dtype says (model.LoadInference, model.Model.RunIn); a bf16
	// one with "bf16" has its weights packed straight from the file. int8
	// or bf16 for a classic model is an error.
	Dtype string
}

// DefaultBatchSize is the number of inputs per forward pass when
// Options.BatchSize is 0.
const DefaultBatchSize = 16

// Classifier classifies texts with a Model, as transformers'
// text-classification pipeline does: it tokenizes, runs inputs of similar
// length together, turns outputs into scores and labels, reads long texts
// in windows, and evaluates on labelled data. It is safe for concurrent
// use.
type Classifier struct {
	// Model is the model that classifies.
	Model Model
	// Warnings are the messages of loading the model (weights newly
	// initialised, checkpoint tensors not used), as from_pretrained logs them.
	Warnings  []string
	batchSize int
}

// NewClassifier classifies with m, in forward passes of at most
// opts.BatchSize inputs (opts.MaxLength and Revision are the Model's
// business and unused here).
func NewClassifier(m Model, opts Options) *Classifier {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	return &Classifier{Model: m, batchSize: opts.BatchSize}
}

// Info describes the model.
func (c *Classifier) Info() ModelInfo { return c.Model.Info() }

// Labels are the label names by label id.
func (c *Classifier) Labels() []string { return c.Model.Info().Labels }

// MaxLength is the truncation length in tokens (0: none).
func (c *Classifier) MaxLength() int { return c.Model.Info().MaxLength }

// LabelScore is a label with its score.
type LabelScore struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// Prediction is the classification of one input.
type Prediction struct {
	// Label and Score are the best label and its score.
	Label string  `json:"label"`
	Score float32 `json:"score"`
	// Labels are, for a multi-label model scored with sigmoids, the labels
	// whose score reaches the threshold, best first; else nil.
	Labels []string `json:"labels,omitempty"`
	// Scores holds every label, best first.
	Scores []LabelScore `json:"scores"`
	// Logits are the raw outputs by label id (the mean over windows); nil
	// for a model whose outputs are its scores (classic models).
	Logits []float32 `json:"logits,omitempty"`
	// Windows is the number of windows a long input was read in
	// (ClassifyOptions.Windows), else 0.
	Windows int `json:"windows,omitempty"`
}

// ClassifyOptions say how inputs are classified.
type ClassifyOptions struct {
	// Function turns outputs into scores; "" is the model's default
	// (ModelInfo.Function).
	Function Function
	// Threshold is the multi-label decision threshold; 0 is the model's
	// (ModelInfo.Threshold).
	Threshold float64
	// TruncateLeft keeps the end of a long input instead of its start.
	TruncateLeft bool
	// Windows reads all of a long input: it is cut into windows of
	// MaxLength tokens sharing Stride tokens (each with its special
	// tokens), and the scores and outputs of its windows are averaged.
	Windows bool
	Stride  int
	// Progress, when set, is called after each forward pass with the
	// number of windows (inputs, without Windows) done and their total.
	Progress func(done, total int)
}

// Classify classifies texts with the model's default function.
func (c *Classifier) Classify(ctx context.Context, texts ...string) ([]Prediction, error) {
	inputs := make([]Input, len(texts))
	for i, t := range texts {
		inputs[i] = Input{Text: t}
	}
	return c.ClassifyInputs(ctx, inputs, ClassifyOptions{})
}

// ClassifyInputs classifies texts or text pairs.
func (c *Classifier) ClassifyInputs(ctx context.Context, inputs []Input, opt ClassifyOptions) ([]Prediction, error) {
	info := c.Model.Info()
	fn, threshold := c.resolve(info, opt)
	res, err := c.run(ctx, inputs, opt, fn)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(inputs))
	for i := range inputs {
		p := Prediction{Scores: make([]LabelScore, len(res.scores[i])), Windows: res.windows[i]}
		if info.Function != None {
			p.Logits = res.outputs[i]
		}
		for j, s := range res.scores[i] {
			p.Scores[j] = LabelScore{Label: info.Labels[j], Score: s}
		}
		sort.SliceStable(p.Scores, func(a, b int) bool { return p.Scores[a].Score > p.Scores[b].Score })
		p.Label, p.Score = p.Scores[0].Label, p.Scores[0].Score
		if info.MultiLabel() && (fn == Sigmoid || info.Function == None) {
			p.Labels = []string{}
			for _, s := range p.Scores {
				if float64(s.Score) >= threshold {
					p.Labels = append(p.Labels, s.Label)
				}
			}
		}
		out[i] = p
	}
	return out, nil
}

// resolve fills the model's defaults into the function and threshold.
func (c *Classifier) resolve(info ModelInfo, opt ClassifyOptions) (Function, float64) {
	fn, threshold := opt.Function, opt.Threshold
	if fn == "" {
		fn = info.Function
	}
	if threshold == 0 {
		threshold = info.Threshold
	}
	return fn, threshold
}

// results are the outputs and scores (by label id) of inputs, the means
// over their windows.
type results struct {
	outputs, scores [][]float32
	windows         []int // 0 unless read in windows
}

// run encodes the inputs, runs them and scores them with fn.
func (c *Classifier) run(ctx context.Context, inputs []Input, opt ClassifyOptions, fn Function) (*results, error) {
	enc := EncodeOptions{Truncate: true, TruncateLeft: opt.TruncateLeft, Windows: opt.Windows, Stride: opt.Stride}
	var pieces []Encoding
	owner := make([]int, 0, len(inputs))
	for i, in := range inputs {
		e, err := c.Model.Encode(in, enc)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
		overflow := e.Overflowing
		e.Overflowing = nil
		pieces, owner = append(pieces, e), append(owner, i)
		for _, o := range overflow {
			o.Overflowing = nil
			pieces, owner = append(pieces, o), append(owner, i)
		}
	}
	outputs, err := c.LogitsOfEncodings(ctx, pieces, opt.Progress)
	if err != nil {
		return nil, err
	}
	for w, o := range outputs {
		for j, v := range o {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				i := owner[w]
				return nil, fmt.Errorf("input %d (%s): output %d of the model is %v (weights or activations overflowed): no scores to give",
					i+1, quoteShort(inputs[i].Text), j, v)
			}
		}
	}
	res := &results{outputs: make([][]float32, len(inputs)), scores: make([][]float32, len(inputs)), windows: make([]int, len(inputs))}
	if len(pieces) == len(inputs) {
		for i, o := range outputs {
			res.outputs[i], res.scores[i] = o, ApplyFunction(o, fn)
			if opt.Windows {
				res.windows[i] = 1
			}
		}
		return res, nil
	}
	for w, o := range outputs {
		i := owner[w]
		if res.outputs[i] == nil {
			res.outputs[i], res.scores[i] = make([]float32, len(o)), make([]float32, len(o))
		}
		for j, s := range ApplyFunction(o, fn) {
			res.outputs[i][j] += o[j]
			res.scores[i][j] += s
		}
		res.windows[i]++
	}
	for i, n := range res.windows {
		for j := range res.outputs[i] {
			res.outputs[i][j] /= float32(n)
			res.scores[i][j] /= float32(n)
		}
	}
	return res, nil
}

// Logits runs the model on inputs, truncated to MaxLength, and returns the
// raw outputs of each input, in input order.
func (c *Classifier) Logits(ctx context.Context, inputs []Input) ([][]float32, error) {
	encs := make([]Encoding, len(inputs))
	for i, in := range inputs {
		var err error
		if encs[i], err = c.Model.Encode(in, EncodeOptions{Truncate: true}); err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	return c.LogitsOfEncodings(ctx, encs, nil)
}

// LogitsOfEncodings runs the model on encoded inputs and returns the
// outputs of each, in input order. Inputs are sorted by length and cut
// into forward passes of at most BatchSize inputs whose padding stays under
// data.MaxPadding (data.InferenceBatches); the results do not depend on the
// grouping. progress, when
// not nil, is called after each pass.
func (c *Classifier) LogitsOfEncodings(ctx context.Context, encs []Encoding, progress func(done, total int)) ([][]float32, error) {
	out := make([][]float32, len(encs))
	done := 0
	lengths := make([]int, len(encs))
	for i := range encs {
		lengths[i] = encs[i].Len()
	}
	for _, group := range data.InferenceBatches(lengths, c.batchSize) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := make([]Encoding, len(group))
		for i, j := range group {
			batch[i] = encs[j]
		}
		outputs, err := c.Model.Logits(ctx, batch)
		if err != nil {
			return nil, err
		}
		if len(outputs) != len(batch) {
			return nil, fmt.Errorf("model gave %d outputs for %d inputs", len(outputs), len(batch))
		}
		for i, j := range group {
			out[j] = outputs[i]
		}
		done += len(group)
		if progress != nil {
			progress(done, len(encs))
		}
	}
	return out, nil
}

// quoteShort quotes a text for an error message, cut to 60 characters.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return strconv.Quote(s)
}
