package tensor

import "math"

// rowGrain returns how many rows of cols elements make one parallel chunk.
func rowGrain(cols int) int { return max(1, elemGrain/max(cols, 1)) }

// Softmax writes the softmax of each row of x [rows, cols] to out [rows, cols]
// (out may be x): out[r][j] = exp(x[r][j] - m) / Σ_j exp(x[r][j] - m) with m
// the row maximum, so large logits do not overflow. A row of all -Inf (fully
// masked) becomes all zeros.
//
// A few short rows (a classifier's logits) run on the calling goroutine
// without allocating.
func Softmax(out, x []float32, rows, cols int) {
	checkLen("Softmax", rows*cols, out, x)
	asm := current.Load().avx2
	if rows < 2*rowGrain(cols) {
		softmaxRows(asm, out, x, cols, 0, rows)
		return
	}
	ParallelFor(rows, rowGrain(cols), func(lo, hi int) { softmaxRows(asm, out, x, cols, lo, hi) })
}

// softmaxRows runs softmaxRow on rows [lo, hi) of x and out [rows, cols].
func softmaxRows(asm bool, out, x []float32, cols, lo, hi int) {
	for r := lo; r < hi; r++ {
		softmaxRow(asm, out[r*cols:r*cols+cols], x[r*cols:r*cols+cols])
	}
}

// expSum sets out[i] = Exp(x[i]-shift) and returns the sum, with the
// vector kernel when asm is set.
func expSum(asm bool, out, x []float32, shift float32) float32 {
	out = out[:len(x)]
	var s float32
	i := 0
	if asm && len(x) >= 8 {
		i = len(x) &^ 7
		s = expSumAsm(out[:i], x[:i], shift)
	}
	for ; i < len(x); i++ {
		e := Exp(x[i] - shift)
		out[i] = e
		s += e
	}
	return s
}

func softmaxRow(asm bool, out, x []float32) {
	out = out[:len(x)]
	m := maxOf(asm, x)
	if math.IsInf(float64(m), -1) {
		clear(out)
		return
	}
	scale(asm, 1/expSum(asm, out, x, m), out)
}

// LogSoftmax writes the log-softmax of each row of x [rows, cols] to out
// (out may be x): out[r][j] = x[r][j] - m - log Σ_j exp(x[r][j] - m) with m
// the row maximum, as torch.log_softmax; cross-entropy losses start here.
func LogSoftmax(out, x []float32, rows, cols int) {
	checkLen("LogSoftmax", rows*cols, out, x)
	asm := current.Load().avx2
	ParallelFor(rows, rowGrain(cols), func(lo, hi int) {
		var tmp []float32
		for r := lo; r < hi; r++ {
			xr, or := x[r*cols:r*cols+cols], out[r*cols:r*cols+cols]
			m := maxOf(asm, xr)
			if math.IsInf(float64(m), 0) {
				// All -Inf (or +Inf present): follow the float arithmetic of
				// x - m - log Σ exp(x - m) without a shift.
				m = 0
			}
			if cap(tmp) < cols {
				tmp = make([]float32, cols)
			}
			lse := m + float32(math.Log(float64(expSum(asm, tmp[:cols], xr, m))))
			for j, v := range xr {
				or[j] = v - lse
			}
		}
	})
}

// SoftmaxBackward accumulates into dx [rows, cols] the gradient through a
// row softmax with output y and output gradient dy:
// dx[r][j] += y[r][j]·(dy[r][j] - Σ_k dy[r][k]·y[r][k]).
func SoftmaxBackward(dx, y, dy []float32, rows, cols int) {
	checkLen("SoftmaxBackward", rows*cols, dx, y, dy)
	asm := current.Load().avx2
	ParallelFor(rows, rowGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, dyr, dxr := y[r*cols:r*cols+cols], dy[r*cols:r*cols+cols], dx[r*cols:r*cols+cols]
			var s float32
			if asm {
				s = dotAsm(yr, dyr)
			} else {
				s = dotGo(yr, dyr)
			}
			for j, v := range yr {
				dxr[j] += v * (dyr[j] - s)
			}
		}
	})
}

// LayerNorm normalises each row of x [rows, cols] and writes
// out[r][j] = (x[r][j] - μ_r)·σ_r⁻¹·gamma[j] + beta[j], with μ_r the row mean,
// σ_r = sqrt(var_r + eps) and var_r the biased variance, as
// torch.nn.LayerNorm. If mean and rstd (length rows) are not nil they receive
// μ_r and 1/σ_r for LayerNormBackward. out may be x.
func LayerNorm(out, mean, rstd, x, gamma, beta []float32, rows, cols int, eps float32) {
	checkLen("LayerNorm", rows*cols, out, x)
	checkLen("LayerNorm", cols, gamma, beta)
	if mean != nil || rstd != nil {
		checkLen("LayerNorm", rows, mean, rstd)
	}
	asm := current.Load().avx2 && cols >= 8
	n8 := cols &^ 7
	ParallelFor(rows, rowGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*cols : r*cols+cols]
			or := out[r*cols : r*cols+cols]
			var m, rs float32
			if asm {
				// Two passes in float32 with 32 partial sums.
				s := sumAsm(xr[:n8])
				for _, v := range xr[n8:] {
					s += v
				}
				m = s / float32(cols)
				ss := sumSqDevAsm(xr[:n8], m)
				for _, v := range xr[n8:] {
					ss += (v - m) * (v - m)
				}
				rs = float32(1 / math.Sqrt(float64(ss)/float64(cols)+float64(eps)))
				normAffineAsm(or[:n8], xr[:n8], gamma[:n8], beta[:n8], m, rs)
				for j := n8; j < cols; j++ {
					or[j] = (xr[j]-m)*rs*gamma[j] + beta[j]
				}
			} else {
				mu, v := meanVar(xr)
				rs = float32(1 / math.Sqrt(v+float64(eps)))
				m = float32(mu)
				for j, v := range xr {
					or[j] = (v-m)*rs*gamma[j] + beta[j]
				}
			}
			if mean != nil {
				mean[r], rstd[r] = m, rs
			}
		}
	})
}

// LayerNormBackward accumulates the gradients of LayerNorm: given the output
// gradient dout [rows, cols], the input x, gamma and the mean and rstd that
// LayerNorm saved, it adds the input gradient to dx [rows, cols] and the
// parameter gradients to dgamma and dbeta (length cols). With
// x̂ = (x-μ)·rstd and g = dout·gamma,
// dx = rstd·(g - mean_j(g) - x̂·mean_j(g·x̂)), dgamma += Σ_r dout·x̂,
// dbeta += Σ_r dout.
func LayerNormBackward(dx, dgamma, dbeta, dout, x, gamma, mean, rstd []float32, rows, cols int) {
	checkLen("LayerNormBackward", rows*cols, dx, dout, x)
	checkLen("LayerNormBackward", cols, dgamma, dbeta, gamma)
	checkLen("LayerNormBackward", rows, mean, rstd)
	nt := min(Threads(), max(1, rows/rowGrain(cols)))
	if nt < 1 {
		nt = 1
	}
	// Each chunk sums its parameter gradients in its own buffer.
	partial := make([]float32, 2*cols*nt)
	ParallelFor(nt, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			dg := partial[2*c*cols : 2*c*cols+cols]
			db := partial[2*c*cols+cols : 2*c*cols+2*cols]
			for r := c * rows / nt; r < (c+1)*rows/nt; r++ {
				xr, dr, dxr := x[r*cols:r*cols+cols], dout[r*cols:r*cols+cols], dx[r*cols:r*cols+cols]
				m, rs := mean[r], rstd[r]
				var sg, sgx float32
				for j, d := range dr {
					xh := (xr[j] - m) * rs
					g := d * gamma[j]
					sg += g
					sgx += g * xh
					dg[j] += d * xh
					db[j] += d
				}
				sg /= float32(cols)
				sgx /= float32(cols)
				for j, d := range dr {
					xh := (xr[j] - m) * rs
					dxr[j] += rs * (d*gamma[j] - sg - xh*sgx)
				}
			}
		}
	})
	for c := 0; c < nt; c++ {
		for j := 0; j < cols; j++ {
			dgamma[j] += partial[2*c*cols+j]
			dbeta[j] += partial[2*c*cols+cols+j]
		}
	}
}

// GELU writes the exact GELU of x to out (out may be x):
// out[i] = x[i]·Φ(x[i]) = 0.5·x·(1 + erf(x/√2)), torch's gelu with
// approximate="none".
func GELU(out, x []float32) {
	checkLen("GELU", len(x), out)
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) { geluChunk(asm, out[lo:hi], x[lo:hi]) })
}

// geluChunk is GELU on one goroutine.
func geluChunk(asm bool, out, x []float32) {
	if asm && len(x) >= 8 {
		n8 := len(x) &^ 7
		geluAsm(out[:n8], x[:n8])
		out, x = out[n8:], x[n8:]
	}
	for i, v := range x {
		out[i] = v * normCDF32(v)
	}
}

// GELUBackward accumulates into dx the gradient through the exact GELU:
// dx[i] += dout[i]·(Φ(x) + x·φ(x)) with φ the standard normal density.
func GELUBackward(dx, x, dout []float32) {
	checkLen("GELUBackward", len(x), dx, dout)
	const invSqrt2Pi = 0.3989422804014327
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) {
		d, g, xs := dx[lo:hi], dout[lo:hi], x[lo:hi]
		if asm && len(xs) >= 8 {
			n8 := len(xs) &^ 7
			geluBackwardAsm(d[:n8], xs[:n8], g[:n8])
			d, g, xs = d[n8:], g[n8:], xs[n8:]
		}
		for i, v := range xs {
			d[i] += g[i] * (normCDF32(v) + v*invSqrt2Pi*Exp(-0.5*v*v))
		}
	})
}

// geluTanhK is √(2/π).
const geluTanhK = 0.7978845608028654

// GELUTanh writes the tanh approximation of GELU of x to out (out may be x):
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), torch's gelu with
// approximate="tanh" (HF's gelu_new), computed as x·σ(2u) to stay accurate in
// both tails.
func GELUTanh(out, x []float32) {
	checkLen("GELUTanh", len(x), out)
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) { geluTanhChunk(asm, out[lo:hi], x[lo:hi]) })
}

// geluTanhChunk is GELUTanh on one goroutine.
func geluTanhChunk(asm bool, out, x []float32) {
	if asm && len(x) >= 8 {
		n8 := len(x) &^ 7
		geluTanhAsm(out[:n8], x[:n8])
		out, x = out[n8:], x[n8:]
	}
	for i, v := range x {
		u := geluTanhK * (v + 0.044715*v*v*v)
		out[i] = v / (1 + Exp(-2*u))
	}
}

// GELUTanhBackward accumulates into dx the gradient through GELUTanh:
// with s = σ(2u), dx[i] += dout[i]·(s + x·2s(1-s)·√(2/π)(1 + 3·0.044715·x²)).
func GELUTanhBackward(dx, x, dout []float32) {
	checkLen("GELUTanhBackward", len(x), dx, dout)
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) {
		d, g, xs := dx[lo:hi], dout[lo:hi], x[lo:hi]
		if asm && len(xs) >= 8 {
			n8 := len(xs) &^ 7
			geluTanhBackwardAsm(d[:n8], xs[:n8], g[:n8])
			d, g, xs = d[n8:], g[n8:], xs[n8:]
		}
		for i, v := range xs {
			u := geluTanhK * (v + 0.044715*v*v*v)
			s := 1 / (1 + Exp(-2*u))
			du := geluTanhK * (1 + 3*0.044715*v*v)
			d[i] += g[i] * (s + v*2*s*(1-s)*du)
		}
	})
}

// Tanh writes tanh(x) to out (out may be x), as in BERT's pooler.
func Tanh(out, x []float32) { mapChunks("Tanh", out, x, tanhChunk) }

func tanhChunk(out, x []float32) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = float32(math.Tanh(float64(v)))
	}
}

// Sigmoid writes the logistic function of x to out (out may be x):
// out[i] = 1/(1+e^(-x[i])), evaluated in float64 and rounded once, so it is
// 1/(1+exp(-x)) to float32 precision. It cannot overflow: large negative x
// give 0 (or the subnormal e^x), large positive x give 1, and NaN stays NaN.
// This is the sigmoid of multi-label scores and of LSTM gates.
func Sigmoid(out, x []float32) { mapChunks("Sigmoid", out, x, sigmoidChunk) }

// mapChunks runs the element-wise chunk(out, x) over x, split across
// Threads() goroutines when x is long (out must be at least as long).
func mapChunks(op string, out, x []float32, chunk func(out, x []float32)) {
	checkLen(op, len(x), out)
	if oneChunk(len(x)) {
		chunk(out, x)
		return
	}
	ParallelFor(len(x), elemGrain, func(lo, hi int) { chunk(out[lo:hi], x[lo:hi]) })
}

func sigmoidChunk(out, x []float32) {
	out = out[:len(x)]
	for i, v := range x {
		// exp(-v) overflows to +Inf for v < -709 and 1/(1+Inf) is 0:
		// no NaN appears for any finite or infinite v.
		out[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

// TanhBackward accumulates into dx the gradient through Tanh given its
// output y: dx[i] += dout[i]·(1 - y[i]²).
func TanhBackward(dx, y, dout []float32) {
	checkLen("TanhBackward", len(y), dx, dout)
	ParallelFor(len(y), elemGrain, func(lo, hi int) {
		d, g := dx[lo:hi], dout[lo:hi]
		for i, v := range y[lo:hi] {
			d[i] += g[i] * (1 - v*v)
		}
	})
}

// meanVar returns the mean and the biased variance of x (two passes, in
// float64 with four partial sums so the additions pipeline).
func meanVar(x []float32) (mean, variance float64) {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	n := float64(len(x))
	mean = (s0 + s1 + s2 + s3) / n
	s0, s1, s2, s3 = 0, 0, 0, 0
	for i = 0; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-mean, float64(x[i+1])-mean, float64(x[i+2])-mean, float64(x[i+3])-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - mean
		s0 += d * d
	}
	return mean, (s0 + s1 + s2 + s3) / n
}

// SiLU writes x·σ(x) = x/(1+e^(-x)) to out (out may be x), torch's silu (the
// activation of Llama's SwiGLU), with the float32 Exp (the vector kernel when
// the CPU has it).
func SiLU(out, x []float32) {
	checkLen("SiLU", len(x), out)
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) { siluChunk(asm, out[lo:hi], x[lo:hi], nil) })
}

// SiLUMul writes silu(g)·u to out (out may be g or u): the gated product of
// SwiGLU, rounded as SiLU followed by a multiplication.
func SiLUMul(out, g, u []float32) {
	checkLen("SiLUMul", len(g), out, u)
	asm := current.Load().avx2
	ParallelFor(len(g), elemGrain, func(lo, hi int) {
		o, gs, us := out[lo:hi], g[lo:hi], u[lo:hi]
		if asm && len(gs) >= 8 {
			n8 := len(gs) &^ 7
			siluMulAsm(o[:n8], gs[:n8], us[:n8])
			o, gs, us = o[n8:], gs[n8:], us[n8:]
		}
		for i, v := range gs {
			o[i] = v / (1 + Exp(-v)) * us[i]
		}
	})
}

// SiLUBackward accumulates into dx the gradient through SiLU: with
// s = σ(x), dx[i] += dout[i]·s·(1 + x·(1-s)).
func SiLUBackward(dx, x, dout []float32) {
	checkLen("SiLUBackward", len(x), dx, dout)
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) { siluChunk(asm, dx[lo:hi], x[lo:hi], dout[lo:hi]) })
}

// siluChunk is SiLU (dout nil) or SiLUBackward on one goroutine: e^(-x) in
// blocks of 256 by expSum, then the rest element by element.
func siluChunk(asm bool, out, x, dout []float32) {
	var buf [256]float32
	for len(x) > 0 {
		n := min(len(x), len(buf))
		e := buf[:n]
		for i, v := range x[:n] {
			e[i] = -v
		}
		expSum(asm, e, e, 0)
		if dout == nil {
			for i, v := range x[:n] {
				out[i] = v / (1 + e[i])
			}
		} else {
			for i, v := range x[:n] {
				s := 1 / (1 + e[i])
				out[i] += dout[i] * s * (1 + v*(1-s))
			}
			dout = dout[n:]
		}
		x, out = x[n:], out[n:]
	}
}
