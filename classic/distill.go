package classic

import (
	"errors"

	"github.com/textclf/textclf/nn"
)

// Distillation losses (see nn.SoftTargets).
const (
	// DistillKL is Hinton et al.'s soft-target loss: T²·KL(softmax(t/T) ‖
	// softmax(s/T)) for teacher logits t and student logits s.
	DistillKL = nn.DistillKL
	// DistillMSE is Tang et al.'s (2019) mean squared error between the
	// student's and the teacher's logits.
	DistillMSE = nn.DistillMSE
)

// DefaultTemperature is DistilBERT's distillation temperature.
const DefaultTemperature = nn.DefaultTemperature

// Distillation trains a student on a teacher's logits (knowledge
// distillation): each example's loss is Alpha·soft + (1−Alpha)·CE(label),
// where soft is T²·KL(softmax(t/T) ‖ softmax(s/T)) (Loss "kl", as Hinton
// et al. and DistilBERT) or mean_k (s_k − t_k)² (Loss "mse", as Tang et al.),
// s the student's logits, t the teacher's and CE the cross-entropy of the
// student's softmax with the hard label: nn.SoftTargets, which transformer
// students use too. Single-label models only, and the fastText-style model
// with the softmax loss.
type Distillation struct {
	// Loss is DistillKL or DistillMSE.
	Loss string
	// Temperature is T of the KL loss (DefaultTemperature when 0).
	Temperature float64
	// Alpha weighs the soft term; 1−Alpha weighs the hard labels.
	Alpha float64
	// Teacher holds the teacher's logits of each training example, in the
	// order of the training data, one per label of the student.
	Teacher [][]float32
}

// soft is the loss of d.
func (d *Distillation) soft() nn.SoftTargets {
	return nn.SoftTargets{Loss: d.Loss, Temperature: d.Temperature, Alpha: d.Alpha}
}

// check tells whether d can train a student of k labels on n examples.
func (d *Distillation) check(n, k int) error {
	if err := d.soft().Check(); err != nil {
		return err
	}
	return nn.CheckTeacherLogits(d.Teacher, n, k)
}

// T returns the temperature, DefaultTemperature when unset.
func (d *Distillation) T() float64 { return d.soft().T() }

// LossGrad returns one example's loss given the student's logits s, the
// teacher's t and the hard label (a student label id), and writes the
// gradient of the loss with respect to s into grad (len(s)): see
// nn.SoftTargets.Example.
func (d *Distillation) LossGrad(s, t []float32, label int, grad []float32) float64 {
	return d.soft().Example(grad, s, t, label)
}

// errDistillDP: the two change the loss and the steps in ways not meant
// to be combined here.
var errDistillDP = errors.New("distillation and DP-SGD cannot be combined")
