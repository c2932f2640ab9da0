package tune

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Sampler proposes the parameters of the next trial from the space and
// the finished trials (in order); rng is the trial's own random source.
type Sampler interface {
	// Sample returns a value for each parameter of space.
	Sample(space Space, trials []Trial, dir Direction, rng *rand.Rand) map[string]any
	// Name names the sampler in trial records ("random", "tpe").
	Name() string
}

// RandomSampler draws every parameter independently and uniformly (in log
// scale for Log parameters), as Optuna's RandomSampler.
type RandomSampler struct{}

// Name implements Sampler.
func (RandomSampler) Name() string { return "random" }

// Sample implements Sampler.
func (RandomSampler) Sample(space Space, _ []Trial, _ Direction, rng *rand.Rand) map[string]any {
	out := make(map[string]any, len(space))
	for i := range space {
		out[space[i].Name] = sampleUniform(&space[i], rng)
	}
	return out
}

// sampleUniform is Optuna's RandomSampler.sample_independent: uniform in
// the transformed range (log, widened by half a step), then rounded to
// the parameter's grid and clipped.
func sampleUniform(p *Param, rng *rand.Rand) any {
	if p.Kind == Categorical {
		return p.Choices[rng.IntN(len(p.Choices))]
	}
	if p.single() {
		return p.external(p.Low)
	}
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s := p.step()
	switch {
	case p.Kind == Float && p.Log:
		return min(math.Exp(uniform(math.Log(p.Low), math.Log(p.High))), math.Nextafter(p.High, math.Inf(-1)))
	case p.Kind == Float && s == 0:
		return min(uniform(p.Low, p.High), math.Nextafter(p.High, math.Inf(-1)))
	case p.Kind == Int && p.Log:
		v := math.RoundToEven(math.Exp(uniform(math.Log(p.Low-0.5), math.Log(p.High+0.5))))
		return int(min(max(v, p.Low), p.High))
	default:
		v := uniform(p.Low-s/2, p.High+s/2)
		v = math.Floor((v-p.Low)/s+0.5)*s + p.Low
		return p.external(min(max(v, p.Low), p.High))
	}
}

// TPESampler is Optuna's TPESampler (optuna/samplers/_tpe/sampler.py) for
// one objective: after NStartupTrials finished (complete or pruned)
// trials drawn at random, it splits the trials into the Gamma(n) best
// ("below") and the rest ("above"), fits a Parzen estimator l(x) to the
// below and g(x) to the above trials' parameters, draws NEICandidates
// points from l and keeps the one with the largest l(x)/g(x). Pruned
// trials rank after complete ones, by how far they got. Independently per
// parameter unless Multivariate.
type TPESampler struct {
	// NStartupTrials is the number of finished trials sampled at random
	// before TPE takes over (Optuna's default 10).
	NStartupTrials int
	// NEICandidates is the number of candidates drawn from l(x) (24).
	NEICandidates int
	// Gamma gives the number of "below" trials out of n finished ones
	// (default: min(⌈0.1·n⌉, 25)).
	Gamma func(n int) int
	// Weights gives the weights of n observations, oldest first
	// (default: Optuna's default_weights).
	Weights func(n int) []float64
	// PriorWeight is the weight of the prior component (1).
	PriorWeight float64
	// Multivariate fits one joint estimator over all parameters instead of
	// one per parameter (Optuna's multivariate=True).
	Multivariate bool
	// ConsiderEndpoints and NoMagicClip are Optuna's consider_endpoints
	// (false) and the negation of consider_magic_clip (true).
	ConsiderEndpoints, NoMagicClip bool
}

// NewTPESampler returns a TPESampler with Optuna's defaults.
func NewTPESampler() *TPESampler {
	return &TPESampler{NStartupTrials: 10, NEICandidates: 24, Gamma: DefaultGamma, Weights: defaultWeights, PriorWeight: 1}
}

// DefaultGamma is Optuna's default_gamma: min(⌈0.1·n⌉, 25).
func DefaultGamma(n int) int { return min(int(math.Ceil(0.1*float64(n))), 25) }

// Name implements Sampler.
func (s *TPESampler) Name() string { return "tpe" }

// Sample implements Sampler.
func (s *TPESampler) Sample(space Space, trials []Trial, dir Direction, rng *rand.Rand) map[string]any {
	var done []Trial
	for _, t := range trials {
		if t.State == Complete || t.State == Pruned {
			done = append(done, t)
		}
	}
	if len(done) < s.NStartupTrials {
		return RandomSampler{}.Sample(space, trials, dir, rng)
	}
	gamma := s.Gamma
	if gamma == nil {
		gamma = DefaultGamma
	}
	below, above := splitTrials(done, gamma(len(done)), dir)
	out := make(map[string]any, len(space))
	if s.Multivariate {
		var params []*Param
		for i := range space {
			if p := &space[i]; p.single() {
				out[p.Name] = p.external(singleValue(p))
			} else {
				params = append(params, p)
			}
		}
		if len(params) > 0 {
			x := s.sample(params, below, above, rng)
			for d, p := range params {
				out[p.Name] = p.external(x[d])
			}
		}
		return out
	}
	for i := range space {
		p := &space[i]
		if p.single() {
			out[p.Name] = p.external(singleValue(p))
			continue
		}
		out[p.Name] = p.external(s.sample([]*Param{p}, below, above, rng)[0])
	}
	return out
}

func singleValue(p *Param) float64 {
	if p.Kind == Categorical {
		return 0
	}
	return p.Low
}

func (s *TPESampler) options() parzenOptions {
	w := s.Weights
	if w == nil {
		w = defaultWeights
	}
	return parzenOptions{priorWeight: s.PriorWeight, considerMagicClip: !s.NoMagicClip, considerEndpoints: s.ConsiderEndpoints, weights: w}
}

// sample fits l and g to the below and above trials that have every one
// of params, and returns the candidate from l maximising log l − log g.
func (s *TPESampler) sample(params []*Param, below, above []Trial, rng *rand.Rand) []float64 {
	opt := s.options()
	l := newParzen(observations(params, below), params, opt)
	g := newParzen(observations(params, above), params, opt)
	var best []float64
	bestScore := math.Inf(-1)
	for i := 0; i < max(s.NEICandidates, 1); i++ {
		x := l.sample(rng)
		if score := l.logPDF(x) - g.logPDF(x); best == nil || score > bestScore {
			best, bestScore = x, score
		}
	}
	return best
}

// observations are the internal values of params in each trial that has
// all of them, in trial order.
func observations(params []*Param, trials []Trial) [][]float64 {
	var obs [][]float64
	for _, t := range trials {
		row := make([]float64, len(params))
		ok := true
		for d, p := range params {
			if row[d], ok = p.internal(t.Params[p.Name]); !ok {
				break
			}
		}
		if ok {
			obs = append(obs, row)
		}
	}
	return obs
}

// splitTrials is Optuna's _split_trials for one objective: the nBelow
// best complete trials, then (if fewer) the pruned trials that got
// furthest with the best last intermediate value, are "below"; the rest
// "above"; both in trial order.
func splitTrials(trials []Trial, nBelow int, dir Direction) (below, above []Trial) {
	var complete, pruned []Trial
	for _, t := range trials {
		switch {
		case t.State == Complete && t.Value != nil:
			complete = append(complete, t)
		case t.State == Pruned:
			pruned = append(pruned, t)
		}
	}
	sign := 1.0
	if dir == Maximize {
		sign = -1
	}
	sort.SliceStable(complete, func(a, b int) bool { return sign**complete[a].Value < sign**complete[b].Value })
	nc := min(nBelow, len(complete))
	below = append(below, complete[:nc]...)
	above = append(above, complete[nc:]...)
	// Pruned trials rank by (−last step, signed last value): deeper first.
	type key struct{ step, value float64 }
	keyOf := func(t Trial) key {
		if len(t.Intermediate) == 0 {
			return key{1, 0}
		}
		last := t.Intermediate[0]
		for _, st := range t.Intermediate {
			if st.Step >= last.Step {
				last = st
			}
		}
		if math.IsNaN(last.Value) {
			return key{-float64(last.Step), math.Inf(1)}
		}
		return key{-float64(last.Step), sign * last.Value}
	}
	sort.SliceStable(pruned, func(a, b int) bool {
		ka, kb := keyOf(pruned[a]), keyOf(pruned[b])
		if ka.step != kb.step {
			return ka.step < kb.step
		}
		return ka.value < kb.value
	})
	np := min(max(0, nBelow-nc), len(pruned))
	below = append(below, pruned[:np]...)
	above = append(above, pruned[np:]...)
	byNumber := func(a, b Trial) int { return a.Number - b.Number }
	slices.SortStableFunc(below, byNumber)
	slices.SortStableFunc(above, byNumber)
	return below, above
}
