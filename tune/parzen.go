package tune

import (
	"math"
	"math/rand/v2"
	"sort"
)

// parzenOptions are the settings of Optuna's _ParzenEstimatorParameters.
type parzenOptions struct {
	priorWeight       float64
	considerMagicClip bool
	considerEndpoints bool
	weights           func(n int) []float64
}

// parzen is Optuna's _ParzenEstimator: a mixture with one component per
// observation plus a prior component, each component a product over the
// parameters of a truncated normal (Float, Int) or a categorical
// distribution.
type parzen struct {
	weights []float64 // mixture weights, summing to 1; the prior is last
	dims    []parzenDim
}

// parzenDim is one parameter's kernels.
type parzenDim struct {
	p *Param
	// Numerical parameters: kernel means and widths in the transformed
	// scale (log for Log), the transformed bounds widened by half a step,
	// and the step (0: continuous).
	mu, sigma     []float64
	logZ          []float64 // log mass of [lowA, highA] under each kernel
	lowA, highA   float64
	step          float64
	log, discrete bool
	// Categorical parameters: each component's probabilities of the choices.
	cat [][]float64
}

// defaultWeights is Optuna's default_weights: equal weights up to 25
// observations, then a ramp from 1/n that favours the 25 newest.
func defaultWeights(n int) []float64 {
	w := make([]float64, n)
	if n < 25 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	ramp := n - 25
	for i := 0; i < ramp; i++ {
		if ramp == 1 {
			w[i] = 1 / float64(n)
		} else {
			w[i] = 1/float64(n) + (1-1/float64(n))*float64(i)/float64(ramp-1)
		}
	}
	for i := ramp; i < n; i++ {
		w[i] = 1
	}
	return w
}

// newParzen builds the estimator of observations (obs[i][d] is the
// internal value of params[d] in observation i, in chronological order).
func newParzen(obs [][]float64, params []*Param, opt parzenOptions) *parzen {
	n := len(obs)
	pe := &parzen{}
	if n == 0 {
		pe.weights = []float64{1}
	} else {
		pe.weights = append(opt.weights(n)[:n:n], opt.priorWeight)
		var sum float64
		for _, w := range pe.weights {
			sum += w
		}
		for i := range pe.weights {
			pe.weights[i] /= sum
		}
	}
	for d, p := range params {
		col := make([]float64, n)
		for i := range obs {
			col[i] = obs[i][d]
		}
		if p.Kind == Categorical {
			pe.dims = append(pe.dims, categoricalDim(p, col, opt))
		} else {
			pe.dims = append(pe.dims, numericalDim(p, col, opt))
		}
	}
	return pe
}

func categoricalDim(p *Param, obs []float64, opt parzenOptions) parzenDim {
	k := len(p.Choices)
	dim := parzenDim{p: p}
	if len(obs) == 0 {
		row := make([]float64, k)
		for j := range row {
			row[j] = 1 / float64(k)
		}
		dim.cat = [][]float64{row}
		return dim
	}
	kernels := len(obs) + 1
	for i := 0; i < kernels; i++ {
		row := make([]float64, k)
		for j := range row {
			row[j] = opt.priorWeight / float64(kernels)
		}
		if i < len(obs) {
			row[int(obs[i])]++
		}
		var sum float64
		for _, v := range row {
			sum += v
		}
		if sum != 0 {
			for j := range row {
				row[j] /= sum
			}
		}
		dim.cat = append(dim.cat, row)
	}
	return dim
}

func numericalDim(p *Param, obs []float64, opt parzenOptions) parzenDim {
	low, high, step := p.Low, p.High, p.step()
	if step != 0 {
		low -= step / 2
		high += step / 2
	}
	mus := make([]float64, len(obs))
	copy(mus, obs)
	if p.Log {
		for i := range mus {
			mus[i] = math.Log(mus[i])
		}
		low, high = math.Log(low), math.Log(high)
	}
	// Each kernel is as wide as the larger gap to its neighbours (the
	// bounds count as neighbours, except for the outermost kernels).
	n := len(mus)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return mus[order[a]] < mus[order[b]] })
	ends := make([]float64, n+2)
	ends[0], ends[n+1] = low, high
	for i, j := range order {
		ends[i+1] = mus[j]
	}
	sorted := make([]float64, n)
	for i := range sorted {
		sorted[i] = max(ends[i+1]-ends[i], ends[i+2]-ends[i+1])
	}
	if !opt.considerEndpoints && n+2 >= 4 {
		sorted[0] = ends[2] - ends[1]
		sorted[n-1] = ends[n] - ends[n-1]
	}
	sigmas := make([]float64, n, n+1)
	for i, j := range order {
		sigmas[j] = sorted[i]
	}
	maxSigma := high - low
	minSigma := 1e-12
	if opt.considerMagicClip {
		minSigma = (high - low) / min(100, 1+float64(n+1))
	}
	for i := range sigmas {
		sigmas[i] = min(max(sigmas[i], minSigma), maxSigma)
	}
	d := parzenDim{
		p: p, mu: append(mus, 0.5*(low+high)), sigma: append(sigmas, high-low),
		lowA: low, highA: high, step: p.Step, log: p.Log, discrete: step != 0,
	}
	d.logZ = make([]float64, len(d.mu))
	for k := range d.mu {
		d.logZ[k] = logGaussMass((low-d.mu[k])/d.sigma[k], (high-d.mu[k])/d.sigma[k])
	}
	return d
}

// componentLogPDF is the log density (or mass, for discrete parameters)
// of internal value x under each component, added to out.
func (d *parzenDim) addLogPDF(x float64, out []float64) {
	if d.p.Kind == Categorical {
		for k := range out {
			out[k] += math.Log(d.cat[k][int(x)])
		}
		return
	}
	if !d.discrete {
		if d.log {
			x = math.Log(x)
		}
		for k := range out {
			if x < d.lowA || x > d.highA {
				out[k] = math.Inf(-1)
				continue
			}
			z := (x - d.mu[k]) / d.sigma[k]
			out[k] += -z*z/2 - normLogC - d.logZ[k] - math.Log(d.sigma[k])
		}
		return
	}
	step := d.p.step()
	left, right := x-step/2, x+step/2
	if d.log {
		left, right = math.Log(left), math.Log(right)
	}
	for k := range out {
		mu, s := d.mu[k], d.sigma[k]
		out[k] += logGaussMass((left-mu)/s, (right-mu)/s) - d.logZ[k]
	}
}

// logPDF is the log density of the mixture at x (internal values, one per
// parameter).
func (pe *parzen) logPDF(x []float64) float64 {
	comp := make([]float64, len(pe.weights))
	for d := range pe.dims {
		pe.dims[d].addLogPDF(x[d], comp)
	}
	best := math.Inf(-1)
	for k, w := range pe.weights {
		comp[k] += math.Log(w)
		best = max(best, comp[k])
	}
	if math.IsInf(best, -1) {
		best = 0
	}
	var sum float64
	for _, c := range comp {
		sum += math.Exp(c - best)
	}
	return math.Log(sum) + best
}

// sample draws one point (internal values) from the mixture: a component
// by weight, then each parameter from that component's kernel, rounded to
// the parameter's grid.
func (pe *parzen) sample(rng *rand.Rand) []float64 {
	u := rng.Float64()
	k := len(pe.weights) - 1
	for i, w := range pe.weights {
		if u < w {
			k = i
			break
		}
		u -= w
	}
	x := make([]float64, len(pe.dims))
	for d := range pe.dims {
		dim := &pe.dims[d]
		p := dim.p
		if p.Kind == Categorical {
			u := rng.Float64()
			row := dim.cat[k]
			j := len(row) - 1
			var cum float64
			for c, w := range row[:len(row)-1] {
				if cum += w; cum >= u {
					j = c
					break
				}
			}
			x[d] = float64(j)
			continue
		}
		v := truncNormSample(rng, dim.mu[k], dim.sigma[k], dim.lowA, dim.highA)
		if dim.log {
			v = math.Exp(v)
		}
		if dim.discrete {
			s := p.step()
			v = min(max(p.Low+math.RoundToEven((v-p.Low)/s)*s, p.Low), p.High)
		}
		x[d] = v
	}
	return x
}
