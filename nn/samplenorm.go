package nn

import (
	"slices"

	"github.com/textclf/textclf/tensor"
)

// Per-sample gradient norms, for DP-SGD's per-example clipping. A batch of
// b examples is laid out as n rows, n/b consecutive rows per example; each
// function adds to sq[i] the squared norm of example i's gradient of the
// layer's parameters, computed from the layer's input and output gradient
// without forming b gradients where a cheaper form exists, and without
// touching Param.Grad.

// AddSampleGradNormSq adds to sq [b] the squared norms of the b examples'
// gradients of W and b, from x [n, in] and dy [n, out]. An example of one
// row has the rank-one gradient dy·xᵀ, whose norm is |dy|·|x|; for r rows
// the norm of Σ_t dy_t·x_tᵀ is Σ_{t,t'} (x_t·x_t')(dy_t·dy_t') (the
// "ghost" norm, r²·(in+out) work) when that is cheaper than forming it
// (r·in·out).
func (l *Linear) AddSampleGradNormSq(sq []float64, dy, x []float32, n int) {
	b := len(sq)
	r := n / b
	ghost := r*(l.In+l.Out) < l.In*l.Out
	var scratch []float32
	switch {
	case r == 1:
	case ghost:
		scratch = make([]float32, 2*r*r)
	default:
		scratch = make([]float32, l.Out*l.In)
	}
	for i := range b {
		xs, ys := x[i*r*l.In:(i+1)*r*l.In], dy[i*r*l.Out:(i+1)*r*l.Out]
		switch {
		case r == 1:
			sq[i] += float64(tensor.Dot(ys, ys)) * float64(tensor.Dot(xs, xs))
		case ghost:
			gx, gy := scratch[:r*r], scratch[r*r:]
			tensor.SgemmSerial(tensor.NoTrans, tensor.Trans, r, r, l.In, 1, xs, l.In, xs, l.In, 0, gx, r)
			tensor.SgemmSerial(tensor.NoTrans, tensor.Trans, r, r, l.Out, 1, ys, l.Out, ys, l.Out, 0, gy, r)
			sq[i] += float64(tensor.Dot(gx, gy))
		default:
			tensor.SgemmSerial(tensor.Trans, tensor.NoTrans, l.Out, l.In, r, 1, ys, l.Out, xs, l.In, 0, scratch, l.In)
			sq[i] += float64(tensor.Dot(scratch, scratch))
		}
		if l.Bias != nil {
			sq[i] += columnSumNormSq(ys, r, l.Out)
		}
	}
}

// columnSumNormSq is |Σ_t y_t|² for y [r, cols].
func columnSumNormSq(y []float32, r, cols int) float64 {
	sum := make([]float32, cols)
	for t := range r {
		tensor.AxpySerial(1, y[t*cols:(t+1)*cols], sum)
	}
	return float64(tensor.Dot(sum, sum))
}

// AddSampleGradNormSq adds to sq [b] the squared norms of the b examples'
// gradients of gamma (Σ_t dy_t ⊙ x̂_t) and beta (Σ_t dy_t), from the
// forward pass's x, mean and rstd and dy [n, dim].
func (l *LayerNorm) AddSampleGradNormSq(sq []float64, dy, x, mean, rstd []float32, n int) {
	b := len(sq)
	r := n / b
	dgamma, dbeta := make([]float32, l.Dim), make([]float32, l.Dim)
	for i := range b {
		clear(dgamma)
		clear(dbeta)
		for t := i * r; t < (i+1)*r; t++ {
			xr, dr := x[t*l.Dim:(t+1)*l.Dim], dy[t*l.Dim:(t+1)*l.Dim]
			m, rs := mean[t], rstd[t]
			for j, d := range dr {
				dgamma[j] += d * (xr[j] - m) * rs
				dbeta[j] += d
			}
		}
		sq[i] += float64(tensor.Dot(dgamma, dgamma))
		if l.Bias != nil {
			sq[i] += float64(tensor.Dot(dbeta, dbeta))
		}
	}
}

// AddSampleGradNormSq adds to sq [b] the squared norms of the b examples'
// gradients of the table: example i's gradient has, for each id v among its
// rows, the row Σ_{t: ids[t] = v} dy_t.
func (e *Embedding) AddSampleGradNormSq(sq []float64, dy []float32, ids []int) {
	b := len(sq)
	r := len(ids) / b
	order := make([]int, r)
	row := make([]float32, e.Dim)
	for i := range b {
		for t := range order {
			order[t] = i*r + t
		}
		slices.SortFunc(order, func(p, q int) int { return ids[p] - ids[q] })
		for start := 0; start < r; {
			end := start + 1
			for end < r && ids[order[end]] == ids[order[start]] {
				end++
			}
			clear(row)
			for _, t := range order[start:end] {
				tensor.AxpySerial(1, dy[t*e.Dim:(t+1)*e.Dim], row)
			}
			sq[i] += float64(tensor.Dot(row, row))
			start = end
		}
	}
}
