package train

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/privacy"
	"github.com/textclf/textclf/tensor"
)

// Stepper takes optimizer steps on a model as the HF Trainer does: the loss
// of each micro-batch divided by the accumulation count, gradients summed,
// clipped to a global norm, AdamW at the scheduled learning rate.
type Stepper struct {
	Model       *model.Model
	Optimizer   *AdamW
	Schedule    Schedule
	BaseLR      float64
	MaxGradNorm float64 // 0 disables clipping
}

// StepResult is what one optimizer step did.
type StepResult struct {
	Loss     float64 // mean loss of the micro-batches
	GradNorm float64 // global gradient norm before clipping
	LR       float64 // learning rate used
}

// Step runs forward and backward on every micro-batch and one optimizer step.
func (s *Stepper) Step(batches []*model.Batch, labels []*model.Labels) (StepResult, error) {
	if len(batches) == 0 || len(batches) != len(labels) {
		return StepResult{}, fmt.Errorf("step: %d batches and %d label sets", len(batches), len(labels))
	}
	s.Model.ZeroGrad()
	scale := 1 / float32(len(batches))
	var res StepResult
	for i, b := range batches {
		_, loss, err := s.Model.ForwardTrain(b, labels[i])
		if err != nil {
			return StepResult{}, err
		}
		res.Loss += float64(loss) / float64(len(batches))
		// The gradient of loss/accum: scale the logit gradient.
		d := s.Model.LossGradient()
		for j := range d {
			d[j] *= scale
		}
		if err := s.Model.Backward(d); err != nil {
			return StepResult{}, err
		}
	}
	res.GradNorm = GlobalNorm(s.Model.Params())
	if s.MaxGradNorm > 0 {
		ClipGradNorm(s.Model.Params(), res.GradNorm, s.MaxGradNorm)
	}
	res.LR = s.BaseLR * s.Schedule.Factor(s.Optimizer.Steps())
	s.Optimizer.LR = res.LR
	s.Optimizer.Step()
	return res, nil
}

// StepDP takes one DP-SGD step (Opacus' semantics) on batch, the step's
// Poisson batch (nil when it drew no example): each example's gradient of
// its own loss is clipped to plan.MaxGradNorm (the model's per-sample norms
// scale its row of the logit gradient before the backward pass), the
// clipped gradients are summed, noised and divided by the expected batch
// size (plan.Privatize, with the noise of (seed, step)), then AdamW steps at
// the scheduled learning rate. GradNorm is the private gradient's norm.
func (s *Stepper) StepDP(batch *model.Batch, labels *model.Labels, plan *privacy.Plan, seed uint64, step int) (StepResult, error) {
	s.Model.WeightsChanged() // the optimizer will update them, even without a batch
	params := s.Model.Params()
	for _, p := range params {
		if p.Grad == nil {
			p.AllocGrad()
		}
	}
	s.Model.ZeroGrad()
	var res StepResult
	if batch != nil {
		_, loss, err := s.Model.ForwardTrain(batch, labels)
		if err != nil {
			return StepResult{}, err
		}
		res.Loss = float64(loss)
		// The mean loss's logit gradient times B is each example's own.
		d := s.Model.LossGradient()
		for j := range d {
			d[j] *= float32(batch.B)
		}
		norms, err := s.Model.PerSampleGradNorms(d)
		if err != nil {
			return StepResult{}, err
		}
		l := len(d) / batch.B
		for i, n := range norms {
			tensor.ScaleSerial(float32(plan.ClipFactor(n)), d[i*l:(i+1)*l])
		}
		if err := s.Model.Backward(d); err != nil {
			return StepResult{}, err
		}
	}
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = p.Grad
	}
	plan.Privatize(grads, seed, step)
	res.GradNorm = GlobalNorm(params)
	res.LR = s.BaseLR * s.Schedule.Factor(s.Optimizer.Steps())
	s.Optimizer.LR = res.LR
	s.Optimizer.Step()
	return res, nil
}

// GlobalNorm is the L2 norm of all gradients together, as clip_grad_norm_
// computes it: summed in float64, in parallel chunks added in a fixed order
// so that the result does not depend on scheduling.
func GlobalNorm(params []*nn.Param) float64 {
	var sum float64
	var mu sync.Mutex
	for _, p := range params {
		g := p.Grad
		parts := map[int]float64{}
		tensor.ParallelFor(len(g), 1<<16, func(lo, hi int) {
			var part float64
			for _, x := range g[lo:hi] {
				part += float64(x) * float64(x)
			}
			mu.Lock()
			parts[lo] = part
			mu.Unlock()
		})
		starts := make([]int, 0, len(parts))
		for lo := range parts {
			starts = append(starts, lo)
		}
		sort.Ints(starts)
		for _, lo := range starts {
			sum += parts[lo]
		}
	}
	return math.Sqrt(sum)
}

// ClipGradNorm scales all gradients by maxNorm/(norm+1e-6) when that is
// below 1, as torch.nn.utils.clip_grad_norm_.
func ClipGradNorm(params []*nn.Param, norm, maxNorm float64) {
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return
	}
	for _, p := range params {
		tensor.Scale(float32(coef), p.Grad)
	}
}
