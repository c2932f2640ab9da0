package tune

import (
	"math"
	"math/rand/v2"
)

// The truncated normal distribution of Optuna's TPE
// (optuna/samplers/_tpe/_truncnorm.py, itself from SciPy): log densities
// and log masses computed in the left tail, where they are accurate.

var normLogC = math.Log(math.Sqrt(2 * math.Pi))

// ndtr is the standard normal CDF Φ(a), as Optuna's _ndtr_single.
func ndtr(a float64) float64 {
	x := a / math.Sqrt2
	switch {
	case x < -1/math.Sqrt2:
		return 0.5 * math.Erfc(-x)
	case x < 1/math.Sqrt2:
		return 0.5 + 0.5*math.Erf(x)
	default:
		return 1 - 0.5*math.Erfc(x)
	}
}

// logNdtr is log Φ(a), with the asymptotic series below −20 (Optuna's
// _log_ndtr_single).
func logNdtr(a float64) float64 {
	if a > 6 {
		return -ndtr(-a)
	}
	if a > -20 {
		return math.Log(ndtr(a))
	}
	logLHS := -0.5*a*a - math.Log(-a) - 0.5*math.Log(2*math.Pi)
	last, rhs := 0.0, 1.0
	numerator, denomFactor, denomCons := 1.0, 1.0, 1/(a*a)
	sign := 1.0
	for i := 1; math.Abs(last-rhs) > 0x1p-52; i++ {
		last = rhs
		sign = -sign
		denomFactor *= denomCons
		numerator *= float64(2*i - 1)
		rhs += sign * numerator * denomFactor
	}
	return logLHS + math.Log(rhs)
}

// logDiff is log(exp(p) − exp(q)) for p ≥ q.
func logDiff(p, q float64) float64 { return p + math.Log1p(-math.Exp(q-p)) }

// logGaussMass is log(Φ(b) − Φ(a)), the log probability of [a, b] under
// the standard normal (Optuna's _log_gauss_mass).
func logGaussMass(a, b float64) float64 {
	switch {
	case b <= 0:
		return logDiff(logNdtr(b), logNdtr(a))
	case a > 0:
		return logDiff(logNdtr(-a), logNdtr(-b))
	default:
		return math.Log1p(-(0.5 + 0.5*math.Erf(a/math.Sqrt2)) - (0.5 + 0.5*math.Erf(-b/math.Sqrt2)))
	}
}

// truncNormSample draws from the normal (mu, sigma) truncated to [low,
// high] by inverting its CDF, on the side of the mean where Φ is accurate.
func truncNormSample(rng *rand.Rand, mu, sigma, low, high float64) float64 {
	a, b := (low-mu)/sigma, (high-mu)/sigma
	u := rng.Float64()
	var z float64
	if a < 0 {
		// Φ(z) = Φ(a) + u(Φ(b) − Φ(a)).
		pa, pb := ndtr(a), ndtr(b)
		z = ndtri(pa + u*(pb-pa))
	} else {
		// Mirror: −z is drawn from [−b, −a], left of the mean.
		pa, pb := ndtr(-b), ndtr(-a)
		z = -ndtri(pa + (1-u)*(pb-pa))
	}
	return mu + sigma*min(max(z, a), b)
}

// ndtri is the standard normal quantile function Φ⁻¹(p).
func ndtri(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	if p >= 1 {
		return math.Inf(1)
	}
	return -math.Sqrt2 * math.Erfcinv(2*p)
}
