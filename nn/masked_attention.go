package nn

import (
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/textclf/textclf/tensor"
)

// MaskedAttention is the core of self-attention for the decoders (GPT-2,
// Llama, Qwen2, Mistral) and ModernBERT: softmax(q·kᵀ·Scale + mask)·v per
// sequence and head, with
//
//   - grouped-query attention: KVHeads key/value heads, each shared by
//     Heads/KVHeads query heads (transformers' repeat_kv);
//   - a causal mask (a query sees no later key) when Causal is set;
//   - a sliding window when Left or Right is not negative: a query at i sees
//     the keys in [i-Left, i+Right] only (ModernBERT's local attention:
//     local_attention/2 on each side; Mistral's sliding_window w: Left w-1);
//   - padded keys (attention mask 0) masked.
//
// Masked scores get MinFloat32, as transformers' additive masks give them, so
// they receive no attention. The work is done in blocks of up to
// BlockRows queries against the keys their rows can see, so a window of w
// keys costs O(T·w) time and memory, not O(T²); full attention keeps the
// scores of one block per thread in inference and those of every block in
// training (Backward needs them).
//
// Queries q are [rows, ldq] (head h at column h·HeadDim), keys and values k,
// v [B·T, ldk] and [B·T, ldv] (head g at column g·HeadDim), so they may be
// views into one fused QKV product; ctx is [rows, Heads·HeadDim]. rows is
// B·T, or B when the state was made for one query row per sequence.
type MaskedAttention struct {
	Heads, KVHeads, HeadDim int
	Causal                  bool
	Left, Right             int     // window limits; negative: none
	Scale                   float32 // 0 means 1/√HeadDim
	Dropout                 Dropout // on the attention probabilities
}

// BlockRows is the number of query rows MaskedAttention computes at once.
const BlockRows = 64

// attnBlock is a block of query rows of one sequence and the key range
// [lo, hi) they can see.
type attnBlock struct {
	b, i0, q int // sequence, first query position, number of query rows
	row0     int // first row of the block in q and ctx
	lo, hi   int // key positions
	skip     bool
}

// MaskedAttentionState holds what Forward computes and Backward needs.
type MaskedAttentionState struct {
	B, T int
	// QPos, when not nil, gives the one query position of each sequence
	// (the rows of q and ctx are then B); nil means every position.
	QPos   []int
	blocks []attnBlock
	// Probs are the softmax outputs of every (block, head), at probOff; only
	// in a training state.
	Probs, Dropped, DropMask []float32
	probOff                  []int
	maxW                     int
	train                    bool
}

// Rows is the number of query rows: B·T, or B with QPos.
func (s *MaskedAttentionState) Rows() int {
	if s.QPos != nil {
		return s.B
	}
	return s.B * s.T
}

func (a *MaskedAttention) scale() float32 {
	if a.Scale != 0 {
		return a.Scale
	}
	return float32(1 / math.Sqrt(float64(a.HeadDim)))
}

// keyRange is the range of keys queries [i0, i0+q) of a sequence of t tokens
// can see.
func (a *MaskedAttention) keyRange(i0, q, t int) (lo, hi int) {
	lo, hi = 0, t
	if a.Left >= 0 {
		lo = max(0, i0-a.Left)
	}
	if a.Causal {
		hi = i0 + q
	}
	if a.Right >= 0 {
		hi = min(hi, i0+q-1+a.Right+1)
	}
	return lo, min(hi, t)
}

// NewState makes the state of a pass over b sequences of t tokens with the
// key mask [b·t] (1 keep, 0 pad). qpos, when not nil, asks for one query row
// per sequence, at qpos[i]. train keeps the probabilities for Backward
// (alloc takes those buffers; nil allocates with make).
func (a *MaskedAttention) NewState(b, t int, mask []int, qpos []int, train bool, alloc func(int) []float32) *MaskedAttentionState {
	if alloc == nil {
		alloc = func(n int) []float32 { return make([]float32, n) }
	}
	s := &MaskedAttentionState{B: b, T: t, QPos: qpos, train: train}
	add := func(seq, i0, q, row0 int) {
		lo, hi := a.keyRange(i0, q, t)
		skip := true
		for i := i0; i < i0+q; i++ {
			if mask[seq*t+i] != 0 {
				skip = false
				break
			}
		}
		s.blocks = append(s.blocks, attnBlock{b: seq, i0: i0, q: q, row0: row0, lo: lo, hi: hi, skip: skip})
		s.maxW = max(s.maxW, hi-lo)
	}
	for i := 0; i < b; i++ {
		if qpos != nil {
			add(i, qpos[i], 1, i)
			continue
		}
		for i0 := 0; i0 < t; i0 += BlockRows {
			add(i, i0, min(BlockRows, t-i0), i*t+i0)
		}
	}
	if train {
		n := 0
		for _, blk := range s.blocks {
			for h := 0; h < a.Heads; h++ {
				s.probOff = append(s.probOff, n)
				if !blk.skip {
					n += blk.q * (blk.hi - blk.lo)
				}
			}
		}
		s.Probs = alloc(n)
		s.Dropped = s.Probs
		if a.Dropout.P > 0 {
			s.Dropped, s.DropMask = alloc(n), alloc(n)
		}
	}
	return s
}

// parallelTasks runs fn(task, scratch) for tasks 0..n-1 on the threads,
// each taking the next task when done (tasks differ in cost); scratch is
// per thread, of scratchLen floats.
func parallelTasks(n, scratchLen int, fn func(task int, scratch []float32)) {
	var next atomic.Int64
	tensor.ParallelFor(min(n, tensor.Threads()), 1, func(lo, hi int) {
		scratch := make([]float32, scratchLen)
		for {
			t := int(next.Add(1) - 1)
			if t >= n {
				return
			}
			fn(t, scratch)
		}
	})
}

// scores computes the probabilities p [q, w] of head h in block blk.
func (a *MaskedAttention) scores(s *MaskedAttentionState, blk attnBlock, h int, p, q []float32, ldq int, k []float32, ldk int, mask []int) {
	d, t := a.HeadDim, s.T
	w := blk.hi - blk.lo
	g := h / (a.Heads / a.KVHeads)
	qh := q[blk.row0*ldq+h*d:]
	kh := k[(blk.b*t+blk.lo)*ldk+g*d:]
	tensor.SgemmSerial(tensor.NoTrans, tensor.Trans, blk.q, w, d, a.scale(), qh, ldq, kh, ldk, 0, p, w)
	keys := mask[blk.b*t+blk.lo : blk.b*t+blk.hi]
	for r := 0; r < blk.q; r++ {
		i := blk.i0 + r
		row := p[r*w : (r+1)*w]
		for j, m := range keys {
			kp := blk.lo + j
			if m == 0 || (a.Causal && kp > i) || (a.Left >= 0 && kp < i-a.Left) || (a.Right >= 0 && kp > i+a.Right) {
				row[j] = MinFloat32
			}
		}
		tensor.Softmax(row, row, 1, w)
	}
}

// context computes ctx rows of head h in block blk from the probabilities p.
func (a *MaskedAttention) context(s *MaskedAttentionState, blk attnBlock, h int, p, v []float32, ldv int, ctx []float32) {
	d, c := a.HeadDim, a.Heads*a.HeadDim
	g := h / (a.Heads / a.KVHeads)
	w := blk.hi - blk.lo
	ch := ctx[blk.row0*c+h*d:]
	if blk.skip {
		for r := 0; r < blk.q; r++ {
			clear(ch[r*c : r*c+d])
		}
		return
	}
	vh := v[(blk.b*s.T+blk.lo)*ldv+g*d:]
	tensor.SgemmSerial(tensor.NoTrans, tensor.NoTrans, blk.q, d, w, 1, p, w, vh, ldv, 0, ch, c)
}

// Forward computes ctx [rows, Heads·HeadDim] from q, k and v (strides ldq,
// ldk, ldv) with the key mask [B·T]. rng draws the dropout mask in training
// (nil: no dropout; a training state is needed for Backward).
func (a *MaskedAttention) Forward(s *MaskedAttentionState, ctx, q []float32, ldq int, k []float32, ldk int, v []float32, ldv int, mask []int, rng *rand.Rand) {
	nt := len(s.blocks) * a.Heads
	if !s.train {
		parallelTasks(nt, BlockRows*s.maxW, func(task int, scratch []float32) {
			blk, h := s.blocks[task/a.Heads], task%a.Heads
			p := scratch[:blk.q*(blk.hi-blk.lo)]
			if !blk.skip {
				a.scores(s, blk, h, p, q, ldq, k, ldk, mask)
			}
			a.context(s, blk, h, p, v, ldv, ctx)
		})
		return
	}
	prob := func(task int) []float32 {
		blk := s.blocks[task/a.Heads]
		if blk.skip {
			return nil
		}
		off := s.probOff[task]
		return s.Probs[off : off+blk.q*(blk.hi-blk.lo)]
	}
	dropout := rng != nil && a.Dropout.P > 0
	parallelTasks(nt, 0, func(task int, _ []float32) {
		blk, h := s.blocks[task/a.Heads], task%a.Heads
		p := prob(task)
		if !blk.skip {
			a.scores(s, blk, h, p, q, ldq, k, ldk, mask)
		}
		if !dropout {
			a.context(s, blk, h, p, v, ldv, ctx)
		}
	})
	if !dropout {
		return
	}
	copy(s.Dropped, s.Probs)
	a.Dropout.Forward(s.Dropped, s.DropMask, rng)
	parallelTasks(nt, 0, func(task int, _ []float32) {
		blk, h := s.blocks[task/a.Heads], task%a.Heads
		var p []float32
		if !blk.skip {
			off := s.probOff[task]
			p = s.Dropped[off : off+blk.q*(blk.hi-blk.lo)]
		}
		a.context(s, blk, h, p, v, ldv, ctx)
	})
}

// Backward adds the gradients of q, k and v to dq, dk and dv (strides ldq,
// ldk, ldv, as q, k, v) given dctx [rows, Heads·HeadDim], for a state made
// with train. The work is split by sequence and key/value head, so that no
// two threads add to the same rows of dk and dv.
func (a *MaskedAttention) Backward(s *MaskedAttentionState, dq []float32, ldq int, dk []float32, ldk int, dv []float32, ldv int, dctx, q, k, v []float32) {
	d, c, t := a.HeadDim, a.Heads*a.HeadDim, s.T
	group := a.Heads / a.KVHeads
	scale := a.scale()
	// blocks of each sequence
	bySeq := make([][]int, s.B)
	for i, blk := range s.blocks {
		bySeq[blk.b] = append(bySeq[blk.b], i)
	}
	parallelTasks(s.B*a.KVHeads, 2*BlockRows*s.maxW, func(task int, scratch []float32) {
		b, g := task/a.KVHeads, task%a.KVHeads
		for _, bi := range bySeq[b] {
			blk := s.blocks[bi]
			if blk.skip {
				continue
			}
			w := blk.hi - blk.lo
			dP, dS := scratch[:blk.q*w], scratch[BlockRows*s.maxW:BlockRows*s.maxW+blk.q*w]
			kh, vh := k[(b*t+blk.lo)*ldk+g*d:], v[(b*t+blk.lo)*ldv+g*d:]
			dkh, dvh := dk[(b*t+blk.lo)*ldk+g*d:], dv[(b*t+blk.lo)*ldv+g*d:]
			for h := g * group; h < (g+1)*group; h++ {
				off := s.probOff[bi*a.Heads+h]
				p, pd := s.Probs[off:off+blk.q*w], s.Dropped[off:off+blk.q*w]
				dch := dctx[blk.row0*c+h*d:]
				qh, dqh := q[blk.row0*ldq+h*d:], dq[blk.row0*ldq+h*d:]
				// dV += P'ᵀ·dctx, dP' = dctx·Vᵀ
				tensor.SgemmSerial(tensor.Trans, tensor.NoTrans, w, d, blk.q, 1, pd, w, dch, c, 1, dvh, ldv)
				tensor.SgemmSerial(tensor.NoTrans, tensor.Trans, blk.q, w, d, 1, dch, c, vh, ldv, 0, dP, w)
				if s.DropMask != nil {
					a.Dropout.Backward(dP, s.DropMask[off:off+blk.q*w])
				}
				clear(dS)
				for r := 0; r < blk.q; r++ {
					tensor.SoftmaxBackward(dS[r*w:(r+1)*w], p[r*w:(r+1)*w], dP[r*w:(r+1)*w], 1, w)
				}
				tensor.SgemmSerial(tensor.NoTrans, tensor.NoTrans, blk.q, d, w, scale, dS, w, kh, ldk, 1, dqh, ldq)
				tensor.SgemmSerial(tensor.Trans, tensor.NoTrans, w, d, blk.q, scale, dS, w, qh, ldq, 1, dkh, ldk)
			}
		}
	})
}
