package explain

import (
	"fmt"
	"math"
)

// The approximation methods of the path integral, as Captum names them.
const (
	GaussLegendre    = "gausslegendre"
	RiemannTrapezoid = "riemann_trapezoid"
)

// Occlusion names leave-one-out occlusion, the method for models without
// gradients (classic models).
const Occlusion = "occlusion"

// DefaultSteps is Captum's n_steps.
const DefaultSteps = 50

// Quadrature returns the points alphas in [0, 1] where the gradient is
// taken along the path and the weights (Captum's step sizes) that sum the
// gradients, for n steps of method, exactly as Captum's
// approximation_parameters builds them: Gauss-Legendre nodes and weights
// (numpy's leggauss) mapped from [-1, 1] to [0, 1], or the trapezoid rule on
// n evenly spaced points with steps 1/n (halved at both ends: their sum is
// (n-1)/n, as in Captum).
func Quadrature(method string, n int) (alphas, weights []float64, err error) {
	switch method {
	case GaussLegendre:
		if n < 1 {
			return nil, nil, fmt.Errorf("steps must be at least 1 for %s, got %d", method, n)
		}
		x, w := LegendreGauss(n)
		alphas, weights = make([]float64, n), make([]float64, n)
		for i := range x {
			alphas[i] = 0.5 * (1 + x[i])
			weights[i] = 0.5 * w[i]
		}
		return alphas, weights, nil
	case RiemannTrapezoid:
		if n < 2 {
			return nil, nil, fmt.Errorf("steps must be at least 2 for %s, got %d", method, n)
		}
		alphas, weights = make([]float64, n), make([]float64, n)
		for i := range alphas {
			// numpy's linspace(0, 1, n): i·step, the last point exactly 1.
			alphas[i] = float64(i) * (1 / float64(n-1))
			weights[i] = 1 / float64(n)
		}
		alphas[n-1] = 1
		weights[0] /= 2
		weights[n-1] /= 2
		return alphas, weights, nil
	}
	return nil, nil, fmt.Errorf("method must be %s or %s, got %q", GaussLegendre, RiemannTrapezoid, method)
}

// LegendreGauss returns the n nodes in (-1, 1), ascending, and the weights
// of Gauss-Legendre quadrature, as numpy.polynomial.legendre.leggauss(n):
// the roots of the Legendre polynomial P_n, found by Newton's method from
// Tricomi's estimates and polished once more, with the weights
// 2 / ((1-x²)·P_n'(x)²), symmetrised and scaled to sum to 2.
func LegendreGauss(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := 0; i < (n+1)/2; i++ {
		// The i-th largest root.
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		for iter := 0; iter < 100; iter++ {
			p, dp := legendre(n, z)
			dz := p / dp
			z -= dz
			if math.Abs(dz) < 1e-16 {
				break
			}
		}
		p, dp := legendre(n, z)
		z -= p / dp
		_, dp = legendre(n, z)
		wi := 2 / ((1 - z*z) * dp * dp)
		x[n-1-i], w[n-1-i] = z, wi
		x[i], w[i] = -z, wi
	}
	if n%2 == 1 {
		x[n/2] = 0
	}
	// numpy scales the weights so that they sum to 2 exactly.
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] *= 2 / sum
	}
	return x, w
}

// legendre returns P_n(z) and P_n'(z) by the three-term recurrence.
func legendre(n int, z float64) (p, dp float64) {
	p0, p1 := 1.0, z
	if n == 0 {
		return 1, 0
	}
	for k := 2; k <= n; k++ {
		p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
	}
	dp = float64(n) * (z*p1 - p0) / (z*z - 1)
	return p1, dp
}
