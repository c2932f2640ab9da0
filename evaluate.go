package textclf

import (
	"context"
	"fmt"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
)

// InputsOf turns the rows of a data set into classifier inputs (texts, or
// pairs when the row has a second text).
func InputsOf(exs []data.Example) []Input {
	inputs := make([]Input, len(exs))
	for i, ex := range exs {
		inputs[i] = Input{Text: ex.Text}
		if ex.TextPair != "" {
			pair := ex.TextPair
			inputs[i].Pair = &pair
		}
	}
	return inputs
}

// Evaluate scores the classifier on a labelled data set: accuracy,
// precision, recall, F1 and the confusion matrix. A single-label model
// predicts the label of its largest output; a multi-label model the labels
// whose score reaches the threshold (opt.Threshold, else the model's).
// opt.Windows and opt.Progress apply as in ClassifyInputs.
func (c *Classifier) Evaluate(ctx context.Context, ds *data.Dataset, opt ClassifyOptions) (*metrics.Report, error) {
	info := c.Model.Info()
	if info.ProblemType == Regression {
		return nil, fmt.Errorf("%s: evaluating a regression model is not supported", ds.Path)
	}
	if len(ds.Examples) == 0 {
		return nil, fmt.Errorf("%s: no examples to evaluate (the file is empty or holds only a header)", ds.Path)
	}
	index := make(map[string]int, len(info.Labels))
	for i, l := range info.Labels {
		index[l] = i
	}
	gold := make([][]int, len(ds.Examples))
	for i, ex := range ds.Examples {
		for _, l := range ex.Labels {
			id, ok := index[l]
			if !ok {
				return nil, fmt.Errorf("%s:%d: label %q is not one of the model's %v", ds.Path, ex.Line, l, info.Labels)
			}
			gold[i] = append(gold[i], id)
		}
	}
	fn, threshold := c.resolve(info, ClassifyOptions{Threshold: opt.Threshold})
	res, err := c.run(ctx, InputsOf(ds.Examples), opt, fn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ds.Path, err)
	}
	if info.MultiLabel() {
		return metrics.MultiLabel(info.Labels, gold, res.scores, threshold)
	}
	goldIDs, pred := make([]int, len(gold)), make([]int, len(gold))
	for i, g := range gold {
		if len(g) != 1 {
			return nil, fmt.Errorf("%s:%d: %d labels for a single-label model", ds.Path, ds.Examples[i].Line, len(g))
		}
		goldIDs[i], pred[i] = g[0], metrics.Argmax(res.scores[i])
	}
	return metrics.Classification(info.Labels, goldIDs, pred)
}
