package textclf

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/tokenizer"
)

// Options configure Load.
type Options struct {
	// Revision is the hub revision (branch, tag or commit) of a hub id.
	Revision string
	// MaxLength truncates inputs to this many tokens, special tokens
	// included. 0 means the model's limit (max_position_embeddings, less
	// RoBERTa's padding offset).
	MaxLength int
	// BatchSize is the number of texts per forward pass (default 16).
	BatchSize int
	// Threads limits the compute threads (default: all cores).
	Threads int
}

// Classifier is a sequence classification model with its tokenizer, as
// transformers' text-classification pipeline uses them.
type Classifier struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	// Labels are the label names by id (id2label).
	Labels []string
	// Dir is the local directory the model was loaded from.
	Dir  string
	opts Options
}

// Load reads a model directory, or a hub id through the HF cache, with its
// tokenizer.
func Load(ctx context.Context, modelDirOrHubID string, opts Options) (*Classifier, error) {
	dir, _, err := hub.ResolveModel(ctx, modelDirOrHubID, opts.Revision, hub.FromEnv())
	if err != nil {
		return nil, err
	}
	m, _, err := model.Load(dir, 42)
	if err != nil {
		return nil, err
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return NewClassifier(m, tk, dir, opts)
}

// NewClassifier pairs a model with a tokenizer.
func NewClassifier(m *model.Model, tk *tokenizer.Tokenizer, dir string, opts Options) (*Classifier, error) {
	limit := m.MaxTokens()
	if opts.MaxLength <= 0 || opts.MaxLength > limit {
		if opts.MaxLength > limit {
			return nil, fmt.Errorf("max length %d exceeds the model's %d positions", opts.MaxLength, limit)
		}
		opts.MaxLength = min(limit, 512)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 16
	}
	if opts.Threads > 0 {
		tensor.SetThreads(opts.Threads)
	}
	t := *tk // our own truncation and padding settings
	t.Truncation = &tokenizer.Truncation{MaxLength: opts.MaxLength, Strategy: tokenizer.LongestFirst, Direction: tokenizer.TruncateRight}
	t.Padding = nil
	labels := m.Config.Labels
	if len(labels) != m.NumLabels {
		labels = make([]string, m.NumLabels)
		for i := range labels {
			labels[i] = fmt.Sprintf("LABEL_%d", i)
		}
	}
	return &Classifier{Model: m, Tokenizer: &t, Labels: labels, Dir: dir, opts: opts}, nil
}

// MaxLength is the truncation length in tokens.
func (c *Classifier) MaxLength() int { return c.opts.MaxLength }

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
	// Scores holds every label, best first.
	Scores []LabelScore `json:"scores"`
	// Logits are the raw model outputs, by label id.
	Logits []float32 `json:"logits"`
	// Windows is the number of windows a long input was cut into
	// (ClassifyWindows), else 0.
	Windows int `json:"windows,omitempty"`
}

// Function is what turns logits into scores.
type Function string

// The functions of transformers' text-classification pipeline.
const (
	Softmax Function = "softmax"
	Sigmoid Function = "sigmoid"
	None    Function = "none"
)

// DefaultFunction is the pipeline's default: sigmoid for multi-label models
// and single-output (regression) models, else softmax.
func (c *Classifier) DefaultFunction() Function {
	if c.Model.ProblemType == model.MultiLabel || c.Model.NumLabels == 1 {
		return Sigmoid
	}
	return Softmax
}

// Classify classifies texts with the default function.
func (c *Classifier) Classify(ctx context.Context, texts ...string) ([]Prediction, error) {
	inputs := make([]tokenizer.Input, len(texts))
	for i, t := range texts {
		inputs[i] = tokenizer.Input{Text: t}
	}
	return c.ClassifyInputs(ctx, inputs, c.DefaultFunction())
}

// ClassifyInputs classifies texts or text pairs, applying fn to the logits.
func (c *Classifier) ClassifyInputs(ctx context.Context, inputs []tokenizer.Input, fn Function) ([]Prediction, error) {
	logits, err := c.Logits(ctx, inputs)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(inputs))
	for i, l := range logits {
		out[i] = c.predictionFromLogits(l, fn)
	}
	return out, nil
}

func (c *Classifier) predictionFromLogits(logits []float32, fn Function) Prediction {
	scores := ApplyFunction(logits, fn)
	p := Prediction{Logits: logits, Scores: make([]LabelScore, len(scores))}
	for j, s := range scores {
		p.Scores[j] = LabelScore{Label: c.Labels[j], Score: s}
	}
	sort.SliceStable(p.Scores, func(a, b int) bool { return p.Scores[a].Score > p.Scores[b].Score })
	p.Label, p.Score = p.Scores[0].Label, p.Scores[0].Score
	return p
}

// ApplyFunction turns logits into scores.
func ApplyFunction(logits []float32, fn Function) []float32 {
	out := make([]float32, len(logits))
	switch fn {
	case Sigmoid:
		for i, v := range logits {
			out[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case None:
		copy(out, logits)
	default:
		m := logits[0]
		for _, v := range logits {
			m = max(m, v)
		}
		var sum float64
		for i, v := range logits {
			e := math.Exp(float64(v - m))
			out[i] = float32(e)
			sum += e
		}
		for i := range out {
			out[i] = float32(float64(out[i]) / sum)
		}
	}
	return out
}

// Logits runs the model on inputs in batches of similar length and returns
// the logits of each input, in input order.
func (c *Classifier) Logits(ctx context.Context, inputs []tokenizer.Input) ([][]float32, error) {
	encs, err := c.Tokenizer.EncodeBatch(inputs, true)
	if err != nil {
		return nil, err
	}
	return c.LogitsOfEncodings(ctx, encs)
}

// LogitsOfEncodings runs the model on already tokenized inputs.
func (c *Classifier) LogitsOfEncodings(ctx context.Context, encs []tokenizer.Encoding) ([][]float32, error) {
	order := make([]int, len(encs))
	for i := range order {
		order[i] = i
	}
	// Sorting by length wastes little padding; results do not depend on the
	// batch a text is in.
	sort.SliceStable(order, func(a, b int) bool { return encs[order[a]].Len() < encs[order[b]].Len() })
	out := make([][]float32, len(encs))
	for start := 0; start < len(order); start += c.opts.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := order[start:min(start+c.opts.BatchSize, len(order))]
		batch := make([]tokenizer.Encoding, len(idx))
		for i, j := range idx {
			batch[i] = encs[j]
		}
		logits, err := c.Model.Forward(BatchOf(batch, c.Model.PadID()))
		if err != nil {
			return nil, err
		}
		l := c.Model.NumLabels
		for i, j := range idx {
			out[j] = logits[i*l : (i+1)*l : (i+1)*l]
		}
	}
	return out, nil
}

// BatchOf pads encodings with padID to the longest and lays them out as a
// model batch.
func BatchOf(encs []tokenizer.Encoding, padID int) *model.Batch {
	ids := make([][]int, len(encs))
	types := make([][]int, len(encs))
	for i, e := range encs {
		ids[i], types[i] = e.IDs, e.TypeIDs
	}
	return model.PadBatch(ids, types, padID)
}

// ClassifyWindows classifies inputs on all of their text: an input longer
// than MaxLength tokens is cut into windows of MaxLength tokens overlapping
// by stride tokens (each with its special tokens), and the scores of its
// windows are averaged (mean). Prediction.Logits holds the mean logits.
func (c *Classifier) ClassifyWindows(ctx context.Context, inputs []tokenizer.Input, stride int, fn Function) ([]Prediction, error) {
	if stride < 0 || stride >= c.opts.MaxLength/2 {
		return nil, fmt.Errorf("window stride %d must be in [0, %d) for a max length of %d", stride, c.opts.MaxLength/2, c.opts.MaxLength)
	}
	t := *c.Tokenizer
	tr := *t.Truncation
	tr.Stride = stride
	t.Truncation = &tr
	encs, err := t.EncodeBatch(inputs, true)
	if err != nil {
		return nil, err
	}
	var windows []tokenizer.Encoding
	owner := []int{}
	for i, e := range encs {
		overflow := e.Overflowing
		e.Overflowing = nil
		windows = append(windows, e)
		owner = append(owner, i)
		for _, o := range overflow {
			o.Overflowing = nil
			windows = append(windows, o)
			owner = append(owner, i)
		}
	}
	logits, err := c.LogitsOfEncodings(ctx, windows)
	if err != nil {
		return nil, err
	}
	l := c.Model.NumLabels
	sumScores := make([][]float64, len(inputs))
	sumLogits := make([][]float64, len(inputs))
	count := make([]int, len(inputs))
	for i := range inputs {
		sumScores[i], sumLogits[i] = make([]float64, l), make([]float64, l)
	}
	for w, lg := range logits {
		i := owner[w]
		for j, s := range ApplyFunction(lg, fn) {
			sumScores[i][j] += float64(s)
			sumLogits[i][j] += float64(lg[j])
		}
		count[i]++
	}
	out := make([]Prediction, len(inputs))
	for i := range inputs {
		meanLogits := make([]float32, l)
		p := Prediction{Logits: meanLogits, Scores: make([]LabelScore, l), Windows: count[i]}
		for j := 0; j < l; j++ {
			meanLogits[j] = float32(sumLogits[i][j] / float64(count[i]))
			p.Scores[j] = LabelScore{Label: c.Labels[j], Score: float32(sumScores[i][j] / float64(count[i]))}
		}
		sort.SliceStable(p.Scores, func(a, b int) bool { return p.Scores[a].Score > p.Scores[b].Score })
		p.Label, p.Score = p.Scores[0].Label, p.Scores[0].Score
		out[i] = p
	}
	return out, nil
}
