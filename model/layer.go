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
}

// layerActs are the activations of one layer for n = B*T tokens: inputs of
// every operation that Backward needs.
type layerActs struct {
	x                    []float32 // input [n, C] (the previous layer's out)
	q, k, v, ctx         []float32 // [n, C]
	attn                 *nn.AttentionState
	attnRes              []float32 // x + dropout(O·ctx), LN1's input [n, C]
	ln1Mean, ln1Rstd     []float32 // [n]
	h1                   []float32 // [n, C]
	inter, actOut        []float32 // [n, I] before and after the activation
	ffnRes               []float32 // h1 + dropout(W2·actOut), LN2's input [n, C]
	ln2Mean, ln2Rstd     []float32
	out                  []float32 // [n, C]
	drop1Mask, drop2Mask []float32 // dropout scales [n, C] (nil without dropout)
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
// pass is a training one (dropout buffers are then taken too).
func (l *layer) newActs(x []float32, b, t int, train bool, alloc func(int) []float32) *layerActs {
	c, inter := l.q.Out, l.ffn1.Out
	n := b * t
	a := &layerActs{
		x: x, q: alloc(n * c), k: alloc(n * c), v: alloc(n * c), ctx: alloc(n * c),
		attnRes: alloc(n * c), ln1Mean: alloc(n), ln1Rstd: alloc(n),
		h1: alloc(n * c), inter: alloc(n * inter), actOut: alloc(n * inter),
		ffnRes: alloc(n * c), ln2Mean: alloc(n), ln2Rstd: alloc(n), out: alloc(n * c),
	}
	if !train {
		a.attn = l.attn.NewInferenceStateIn(b, t, alloc)
		return a
	}
	a.attn = l.attn.NewStateIn(b, t, alloc)
	if l.dropout.P > 0 {
		a.drop1Mask = alloc(n * c)
		a.drop2Mask = alloc(n * c)
	}
	return a
}

// forward runs the layer on a.x into a.out; rng is nil in inference (no
// dropout). mask [B*T] marks real tokens.
func (l *layer) forward(a *layerActs, mask []int, rng *rand.Rand) {
	n := a.attn.B * a.attn.T
	l.q.Forward(a.q, a.x, n)
	l.k.Forward(a.k, a.x, n)
	l.v.Forward(a.v, a.x, n)
	l.attn.Forward(a.attn, a.ctx, a.q, a.k, a.v, mask, rng)
	// Without dropout (inference) the residual connections are added by
	// the products themselves.
	if rng != nil && l.attnOutDropout {
		l.o.Forward(a.attnRes, a.ctx, n)
		l.dropout.Forward(a.attnRes, a.drop1Mask, rng)
		addInPlace(a.attnRes, a.x)
	} else {
		l.o.ForwardResidual(a.attnRes, a.ctx, a.x, n)
	}
	l.ln1.Forward(a.h1, a.ln1Mean, a.ln1Rstd, a.attnRes, n)
	l.ffn1.ForwardAct(a.inter, a.actOut, a.h1, n, l.act)
	if rng != nil {
		l.ffn2.Forward(a.ffnRes, a.actOut, n)
		l.dropout.Forward(a.ffnRes, a.drop2Mask, rng)
		addInPlace(a.ffnRes, a.h1)
	} else {
		l.ffn2.ForwardResidual(a.ffnRes, a.actOut, a.h1, n)
	}
	l.ln2.Forward(a.out, a.ln2Mean, a.ln2Rstd, a.ffnRes, n)
}

// forwardFirst is forward at inference for the last layer, computed for
// the first token of each sequence only — all that the classification head
// reads: keys and values cover every token, the query, attention output and
// feed-forward block run on B rows. a.out[:B*C] receives the first tokens'
// outputs; the results equal those rows of forward's.
func (l *layer) forwardFirst(a *layerActs, mask []int) {
	b, t := a.attn.B, a.attn.T
	c, inter, n := l.q.Out, l.ffn1.Out, b*t
	first := a.out[:b*c] // the first tokens' inputs, until LN2 overwrites them
	for i := 0; i < b; i++ {
		copy(first[i*c:(i+1)*c], a.x[i*t*c:i*t*c+c])
	}
	q, ctx, attnRes, h1, ffnRes := a.q[:b*c], a.ctx[:b*c], a.attnRes[:b*c], a.h1[:b*c], a.ffnRes[:b*c]
	l.q.Forward(q, first, b)
	l.k.Forward(a.k, a.x, n)
	l.v.Forward(a.v, a.x, n)
	l.attn.ForwardFirst(ctx, a.attn.Probs, q, a.k, a.v, mask, b, t)
	l.o.ForwardResidual(attnRes, ctx, first, b)
	l.ln1.Forward(h1, a.ln1Mean[:b], a.ln1Rstd[:b], attnRes, b)
	l.ffn1.ForwardAct(a.inter[:b*inter], a.actOut[:b*inter], h1, b, l.act)
	l.ffn2.ForwardResidual(ffnRes, a.actOut[:b*inter], h1, b)
	l.ln2.Forward(a.out[:b*c], a.ln2Mean[:b], a.ln2Rstd[:b], ffnRes, b)
}

// layerGrads are scratch buffers for one backward pass, shared by all layers.
type layerGrads struct {
	dRes, dH1, dAct, dInter, dCtx, dQ, dK, dV []float32
	attnScratch                               []float32
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

// backward takes dOut (the gradient of a.out) and adds the gradient of a.x to
// dx, accumulating parameter gradients.
func (l *layer) backward(a *layerActs, g *layerGrads, dOut, dx []float32) {
	n := a.attn.B * a.attn.T
	// out = LN2(ffnRes), ffnRes = h1 + dropout(W2·act(W1·h1))
	clear(g.dRes)
	l.ln2.Backward(g.dRes, dOut, a.ffnRes, a.ln2Mean, a.ln2Rstd, n)
	copy(g.dH1, g.dRes)
	l.dropout.Backward(g.dRes, a.drop2Mask)
	clear(g.dAct)
	l.ffn2.Backward(g.dAct, g.dRes, a.actOut, n)
	clear(g.dInter)
	l.act.Backward(g.dInter, a.inter, g.dAct)
	l.ffn1.Backward(g.dH1, g.dInter, a.h1, n)
	// h1 = LN1(attnRes), attnRes = x + dropout(O·ctx)
	clear(g.dRes)
	l.ln1.Backward(g.dRes, g.dH1, a.attnRes, a.ln1Mean, a.ln1Rstd, n)
	addInPlace(dx, g.dRes)
	if l.attnOutDropout {
		l.dropout.Backward(g.dRes, a.drop1Mask)
	}
	clear(g.dCtx)
	l.o.Backward(g.dCtx, g.dRes, a.ctx, n)
	clear(g.dQ)
	clear(g.dK)
	clear(g.dV)
	l.attn.Backward(a.attn, g.dQ, g.dK, g.dV, g.dCtx, a.q, a.k, a.v, g.attnScratch)
	l.q.Backward(dx, g.dQ, a.x, n)
	l.k.Backward(dx, g.dK, a.x, n)
	l.v.Backward(dx, g.dV, a.x, n)
}

func addInPlace(dst, x []float32) {
	for i, v := range x {
		dst[i] += v
	}
}
