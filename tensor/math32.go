package tensor

import "math"

// Exp returns e^x in float32 with a relative error of at most about 2 ulp:
// range reduction x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for
// e^r and an exponent shift. It returns +Inf above 88.72, 0 below -103.98 and
// NaN for NaN, and is several times faster than float64 math.Exp.
func Exp(x float32) float32 {
	const (
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		log2e  = 1.44269504088896341
		maxArg = 88.72283935546875
		minArg = -103.97207708
	)
	switch {
	case x != x:
		return x
	case x > maxArg:
		return float32(math.Inf(1))
	case x < minArg:
		return 0
	}
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*ln2Hi
	r -= n * ln2Lo
	// e^r ≈ 1 + r + r²·P(r), Cephes expf coefficients.
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	e := int32(n)
	if e < -125 {
		// Go through two scalings to reach subnormal results.
		y *= math.Float32frombits(uint32(e+125+127) << 23)
		return y * math.Float32frombits(uint32(-125+127)<<23)
	}
	if e > 127 {
		y *= 2
		e--
	}
	return y * math.Float32frombits(uint32(e+127)<<23)
}

// erfc32 returns erfc(z) for z ≥ 0 with a relative error near 1e-7
// (the Chebyshev fit of Numerical Recipes, §6.2).
func erfc32(z float32) float32 {
	t := 1 / (1 + 0.5*z)
	p := float32(0.17087277)
	p = p*t - 0.82215223
	p = p*t + 1.48851587
	p = p*t - 1.13520398
	p = p*t + 0.27886807
	p = p*t - 0.18628806
	p = p*t + 0.09678418
	p = p*t + 0.37409196
	p = p*t + 1.00002368
	p = p*t - 1.26551223
	return t * Exp(-z*z+p)
}

// normCDF32 returns Φ(x), the standard normal CDF, with small relative error
// in both tails.
func normCDF32(x float32) float32 {
	const invSqrt2 = 0.70710678118654752
	if x < 0 {
		return 0.5 * erfc32(-x*invSqrt2)
	}
	return 1 - 0.5*erfc32(x*invSqrt2)
}

// Erf returns the error function of x in float32 (absolute error below 4e-7).
func Erf(x float32) float32 {
	if x < 0 {
		return erfc32(-x) - 1
	}
	return 1 - erfc32(x)
}
