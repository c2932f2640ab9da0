// Package privacy accounts for differential privacy in DP-SGD training:
// the Rényi differential privacy (RDP) of the sampled Gaussian mechanism,
// its conversion to (ε, δ), and the search of the noise multiplier that
// spends a given budget, with the conventions of Opacus' RDP accountant
// (itself from TF Privacy).
package privacy

import (
	"errors"
	"fmt"
	"math"
)

// DefaultOrders are the RDP orders α of Opacus' RDPAccountant:
// 1.1, 1.2, …, 10.9, then 12, 13, …, 63.
var DefaultOrders = func() []float64 {
	var out []float64
	for x := 1; x < 100; x++ {
		out = append(out, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		out = append(out, float64(a))
	}
	return out
}()

// CheckParams refuses parameters outside their domain: a sample rate in
// (0, 1), a non-negative noise multiplier, δ in (0, 1) and a positive
// number of steps.
func CheckParams(sampleRate, noiseMultiplier, delta float64, steps int) error {
	switch {
	case !(sampleRate > 0 && sampleRate < 1):
		return fmt.Errorf("privacy: sample rate %g must be in (0, 1) (batch size / examples)", sampleRate)
	case !(noiseMultiplier >= 0) || math.IsInf(noiseMultiplier, 0):
		return fmt.Errorf("privacy: noise multiplier %g must be a non-negative number", noiseMultiplier)
	case !(delta > 0 && delta < 1):
		return fmt.Errorf("privacy: delta %g must be in (0, 1)", delta)
	case steps <= 0:
		return fmt.Errorf("privacy: %d steps: must be positive", steps)
	}
	return nil
}

// RDP returns the RDP of the sampled Gaussian mechanism with sampling rate
// q and noise multiplier sigma (the noise's standard deviation over the
// L2 sensitivity) composed steps times, at each order (Mironov, Talwar and
// Zhang 2019, section 3.3), as Opacus' compute_rdp.
func RDP(q, sigma float64, steps int, orders []float64) []float64 {
	out := make([]float64, len(orders))
	for i, alpha := range orders {
		out[i] = rdpOnce(q, sigma, alpha) * float64(steps)
	}
	return out
}

func rdpOnce(q, sigma, alpha float64) float64 {
	switch {
	case q == 0:
		return 0
	case sigma == 0:
		return math.Inf(1)
	case q == 1:
		return alpha / (2 * sigma * sigma)
	case math.IsInf(alpha, 1):
		return math.Inf(1)
	}
	return logA(q, sigma, alpha) / (alpha - 1)
}

// logA is log(A_α) of the sampled Gaussian mechanism.
func logA(q, sigma, alpha float64) float64 {
	if alpha == math.Trunc(alpha) {
		return logAInt(q, sigma, int(alpha))
	}
	return logAFrac(q, sigma, alpha)
}

// logAInt is log(A_α) for an integer α: a finite binomial sum.
func logAInt(q, sigma float64, alpha int) float64 {
	logA := math.Inf(-1)
	for i := 0; i <= alpha; i++ {
		fi := float64(i)
		logCoef := logBinom(float64(alpha), fi) + fi*math.Log(q) + float64(alpha-i)*math.Log(1-q)
		logA = logAdd(logA, logCoef+(fi*fi-fi)/(2*sigma*sigma))
	}
	return logA
}

// logAFrac is log(A_α) for a fractional α: two series summed until their
// terms fall below e^-30.
func logAFrac(q, sigma, alpha float64) float64 {
	logA0, logA1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	coef := 1.0 // the generalised binomial coefficient C(α, i), updated term by term
	for i := 0; ; i++ {
		fi := float64(i)
		if i > 0 {
			coef *= (alpha - fi + 1) / fi
		}
		logCoef := math.Log(math.Abs(coef))
		j := alpha - fi
		logT0 := logCoef + fi*math.Log(q) + j*math.Log(1-q)
		logT1 := logCoef + j*math.Log(q) + fi*math.Log(1-q)
		logE0 := math.Log(0.5) + logErfc((fi-z0)/(math.Sqrt2*sigma))
		logE1 := math.Log(0.5) + logErfc((z0-j)/(math.Sqrt2*sigma))
		logS0 := logT0 + (fi*fi-fi)/(2*sigma*sigma) + logE0
		logS1 := logT1 + (j*j-j)/(2*sigma*sigma) + logE1
		if coef > 0 {
			logA0, logA1 = logAdd(logA0, logS0), logAdd(logA1, logS1)
		} else {
			logA0, logA1 = logSub(logA0, logS0), logSub(logA1, logS1)
		}
		if max(logS0, logS1) < -30 {
			break
		}
	}
	return logAdd(logA0, logA1)
}

// logBinom is log C(n, k) for integers 0 ≤ k ≤ n.
func logBinom(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return a - b - c
}

// logErfc is log(erfc(x)), accurate where erfc(x) underflows.
func logErfc(x float64) float64 {
	if x < 20 {
		return math.Log(math.Erfc(x))
	}
	// The asymptotic expansion erfc(x) = e^(-x²)/(x√π) · (1 - 1/(2x²) + 3/(4x⁴) - 15/(8x⁶) …).
	x2 := x * x
	series := 1 - 1/(2*x2) + 3/(4*x2*x2) - 15/(8*x2*x2*x2)
	return -x2 - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(series)
}

// logAdd is log(e^x + e^y).
func logAdd(x, y float64) float64 {
	a, b := min(x, y), max(x, y)
	if math.IsInf(a, -1) {
		return b
	}
	return math.Log1p(math.Exp(a-b)) + b
}

// logSub is log(e^x - e^y) for x ≥ y; -Inf when they are equal.
func logSub(x, y float64) float64 {
	switch {
	case math.IsInf(y, -1):
		return x
	case x == y:
		return math.Inf(-1)
	}
	d := math.Expm1(x - y)
	if math.IsInf(d, 1) {
		return x
	}
	return math.Log(d) + y
}

// Epsilon converts RDP values at orders into the ε of (ε, δ)-DP with the
// conversion of Balle et al. 2020 (Theorem 21), as Opacus'
// get_privacy_spent: the smallest
// rdp(α) - (log δ + log α)/(α - 1) + log((α - 1)/α) over the orders. It
// returns ε and the order reaching it.
func Epsilon(orders, rdp []float64, delta float64) (eps, order float64) {
	eps, order = math.Inf(1), math.NaN()
	for i, a := range orders {
		e := rdp[i] - (math.Log(delta)+math.Log(a))/(a-1) + math.Log((a-1)/a)
		if !math.IsNaN(e) && (math.IsNaN(order) || e < eps) {
			eps, order = e, a
		}
	}
	return eps, order
}

// SpentEpsilon is the ε spent after steps steps of DP-SGD with sampling
// rate q and noise multiplier sigma, at δ, over DefaultOrders.
func SpentEpsilon(q, sigma float64, steps int, delta float64) (float64, error) {
	if err := CheckParams(q, sigma, delta, steps); err != nil {
		return 0, err
	}
	eps, _ := Epsilon(DefaultOrders, RDP(q, sigma, steps, DefaultOrders), delta)
	return eps, nil
}

// maxNoiseMultiplier bounds NoiseMultiplier's search, as Opacus' MAX_SIGMA.
const maxNoiseMultiplier = 1e6

// NoiseMultiplier searches the noise multiplier for which steps steps of
// DP-SGD with sampling rate q spend at most epsilon at delta, and at least
// epsilon - tolerance, as Opacus' get_noise_multiplier (doubling, then
// bisection; tolerance 0.01 there).
func NoiseMultiplier(epsilon, delta, q float64, steps int, tolerance float64) (float64, error) {
	if !(epsilon > 0) || math.IsInf(epsilon, 0) {
		return 0, fmt.Errorf("privacy: epsilon %g must be a positive number", epsilon)
	}
	if !(tolerance > 0) {
		return 0, fmt.Errorf("privacy: tolerance %g must be positive", tolerance)
	}
	if err := CheckParams(q, 0, delta, steps); err != nil {
		return 0, err
	}
	spent := func(sigma float64) float64 {
		eps, _ := Epsilon(DefaultOrders, RDP(q, sigma, steps, DefaultOrders), delta)
		return eps
	}
	low, high, epsHigh := 0.0, 10.0, math.Inf(1)
	for epsHigh > epsilon {
		high *= 2
		epsHigh = spent(high)
		if high > maxNoiseMultiplier {
			return 0, errors.New("privacy: the budget is too small: no noise multiplier up to 1e6 spends less")
		}
	}
	for epsilon-epsHigh > tolerance {
		sigma := (low + high) / 2
		if eps := spent(sigma); eps < epsilon {
			high, epsHigh = sigma, eps
		} else {
			low = sigma
		}
	}
	return high, nil
}

// Accountant keeps the history of DP-SGD steps and the ε they spent, as
// Opacus' RDPAccountant.
type Accountant struct {
	history []mechanism
}

type mechanism struct {
	sigma, q float64
	steps    int
}

// Step records one step of noise multiplier sigma and sampling rate q.
func (a *Accountant) Step(sigma, q float64) {
	if n := len(a.history); n > 0 && a.history[n-1].sigma == sigma && a.history[n-1].q == q {
		a.history[n-1].steps++
		return
	}
	a.history = append(a.history, mechanism{sigma: sigma, q: q, steps: 1})
}

// Steps is the number of steps recorded.
func (a *Accountant) Steps() int {
	n := 0
	for _, m := range a.history {
		n += m.steps
	}
	return n
}

// Epsilon is the ε spent so far at delta (0 before any step).
func (a *Accountant) Epsilon(delta float64) float64 {
	if len(a.history) == 0 {
		return 0
	}
	rdp := make([]float64, len(DefaultOrders))
	for _, m := range a.history {
		for i, r := range RDP(m.q, m.sigma, m.steps, DefaultOrders) {
			rdp[i] += r
		}
	}
	eps, _ := Epsilon(DefaultOrders, rdp, delta)
	return eps
}
