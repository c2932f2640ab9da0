package nn

import (
	"fmt"
	"math"

	"github.com/textclf/textclf/tensor"
)

// CrossEntropy is torch's cross_entropy with mean reduction over a batch of
// logits [n, classes] and labels in [0, classes); with weights (length
// classes) it is the weighted mean Σ w_y·nll / Σ w_y. It returns the loss
// and writes dL/dlogits into dlogits (when not nil).
func CrossEntropy(dlogits, logits []float32, labels []int, classes int, weights []float32) (float32, error) {
	if weights == nil && dlogits != nil && len(labels) > 0 {
		return crossEntropySoftmax(dlogits, logits, labels, classes)
	}
	var total, norm float64
	logZ := make([]float64, len(labels))
	for i, y := range labels {
		if y < 0 || y >= classes {
			return 0, fmt.Errorf("label %d of example %d is outside [0, %d)", y, i, classes)
		}
		row := logits[i*classes : (i+1)*classes]
		logZ[i] = LogSumExp(row)
		w := classWeight(weights, y)
		total += w * (logZ[i] - float64(row[y]))
		norm += w
	}
	if len(labels) == 0 || norm == 0 {
		return 0, nil
	}
	if dlogits != nil {
		for i, y := range labels {
			w := classWeight(weights, y)
			for j, v := range logits[i*classes : (i+1)*classes] {
				p := math.Exp(float64(v) - logZ[i])
				if j == y {
					p--
				}
				dlogits[i*classes+j] = float32(w * p / norm)
			}
		}
	}
	return float32(total / norm), nil
}

// crossEntropySoftmax is the unweighted CrossEntropy with its gradient
// through the vectorised, parallel softmax of package tensor (a masked
// language model's loss spans the vocabulary at every masked token): the
// softmax is written into dlogits, the loss is the mean of -log p[y]
// (computed from the logits' log-sum-exp where p[y] underflows), and the
// gradient is (p - onehot(y)) / n.
func crossEntropySoftmax(dlogits, logits []float32, labels []int, classes int) (float32, error) {
	for i, y := range labels {
		if y < 0 || y >= classes {
			return 0, fmt.Errorf("label %d of example %d is outside [0, %d)", y, i, classes)
		}
	}
	n := len(labels)
	tensor.Softmax(dlogits[:n*classes], logits[:n*classes], n, classes)
	var total float64
	for i, y := range labels {
		p := float64(dlogits[i*classes+y])
		if p > 1e-30 {
			total -= math.Log(p)
		} else {
			total += LogSumExp(logits[i*classes:(i+1)*classes]) - float64(logits[i*classes+y])
		}
		dlogits[i*classes+y]--
	}
	tensor.Scale(float32(1/float64(n)), dlogits[:n*classes])
	return float32(total / float64(n)), nil
}

// LogSumExp is log Σ exp(x) of a non-empty row, shifted by its maximum and
// summed in float64.
func LogSumExp(x []float32) float64 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v - m))
	}
	return float64(m) + math.Log(sum)
}

func classWeight(weights []float32, y int) float64 {
	if weights == nil {
		return 1
	}
	return float64(weights[y])
}

// BCEWithLogits is torch's binary_cross_entropy_with_logits with mean
// reduction over all n values of logits and targets (in [0, 1]).
func BCEWithLogits(dlogits, logits, targets []float32) float32 {
	n := float64(len(logits))
	var total float64
	for i, x := range logits {
		xv, y := float64(x), float64(targets[i])
		total += math.Max(xv, 0) - xv*y + math.Log1p(math.Exp(-math.Abs(xv)))
		if dlogits != nil {
			dlogits[i] = float32((1/(1+math.Exp(-xv)) - y) / n)
		}
	}
	if n == 0 {
		return 0
	}
	return float32(total / n)
}

// MSE is torch's mse_loss with mean reduction.
func MSE(dpred, pred, targets []float32) float32 {
	n := float64(len(pred))
	var total float64
	for i, p := range pred {
		diff := float64(p) - float64(targets[i])
		total += diff * diff
		if dpred != nil {
			dpred[i] = float32(2 * diff / n)
		}
	}
	if n == 0 {
		return 0
	}
	return float32(total / n)
}
