package textclf

import (
	"context"
	"fmt"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// InputsOf turns the rows of a data set into classifier inputs (texts, or
// pairs when the row has a second text).
func InputsOf(exs []data.Example) []tokenizer.Input {
	inputs := make([]tokenizer.Input, len(exs))
	for i, ex := range exs {
		inputs[i] = tokenizer.Input{Text: ex.Text}
		if ex.TextPair != "" {
			pair := ex.TextPair
			inputs[i].Pair = &pair
		}
	}
	return inputs
}

// Evaluate scores the classifier on a labelled data set: accuracy,
// precision, recall, F1 and the confusion matrix; for a multi-label model
// the labels whose sigmoid reaches threshold are predicted.
func (c *Classifier) Evaluate(ctx context.Context, ds *data.Dataset, threshold float64) (*metrics.Report, error) {
	logits, err := c.Logits(ctx, InputsOf(ds.Examples))
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, l := range c.Labels {
		index[l] = i
	}
	gold := make([][]int, len(ds.Examples))
	for i, ex := range ds.Examples {
		for _, l := range ex.Labels {
			id, ok := index[l]
			if !ok {
				return nil, fmt.Errorf("%s:%d: label %q is not one of the model's %v", ds.Path, ex.Line, l, c.Labels)
			}
			gold[i] = append(gold[i], id)
		}
	}
	if c.Model.ProblemType == model.MultiLabel {
		scores := make([][]float32, len(logits))
		for i, l := range logits {
			scores[i] = ApplyFunction(l, Sigmoid)
		}
		return metrics.MultiLabel(c.Labels, gold, scores, threshold)
	}
	goldIDs, pred := make([]int, len(logits)), make([]int, len(logits))
	for i, l := range logits {
		if len(gold[i]) != 1 {
			return nil, fmt.Errorf("%s:%d: %d labels for a single-label model", ds.Path, ds.Examples[i].Line, len(gold[i]))
		}
		goldIDs[i] = gold[i][0]
		pred[i] = metrics.Argmax(l)
	}
	return metrics.Classification(c.Labels, goldIDs, pred)
}
