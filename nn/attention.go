package nn

import (
	"math"
	"math/rand/v2"

	"github.com/textclf/textclf/tensor"
)

// Attention is the core of multi-head self-attention: given the projected
// queries, keys and values q, k, v [B*T, H*D] of B sequences of T tokens, it
// computes ctx [B*T, H*D] = softmax(q·kᵀ/√D + mask)·v per sequence and head.
// Forward reads q, k and v with row strides of their own, so they may be
// views of one product's output [B*T, 3·H*D] (q, k, v side by side).
// Padded key positions (mask 0) get the score MinFloat32, as transformers
// does, so they receive no attention.
type Attention struct {
	Heads, HeadDim int
	Dropout        Dropout // on the attention probabilities
}

// AttentionState holds what Forward computes and Backward needs.
type AttentionState struct {
	B, T int
	// TQ is the number of query rows per sequence: T, or 1 in a state made
	// with StateOptions.FirstOnly (the first token of each sequence only: q,
	// ctx, dq and dctx are then [B, H*D], while k and v keep all B*T rows).
	TQ    int
	Probs []float32 // [B, H, TQ, T] softmax output
	// Dropped are the probabilities after dropout (== Probs without dropout);
	// DropMask the dropout scales.
	Dropped, DropMask []float32
	// offQ, offKV and offS are the offsets of each sequence and head in q
	// or ctx, in k or v (row stride H*D) and in Probs.
	offQ, offKV, offS []int
}

// offsets returns the offsets of each sequence and head in a matrix of
// rows rows per sequence (TQ or T) with row stride ld: the state's own for
// stride H*D, else made on the call (B·H ints; Forward's strided q, k, v).
func (s *AttentionState) offsets(rows, ld, heads, headDim int) []int {
	switch {
	case ld == heads*headDim && rows == s.TQ:
		return s.offQ
	case ld == heads*headDim && rows == s.T:
		return s.offKV
	}
	off := make([]int, 0, s.B*heads)
	for i := 0; i < s.B; i++ {
		for h := 0; h < heads; h++ {
			off = append(off, i*rows*ld+h*headDim)
		}
	}
	return off
}

func (a *Attention) scale() float32 { return float32(1 / math.Sqrt(float64(a.HeadDim))) }

// StateOptions say what an AttentionState is made for.
type StateOptions struct {
	// FirstOnly makes the state for the queries of the first token of each
	// sequence only (TQ = 1), all that a classifier reads of the last layer.
	FirstOnly bool
	// Train makes the state for a training pass: it then holds the dropout
	// buffers Backward needs when the attention has dropout. Without it the
	// state serves Forward with no rng (inference).
	Train bool
	// Alloc takes the float buffers; it may return memory that is not zeroed
	// (Forward writes all of it). Nil allocates them with make.
	Alloc func(n int) []float32
}

// NewState makes the state of a forward pass over b sequences of t tokens.
func (a *Attention) NewState(b, t int, opts StateOptions) *AttentionState {
	alloc := opts.Alloc
	if alloc == nil {
		alloc = func(n int) []float32 { return make([]float32, n) }
	}
	tq := t
	if opts.FirstOnly {
		tq = 1
	}
	n := b * a.Heads * tq * t
	s := &AttentionState{B: b, T: t, TQ: tq, Probs: alloc(n)}
	s.Dropped = s.Probs
	if opts.Train && a.Dropout.P > 0 {
		s.Dropped = alloc(n)
		s.DropMask = alloc(n)
	}
	c := a.Heads * a.HeadDim
	for i := 0; i < b; i++ {
		for h := 0; h < a.Heads; h++ {
			s.offQ = append(s.offQ, i*tq*c+h*a.HeadDim)
			s.offKV = append(s.offKV, i*t*c+h*a.HeadDim)
			s.offS = append(s.offS, (i*a.Heads+h)*tq*t)
		}
	}
	return s
}

// Forward computes ctx [B*TQ, H*D] from q [B*TQ, ldq], k [B*T, ldk] and
// v [B*T, ldv] (row strides of at least H*D) with the key mask [B*T] (1
// keep, 0 pad). rng draws the dropout mask in training (nil: no dropout).
// Backward reads q, k and v as Forward did with strides H*D: a training
// pass keeps them in separate arrays.
func (a *Attention) Forward(s *AttentionState, ctx, q []float32, ldq int, k []float32, ldk int, v []float32, ldv int, mask []int, rng *rand.Rand) {
	b, t, tq, d, c := s.B, s.T, s.TQ, a.HeadDim, a.Heads*a.HeadDim
	offQ, offK, offV := s.offsets(tq, ldq, a.Heads, d), s.offsets(t, ldk, a.Heads, d), s.offsets(t, ldv, a.Heads, d)
	tensor.SgemmBatched(tensor.NoTrans, tensor.Trans, tq, t, d, a.scale(), q, ldq, offQ, k, ldk, offK, 0, s.Probs, t, s.offS)
	for i := 0; i < b; i++ {
		keys := mask[i*t : (i+1)*t]
		for j, m := range keys {
			if m != 0 {
				continue
			}
			for h := 0; h < a.Heads; h++ {
				scores := s.Probs[(i*a.Heads+h)*tq*t:]
				for row := 0; row < tq; row++ {
					scores[row*t+j] = MinFloat32
				}
			}
		}
	}
	tensor.Softmax(s.Probs, s.Probs, b*a.Heads*tq, t)
	// Inference (no rng) multiplies V by the probabilities themselves.
	dropped := s.Probs
	if rng != nil && a.Dropout.P > 0 {
		copy(s.Dropped, s.Probs)
		a.Dropout.Forward(s.Dropped, s.DropMask, rng)
		dropped = s.Dropped
	}
	tensor.SgemmBatched(tensor.NoTrans, tensor.NoTrans, tq, d, t, 1, dropped, t, s.offS, v, ldv, offV, 0, ctx, c, s.offQ)
}

// Backward adds the gradients of q, k and v to dq, dk, dv given dctx; q,
// k, v and their gradients are [rows, H*D] (Forward's strides H*D).
// scratch must hold 2·len(s.Probs) values; it is overwritten.
func (a *Attention) Backward(s *AttentionState, dq, dk, dv, dctx, q, k, v, scratch []float32) {
	t, tq, d, c := s.T, s.TQ, a.HeadDim, a.Heads*a.HeadDim
	n := len(s.Probs)
	dProbs, dScores := scratch[:n], scratch[n:2*n]
	// dV += P'ᵀ·dctx and dP' = dctx·Vᵀ
	tensor.SgemmBatched(tensor.Trans, tensor.NoTrans, t, d, tq, 1, s.Dropped, t, s.offS, dctx, c, s.offQ, 1, dv, c, s.offKV)
	tensor.SgemmBatched(tensor.NoTrans, tensor.Trans, tq, t, d, 1, dctx, c, s.offQ, v, c, s.offKV, 0, dProbs, t, s.offS)
	if a.Dropout.P > 0 && s.DropMask != nil {
		a.Dropout.Backward(dProbs, s.DropMask)
	}
	// dS = softmax'(P)·dP (SoftmaxBackward accumulates, so start from zero).
	clear(dScores)
	tensor.SoftmaxBackward(dScores, s.Probs, dProbs, s.B*a.Heads*tq, t)
	scale := a.scale()
	tensor.SgemmBatched(tensor.NoTrans, tensor.NoTrans, tq, d, t, scale, dScores, t, s.offS, k, c, s.offKV, 1, dq, c, s.offQ)
	tensor.SgemmBatched(tensor.Trans, tensor.NoTrans, t, d, tq, scale, dScores, t, s.offS, q, c, s.offQ, 1, dk, c, s.offKV)
}
