package textclf

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/textclf/textclf/explain"
)

// Explanation is the attribution of a prediction to the tokens of its text
// (see package explain).
type Explanation = explain.Explanation

// ExplainOptions say how Classifier.Explain attributes a prediction.
type ExplainOptions struct {
	// Target is the label explained: a label name, or a label id when no
	// label has that name. "" explains the predicted label.
	Target string
	// Method is explain.GaussLegendre or explain.RiemannTrapezoid
	// (integrated gradients, transformers only) or explain.Occlusion
	// (leave-one-out, any model). "" is Gauss-Legendre for a transformer,
	// occlusion for other models.
	Method string
	// Steps is the number of points of the path integral (integrated
	// gradients); 0 means explain.DefaultSteps (50). It must not be
	// negative.
	Steps int
	// InternalBatchSize is the most sequences per forward and backward
	// pass of integrated gradients; 0 fits as many steps as
	// explain.DefaultPassTokens padded tokens allow.
	InternalBatchSize int
	// TruncateLeft keeps the end of a text longer than the model's
	// MaxLength instead of its start.
	TruncateLeft bool
}

// Explain attributes the model's output for a label on text to the tokens
// of text, truncated to MaxLength tokens. A transformer is explained by
// integrated gradients as Captum's LayerIntegratedGradients on its
// embeddings output computes them (the baseline keeps the special tokens
// and pads the rest; the explained output is the softmax probability of
// the label, its sigmoid for multi-label and one-label models); any other
// model by leave-one-out occlusion of its words. The label is the
// predicted one unless opts.Target names another.
func (c *Classifier) Explain(ctx context.Context, text string, opts ExplainOptions) (Explanation, error) {
	if strings.TrimSpace(text) == "" {
		return Explanation{}, errors.New("explain: empty text")
	}
	if opts.Steps < 0 {
		return Explanation{}, fmt.Errorf("explain: steps must be positive, got %d", opts.Steps)
	}
	info := c.Model.Info()
	tr, isTransformer := c.Model.(*Transformer)
	switch opts.Method {
	case "":
		opts.Method = explain.Occlusion
		if isTransformer {
			opts.Method = explain.GaussLegendre
		}
	case explain.GaussLegendre, explain.RiemannTrapezoid:
		if !isTransformer {
			return Explanation{}, fmt.Errorf("explain: integrated gradients need a transformer; explain %s models with %s", info.Kind, explain.Occlusion)
		}
	case explain.Occlusion:
	default:
		return Explanation{}, fmt.Errorf("explain: method must be %s, %s or %s, got %q", explain.GaussLegendre, explain.RiemannTrapezoid, explain.Occlusion, opts.Method)
	}
	if opts.Method != explain.Occlusion && opts.Steps == 0 {
		opts.Steps = explain.DefaultSteps
	}
	if opts.Method == explain.Occlusion {
		opts.Steps = 0
	}
	enc, err := c.Model.Encode(Input{Text: text}, EncodeOptions{Truncate: true, TruncateLeft: opts.TruncateLeft, Context: ctx})
	if err != nil {
		return Explanation{}, fmt.Errorf("explain: %w", err)
	}
	enc.Overflowing = nil
	special := 0
	for _, s := range enc.SpecialTokensMask {
		special += s
	}
	if enc.Len() == special {
		return Explanation{}, fmt.Errorf("explain: text %q has no tokens to attribute", text)
	}
	outputs, err := c.LogitsOfEncodings(ctx, []Encoding{enc}, nil)
	if err != nil {
		return Explanation{}, err
	}
	scores := ApplyFunction(outputs[0], info.Function)
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	target := best
	if opts.Target != "" {
		if target, err = labelID(info.Labels, opts.Target); err != nil {
			return Explanation{}, fmt.Errorf("explain: %w", err)
		}
	}

	var a explain.Attribution
	if opts.Method == explain.Occlusion {
		logits := func(ctx context.Context, encs []Encoding) ([][]float32, error) {
			return c.LogitsOfEncodings(ctx, encs, nil)
		}
		a, err = explain.Occlude(ctx, logits, enc, target, string(info.Function))
	} else {
		var as []explain.Attribution
		as, err = explain.IntegratedGradients(ctx, tr.Network(), []Encoding{enc}, []int{target}, explain.Config{
			Steps: opts.Steps, Method: opts.Method, InternalBatchSize: opts.InternalBatchSize, Function: string(info.Function)})
		if err == nil {
			a = as[0]
		}
	}
	if err != nil {
		return Explanation{}, fmt.Errorf("explain: %w", err)
	}
	e := Explanation{Text: text, Label: info.Labels[target], Probability: a.Output, BaselineProbability: a.BaselineOutput,
		Predicted: info.Labels[best], Method: opts.Method, Steps: opts.Steps}
	for i, s := range scores {
		e.Scores = append(e.Scores, explain.LabelScore{Label: info.Labels[i], Score: s})
	}
	sort.SliceStable(e.Scores, func(i, j int) bool { return e.Scores[i].Score > e.Scores[j].Score })
	if !isTransformer && len(enc.Offsets) == 0 {
		enc.Offsets = locateWords(text, enc.Tokens)
	}
	e.Fill(enc, a.Tokens)
	return e, nil
}

// labelID finds a label by name, else by id.
func labelID(labels []string, s string) (int, error) {
	for i, l := range labels {
		if l == s {
			return i, nil
		}
	}
	if id, err := strconv.Atoi(s); err == nil && id >= 0 && id < len(labels) {
		return id, nil
	}
	return 0, fmt.Errorf("target %q is not a label of the model (labels: %s)", s, strings.Join(labels, ", "))
}

// locateWords finds the words a classic model's segmentation made in text,
// in order, ignoring case: their [start, end) in code points, or [-1, -1]
// for a word not found as written (fastText's "</s>", say).
func locateWords(text string, words []string) [][2]int {
	runes := []rune(text)
	lower := []rune(strings.ToLower(text))
	if len(lower) != len(runes) {
		lower = runes
	}
	out := make([][2]int, len(words))
	pos := 0
	for i, w := range words {
		out[i] = [2]int{-1, -1}
		wr := []rune(strings.ToLower(w))
		if len(wr) == 0 {
			continue
		}
	search:
		for s := pos; s+len(wr) <= len(lower); s++ {
			for k, r := range wr {
				if lower[s+k] != r {
					continue search
				}
			}
			out[i] = [2]int{s, s + len(wr)}
			pos = s + len(wr)
			break
		}
	}
	return out
}
