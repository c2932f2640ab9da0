package metrics

import (
	"fmt"
)

// ClassStats holds the scores of one class (or label, for multi-label data).
type ClassStats struct {
	// Label is the class name.
	Label string `json:"label"`
	// Precision is TP / (TP + FP).
	Precision float64 `json:"precision"`
	// Recall is TP / (TP + FN).
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of precision and recall.
	F1 float64 `json:"f1"`
	// Support is the number of gold examples of the class.
	Support int `json:"support"`
}

// Average holds averaged precision, recall and F1.
type Average struct {
	// Precision is the averaged precision.
	Precision float64 `json:"precision"`
	// Recall is the averaged recall.
	Recall float64 `json:"recall"`
	// F1 is the averaged F1.
	F1 float64 `json:"f1"`
}

// Report is the evaluation of predictions against gold labels. Scores with
// no defined value (a class never predicted, say) count as 0, as in
// scikit-learn's zero_division=0.
type Report struct {
	// Labels are the class names by id.
	Labels []string `json:"labels"`
	// N is the number of examples.
	N int `json:"n"`
	// MultiLabel says the report is of multi-label predictions.
	MultiLabel bool `json:"multi_label"`
	// Accuracy is the share of examples whose predicted class is the gold
	// class; for multi-label data it equals SubsetAccuracy.
	Accuracy float64 `json:"accuracy"`
	// SubsetAccuracy is the share of examples whose predicted label set is
	// exactly the gold set (multi-label only).
	SubsetAccuracy float64 `json:"subset_accuracy,omitempty"`
	// Threshold is the score above which a label is predicted (multi-label).
	Threshold float64 `json:"threshold,omitempty"`
	// PerClass holds one entry per label, in label order.
	PerClass []ClassStats `json:"per_class"`
	// Macro is the unweighted mean over classes.
	Macro Average `json:"macro"`
	// Micro pools true/false positives over classes.
	Micro Average `json:"micro"`
	// Weighted is the mean over classes weighted by support.
	Weighted Average `json:"weighted"`
	// Confusion[g][p] counts examples of gold class g predicted as p
	// (single-label only).
	Confusion [][]int `json:"confusion,omitempty"`
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// fill computes per-class and averaged scores from counts.
func (r *Report) fill(tp, fp, fn, support []int) {
	k := len(r.Labels)
	r.PerClass = make([]ClassStats, k)
	var sTP, sFP, sFN, total int
	for c := 0; c < k; c++ {
		p := ratio(tp[c], tp[c]+fp[c])
		rc := ratio(tp[c], tp[c]+fn[c])
		st := ClassStats{Label: r.Labels[c], Precision: p, Recall: rc, F1: f1(p, rc), Support: support[c]}
		r.PerClass[c] = st
		r.Macro.Precision += p / float64(k)
		r.Macro.Recall += rc / float64(k)
		r.Macro.F1 += st.F1 / float64(k)
		total += support[c]
		sTP += tp[c]
		sFP += fp[c]
		sFN += fn[c]
	}
	for _, st := range r.PerClass {
		w := ratio(st.Support, total)
		r.Weighted.Precision += w * st.Precision
		r.Weighted.Recall += w * st.Recall
		r.Weighted.F1 += w * st.F1
	}
	r.Micro.Precision = ratio(sTP, sTP+sFP)
	r.Micro.Recall = ratio(sTP, sTP+sFN)
	r.Micro.F1 = f1(r.Micro.Precision, r.Micro.Recall)
}

// Classification evaluates single-label predictions: gold[i] and pred[i]
// are class ids in [0, len(labels)).
func Classification(labels []string, gold, pred []int) (*Report, error) {
	if len(gold) != len(pred) {
		return nil, fmt.Errorf("metrics: %d gold labels but %d predictions", len(gold), len(pred))
	}
	k := len(labels)
	r := &Report{Labels: labels, N: len(gold), Confusion: make([][]int, k)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, k)
	}
	tp, fp, fn, support := make([]int, k), make([]int, k), make([]int, k), make([]int, k)
	correct := 0
	for i := range gold {
		g, p := gold[i], pred[i]
		if g < 0 || g >= k || p < 0 || p >= k {
			return nil, fmt.Errorf("metrics: example %d: class id out of range (gold %d, predicted %d, %d classes)", i, g, p, k)
		}
		r.Confusion[g][p]++
		support[g]++
		if g == p {
			correct++
			tp[g]++
		} else {
			fp[p]++
			fn[g]++
		}
	}
	r.Accuracy = ratio(correct, len(gold))
	r.fill(tp, fp, fn, support)
	return r, nil
}

// MultiLabel evaluates multi-label predictions: gold[i] lists the gold label
// ids of example i, scores[i][c] is the score of label c, and a label is
// predicted when its score is at least threshold.
func MultiLabel(labels []string, gold [][]int, scores [][]float32, threshold float64) (*Report, error) {
	if len(gold) != len(scores) {
		return nil, fmt.Errorf("metrics: %d gold rows but %d score rows", len(gold), len(scores))
	}
	k := len(labels)
	r := &Report{Labels: labels, N: len(gold), MultiLabel: true, Threshold: threshold}
	tp, fp, fn, support := make([]int, k), make([]int, k), make([]int, k), make([]int, k)
	exact := 0
	isGold := make([]bool, k)
	for i := range gold {
		if len(scores[i]) != k {
			return nil, fmt.Errorf("metrics: example %d: %d scores for %d labels", i, len(scores[i]), k)
		}
		clear(isGold)
		for _, g := range gold[i] {
			if g < 0 || g >= k {
				return nil, fmt.Errorf("metrics: example %d: label id %d out of range", i, g)
			}
			isGold[g] = true
		}
		same := true
		for c := 0; c < k; c++ {
			p := float64(scores[i][c]) >= threshold
			switch {
			case p && isGold[c]:
				tp[c]++
			case p:
				fp[c]++
				same = false
			case isGold[c]:
				fn[c]++
				same = false
			}
			if isGold[c] {
				support[c]++
			}
		}
		if same {
			exact++
		}
	}
	r.SubsetAccuracy = ratio(exact, len(gold))
	r.Accuracy = r.SubsetAccuracy
	r.fill(tp, fp, fn, support)
	return r, nil
}

// Argmax returns the index of the largest score (the first one on ties),
// the predicted class of a single-label model; 0 for an empty slice.
func Argmax(scores []float32) int {
	best := 0
	for i, v := range scores {
		if v > scores[best] {
			best = i
		}
	}
	return best
}
