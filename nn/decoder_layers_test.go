package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Finite-difference checks of the layers of the decoders and ModernBERT:
// RMSNorm, rotary embeddings, grouped-query causal and sliding-window
// attention, the gated units (SwiGLU, GeGLU), Conv1D and bias-free layers.

func TestRMSNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	n, d := 4, 9
	l := NewRMSNorm("norm", d, 1e-6)
	copy(l.Weight.W, randSlice(rng, d, 1))
	x, w := randSlice(rng, n*d, 2), randSlice(rng, n*d, 1)
	y, rstd := make([]float32, n*d), make([]float32, n)
	loss := func() float64 { l.Forward(y, rstd, x, n); return dot64(y, w) }
	l.Weight.AllocGrad()
	dx := make([]float32, n*d)
	loss()
	l.Backward(dx, w, x, rstd, n)
	checkGrad(t, "x", x, dx, loss)
	checkGrad(t, "weight", l.Weight.W, l.Weight.Grad, loss)
	// Known value: a row of equal values v normalises to weight·sign(v).
	one := NewRMSNorm("n", 3, 0)
	out := make([]float32, 3)
	one.Forward(out, nil, []float32{-2, -2, -2}, 1)
	for _, v := range out {
		if math.Abs(float64(v)+1) > 1e-6 {
			t.Fatalf("RMSNorm of (-2,-2,-2) = %v, want -1s", out)
		}
	}
}

func TestLayerNormNoBiasGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	n, d := 3, 8
	l := NewLayerNormNoBias("ln", d, 1e-5)
	if len(l.Params()) != 1 {
		t.Fatalf("bias-free LayerNorm has %d parameters", len(l.Params()))
	}
	copy(l.Weight.W, randSlice(rng, d, 1))
	x, w := randSlice(rng, n*d, 2), randSlice(rng, n*d, 1)
	y, mean, rstd := make([]float32, n*d), make([]float32, n), make([]float32, n)
	loss := func() float64 { l.Forward(y, mean, rstd, x, n); return dot64(y, w) }
	l.Weight.AllocGrad()
	dx := make([]float32, n*d)
	loss()
	l.Backward(dx, w, x, mean, rstd, n)
	checkGrad(t, "x", x, dx, loss)
	checkGrad(t, "gamma", l.Weight.W, l.Weight.Grad, loss)
}

// Conv1D stores its weight [in, out]: it must compute x·W + b, and its
// gradients must match finite differences; a Linear without bias too.
func TestConv1DAndNoBiasGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	n, in, out := 5, 6, 4
	conv := NewConv1D("c", in, out)
	if conv.Weight.Shape[0] != in || conv.Weight.Shape[1] != out {
		t.Fatalf("Conv1D weight shape %v, want [%d %d]", conv.Weight.Shape, in, out)
	}
	copy(conv.Weight.W, randSlice(rng, in*out, 1))
	copy(conv.Bias.W, randSlice(rng, out, 1))
	x := randSlice(rng, n*in, 1)
	y := make([]float32, n*out)
	conv.Forward(y, x, n)
	for i := 0; i < n; i++ {
		for j := 0; j < out; j++ {
			want := float64(conv.Bias.W[j])
			for p := 0; p < in; p++ {
				want += float64(x[i*in+p]) * float64(conv.Weight.W[p*out+j])
			}
			if math.Abs(float64(y[i*out+j])-want) > 1e-5 {
				t.Fatalf("Conv1D y[%d][%d] = %g, want %g", i, j, y[i*out+j], want)
			}
		}
	}
	// The packed inference path agrees.
	conv.Pack()
	y2 := make([]float32, n*out)
	conv.Forward(y2, x, n)
	for i := range y {
		if math.Abs(float64(y[i]-y2[i])) > 1e-5 {
			t.Fatalf("packed Conv1D y[%d] = %g, unpacked %g", i, y2[i], y[i])
		}
	}
	conv.Unpack()
	for _, l := range []*Linear{conv, NewLinearNoBias("nb", in, out)} {
		if l.Bias == nil {
			copy(l.Weight.W, randSlice(rng, in*out, 1))
		}
		w := randSlice(rng, n*out, 1)
		loss := func() float64 { l.Forward(y, x, n); return dot64(y, w) }
		for _, p := range l.Params() {
			p.AllocGrad()
		}
		dx := make([]float32, n*in)
		loss()
		l.Backward(dx, w, x, n)
		checkGrad(t, "x", x, dx, loss)
		checkGrad(t, "weight", l.Weight.W, l.Weight.Grad, loss)
		if l.Bias != nil {
			checkGrad(t, "bias", l.Bias.W, l.Bias.Grad, loss)
		}
	}
}

func TestGLUGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	n, d := 4, 5
	for _, tc := range []struct {
		name  string
		act   Activation
		fused bool
	}{{"SwiGLU", SiLU, false}, {"GeGLU", GELU, true}, {"GeGLU-tanh", GELUTanh, true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := GLU{Act: tc.act}
			var a, b []float32
			ld := d
			var x []float32
			if tc.fused { // the halves of one [n, 2d] product
				x = randSlice(rng, n*2*d, 1.5)
				a, b, ld = x, x[d:], 2*d
			} else {
				a, b = randSlice(rng, n*d, 1.5), randSlice(rng, n*d, 1.5)
			}
			w := randSlice(rng, n*d, 1)
			out, act := make([]float32, n*d), make([]float32, n*d)
			loss := func() float64 { g.Forward(out, act, a, b, n, d, ld); return dot64(out, w) }
			loss()
			// Known value: out = act(a)·b.
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					av, bv := float64(a[i*ld+j]), float64(b[i*ld+j])
					var f float64
					switch tc.act {
					case SiLU:
						f = av / (1 + math.Exp(-av))
					case GELU:
						f = 0.5 * av * (1 + math.Erf(av/math.Sqrt2))
					case GELUTanh:
						f = 0.5 * av * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(av+0.044715*av*av*av)))
					}
					if math.Abs(float64(out[i*d+j])-f*bv) > 1e-5 {
						t.Fatalf("out[%d][%d] = %g, want %g", i, j, out[i*d+j], f*bv)
					}
				}
			}
			if tc.fused {
				dx := make([]float32, len(x))
				g.Backward(dx, dx[d:], w, a, b, act, n, d, ld)
				checkGrad(t, "x", x, dx, loss)
				return
			}
			da, db := make([]float32, len(a)), make([]float32, len(b))
			g.Backward(da, db, w, a, b, act, n, d, ld)
			checkGrad(t, "a", a, da, loss)
			checkGrad(t, "b", b, db, loss)
		})
	}
}

// RoPE: the rotation keeps norms, makes q·k depend on the relative position
// only, matches the closed form, and its backward matches finite differences.
func TestRotary(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	d, heads, n := 8, 2, 5
	r := NewRotary(d, 10000, nil)
	if math.Abs(float64(r.InvFreq[1])-math.Pow(10000, -2.0/8)) > 1e-7 {
		t.Fatalf("inv_freq[1] = %g", r.InvFreq[1])
	}
	cos, sin := r.Table(20)
	pos := []int{0, 3, 7, 19, 2}
	x := randSlice(rng, n*heads*d, 1)
	y := append([]float32(nil), x...)
	r.Forward(y, heads*d, heads, n, pos, cos, sin)
	for i := 0; i < n; i++ {
		for h := 0; h < heads; h++ {
			for j := 0; j < d/2; j++ {
				a := float64(pos[i]) * float64(r.InvFreq[j])
				x1, x2 := float64(x[i*heads*d+h*d+j]), float64(x[i*heads*d+h*d+j+d/2])
				w1, w2 := x1*math.Cos(a)-x2*math.Sin(a), x2*math.Cos(a)+x1*math.Sin(a)
				if math.Abs(float64(y[i*heads*d+h*d+j])-w1) > 1e-5 || math.Abs(float64(y[i*heads*d+h*d+j+d/2])-w2) > 1e-5 {
					t.Fatalf("row %d head %d pair %d: got (%g, %g), want (%g, %g)", i, h, j, y[i*heads*d+h*d+j], y[i*heads*d+h*d+j+d/2], w1, w2)
				}
			}
		}
	}
	// Relative positions: the product of q at p and k at p+3 does not depend on p.
	q, k := randSlice(rng, d, 1), randSlice(rng, d, 1)
	dotAt := func(pq, pk int) float64 {
		qq, kk := append([]float32(nil), q...), append([]float32(nil), k...)
		r.Forward(qq, d, 1, 1, []int{pq}, cos, sin)
		r.Forward(kk, d, 1, 1, []int{pk}, cos, sin)
		return dot64(qq, kk)
	}
	if a, b := dotAt(1, 4), dotAt(12, 15); math.Abs(a-b) > 1e-5 {
		t.Fatalf("q·k at (1,4) = %g, at (12,15) = %g", a, b)
	}
	w := randSlice(rng, len(x), 1)
	loss := func() float64 {
		copy(y, x)
		r.Forward(y, heads*d, heads, n, pos, cos, sin)
		return dot64(y, w)
	}
	dx := append([]float32(nil), w...)
	r.Backward(dx, heads*d, heads, n, pos, cos, sin)
	checkGrad(t, "x", x, dx, loss)
	// Linear scaling divides the frequencies by the factor.
	lin := NewRotary(d, 10000, &RopeScaling{Type: "linear", Factor: 4})
	for j := range lin.InvFreq {
		if math.Abs(float64(lin.InvFreq[j]*4-r.InvFreq[j])) > 1e-9 {
			t.Fatalf("linear inv_freq[%d] = %g, want %g/4", j, lin.InvFreq[j], r.InvFreq[j])
		}
	}
}

// denseAttention is the textbook computation over the whole T×T score
// matrix, for comparison.
func denseAttention(a *MaskedAttention, b, tt int, q, k, v []float32, mask []int, qpos []int) []float32 {
	d, hq, hk := a.HeadDim, a.Heads, a.KVHeads
	c := hq * d
	rows := b * tt
	if qpos != nil {
		rows = b
	}
	ctx := make([]float32, rows*c)
	for row := 0; row < rows; row++ {
		bi, i := row/tt, row%tt
		if qpos != nil {
			bi, i = row, qpos[row]
		}
		for h := 0; h < hq; h++ {
			g := h / (hq / hk)
			s := make([]float64, tt)
			m := math.Inf(-1)
			for j := 0; j < tt; j++ {
				ok := mask[bi*tt+j] != 0 && !(a.Causal && j > i) && !(a.Left >= 0 && j < i-a.Left) && !(a.Right >= 0 && j > i+a.Right)
				if !ok {
					s[j] = math.Inf(-1)
					continue
				}
				var dot float64
				for e := 0; e < d; e++ {
					dot += float64(q[row*c+h*d+e]) * float64(k[(bi*tt+j)*hk*d+g*d+e])
				}
				s[j] = dot * float64(a.scale())
				m = math.Max(m, s[j])
			}
			var z float64
			for j := range s {
				s[j] = math.Exp(s[j] - m)
				z += s[j]
			}
			for e := 0; e < d; e++ {
				var o float64
				for j := range s {
					o += s[j] / z * float64(v[(bi*tt+j)*hk*d+g*d+e])
				}
				ctx[row*c+h*d+e] = float32(o)
			}
		}
	}
	return ctx
}

func TestMaskedAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct {
		name              string
		b, t, heads, kv   int
		causal            bool
		left, right       int
		qpos              []int
		leftPad, rightPad bool
	}{
		{"causal-gqa", 2, 7, 4, 2, true, -1, -1, nil, true, false},
		{"causal-mha-rightpad", 2, 6, 2, 2, true, -1, -1, nil, false, true},
		{"bidirectional-window", 2, 150, 2, 1, false, 4, 4, nil, false, true},
		{"causal-window", 1, 140, 2, 2, true, 9, 0, nil, false, false},
		{"last-token-causal", 3, 9, 4, 1, true, -1, -1, []int{8, 5, 8}, true, false},
		{"one-query-window", 2, 130, 2, 2, false, 16, 16, []int{0, 77}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := 4
			a := &MaskedAttention{Heads: tc.heads, KVHeads: tc.kv, HeadDim: d, Causal: tc.causal, Left: tc.left, Right: tc.right}
			c, ckv := tc.heads*d, tc.kv*d
			rows := tc.b * tc.t
			if tc.qpos != nil {
				rows = tc.b
			}
			mask := make([]int, tc.b*tc.t)
			for i := range mask {
				mask[i] = 1
			}
			if tc.leftPad { // sequence 0 starts with 2 pads
				mask[0], mask[1] = 0, 0
			}
			if tc.rightPad { // the last sequence ends with 3 pads
				for j := tc.t - 3; j < tc.t; j++ {
					mask[(tc.b-1)*tc.t+j] = 0
				}
			}
			q, k, v := randSlice(rng, rows*c, 1), randSlice(rng, tc.b*tc.t*ckv, 1), randSlice(rng, tc.b*tc.t*ckv, 1)
			want := denseAttention(a, tc.b, tc.t, q, k, v, mask, tc.qpos)
			for _, train := range []bool{false, true} {
				st := a.NewState(tc.b, tc.t, mask, tc.qpos, train, nil)
				ctx := make([]float32, rows*c)
				a.Forward(st, ctx, q, c, k, ckv, v, ckv, mask, nil)
				for row := 0; row < rows; row++ {
					if tc.qpos == nil && mask[row] == 0 {
						continue // padded queries: nothing reads them
					}
					for j := 0; j < c; j++ {
						if math.Abs(float64(ctx[row*c+j]-want[row*c+j])) > 1e-5 {
							t.Fatalf("train=%v: ctx[%d][%d] = %g, dense %g", train, row, j, ctx[row*c+j], want[row*c+j])
						}
					}
				}
			}
			// Backward against finite differences (real query rows only).
			w := randSlice(rng, rows*c, 1)
			for row := 0; row < rows; row++ {
				if tc.qpos == nil && mask[row] == 0 {
					clear(w[row*c : (row+1)*c])
				}
			}
			st := a.NewState(tc.b, tc.t, mask, tc.qpos, true, nil)
			ctx := make([]float32, rows*c)
			loss := func() float64 { a.Forward(st, ctx, q, c, k, ckv, v, ckv, mask, nil); return dot64(ctx, w) }
			loss()
			dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			a.Backward(st, dq, c, dk, ckv, dv, ckv, w, q, k, v)
			checkGrad(t, "q", q, dq, loss)
			checkGrad(t, "k", k, dk, loss)
			checkGrad(t, "v", v, dv, loss)
		})
	}
}

// A sliding window keeps O(T·window) probabilities, not T².
func TestMaskedAttentionWindowMemory(t *testing.T) {
	const tt = 4096
	mask := make([]int, tt)
	for i := range mask {
		mask[i] = 1
	}
	local := &MaskedAttention{Heads: 1, KVHeads: 1, HeadDim: 4, Left: 64, Right: 64}
	st := local.NewState(1, tt, mask, nil, true, nil)
	if limit := tt * (BlockRows + 129); len(st.Probs) > limit {
		t.Fatalf("window 64+64 over %d tokens keeps %d probabilities, more than %d", tt, len(st.Probs), limit)
	}
	full := &MaskedAttention{Heads: 1, KVHeads: 1, HeadDim: 4, Left: -1, Right: -1}
	if st := full.NewState(1, tt, mask, nil, true, nil); len(st.Probs) != tt*tt {
		t.Fatalf("full attention keeps %d probabilities, want %d", len(st.Probs), tt*tt)
	}
}

// At inference (no actA) a GLU gives what the training pass gives, to the
// bit: SwiGLU's fused silu(a)·b kernel rounds as act then multiply.
func TestGLUInferenceMatchesTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	n, d := 3, 37 // rows with an assembly part and a tail
	for _, act := range []Activation{SiLU, GELU} {
		x := randSlice(rng, n*2*d, 4)
		a, b := x, x[d:]
		train, infer := make([]float32, n*d), make([]float32, n*d)
		GLU{Act: act}.Forward(train, make([]float32, n*d), a, b, n, d, 2*d)
		GLU{Act: act}.Forward(infer, nil, a, b, n, d, 2*d)
		for i := range train {
			if train[i] != infer[i] {
				t.Fatalf("act %v: out[%d] = %g at inference, %g in training", act, i, infer[i], train[i])
			}
		}
	}
}

// Concat computes its layers' outputs side by side, Linear and Conv1D alike,
// float32 or int8 (bit for bit: the rows of each are quantized alike and
// the integer products are exact), and refuses layers it cannot join.
func TestConcat(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	n, in := 5, 7
	for _, mode := range []struct{ conv, int8 bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		conv := mode.conv
		a, b := NewLinear("a", in, 3), NewLinear("b", in, 4)
		if conv {
			a, b = NewConv1D("a", in, 3), NewConv1D("b", in, 4)
		}
		for _, p := range []*Param{a.Weight, a.Bias, b.Weight, b.Bias} {
			copy(p.W, randSlice(rng, len(p.W), 1))
		}
		tol := 1e-6
		if mode.int8 {
			if err := a.Quantize(); err != nil {
				t.Fatal(err)
			}
			if err := b.Quantize(); err != nil {
				t.Fatal(err)
			}
			tol = 0
		}
		c, err := Concat("ab", a, b)
		if err != nil {
			t.Fatal(err)
		}
		x := randSlice(rng, n*in, 1)
		ya, yb, y := make([]float32, n*3), make([]float32, n*4), make([]float32, n*7)
		a.Forward(ya, x, n)
		b.Forward(yb, x, n)
		c.Forward(y, x, n)
		for i := 0; i < n; i++ {
			want := append(append([]float32{}, ya[i*3:i*3+3]...), yb[i*4:i*4+4]...)
			for j, w := range want {
				if d := math.Abs(float64(y[i*7+j] - w)); d > tol {
					t.Fatalf("%+v: y[%d][%d] = %g, separate %g", mode, i, j, y[i*7+j], w)
				}
			}
		}
	}
	if _, err := Concat("x", NewLinear("a", 4, 2), NewLinearNoBias("b", 4, 2)); err == nil || !strings.Contains(err.Error(), "bias") {
		t.Errorf("bias and no bias: %v", err)
	}
	if _, err := Concat("x", NewLinear("a", 4, 2), NewLinear("b", 5, 2)); err == nil || !strings.Contains(err.Error(), "inputs") {
		t.Errorf("different inputs: %v", err)
	}
	q := NewLinear("q", 4, 2)
	if err := q.Quantize(); err != nil {
		t.Fatal(err)
	}
	if _, err := Concat("x", q, NewLinear("b", 4, 2)); err == nil || !strings.Contains(err.Error(), "b.weight is f32, q.weight int8") {
		t.Errorf("quantized and float32: %v", err)
	}
	h := NewLinear("h", 4, 2)
	if err := h.ToBF16(); err != nil {
		t.Fatal(err)
	}
	if _, err := Concat("x", h, q); err == nil || !strings.Contains(err.Error(), "q.weight is int8, h.weight bf16") {
		t.Errorf("bf16 and int8: %v", err)
	}
	if err := h.Quantize(); err == nil || !strings.Contains(err.Error(), "bf16 already") {
		t.Errorf("quantizing a bf16 layer: %v", err)
	}
}
