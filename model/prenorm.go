package model

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/textclf/textclf/nn"
)

// network is an architecture beyond the BERT family (GPT-2, Llama, Qwen2,
// Mistral, ModernBERT): Model holds one and passes its calls on.
type network interface {
	params() []*nn.Param
	linears() []*nn.Linear
	// weightsChanged drops what inference derived from the weights beyond
	// the Linear layers' packing.
	weightsChanged()
	// forward runs inference and returns logits [B, labels].
	forward(in *Batch) ([]float32, error)
	// forwardTrain runs a training pass, keeping what backward needs.
	forwardTrain(in *Batch, rng *rand.Rand) ([]float32, error)
	// backward adds every parameter's gradient given dLogits of the last
	// forwardTrain.
	backward(dLogits []float32) error
	setDropout(p float32)
	maxTokens() int
	// output is the classifier's last layer (re-initialised for new labels).
	output() *nn.Linear
	architecture() string
	// ignoreUnexpected are checkpoint names not to report as unused.
	ignoreUnexpected() []string
	// initParam initialises p as the architecture's _init_weights.
	initParam(p *nn.Param, rng *rand.Rand)
}

// Pooling says which hidden states a pre-norm model classifies.
type pooling int

const (
	poolLast pooling = iota // the last non-padding token (decoders)
	poolCLS                 // the first token (ModernBERT's "cls")
	poolMean                // the mean over real tokens (ModernBERT's "mean")
)

// normLayer is the LayerNorm or RMSNorm of a pre-norm block; a nil
// *normLayer is the identity (ModernBERT's first attn_norm).
type normLayer struct {
	ln  *nn.LayerNorm
	rms *nn.RMSNorm
}

// normStats are the statistics a norm keeps for backward.
type normStats struct{ mean, rstd []float32 }

func (n *normLayer) params() []*nn.Param {
	if n == nil {
		return nil
	}
	if n.rms != nil {
		return n.rms.Params()
	}
	return n.ln.Params()
}

func (n *normLayer) forward(y, x []float32, rows int, st *normStats) {
	var mean, rstd []float32
	if st != nil {
		mean, rstd = st.mean[:rows], st.rstd[:rows]
	}
	if n.rms != nil {
		n.rms.Forward(y[:rows*n.rms.Dim], rstd, x, rows)
		return
	}
	n.ln.Forward(y[:rows*n.ln.Dim], mean, rstd, x, rows)
}

func (n *normLayer) backward(dx, dy, x []float32, rows int, st *normStats) {
	if n.rms != nil {
		n.rms.Backward(dx, dy, x, st.rstd[:rows], rows)
		return
	}
	n.ln.Backward(dx, dy, x, st.mean[:rows], st.rstd[:rows], rows)
}

func newStats(rows int, alloc func(int) []float32) normStats {
	return normStats{mean: alloc(rows), rstd: alloc(rows)}
}

// ropeTable holds the cos/sin tables of one RoPE, grown as longer inputs
// come (safe for concurrent inference passes).
type ropeTable struct {
	rope *nn.Rotary
	tab  atomic.Pointer[ropeTab]
	mu   sync.Mutex
}

type ropeTab struct {
	t        int
	cos, sin []float32
}

// get returns tables covering positions [0, t).
func (r *ropeTable) get(t int) (cos, sin []float32) {
	if tb := r.tab.Load(); tb != nil && tb.t >= t {
		return tb.cos, tb.sin
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if tb := r.tab.Load(); tb != nil && tb.t >= t {
		return tb.cos, tb.sin
	}
	n := 64
	for n < t {
		n *= 2
	}
	cos, sin = r.rope.Table(n)
	r.tab.Store(&ropeTab{t: n, cos: cos, sin: sin})
	return cos, sin
}

// block is one pre-norm transformer block:
//
//	x1  = x + drop(O·attention(rope(Q·n1(x)), rope(K·n1(x)), V·n1(x)))
//	out = x1 + drop(Down·mlp(n2(x1)))
//
// with mlp act(Up·h) (GPT-2) or act(a)·b, a and b from Gate and Up (Llama)
// or the two halves of one Wi (ModernBERT). Q, K and V come from one fused
// projection (GPT-2's c_attn, ModernBERT's Wqkv: q, k, v side by side) or
// three (Llama's q_proj, k_proj, v_proj).
type block struct {
	attnNorm   *normLayer // nil: identity
	qkv        *nn.Linear // fused, or nil
	q, k, v, o *nn.Linear
	// inferQKV is q, k and v concatenated (nn.Concat) for inference, made
	// when the weights are packed and dropped when they change; unset with
	// a fused qkv or before the first inference pass.
	inferQKV       joinedLinear
	rope           *ropeTable // nil: no rotary embeddings
	attn           nn.MaskedAttention
	mlpNorm        *normLayer
	gate, up, down *nn.Linear // gate is nil unless a separate GLU gate
	glu            *nn.GLU    // nil: plain MLP with act
	act            nn.Activation
	// attnDrop follows the attention output projection, midDrop the
	// MLP's activation, outDrop the MLP's output projection.
	attnDrop, midDrop, outDrop nn.Dropout
}

func (l *block) params() []*nn.Param {
	ps := l.attnNorm.params()
	for _, lin := range []*nn.Linear{l.qkv, l.q, l.k, l.v, l.o} {
		if lin != nil {
			ps = append(ps, lin.Params()...)
		}
	}
	ps = append(ps, l.mlpNorm.params()...)
	for _, lin := range []*nn.Linear{l.gate, l.up, l.down} {
		if lin != nil {
			ps = append(ps, lin.Params()...)
		}
	}
	return ps
}

func (l *block) linears() []*nn.Linear {
	var out []*nn.Linear
	for _, lin := range []*nn.Linear{l.qkv, l.q, l.k, l.v, l.o, l.gate, l.up, l.down} {
		if lin != nil {
			out = append(out, lin)
		}
	}
	return out
}

// qkvFor returns the one projection that computes q, k and v side by side:
// the model's fused one, or at inference the concatenation of separate ones
// (nil if there is neither).
func (l *block) qkvFor(train bool) *nn.Linear {
	if l.qkv != nil || train {
		return l.qkv
	}
	return l.inferQKV.get()
}

// concatQKV makes inferQKV from separate q, k and v projections (float32
// or int8), unless it exists or they are fused already. Where nn.Concat
// refuses them, inferQKV stays unset and inference runs the three products.
func (l *block) concatQKV() {
	if l.qkv != nil {
		l.inferQKV.drop()
		return
	}
	l.inferQKV.join("qkv", l.q, l.k, l.v)
}

// dims returns the model width, the query and key/value widths and the
// MLP's inner width.
func (l *block) dims() (c, cq, ckv, inner int) {
	a := l.attn
	c = l.o.Out
	cq, ckv = a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	inner = l.down.In
	return
}

// blockActs are the activations of one block over n = B·T rows, r of which
// are computed past the keys and values (all, or one per sequence: sel).
type blockActs struct {
	b, t, n, r          int
	sel                 []int // position of the computed row of each sequence, or nil (all rows)
	x, out              []float32
	xs                  []float32 // the computed rows of x [r, C] (x itself when sel is nil)
	h1                  []float32 // n1(x) [n, C] (x for the identity)
	hs                  []float32 // the computed rows of h1 [r, C] (separate projections with sel)
	n1, n2              normStats
	qkv                 []float32 // fused projection [n, cq+2ckv]
	q, k, v             []float32 // separate projections; q [r, cq] also the gathered rows of a fused q
	attn                *nn.MaskedAttentionState
	ctx                 []float32 // [r, cq]
	x1, h2              []float32 // [r, C]
	g, u                []float32 // gate [r, I] and up [r, I] (or Wi [r, 2I]; plain: before act)
	actA, m             []float32 // act(a) of a GLU [r, I], MLP inner output [r, I]
	dropA, dropM, dropO []float32
}

// rowsOfPositions returns the row index of each sequence's selected position.
func rowsOfPositions(sel []int, t int) []int {
	rows := make([]int, len(sel))
	for i, p := range sel {
		rows[i] = i*t + p
	}
	return rows
}

// newActs takes the buffers of a pass over b sequences of t tokens from
// alloc; sel selects the computed row of each sequence (nil: all).
func (l *block) newActs(b, t int, sel []int, train bool, alloc func(int) []float32) *blockActs {
	c, cq, ckv, inner := l.dims()
	n, r := b*t, b*t
	if sel != nil {
		r = b
	}
	a := &blockActs{b: b, t: t, n: n, r: r, out: alloc(r * c), h1: alloc(n * c), ctx: alloc(r * cq),
		x1: alloc(r * c), h2: alloc(r * c), m: alloc(r * inner)}
	if l.qkvFor(train) != nil {
		a.qkv = alloc(n * (cq + 2*ckv))
	} else {
		a.q, a.k, a.v = alloc(r*cq), alloc(n*ckv), alloc(n*ckv)
	}
	l.setSel(a, sel, alloc)
	if l.glu != nil {
		if l.gate != nil {
			a.g, a.u = alloc(r*inner), alloc(r*inner)
		} else {
			a.u = alloc(r * 2 * inner)
		}
		if train {
			a.actA = alloc(r * inner)
		}
	} else {
		a.u = alloc(r * inner)
	}
	if train {
		a.n1, a.n2 = newStats(n, alloc), newStats(r, alloc)
		if l.attnDrop.P > 0 {
			a.dropA = alloc(r * c)
		}
		if l.midDrop.P > 0 {
			a.dropM = alloc(r * inner)
		}
		if l.outDrop.P > 0 {
			a.dropO = alloc(r * c)
		}
	}
	return a
}

// setSel makes a compute one row per sequence, at sel (nil: all rows),
// taking the buffers of the gathered rows from alloc.
func (l *block) setSel(a *blockActs, sel []int, alloc func(int) []float32) {
	c, cq, _, _ := l.dims()
	a.sel, a.r = sel, a.n
	if sel == nil {
		return
	}
	a.r = a.b
	a.xs = alloc(a.b * c)
	if a.qkv != nil {
		a.q = alloc(a.b * cq)
	} else {
		a.hs = alloc(a.b * c)
	}
}

// views returns q, k, v and their strides.
func (l *block) views(a *blockActs) (q []float32, ldq int, k []float32, ldk int, v []float32, ldv int) {
	_, cq, ckv, _ := l.dims()
	if a.qkv != nil {
		ld := cq + 2*ckv
		q, ldq = a.qkv, ld
		if a.sel != nil {
			q, ldq = a.q, cq
		}
		return q, ldq, a.qkv[cq:], ld, a.qkv[cq+ckv:], ld
	}
	return a.q, cq, a.k, ckv, a.v, ckv
}

// gather copies the rows of x [n, w] at rows into dst [len(rows), w].
func gather(dst, x []float32, rows []int, w int) {
	for i, r := range rows {
		copy(dst[i*w:(i+1)*w], x[r*w:(r+1)*w])
	}
}

// positions returns the position of each of the n rows of a [B, T] batch
// (0..T-1 in every sequence, as transformers' cache_position).
func positions(b, t int) []int {
	pos := make([]int, b*t)
	for i := range pos {
		pos[i] = i % t
	}
	return pos
}

// forward runs the block on a.x into a.out (rng nil: inference, with the
// residual connections fused into the products). a.attn must be set.
func (l *block) forward(a *blockActs, mask []int, rng *rand.Rand) {
	c, cq, ckv, inner := l.dims()
	n, r := a.n, a.r
	train := a.n1.rstd != nil
	var st1, st2 *normStats
	if train {
		st1, st2 = &a.n1, &a.n2
	}
	h1 := a.x
	if l.attnNorm != nil {
		l.attnNorm.forward(a.h1, a.x, n, st1)
		h1 = a.h1[:n*c]
	}
	var rows []int
	if a.sel != nil {
		rows = rowsOfPositions(a.sel, a.t)
	}
	var cos, sin []float32
	var pos []int
	if l.rope != nil {
		cos, sin = l.rope.get(a.t)
		pos = positions(a.b, a.t)
	}
	if qkv := l.qkvFor(train); qkv != nil {
		ld := cq + 2*ckv
		qkv.Forward(a.qkv, h1, n)
		if l.rope != nil {
			l.rope.rope.Forward(a.qkv, ld, l.attn.Heads, n, pos, cos, sin)
			l.rope.rope.Forward(a.qkv[cq:], ld, l.attn.KVHeads, n, pos, cos, sin)
		}
		if rows != nil {
			for i, row := range rows {
				copy(a.q[i*cq:(i+1)*cq], a.qkv[row*ld:row*ld+cq])
			}
		}
	} else {
		hs := h1
		if rows != nil {
			gather(a.hs, h1, rows, c)
			hs = a.hs
		}
		l.q.Forward(a.q, hs, r)
		l.k.Forward(a.k, h1, n)
		l.v.Forward(a.v, h1, n)
		if l.rope != nil {
			qpos := pos
			if a.sel != nil {
				qpos = a.sel
			}
			l.rope.rope.Forward(a.q, cq, l.attn.Heads, r, qpos, cos, sin)
			l.rope.rope.Forward(a.k, ckv, l.attn.KVHeads, n, pos, cos, sin)
		}
	}
	q, ldq, k, ldk, v, ldv := l.views(a)
	l.attn.Forward(a.attn, a.ctx, q, ldq, k, ldk, v, ldv, mask, rng)
	xs := a.x
	if rows != nil {
		gather(a.xs, a.x, rows, c)
		xs = a.xs
	}
	if rng != nil && l.attnDrop.P > 0 {
		l.o.Forward(a.x1, a.ctx, r)
		l.attnDrop.Forward(a.x1, a.dropA, rng)
		addInPlace(a.x1, xs)
	} else {
		l.o.ForwardResidual(a.x1, a.ctx, xs, r)
	}
	l.mlpNorm.forward(a.h2, a.x1, r, st2)
	if l.glu != nil {
		if l.gate != nil {
			l.gate.Forward(a.g, a.h2, r)
			l.up.Forward(a.u, a.h2, r)
			l.glu.Forward(a.m, a.actA, a.g, a.u, r, inner, inner)
		} else {
			l.up.Forward(a.u, a.h2, r)
			l.glu.Forward(a.m, a.actA, a.u, a.u[inner:], r, inner, 2*inner)
		}
	} else {
		l.up.ForwardAct(a.u, a.m, a.h2, r, l.act)
	}
	if rng != nil && l.midDrop.P > 0 {
		l.midDrop.Forward(a.m, a.dropM, rng)
	}
	if rng != nil && l.outDrop.P > 0 {
		l.down.Forward(a.out, a.m, r)
		l.outDrop.Forward(a.out, a.dropO, rng)
		addInPlace(a.out, a.x1)
	} else {
		l.down.ForwardResidual(a.out, a.m, a.x1, r)
	}
}

// blockGrads are the gradient buffers of a backward pass, shared by all
// blocks.
type blockGrads struct {
	dh1, dqkv, dq, dk, dv, dhs, dctx, dx1, dh2, dg, du, dm, dtmp []float32
}

func (l *block) newGrads(b, t int, alloc func(int) []float32) *blockGrads {
	c, cq, ckv, inner := l.dims()
	n := b * t
	g := &blockGrads{dh1: alloc(n * c), dq: alloc(n * cq), dhs: alloc(b * c), dctx: alloc(n * cq),
		dx1: alloc(n * c), dh2: alloc(n * c), du: alloc(n * 2 * inner), dm: alloc(n * inner), dtmp: alloc(n * c)}
	if l.qkv != nil {
		g.dqkv = alloc(n * (cq + 2*ckv))
	} else {
		g.dk, g.dv = alloc(n*ckv), alloc(n*ckv)
	}
	if l.gate != nil {
		g.dg = alloc(n * inner)
	}
	return g
}

// backward takes dOut (the gradient of a.out, a.r rows) and adds the
// gradient of a.x to dx [n, C], accumulating the parameter gradients.
func (l *block) backward(a *blockActs, g *blockGrads, dOut, dx []float32) {
	c, cq, ckv, inner := l.dims()
	n, r := a.n, a.r
	var rows []int
	if a.sel != nil {
		rows = rowsOfPositions(a.sel, a.t)
	}
	// out = x1 + drop(down(m))
	dx1 := g.dx1[:r*c]
	copy(dx1, dOut[:r*c])
	dDown := g.dtmp[:r*c]
	copy(dDown, dOut[:r*c])
	l.outDrop.Backward(dDown, a.dropO)
	dm := g.dm[:r*inner]
	clear(dm)
	l.down.Backward(dm, dDown, a.m, r)
	l.midDrop.Backward(dm, a.dropM)
	dh2 := g.dh2[:r*c]
	clear(dh2)
	switch {
	case l.glu != nil && l.gate != nil:
		dGate, dUp := g.dg[:r*inner], g.du[:r*inner]
		clear(dGate)
		clear(dUp)
		l.glu.Backward(dGate, dUp, dm, a.g, a.u, a.actA, r, inner, inner)
		l.gate.Backward(dh2, dGate, a.h2, r)
		l.up.Backward(dh2, dUp, a.h2, r)
	case l.glu != nil:
		du := g.du[:r*2*inner]
		clear(du)
		l.glu.Backward(du, du[inner:], dm, a.u, a.u[inner:], a.actA, r, inner, 2*inner)
		l.up.Backward(dh2, du, a.h2, r)
	default:
		du := g.du[:r*inner]
		clear(du)
		l.act.Backward(du, a.u, dm)
		l.up.Backward(dh2, du, a.h2, r)
	}
	l.mlpNorm.backward(dx1, dh2, a.x1, r, &a.n2)
	// x1 = xs + drop(o(ctx))
	dO := g.dtmp[:r*c]
	copy(dO, dx1)
	l.attnDrop.Backward(dO, a.dropA)
	dctx := g.dctx[:r*cq]
	clear(dctx)
	l.o.Backward(dctx, dO, a.ctx, r)
	h1 := a.x
	if l.attnNorm != nil {
		h1 = a.h1[:n*c]
	}
	dh1 := g.dh1[:n*c]
	clear(dh1)
	var cos, sin []float32
	var pos []int
	if l.rope != nil {
		cos, sin = l.rope.get(a.t)
		pos = positions(a.b, a.t)
	}
	q, _, k, _, v, _ := l.views(a)
	if l.qkv != nil {
		ld := cq + 2*ckv
		dqkv := g.dqkv[:n*ld]
		clear(dqkv)
		dq, ldq := dqkv, ld
		if rows != nil {
			dq, ldq = g.dq[:r*cq], cq
			clear(dq)
		}
		l.attn.Backward(a.attn, dq, ldq, dqkv[cq:], ld, dqkv[cq+ckv:], ld, dctx, q, k, v)
		for i, row := range rows {
			addInPlace(dqkv[row*ld:row*ld+cq], dq[i*cq:(i+1)*cq])
		}
		if l.rope != nil {
			l.rope.rope.Backward(dqkv, ld, l.attn.Heads, n, pos, cos, sin)
			l.rope.rope.Backward(dqkv[cq:], ld, l.attn.KVHeads, n, pos, cos, sin)
		}
		l.qkv.Backward(dh1, dqkv, h1, n)
	} else {
		dq, dk, dv := g.dq[:r*cq], g.dk[:n*ckv], g.dv[:n*ckv]
		clear(dq)
		clear(dk)
		clear(dv)
		l.attn.Backward(a.attn, dq, cq, dk, ckv, dv, ckv, dctx, q, k, v)
		if l.rope != nil {
			qpos := pos
			if a.sel != nil {
				qpos = a.sel
			}
			l.rope.rope.Backward(dq, cq, l.attn.Heads, r, qpos, cos, sin)
			l.rope.rope.Backward(dk, ckv, l.attn.KVHeads, n, pos, cos, sin)
		}
		if rows != nil {
			dhs := g.dhs[:r*c]
			clear(dhs)
			l.q.Backward(dhs, dq, a.hs, r)
			for i, row := range rows {
				addInPlace(dh1[row*c:(row+1)*c], dhs[i*c:(i+1)*c])
			}
		} else {
			l.q.Backward(dh1, dq, h1, r)
		}
		l.k.Backward(dh1, dk, h1, n)
		l.v.Backward(dh1, dv, h1, n)
	}
	// h1 = n1(x), and the residual path of the computed rows
	if l.attnNorm != nil {
		l.attnNorm.backward(dx, dh1, a.x, n, &a.n1)
	} else {
		addInPlace(dx[:n*c], dh1)
	}
	if rows == nil {
		addInPlace(dx[:n*c], dx1)
		return
	}
	for i, row := range rows {
		addInPlace(dx[row*c:(row+1)*c], dx1[i*c:(i+1)*c])
	}
}
