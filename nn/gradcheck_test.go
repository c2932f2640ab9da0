package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The Backward of every layer is checked against central finite differences
// of a random linear functional of its output: L = Σ w·y.

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
	return s
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad compares grad with finite differences of loss with respect to x,
// on every element (or a sample of 40 for large x).
func checkGrad(t *testing.T, name string, x, grad []float32, loss func() float64) {
	t.Helper()
	const eps = 1e-2
	rng := rand.New(rand.NewPCG(1, 2))
	idx := make([]int, 0, len(x))
	if len(x) <= 40 {
		for i := range x {
			idx = append(idx, i)
		}
	} else {
		for range 40 {
			idx = append(idx, rng.IntN(len(x)))
		}
	}
	var maxGrad float64
	for _, g := range grad {
		maxGrad = math.Max(maxGrad, math.Abs(float64(g)))
	}
	for _, i := range idx {
		orig := x[i]
		x[i] = orig + eps
		up := loss()
		x[i] = orig - eps
		down := loss()
		x[i] = orig
		num := (up - down) / (2 * eps)
		if diff := math.Abs(num - float64(grad[i])); diff > 2e-2*math.Max(maxGrad, 1e-3)+1e-4 {
			t.Errorf("%s[%d]: analytic %g, numeric %g (max |grad| %g)", name, i, grad[i], num, maxGrad)
		}
	}
}

func TestLinearGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, in, out := 5, 7, 3
	l := NewLinear("l", in, out)
	copy(l.Weight.W, randSlice(rng, in*out, 1))
	copy(l.Bias.W, randSlice(rng, out, 1))
	x, w := randSlice(rng, n*in, 1), randSlice(rng, n*out, 1)
	y := make([]float32, n*out)
	loss := func() float64 { l.Forward(y, x, n); return dot64(y, w) }
	l.Weight.AllocGrad()
	l.Bias.AllocGrad()
	dx := make([]float32, n*in)
	loss()
	l.Backward(dx, w, x, n)
	checkGrad(t, "x", x, dx, loss)
	checkGrad(t, "weight", l.Weight.W, l.Weight.Grad, loss)
	checkGrad(t, "bias", l.Bias.W, l.Bias.Grad, loss)
}

func TestLayerNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, d := 4, 9
	l := NewLayerNorm("ln", d, 1e-5)
	copy(l.Weight.W, randSlice(rng, d, 1))
	copy(l.Bias.W, randSlice(rng, d, 1))
	x, w := randSlice(rng, n*d, 2), randSlice(rng, n*d, 1)
	y, mean, rstd := make([]float32, n*d), make([]float32, n), make([]float32, n)
	loss := func() float64 { l.Forward(y, mean, rstd, x, n); return dot64(y, w) }
	l.Weight.AllocGrad()
	l.Bias.AllocGrad()
	dx := make([]float32, n*d)
	loss()
	l.Backward(dx, w, x, mean, rstd, n)
	checkGrad(t, "x", x, dx, loss)
	checkGrad(t, "gamma", l.Weight.W, l.Weight.Grad, loss)
	checkGrad(t, "beta", l.Bias.W, l.Bias.Grad, loss)
}

func TestEmbeddingGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	e := NewEmbedding("e", 6, 4)
	copy(e.Weight.W, randSlice(rng, 24, 1))
	ids := []int{1, 5, 1, 0}
	w := randSlice(rng, len(ids)*4, 1)
	y := make([]float32, len(ids)*4)
	loss := func() float64 {
		clear(y)
		if err := e.AddForward(y, ids); err != nil {
			t.Fatal(err)
		}
		return dot64(y, w)
	}
	e.Weight.AllocGrad()
	e.Backward(w, ids)
	checkGrad(t, "table", e.Weight.W, e.Weight.Grad, loss)
	if err := e.AddForward(y, []int{6}); err == nil {
		t.Fatal("id 6 of a 6-row table was accepted")
	}
}

func TestActivationGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, a := range []Activation{GELU, GELUTanh, ReLU} {
		x, w := randSlice(rng, 30, 2), randSlice(rng, 30, 1)
		for i := range x { // keep ReLU away from its kink
			if math.Abs(float64(x[i])) < 0.05 {
				x[i] = 0.5
			}
		}
		y := make([]float32, len(x))
		loss := func() float64 { a.Forward(y, x); return dot64(y, w) }
		dx := make([]float32, len(x))
		a.Backward(dx, x, w)
		checkGrad(t, "activation", x, dx, loss)
	}
}

// randAttention returns an Attention of heads heads of d dimensions, its
// width c and random q, k, v [b·tt, c].
func randAttention(rng *rand.Rand, b, tt, heads, d int) (a Attention, c int, q, k, v []float32) {
	c = heads * d
	n := b * tt * c
	return Attention{Heads: heads, HeadDim: d}, c, randSlice(rng, n, 1), randSlice(rng, n, 1), randSlice(rng, n, 1)
}

func TestAttentionGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	b, tt := 2, 5
	a, c, q, k, v := randAttention(rng, b, tt, 2, 3)
	mask := []int{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}
	w := randSlice(rng, b*tt*c, 1)
	st := a.NewState(b, tt, StateOptions{Train: true})
	ctx := make([]float32, b*tt*c)
	loss := func() float64 { a.Forward(st, ctx, q, c, k, c, v, c, mask, nil); return dot64(ctx, w) }
	loss()
	dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
	a.Backward(st, dq, dk, dv, w, q, k, v, make([]float32, 2*b*a.Heads*tt*tt))
	checkGrad(t, "q", q, dq, loss)
	checkGrad(t, "k", k, dk, loss)
	checkGrad(t, "v", v, dv, loss)
	// Padded keys get no attention: changing the value of a padded token
	// changes nothing.
	loss()
	before := append([]float32(nil), ctx...)
	for j := 0; j < c; j++ {
		v[3*c+j] += 5
	}
	loss()
	for i := range ctx {
		if ctx[i] != before[i] {
			t.Fatalf("ctx[%d] changed from %g to %g when a padded value changed", i, before[i], ctx[i])
		}
	}
}

// TestAttentionFirstTokens checks the state with one query row per
// sequence (the first token's): its context equals those rows of the full
// attention, and its backward matches finite differences.
func TestAttentionFirstTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	b, tt := 3, 4
	a, c, q, k, v := randAttention(rng, b, tt, 2, 3)
	mask := []int{1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0}
	full := make([]float32, b*tt*c)
	a.Forward(a.NewState(b, tt, StateOptions{}), full, q, c, k, c, v, c, mask, nil)
	qFirst := make([]float32, b*c)
	for i := 0; i < b; i++ {
		copy(qFirst[i*c:(i+1)*c], q[i*tt*c:i*tt*c+c])
	}
	st := a.NewState(b, tt, StateOptions{FirstOnly: true, Train: true})
	ctx := make([]float32, b*c)
	a.Forward(st, ctx, qFirst, c, k, c, v, c, mask, nil)
	for i := 0; i < b; i++ {
		for j := 0; j < c; j++ {
			if d := math.Abs(float64(ctx[i*c+j] - full[i*tt*c+j])); d > 1e-6 {
				t.Fatalf("sequence %d: first-token context[%d] = %g, full attention %g", i, j, ctx[i*c+j], full[i*tt*c+j])
			}
		}
	}
	w := randSlice(rng, b*c, 1)
	loss := func() float64 { a.Forward(st, ctx, qFirst, c, k, c, v, c, mask, nil); return dot64(ctx, w) }
	loss()
	dq, dk, dv := make([]float32, len(qFirst)), make([]float32, len(k)), make([]float32, len(v))
	a.Backward(st, dq, dk, dv, w, qFirst, k, v, make([]float32, 2*len(st.Probs)))
	checkGrad(t, "q", qFirst, dq, loss)
	checkGrad(t, "k", k, dk, loss)
	checkGrad(t, "v", v, dv, loss)
}

// TestAttentionStrided checks that q, k and v read as views of one array
// [B*T, 3C] (q, k, v side by side, row stride 3C, as one concatenated
// product writes them) give the context of separate arrays bit for bit
// (the same products on the same values), for every token and for the
// first tokens only, whose queries are then the first rows of each
// sequence (row stride T·3C).
func TestAttentionStrided(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	b, tt := 3, 5
	a, c, q, k, v := randAttention(rng, b, tt, 2, 4)
	qkv := make([]float32, 0, 3*b*tt*c)
	for i := 0; i < b*tt; i++ {
		qkv = append(append(append(qkv, q[i*c:(i+1)*c]...), k[i*c:(i+1)*c]...), v[i*c:(i+1)*c]...)
	}
	mask := []int{1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}
	for _, firstOnly := range []bool{false, true} {
		st := a.NewState(b, tt, StateOptions{FirstOnly: firstOnly})
		rows, qs, ldq := b*tt, q, 3*c
		if firstOnly {
			rows, qs, ldq = b, make([]float32, b*c), tt*3*c
			for i := 0; i < b; i++ {
				copy(qs[i*c:(i+1)*c], q[i*tt*c:])
			}
		}
		want, got := make([]float32, rows*c), make([]float32, rows*c)
		a.Forward(st, want, qs, c, k, c, v, c, mask, nil)
		a.Forward(st, got, qkv, ldq, qkv[c:], 3*c, qkv[2*c:], 3*c, mask, nil)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("first only %v: ctx[%d] = %g from the joined array, %g from separate ones", firstOnly, i, got[i], want[i])
			}
		}
	}
}

// TestAttentionNewState checks the buffers each kind of state takes: one
// query row per sequence for FirstOnly, dropout buffers only for training
// with dropout, all from Alloc.
func TestAttentionNewState(t *testing.T) {
	const b, tt = 3, 5
	a := Attention{Heads: 2, HeadDim: 4, Dropout: Dropout{P: 0.1}}
	for _, cs := range []struct {
		opts        StateOptions
		tq          int
		dropBuffers bool
	}{
		{StateOptions{}, tt, false},
		{StateOptions{Train: true}, tt, true},
		{StateOptions{FirstOnly: true}, 1, false},
		{StateOptions{FirstOnly: true, Train: true}, 1, true},
	} {
		taken := 0
		cs.opts.Alloc = func(n int) []float32 { taken += n; return make([]float32, n) }
		s := a.NewState(b, tt, cs.opts)
		n := b * a.Heads * cs.tq * tt
		want := n
		if cs.dropBuffers {
			want = 3 * n
		}
		if s.B != b || s.T != tt || s.TQ != cs.tq || len(s.Probs) != n || taken != want {
			t.Errorf("FirstOnly=%v Train=%v: B=%d T=%d TQ=%d, %d probabilities, %d floats allocated; want %d, %d, %d, %d, %d", cs.opts.FirstOnly, cs.opts.Train, s.B, s.T, s.TQ, len(s.Probs), taken, b, tt, cs.tq, n, want)
		}
		if hasDrop := s.DropMask != nil && &s.Dropped[0] != &s.Probs[0]; hasDrop != cs.dropBuffers {
			t.Errorf("FirstOnly=%v Train=%v: dropout buffers %v, want %v", cs.opts.FirstOnly, cs.opts.Train, hasDrop, cs.dropBuffers)
		}
	}
	// Without dropout, training takes no dropout buffers either.
	a.Dropout.P = 0
	if s := a.NewState(b, tt, StateOptions{Train: true}); s.DropMask != nil || &s.Dropped[0] != &s.Probs[0] {
		t.Error("dropout buffers taken with dropout 0")
	}
}

func TestDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	d := Dropout{P: 0.25}
	x := make([]float32, 10000)
	for i := range x {
		x[i] = 1
	}
	mask := make([]float32, len(x))
	d.Forward(x, mask, rng)
	var zeros int
	var sum float64
	for i, v := range x {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v)-1/0.75) > 1e-6 {
			t.Fatalf("x[%d] = %g, want 0 or %g", i, v, 1/0.75)
		}
		sum += float64(v)
	}
	if zeros < 2300 || zeros > 2700 {
		t.Fatalf("%d of 10000 dropped, want about 2500", zeros)
	}
	if math.Abs(sum/10000-1) > 0.05 {
		t.Fatalf("mean after inverted dropout %g, want about 1", sum/10000)
	}
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = 1
	}
	d.Backward(dy, mask)
	for i := range dy {
		if dy[i] != x[i] {
			t.Fatalf("dy[%d] = %g, want the mask %g", i, dy[i], x[i])
		}
	}
}

func TestLossGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	b, l := 4, 3
	logits := randSlice(rng, b*l, 2)
	d := make([]float32, b*l)
	labels := []int{0, 2, 1, 2}
	weights := []float32{0.5, 2, 1}
	if _, err := CrossEntropy(d, logits, labels, l, weights); err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "cross-entropy", logits, d, func() float64 {
		loss, _ := CrossEntropy(nil, logits, labels, l, weights)
		return float64(loss)
	})
	targets := []float32{1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1}
	BCEWithLogits(d, logits, targets)
	checkGrad(t, "bce", logits, d, func() float64 { return float64(BCEWithLogits(nil, logits, targets)) })
	vals := randSlice(rng, b*l, 1)
	MSE(d, logits, vals)
	checkGrad(t, "mse", logits, d, func() float64 { return float64(MSE(nil, logits, vals)) })
	if _, err := CrossEntropy(nil, logits, []int{0, 3, 0, 0}, l, nil); err == nil {
		t.Fatal("label 3 of 3 classes was accepted")
	}
	// Known value: uniform logits give log(classes).
	loss, _ := CrossEntropy(nil, make([]float32, 3), []int{1}, 3, nil)
	if math.Abs(float64(loss)-math.Log(3)) > 1e-6 {
		t.Fatalf("cross-entropy of uniform logits %g, want log 3", loss)
	}
}
