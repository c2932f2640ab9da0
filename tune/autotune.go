package tune

import (
	"math"
	"math/rand/v2"
	"time"
)

// AutotuneSampler is fastText's autotune strategy (src/autotune.cc,
// AutotuneStrategy::ask): each trial perturbs the best configuration so
// far, each parameter by a Gaussian whose width shrinks as the budget is
// used — multiplied by 2^N(0, σ) for log-scale parameters, shifted by
// N(0, σ) for the others (truncated to whole numbers for ints, as
// fastText's casts do; a categorical parameter moves along its choices'
// indexes, as fastText's minn does), then clipped to the space. σ goes
// from Start to End as the time used goes from 25% to 75% of Duration.
// Without a complete trial it samples at random (fastText starts from its
// defaults: enqueue them, as textclf tune's --defaults-first does).
type AutotuneSampler struct {
	// Duration is the search's time budget; the time used is the sum of
	// the trials' seconds.
	Duration time.Duration
	// Sigmas gives (Start, End) by parameter name; parameters not in it
	// take Sigma's defaults.
	Sigmas map[string][2]float64
}

// FastTextSigmas are the widths fastText's autotune uses for its knobs,
// by textclf train flag: epoch 2.8→2.5, lr 1.9→1.0, dim 1.4→0.3 and
// bucket 2.0→1.5 (log2 scale), wordNgrams 4.3→2.4, minn's choice
// 4.0→1.4.
var FastTextSigmas = map[string][2]float64{
	"epochs": {2.8, 2.5}, "lr": {1.9, 1.0}, "dim": {1.4, 0.3}, "bucket": {2.0, 1.5},
	"word-ngrams": {4.3, 2.4}, "minn": {4.0, 1.4},
}

// NewAutotuneSampler returns fastText's strategy over a budget, with
// fastText's widths for its knobs.
func NewAutotuneSampler(budget time.Duration) *AutotuneSampler {
	return &AutotuneSampler{Duration: budget, Sigmas: FastTextSigmas}
}

// Name implements Sampler.
func (s *AutotuneSampler) Name() string { return "autotune" }

// Sigma returns the (start, end) widths of a parameter: Sigmas', else a
// quarter then a tenth of the range in log2 scale for log parameters, a
// half then a fifth of the range for the others, 1.3 then 0.5 times the
// number of choices for categorical ones (fastText's minn, 3 choices:
// 4.0 then 1.4).
func (s *AutotuneSampler) Sigma(p *Param) (start, end float64) {
	if v, ok := s.Sigmas[p.Name]; ok {
		return v[0], v[1]
	}
	switch {
	case p.Kind == Categorical:
		n := float64(len(p.Choices))
		return 1.3 * n, 0.5 * n
	case p.Log:
		r := math.Log2(p.High / p.Low)
		return r / 4, r / 10
	}
	r := p.High - p.Low
	return r / 2, r / 5
}

// autotuneStddev is fastText's schedule of the width: start until a
// quarter of the budget, then linearly to end at three quarters.
func autotuneStddev(start, end, t float64) float64 {
	return start - ((start-end)/0.5)*min(0.5, max(t-0.25, 0))
}

// Sample implements Sampler.
func (s *AutotuneSampler) Sample(space Space, trials []Trial, dir Direction, rng *rand.Rand) map[string]any {
	best := BestTrial(trials, dir)
	if best == nil {
		return RandomSampler{}.Sample(space, trials, dir, rng)
	}
	var used float64
	for _, t := range trials {
		used += t.Seconds
	}
	t := 1.0
	if d := s.Duration.Seconds(); d > 0 {
		t = min(1, used/d)
	}
	out := make(map[string]any, len(space))
	for i := range space {
		p := &space[i]
		start, end := s.Sigma(p)
		coeff := rng.NormFloat64() * autotuneStddev(start, end, t)
		out[p.Name] = perturb(p, best.Params[p.Name], coeff, rng)
	}
	return out
}

// perturb moves value v of p by coeff (getArgGauss and updateArgGauss).
func perturb(p *Param, v any, coeff float64, rng *rand.Rand) any {
	x, ok := p.internal(v)
	if !ok {
		return sampleUniform(p, rng)
	}
	if p.Kind == Categorical {
		i := math.Trunc(x + coeff)
		return p.Choices[int(min(max(i, 0), float64(len(p.Choices)-1)))]
	}
	if p.Log {
		x *= math.Exp2(coeff)
	} else {
		x += coeff
	}
	if p.Kind == Int {
		x = math.Trunc(x)
	}
	x = min(max(x, p.Low), p.High)
	if st := p.step(); st > 0 {
		x = min(max(p.Low+math.Round((x-p.Low)/st)*st, p.Low), p.High)
	}
	return p.external(x)
}
