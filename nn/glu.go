package nn

import "github.com/textclf/textclf/tensor"

// GLU is a gated linear unit, out = act(a)·b element-wise: Llama's SwiGLU
// (act SiLU, a = gate_proj(x), b = up_proj(x)) and ModernBERT's GeGLU (act
// GELU, a and b the two halves of Wi(x)). a and b are [n, dim] with row
// stride ld, so they may be two halves of one [n, 2·dim] product (ld = 2·dim)
// or two products of their own (ld = dim).
type GLU struct {
	Act Activation
}

// Forward writes act(a)·b to out [n, dim]; actA [n, dim] receives act(a) for
// Backward (nil in inference).
func (g GLU) Forward(out, actA, a, b []float32, n, dim, ld int) {
	tensor.ParallelFor(n, max(1, 8192/max(dim, 1)), func(lo, hi int) {
		var tmp []float32
		if actA == nil {
			tmp = make([]float32, dim)
		}
		for i := lo; i < hi; i++ {
			ar, br := a[i*ld:i*ld+dim], b[i*ld:i*ld+dim]
			if g.Act == SiLU && actA == nil {
				// SwiGLU at inference: one fused pass, rounded as below.
				tensor.SiLUMul(out[i*dim:(i+1)*dim], ar, br)
				continue
			}
			act := tmp
			if actA != nil {
				act = actA[i*dim : (i+1)*dim]
			}
			g.Act.Forward(act, ar)
			o := out[i*dim : (i+1)*dim]
			for j, v := range act {
				o[j] = v * br[j]
			}
		}
	})
}

// Backward adds the gradients of a and b to da and db (stride ld, like a and
// b) given dout [n, dim] and what Forward kept.
func (g GLU) Backward(da, db, dout, a, b, actA []float32, n, dim, ld int) {
	tensor.ParallelFor(n, max(1, 8192/max(dim, 1)), func(lo, hi int) {
		tmp := make([]float32, dim)
		for i := lo; i < hi; i++ {
			d, br, act := dout[i*dim:(i+1)*dim], b[i*ld:i*ld+dim], actA[i*dim:(i+1)*dim]
			dbr := db[i*ld : i*ld+dim]
			for j, v := range d {
				dbr[j] += v * act[j]
				tmp[j] = v * br[j]
			}
			g.Act.Backward(da[i*ld:i*ld+dim], a[i*ld:i*ld+dim], tmp)
		}
	})
}
