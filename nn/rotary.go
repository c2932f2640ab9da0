package nn

import (
	"math"

	"github.com/textclf/textclf/tensor"
)

// Rotary is the rotary position embedding (RoPE) of transformers' Llama,
// Qwen2, Mistral and ModernBERT, in their "rotate half" layout: within each
// head of HeadDim values, value j < HeadDim/2 pairs with j + HeadDim/2, and
// the pair at position p turns by the angle p·InvFreq[j]:
//
//	x'_j     = x_j·cos - x_{j+D/2}·sin
//	x'_{j+D/2} = x_{j+D/2}·cos + x_j·sin
//
// (q·cos + rotate_half(q)·sin, with cos and sin of cat(freqs, freqs)).
type Rotary struct {
	HeadDim int
	// InvFreq are the HeadDim/2 inverse frequencies, after any rope_scaling.
	InvFreq []float32
	// Scaling multiplies cos and sin (the attention_scaling of some RoPE
	// types; 1 for the default, linear and llama3 ones).
	Scaling float32
}

// RopeScaling is a config's rope_scaling (or rope_parameters) beyond theta:
// Type "default" (or empty), "linear" (positions divided by Factor) or
// "llama3" (Llama 3.1's smooth wavelength-dependent scaling).
type RopeScaling struct {
	Type                          string
	Factor                        float64
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions          int
}

// NewRotary returns the RoPE of heads of headDim values with base theta,
// inv_freq_j = 1/theta^(2j/headDim) computed in float32 as transformers
// does, then scaled as s says (nil: none).
func NewRotary(headDim int, theta float64, s *RopeScaling) *Rotary {
	half := headDim / 2
	r := &Rotary{HeadDim: headDim, InvFreq: make([]float32, half), Scaling: 1}
	for j := range r.InvFreq {
		exp := float32(2*j) / float32(headDim)
		r.InvFreq[j] = float32(1 / float64(float32(math.Pow(float64(float32(theta)), float64(exp)))))
	}
	if s == nil {
		return r
	}
	switch s.Type {
	case "linear":
		for j := range r.InvFreq {
			r.InvFreq[j] /= float32(s.Factor)
		}
	case "llama3":
		old := float64(s.OriginalMaxPositions)
		lowWave, highWave := old/s.LowFreqFactor, old/s.HighFreqFactor
		for j, f := range r.InvFreq {
			wave := 2 * math.Pi / float64(f)
			g := float64(f)
			if wave > lowWave {
				g = float64(f) / s.Factor
			}
			if !(wave < highWave) && !(wave > lowWave) {
				smooth := (old/wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				g = (1-smooth)*g/s.Factor + smooth*g
			}
			r.InvFreq[j] = float32(g)
		}
	}
	return r
}

// Table returns cos and sin [t, HeadDim/2] of positions 0..t-1 (the angle
// position·InvFreq rounded to float32 first, as transformers computes it).
func (r *Rotary) Table(t int) (cos, sin []float32) {
	half := r.HeadDim / 2
	cos, sin = make([]float32, t*half), make([]float32, t*half)
	for p := 0; p < t; p++ {
		for j, f := range r.InvFreq {
			a := float64(float32(p) * f)
			cos[p*half+j] = float32(math.Cos(a)) * r.Scaling
			sin[p*half+j] = float32(math.Sin(a)) * r.Scaling
		}
	}
	return cos, sin
}

// Forward rotates in place the heads of n rows of x (row stride ld, heads
// heads of HeadDim values each from the row start), row i at position
// pos[i], with cos and sin from Table.
func (r *Rotary) Forward(x []float32, ld, heads, n int, pos []int, cos, sin []float32) {
	r.rotate(x, ld, heads, n, pos, cos, sin, 1)
}

// Backward turns the gradient dx of Forward's output into the gradient of
// its input, in place: the rotation by the opposite angle.
func (r *Rotary) Backward(dx []float32, ld, heads, n int, pos []int, cos, sin []float32) {
	r.rotate(dx, ld, heads, n, pos, cos, sin, -1)
}

func (r *Rotary) rotate(x []float32, ld, heads, n int, pos []int, cos, sin []float32, sign float32) {
	d, half := r.HeadDim, r.HeadDim/2
	tensor.ParallelFor(n, max(1, 4096/max(heads*d, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c, s := cos[pos[i]*half:(pos[i]+1)*half], sin[pos[i]*half:(pos[i]+1)*half]
			for h := 0; h < heads; h++ {
				x1 := x[i*ld+h*d : i*ld+h*d+half]
				x2 := x[i*ld+h*d+half : i*ld+h*d+d]
				for j := range x1 {
					a, b := x1[j], x2[j]
					sj := sign * s[j]
					x1[j] = a*c[j] - b*sj
					x2[j] = b*c[j] + a*sj
				}
			}
		}
	})
}
