package nn

import (
	"fmt"
	"math"
)

// Soft-target losses of knowledge distillation.
const (
	// DistillKL is Hinton et al.'s soft-target loss: T²·KL(softmax(t/T) ‖
	// softmax(s/T)) for teacher logits t and student logits s.
	DistillKL = "kl"
	// DistillMSE is Tang et al.'s (2019) mean squared error between the
	// student's and the teacher's logits.
	DistillMSE = "mse"
)

// DefaultTemperature is DistilBERT's distillation temperature.
const DefaultTemperature = 2.0

// SoftTargets is the loss of a student learning from a teacher's logits
// (knowledge distillation): each example's loss is Alpha·soft +
// (1−Alpha)·CE(label), where soft is T²·KL(softmax(t/T) ‖ softmax(s/T))
// (Loss DistillKL, as Hinton et al. and DistilBERT) or mean_k (s_k − t_k)²
// (Loss DistillMSE, as Tang et al.), s the student's logits, t the
// teacher's and CE the cross-entropy of the student's softmax with the
// hard label. Over a batch it is the mean of the examples' losses, as
// PyTorch's F.kl_div(..., reduction="batchmean") and F.cross_entropy.
type SoftTargets struct {
	// Loss is DistillKL or DistillMSE.
	Loss string
	// Temperature is T of the KL loss (DefaultTemperature when 0).
	Temperature float64
	// Alpha weighs the soft term; 1−Alpha weighs the hard labels.
	Alpha float64
}

// Check refuses an unknown loss, a negative or infinite temperature and
// an alpha outside [0, 1].
func (d SoftTargets) Check() error {
	switch d.Loss {
	case DistillKL, DistillMSE:
	default:
		return fmt.Errorf("distillation loss %q: want %s or %s", d.Loss, DistillKL, DistillMSE)
	}
	if d.Temperature < 0 || math.IsNaN(d.Temperature) || math.IsInf(d.Temperature, 0) {
		return fmt.Errorf("distillation temperature %g: want a positive number", d.Temperature)
	}
	if !(d.Alpha >= 0 && d.Alpha <= 1) {
		return fmt.Errorf("distillation alpha %g: want a number in [0, 1]", d.Alpha)
	}
	return nil
}

// T returns the temperature, DefaultTemperature when unset.
func (d SoftTargets) T() float64 {
	if d.Temperature == 0 {
		return DefaultTemperature
	}
	return d.Temperature
}

// Example returns one example's loss given the student's logits s, the
// teacher's t and the hard label (in [0, len(s))), and writes the gradient
// of the loss with respect to s into grad (len(s)). Sums run in float64.
func (d SoftTargets) Example(grad, s, t []float32, label int) float64 {
	k := len(s)
	alpha := d.Alpha
	ps := softmax64(s, 1)
	// Hard part: cross-entropy with the label.
	hard := -math.Log(math.Max(ps[label], 1e-30))
	g := make([]float64, k)
	for i := range g {
		g[i] = (1 - alpha) * ps[i]
	}
	g[label] -= 1 - alpha
	var soft float64
	switch d.Loss {
	case DistillMSE:
		for i := range s {
			diff := float64(s[i]) - float64(t[i])
			soft += diff * diff / float64(k)
			g[i] += alpha * 2 * diff / float64(k)
		}
	default:
		temp := d.T()
		qs, pt := softmax64(s, temp), softmax64(t, temp)
		for i := range s {
			if pt[i] > 0 {
				soft += pt[i] * (math.Log(pt[i]) - math.Log(math.Max(qs[i], 1e-300)))
			}
			g[i] += alpha * temp * (qs[i] - pt[i])
		}
		soft *= temp * temp
	}
	for i := range grad {
		grad[i] = float32(g[i])
	}
	return alpha*soft + (1-alpha)*hard
}

// Batch is the mean loss of a batch of student logits [n, classes] with
// the teacher's logits [n, classes] and the hard labels (n of them), and
// writes its gradient with respect to the student's logits into dlogits
// (when not nil).
func (d SoftTargets) Batch(dlogits, logits, teacher []float32, labels []int, classes int) (float32, error) {
	n := len(labels)
	if len(logits) != n*classes || len(teacher) != n*classes {
		return 0, fmt.Errorf("distillation: %d student and %d teacher logits for %d examples of %d labels", len(logits), len(teacher), n, classes)
	}
	if n == 0 {
		return 0, nil
	}
	grad := make([]float32, classes)
	var total float64
	for i, y := range labels {
		if y < 0 || y >= classes {
			return 0, fmt.Errorf("label %d of example %d is outside [0, %d)", y, i, classes)
		}
		row := i * classes
		total += d.Example(grad, logits[row:row+classes], teacher[row:row+classes], y)
		if dlogits != nil {
			for j, v := range grad {
				dlogits[row+j] = v / float32(n)
			}
		}
	}
	return float32(total / float64(n)), nil
}

// CheckTeacherLogits tells whether teacher holds k finite logits for each
// of n training examples.
func CheckTeacherLogits(teacher [][]float32, n, k int) error {
	if len(teacher) != n {
		return fmt.Errorf("distillation: %d teacher logits for %d training examples", len(teacher), n)
	}
	for i, t := range teacher {
		if len(t) != k {
			return fmt.Errorf("distillation: example %d has %d teacher logits for %d labels", i+1, len(t), k)
		}
		for _, v := range t {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("distillation: example %d has a teacher logit %v", i+1, v)
			}
		}
	}
	return nil
}

// softmax64 is softmax(x/temp) in float64.
func softmax64(x []float32, temp float64) []float64 {
	out := make([]float64, len(x))
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v)/temp)
	}
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(float64(v)/temp - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
