package privacy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/textclf/textclf/tensor"
)

// DefaultMaxGradNorm is the clipping norm C when Config gives none.
const DefaultMaxGradNorm = 1.0

// Config asks for DP-SGD training with Opacus' semantics: each example's
// gradient clipped to MaxGradNorm (flat clipping), Gaussian noise of
// standard deviation NoiseMultiplier × MaxGradNorm added to their sum, the
// result divided by the expected batch size; batches drawn by Poisson
// sampling. Give NoiseMultiplier, or Epsilon to search it for the planned
// number of steps (Opacus' make_private_with_epsilon).
type Config struct {
	// MaxGradNorm is the per-example clipping norm C (default 1).
	MaxGradNorm float64 `json:"max_grad_norm"`
	// NoiseMultiplier is σ, the noise's standard deviation over C.
	NoiseMultiplier float64 `json:"noise_multiplier"`
	// Epsilon, when NoiseMultiplier is 0, is the budget the noise multiplier
	// is searched for (to 0.01).
	Epsilon float64 `json:"target_epsilon,omitempty"`
	// Delta is δ (default 1/N, N the training examples).
	Delta float64 `json:"delta"`
}

// Plan is a DP-SGD run: its noise, sampling and length.
type Plan struct {
	Config
	// SampleRate is q, each example's probability of being in a batch:
	// 1 / steps per epoch, as Opacus' DPDataLoader.
	SampleRate float64 `json:"sample_rate"`
	// ExpectedBatchSize divides the noisy sum of clipped gradients:
	// int(N × q), as Opacus.
	ExpectedBatchSize int `json:"expected_batch_size"`
	// Steps is the number of steps planned.
	Steps int `json:"planned_steps"`
}

// NewPlan plans DP-SGD over n examples in batches of batchSize for steps
// steps (stepsPerEpoch = ⌈n / batchSize⌉ of them an epoch), and finds the
// noise multiplier when an ε is given. Bad values are errors before any
// training.
func NewPlan(cfg Config, n, batchSize, steps int) (*Plan, error) {
	if cfg.MaxGradNorm == 0 {
		cfg.MaxGradNorm = DefaultMaxGradNorm
	}
	if cfg.Delta == 0 && n > 0 {
		cfg.Delta = 1 / float64(n)
	}
	switch {
	case n <= 0 || batchSize <= 0:
		return nil, fmt.Errorf("DP-SGD: %d examples in batches of %d", n, batchSize)
	case !(cfg.MaxGradNorm > 0) || math.IsInf(cfg.MaxGradNorm, 0):
		return nil, fmt.Errorf("DP-SGD: max grad norm %g must be a positive number", cfg.MaxGradNorm)
	case cfg.NoiseMultiplier == 0 && cfg.Epsilon == 0:
		return nil, errors.New("DP-SGD: give a noise multiplier or a target epsilon")
	case cfg.NoiseMultiplier != 0 && cfg.Epsilon != 0:
		return nil, errors.New("DP-SGD: give a noise multiplier or a target epsilon, not both")
	}
	stepsPerEpoch := (n + batchSize - 1) / batchSize
	if stepsPerEpoch < 2 {
		return nil, fmt.Errorf("DP-SGD: a batch size of %d for %d examples samples every example at every step (sample rate 1); use a smaller batch", batchSize, n)
	}
	q := 1 / float64(stepsPerEpoch)
	p := &Plan{Config: cfg, SampleRate: q, ExpectedBatchSize: max(1, int(float64(n)*q)), Steps: steps}
	if cfg.Epsilon != 0 {
		sigma, err := NoiseMultiplier(cfg.Epsilon, cfg.Delta, q, steps, 0.01)
		if err != nil {
			return nil, err
		}
		p.NoiseMultiplier = sigma
	}
	if err := CheckParams(q, p.NoiseMultiplier, p.Delta, steps); err != nil {
		return nil, err
	}
	return p, nil
}

// Epsilon is the ε spent after steps steps of the plan, at its δ.
func (p *Plan) Epsilon(steps int) float64 {
	if steps <= 0 {
		return 0
	}
	eps, _ := Epsilon(DefaultOrders, RDP(p.SampleRate, p.NoiseMultiplier, steps, DefaultOrders), p.Delta)
	return eps
}

// Batch draws step's batch from n examples by Poisson sampling: each
// example independently, with probability SampleRate. It may be empty.
func (p *Plan) Batch(seed uint64, step, n int) []int {
	// Seeded by the run's seed and the step, so that a resumed run draws
	// what the uninterrupted one would have.
	rng := rand.New(rand.NewPCG(seed^0x9015, uint64(step)))
	var out []int
	for i := range n {
		if rng.Float64() < p.SampleRate {
			out = append(out, i)
		}
	}
	return out
}

// ClipFactor is Opacus' per-example factor min(1, C / (norm + 1e-6)).
func (p *Plan) ClipFactor(norm float64) float64 {
	return min(1, p.MaxGradNorm/(norm+1e-6))
}

// noiseChunk is the number of values drawn from one random source: the
// chunks of a step's noise are drawn in parallel, each from a source seeded
// by (seed, step, tensor, chunk), so that the noise does not depend on the
// number of threads.
const noiseChunk = 1 << 16

// Privatize turns the sums of a step's clipped gradients (one slice per
// parameter tensor) into the private gradient, in place: it adds Gaussian
// noise of standard deviation NoiseMultiplier × MaxGradNorm to each value
// and divides by the expected batch size. The noise is a function of seed
// and step.
func (p *Plan) Privatize(grads [][]float32, seed uint64, step int) {
	std := p.NoiseMultiplier * p.MaxGradNorm
	inv := 1 / float64(p.ExpectedBatchSize)
	type chunk struct{ tensor, index int }
	var chunks []chunk
	for t, g := range grads {
		for c := 0; c*noiseChunk < len(g); c++ {
			chunks = append(chunks, chunk{t, c})
		}
	}
	tensor.ParallelFor(len(chunks), 1, func(lo, hi int) {
		for _, c := range chunks[lo:hi] {
			rng := rand.New(rand.NewPCG(seed^0x401e^uint64(step)*0x9e3779b97f4a7c15, uint64(c.tensor)<<32|uint64(c.index)))
			g := grads[c.tensor]
			part := g[c.index*noiseChunk : min((c.index+1)*noiseChunk, len(g))]
			for i, v := range part {
				part[i] = float32((float64(v) + std*rng.NormFloat64()) * inv)
			}
		}
	})
}
