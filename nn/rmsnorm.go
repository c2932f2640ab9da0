package nn

import (
	"math"

	"github.com/textclf/textclf/tensor"
)

// RMSNorm scales rows of dim values by their reciprocal root mean square,
// as LlamaRMSNorm (and Qwen2RMSNorm): y = weight·x/√(mean(x²) + eps),
// without centring and without bias.
type RMSNorm struct {
	Dim    int
	Eps    float32
	Weight *Param // [dim]
}

// NewRMSNorm makes an RMSNorm whose weight, named prefix.weight, is 1.
func NewRMSNorm(prefix string, dim int, eps float32) *RMSNorm {
	l := &RMSNorm{Dim: dim, Eps: eps, Weight: NewParam(prefix+".weight", dim)}
	l.Weight.Fill(1)
	return l
}

// Params lists the weight.
func (l *RMSNorm) Params() []*Param { return []*Param{l.Weight} }

// Forward normalises x [n, dim] into y (y may be x); rstd (length n, nil in
// inference) receives 1/√(mean(x²) + eps) of each row for Backward.
func (l *RMSNorm) Forward(y, rstd, x []float32, n int) {
	d, w := l.Dim, l.Weight.W
	tensor.ParallelFor(n, max(1, 8192/max(d, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			var ss float64
			for _, v := range xr {
				ss += float64(v) * float64(v)
			}
			rs := float32(1 / math.Sqrt(float64(float32(ss/float64(d))+l.Eps)))
			for j, v := range xr {
				yr[j] = w[j] * (v * rs)
			}
			if rstd != nil {
				rstd[r] = rs
			}
		}
	})
}

// Backward adds the input gradient to dx [n, dim] and the weight gradient,
// given dy and the x and rstd of Forward: with x̂ = x·rstd and g = dy·weight,
// dx = rstd·(g - x̂·mean(g·x̂)) and dweight += Σ_rows dy·x̂.
func (l *RMSNorm) Backward(dx, dy, x, rstd []float32, n int) {
	d, w := l.Dim, l.Weight.W
	nt := min(tensor.Threads(), max(1, n*d/8192))
	partial := make([]float32, nt*d)
	tensor.ParallelFor(nt, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			dw := partial[c*d : (c+1)*d]
			for r := c * n / nt; r < (c+1)*n/nt; r++ {
				xr, dr, dxr, rs := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d], rstd[r]
				var s float32
				for j, g := range dr {
					xh := xr[j] * rs
					s += g * w[j] * xh
					dw[j] += g * xh
				}
				s /= float32(d)
				for j, g := range dr {
					dxr[j] += rs * (g*w[j] - xr[j]*rs*s)
				}
			}
		}
	})
	for c := 0; c < nt; c++ {
		for j := 0; j < d; j++ {
			l.Weight.Grad[j] += partial[c*d+j]
		}
	}
}
