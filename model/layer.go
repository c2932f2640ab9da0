package model

import (
	"math/rand/v2"

	"github.com/textclf/textclf/nn"
)

// layer is one transformer block, post-LayerNorm as in BERT and DistilBERT:
//
//	h1  = LN1(x + dropout(O·attention(Q·x, K·x, V·x)))
//	out = LN2(h1 + dropout(W2·act(W1·h1)))
//
// (BertLayer: attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
// intermediate.dense, output.{dense,LayerNorm}; DistilBERT's TransformerBlock:
// attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin{1,2}, output_layer_norm.)
type layer struct {
	q, k, v, o *nn.Linear
	ln1, ln2   *nn.LayerNorm
	ffn1, ffn2 *nn.Linear
	attn       nn.Attention
	act        nn.Activation
	dropout    nn.Dropout
	// attnOutDropout is false for DistilBERT, whose attention output goes
	// into the residual without dropout.
	attnOutDropout bool
	// inferQKV is q, k and v joined into one product for inference (the
	// decoders' mechanism, joinedLinear), made by the first inference pass
	// after the weights changed. Training keeps the three products: their
	// weights change every step, and backward needs the gradient of each.
	inferQKV joinedLinear
	// inferKV is k and v joined, for a layer that computes the first token
	// of each sequence only: its q then runs apart on those rows (faster
	// than a joined q of every row, BenchmarkFirstTokenQKV).
	inferKV joinedLinear
}

// dropJoined drops the joined q, k, v and k, v of inference.
func (l *layer) dropJoined() {
	l.inferQKV.drop()
	l.inferKV.drop()
}

// join makes the joined products of inference: q, k and v, or with
// firstOnly (the layer computes the first token of each sequence only) k
// and v. It reports whether they could be joined.
func (l *layer) join(firstOnly bool) bool {
	if firstOnly {
		return l.inferKV.join("kv", l.k, l.v) != nil
	}
	return l.inferQKV.join("qkv", l.q, l.k, l.v) != nil
}

// layerActs are the activations of one layer for n = B*T tokens: inputs of
// every operation that Backward needs. In a layer computed for the first
// token of each sequence only (attn.TQ = 1: the last layer, whose other
// rows no classifier reads), the rows past the keys and values are B, not n.
type layerActs struct {
	x                    []float32 // input [n, C] (the previous layer's out)
	first                []float32 // the first token's row of x in each sequence [B, C] (first-token layers)
	xq                   []float32 // the rows of x that are computed: x or first
	q, ctx               []float32 // [rows, C]
	k, v                 []float32 // [n, C]
	attn                 *nn.AttentionState
	attnRes              []float32 // xq + dropout(O·ctx), LN1's input [rows, C]
	ln1Mean, ln1Rstd     []float32 // [rows]
	h1                   []float32 // [rows, C]
	inter, actOut        []float32 // [rows, I] before and after the activation
	ffnRes               []float32 // h1 + dropout(W2·actOut), LN2's input [rows, C]
	ln2Mean, ln2Rstd     []float32
	out                  []float32 // [rows, C]
	drop1Mask, drop2Mask []float32 // dropout scales [rows, C] (nil without dropout)

	// qkv holds q, k and v side by side [n, 3C] in a pass that computes
	// them as one product (inference; q, k and v are then nil). A
	// first-token layer holds k and v side by side [n, 2C] in it, then q
	// [B, C].
	qkv []float32
}

// rows returns the number of rows the layer computes past the keys and
// values: B*T, or B for the first tokens.
func (a *layerActs) rows() int { return a.attn.B * a.attn.TQ }

// setAttention gives a the attention state of a pass over b sequences of t
// tokens and, when the layer computes only the first token of each sequence
// past the keys and values (opts.FirstOnly), the buffer of those rows of x.
func (l *layer) setAttention(a *layerActs, b, t int, opts nn.StateOptions) {
	a.attn = l.attn.NewState(b, t, opts)
	if opts.FirstOnly {
		a.first = opts.Alloc(b * l.q.In)
	}
}

func (l *layer) params() []*nn.Param {
	var ps []*nn.Param
	for _, lin := range []*nn.Linear{l.q, l.k, l.v, l.o} {
		ps = append(ps, lin.Params()...)
	}
	ps = append(ps, l.ln1.Params()...)
	ps = append(ps, l.ffn1.Params()...)
	ps = append(ps, l.ffn2.Params()...)
	return append(ps, l.ln2.Params()...)
}

// newActs takes the activation buffers of a forward pass from alloc (which
// need not zero them: forward writes every value); train says whether the
// pass is a training one (dropout buffers are then taken too), firstOnly
// whether the layer computes only the first token of each sequence, joined
// whether it computes q, k and v as one product (inferQKV, or inferKV and q
// with firstOnly; made by Model.packForInference): an inference pass that
// keeps nothing for backward, which reads q, k and v apart.
func (l *layer) newActs(x []float32, b, t int, train, firstOnly, joined bool, alloc func(int) []float32) *layerActs {
	c, inter := l.q.Out, l.ffn1.Out
	n, r := b*t, b*t
	if firstOnly {
		r = b
	}
	a := &layerActs{
		x: x, ctx: alloc(r * c),
		attnRes: alloc(r * c), ln1Mean: alloc(r), ln1Rstd: alloc(r),
		h1: alloc(r * c), inter: alloc(r * inter), actOut: alloc(r * inter),
		ffnRes: alloc(r * c), ln2Mean: alloc(r), ln2Rstd: alloc(r), out: alloc(r * c),
	}
	if joined {
		a.qkv = alloc(n * 3 * c)
	} else {
		a.q, a.k, a.v = alloc(r*c), alloc(n*c), alloc(n*c)
	}
	l.setAttention(a, b, t, nn.StateOptions{FirstOnly: firstOnly, Train: train, Alloc: alloc})
	if train && l.dropout.P > 0 {
		a.drop1Mask = alloc(r * c)
		a.drop2Mask = alloc(r * c)
	}
	return a
}

// forward runs the layer on a.x into a.out; rng is nil in inference (no
// dropout). mask [B*T] marks real tokens. Keys and values cover every token;
// the rest covers a.rows() rows (all, or the first token of each sequence).
func (l *layer) forward(a *layerActs, mask []int, rng *rand.Rand) {
	b, t := a.attn.B, a.attn.T
	n, r := b*t, a.rows()
	c, inter := l.q.Out, l.ffn1.Out
	a.xq = a.x
	if r < n {
		for i := 0; i < b; i++ {
			copy(a.first[i*c:(i+1)*c], a.x[i*t*c:i*t*c+c])
		}
		a.xq = a.first
	}
	ctx, attnRes, h1, ffnRes := a.ctx[:r*c], a.attnRes[:r*c], a.h1[:r*c], a.ffnRes[:r*c]
	inters, actOut := a.inter[:r*inter], a.actOut[:r*inter]
	switch {
	case a.qkv != nil && r == n:
		// One product [n, 3C]; the attention reads q, k and v in place
		// (row stride 3C).
		qkv := l.inferQKV.join("qkv", l.q, l.k, l.v)
		if qkv == nil {
			panic("model: q, k and v of a joined pass cannot be joined")
		}
		qkv.Forward(a.qkv, a.x, n)
		l.attn.Forward(a.attn, ctx, a.qkv, 3*c, a.qkv[c:], 3*c, a.qkv[2*c:], 3*c, mask, rng)
	case a.qkv != nil:
		// k and v as one product [n, 2C], q of the first tokens apart.
		kv := l.inferKV.join("kv", l.k, l.v)
		if kv == nil {
			panic("model: k and v of a joined pass cannot be joined")
		}
		q := a.qkv[n*2*c : n*2*c+r*c]
		kv.Forward(a.qkv[:n*2*c], a.x, n)
		l.q.Forward(q, a.xq, r)
		l.attn.Forward(a.attn, ctx, q, c, a.qkv, 2*c, a.qkv[c:], 2*c, mask, rng)
	default:
		q := a.q[:r*c]
		l.q.Forward(q, a.xq, r)
		l.k.Forward(a.k, a.x, n)
		l.v.Forward(a.v, a.x, n)
		l.attn.Forward(a.attn, ctx, q, c, a.k, c, a.v, c, mask, rng)
	}
	// Without dropout (inference) the residual connections are added by
	// the products themselves.
	if rng != nil && l.attnOutDropout {
		l.o.Forward(attnRes, ctx, r)
		l.dropout.Forward(attnRes, rowsOf(a.drop1Mask, r*c), rng)
		addInPlace(attnRes, a.xq)
	} else {
		l.o.ForwardResidual(attnRes, ctx, a.xq, r)
	}
	l.ln1.Forward(h1, a.ln1Mean[:r], a.ln1Rstd[:r], attnRes, r)
	l.ffn1.ForwardAct(inters, actOut, h1, r, l.act)
	if rng != nil {
		l.ffn2.Forward(ffnRes, actOut, r)
		l.dropout.Forward(ffnRes, rowsOf(a.drop2Mask, r*c), rng)
		addInPlace(ffnRes, h1)
	} else {
		l.ffn2.ForwardResidual(ffnRes, actOut, h1, r)
	}
	l.ln2.Forward(a.out[:r*c], a.ln2Mean[:r], a.ln2Rstd[:r], ffnRes, r)
}

// rowsOf returns x[:n], or nil for a nil x (an absent dropout mask).
func rowsOf(x []float32, n int) []float32 {
	if x == nil {
		return nil
	}
	return x[:n]
}

// layerGrads are scratch buffers for one backward pass, shared by all layers.
type layerGrads struct {
	dRes, dH1, dAct, dInter, dCtx, dQ, dK, dV []float32
	attnScratch                               []float32
	// inputOnly makes the pass compute the input gradient alone, leaving
	// the parameter gradients untouched (and unallocated).
	inputOnly bool
	// norms, when not nil, makes the pass add each example's squared
	// gradient norms to norms [B] instead of the parameter gradients.
	norms []float64
}

// linear back-propagates dy through l: the gradient of its input is added
// to dx (when not nil) and, unless g.inputOnly, those of its parameters (or
// with g.norms, the examples' squared norms of them).
func (g *layerGrads) linear(l *nn.Linear, dx, dy, x []float32, n int) {
	if g.norms != nil {
		l.AddSampleGradNormSq(g.norms, dy, x, n)
	}
	switch {
	case !g.inputOnly && g.norms == nil:
		l.Backward(dx, dy, x, n)
	case dx != nil:
		l.BackwardInput(dx, dy, n)
	}
}

// layerNorm back-propagates dy through l into dx (and, unless g.inputOnly,
// its parameters).
func (g *layerGrads) layerNorm(l *nn.LayerNorm, dx, dy, x, mean, rstd []float32, n int) {
	if g.norms != nil {
		l.AddSampleGradNormSq(g.norms, dy, x, mean, rstd, n)
	}
	if g.inputOnly || g.norms != nil {
		l.BackwardInput(dx, dy, x, mean, rstd, n)
		return
	}
	l.Backward(dx, dy, x, mean, rstd, n)
}

// newGrads takes the gradient buffers of a backward pass from alloc;
// backward clears or overwrites each before use.
func (l *layer) newGrads(b, t int, alloc func(int) []float32) *layerGrads {
	c, inter := l.q.Out, l.ffn1.Out
	n := b * t
	return &layerGrads{
		dRes: alloc(n * c), dH1: alloc(n * c), dAct: alloc(n * inter), dInter: alloc(n * inter),
		dCtx: alloc(n * c), dQ: alloc(n * c), dK: alloc(n * c), dV: alloc(n * c),
		attnScratch: alloc(2 * b * l.attn.Heads * t * t),
	}
}

// backward takes dOut (the gradient of a.out, a.rows() rows) and adds the
// gradient of a.x to dx [B*T, C], accumulating parameter gradients.
func (l *layer) backward(a *layerActs, g *layerGrads, dOut, dx []float32) {
	b, t := a.attn.B, a.attn.T
	n, r := b*t, a.rows()
	c, inter := l.q.Out, l.ffn1.Out
	rc, ri := r*c, r*inter
	// out = LN2(ffnRes), ffnRes = h1 + dropout(W2·act(W1·h1))
	dRes, dH1 := g.dRes[:rc], g.dH1[:rc]
	clear(dRes)
	g.layerNorm(l.ln2, dRes, dOut[:rc], a.ffnRes[:rc], a.ln2Mean[:r], a.ln2Rstd[:r], r)
	copy(dH1, dRes)
	l.dropout.Backward(dRes, rowsOf(a.drop2Mask, rc))
	dAct, dInter := g.dAct[:ri], g.dInter[:ri]
	clear(dAct)
	g.linear(l.ffn2, dAct, dRes, a.actOut[:ri], r)
	clear(dInter)
	l.act.Backward(dInter, a.inter[:ri], dAct)
	g.linear(l.ffn1, dH1, dInter, a.h1[:rc], r)
	// h1 = LN1(attnRes), attnRes = xq + dropout(O·ctx)
	clear(dRes)
	g.layerNorm(l.ln1, dRes, dH1, a.attnRes[:rc], a.ln1Mean[:r], a.ln1Rstd[:r], r)
	// dxq is the gradient of the computed rows of x: dx itself, or for the
	// first tokens dH1 (free again), added to their rows of dx at the end.
	dxq := dx
	if r < n {
		dxq = dH1
		clear(dxq)
	}
	addInPlace(dxq, dRes)
	if l.attnOutDropout {
		l.dropout.Backward(dRes, rowsOf(a.drop1Mask, rc))
	}
	dCtx, dQ := g.dCtx[:rc], g.dQ[:rc]
	clear(dCtx)
	g.linear(l.o, dCtx, dRes, a.ctx[:rc], r)
	clear(dQ)
	clear(g.dK)
	clear(g.dV)
	l.attn.Backward(a.attn, dQ, g.dK, g.dV, dCtx, a.q[:rc], a.k, a.v, g.attnScratch)
	g.linear(l.q, dxq, dQ, a.xq, r)
	g.linear(l.k, dx, g.dK, a.x, n)
	g.linear(l.v, dx, g.dV, a.x, n)
	if r < n {
		for i := 0; i < b; i++ {
			addInPlace(dx[i*t*c:i*t*c+c], dxq[i*c:(i+1)*c])
		}
	}
}

func addInPlace(dst, x []float32) {
	for i, v := range x {
		dst[i] += v
	}
}
