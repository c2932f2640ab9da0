package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// prenormNet is a pre-norm transformer with a sequence classification head:
// GPT2ForSequenceClassification, Llama/Qwen2/MistralForSequenceClassification
// and ModernBertForSequenceClassification (built by gpt2.go, llama.go and
// modernbert.go with HF's module names):
//
//	x      = embeddings(ids) [+ positions] [→ norm → dropout]
//	x      = block(x) for every block
//	h      = final_norm(x)
//	pooled = h at the last non-padding token (decoders), the first token, or
//	         the mean over real tokens (ModernBERT)
//	logits = score(pooled) (decoders) or
//	         classifier(drop(norm(act(dense(pooled))))) (ModernBERT's head)
//
// The last block computes only the pooled rows past its keys and values.
type prenormNet struct {
	cfg      *checkpoint.Config
	arch     string
	embed    *nn.Embedding
	pos      *nn.Embedding // learned positions (GPT-2), or nil
	embNorm  *normLayer    // ModernBERT's embeddings.norm, or nil
	embDrop  nn.Dropout
	blocks   []*block
	final    *normLayer
	pool     pooling
	dense    *nn.Linear // ModernBERT's head.dense, or nil
	headAct  nn.Activation
	headNorm *normLayer
	headDrop nn.Dropout
	out      *nn.Linear
	padID    *int // the config's pad_token_id
	gradSkip int  // embedding row with no gradient (padding_idx), or -1
	drops    []*nn.Dropout
	ignore   []string
	init     func(p *nn.Param, rng *rand.Rand)
	all      []*nn.Param
	train    *prenormTrain

	// separateQKV makes inference run separate q, k and v as three
	// products: the path the joined one is tested against (as
	// Model.separateQKV).
	separateQKV bool
}

// prenormTrain holds the activations of a training pass.
type prenormTrain struct {
	in        *Batch
	sel       []int
	posIDs    []int
	embSum    []float32 // the embeddings before ModernBERT's norm [n, C]
	embStats  normStats
	embMask   []float32
	acts      []*blockActs
	hidden    []float32 // the last block's output [r, C]
	finOut    []float32 // final norm [r, C]
	finStats  normStats
	pooled    []float32 // [B, C]
	dense     []float32 // head: dense output, activation, norm output [B, C]
	headAct   []float32
	headOut   []float32
	headStats normStats
	headMask  []float32
}

func (p *prenormNet) params() []*nn.Param { return p.all }

func (p *prenormNet) collectParams() {
	p.all = append([]*nn.Param(nil), p.embed.Params()...)
	if p.pos != nil {
		p.all = append(p.all, p.pos.Params()...)
	}
	p.all = append(p.all, p.embNorm.params()...)
	for _, b := range p.blocks {
		p.all = append(p.all, b.params()...)
	}
	p.all = append(p.all, p.final.params()...)
	if p.dense != nil {
		p.all = append(p.all, p.dense.Params()...)
		p.all = append(p.all, p.headNorm.params()...)
	}
	p.all = append(p.all, p.out.Params()...)
}

func (p *prenormNet) linears() []*nn.Linear {
	var out []*nn.Linear
	for _, b := range p.blocks {
		out = append(out, b.linears()...)
	}
	return append(out, p.headLinears()...)
}

// headLinears lists the Linear layers after the blocks.
func (p *prenormNet) headLinears() []*nn.Linear {
	if p.dense != nil {
		return []*nn.Linear{p.dense, p.out}
	}
	return []*nn.Linear{p.out}
}

func (p *prenormNet) setDropout(v float32) {
	for _, d := range p.drops {
		d.P = v
	}
}

func (p *prenormNet) maxTokens() int             { return p.cfg.MaxPositionEmbeddings }
func (p *prenormNet) output() *nn.Linear         { return p.out }
func (p *prenormNet) architecture() string       { return p.arch }
func (p *prenormNet) ignoreUnexpected() []string { return p.ignore }
func (p *prenormNet) hidden() int                { return p.embed.Dim }

// errNoPadToken is transformers' error for a batch of several texts when the
// config has no pad token.
func (p *prenormNet) errNoPadToken(b int) error {
	return fmt.Errorf("%s: Cannot handle batch sizes > 1 if no padding token is defined (a batch of %d texts, and config.json has no pad_token_id: classify one text at a time, e.g. --batch-size 1, or set pad_token_id)", p.arch, b)
}

// selection returns the row each sequence is classified on (nil for mean
// pooling): for decoders the last token whose id is not the pad id
// (transformers' rule, which handles left and right padding; 0 when every
// token is padding), the last one without a pad token; 0 for "cls".
func (p *prenormNet) selection(in *Batch) ([]int, error) {
	sel := make([]int, in.B)
	switch p.pool {
	case poolMean:
		return nil, nil
	case poolCLS:
		return sel, nil
	}
	if p.padID == nil {
		if in.B != 1 {
			return nil, p.errNoPadToken(in.B)
		}
		sel[0] = in.T - 1
		return sel, nil
	}
	for i := range sel {
		for j := in.T - 1; j > 0; j-- {
			if in.InputIDs[i*in.T+j] != *p.padID {
				sel[i] = j
				break
			}
		}
	}
	return sel, nil
}

// embedForward writes the embeddings of the batch into x [n, C].
func (p *prenormNet) embedForward(x []float32, in *Batch, st *prenormTrain, rng *rand.Rand) error {
	n, c := in.B*in.T, p.hidden()
	if in.T > p.cfg.MaxPositionEmbeddings && p.pos != nil {
		return fmt.Errorf("batch: sequences of %d tokens exceed the model's %d positions", in.T, p.cfg.MaxPositionEmbeddings)
	}
	sum := x
	if p.embNorm != nil {
		sum = make([]float32, n*c)
		if st != nil {
			st.embSum = sum
		}
	}
	clear(sum)
	if err := p.embed.AddForward(sum, in.InputIDs); err != nil {
		return err
	}
	if p.pos != nil {
		pos := positions(in.B, in.T)
		if st != nil {
			st.posIDs = pos
		}
		if err := p.pos.AddForward(sum, pos); err != nil {
			return err
		}
	}
	if p.embNorm != nil {
		var stats *normStats
		if st != nil {
			st.embStats = newStats(n, func(k int) []float32 { return make([]float32, k) })
			stats = &st.embStats
		}
		p.embNorm.forward(x, sum, n, stats)
	}
	if rng != nil && p.embDrop.P > 0 {
		st.embMask = make([]float32, n*c)
		p.embDrop.Forward(x, st.embMask, rng)
	}
	return nil
}

// poolForward pools the final hidden rows h [r, C] into pooled [B, C].
func (p *prenormNet) poolForward(pooled, h []float32, in *Batch) {
	c := p.hidden()
	if p.pool != poolMean {
		copy(pooled, h[:in.B*c])
		return
	}
	for i := 0; i < in.B; i++ {
		out := pooled[i*c : (i+1)*c]
		clear(out)
		var cnt float32
		for j := 0; j < in.T; j++ {
			if m := in.AttentionMask[i*in.T+j]; m != 0 {
				cnt += float32(m)
				for k, v := range h[(i*in.T+j)*c : (i*in.T+j+1)*c] {
					out[k] += float32(m) * v
				}
			}
		}
		for k := range out {
			out[k] /= cnt
		}
	}
}

// headForward computes the logits [B, L] from pooled [B, C].
func (p *prenormNet) headForward(logits, pooled []float32, b int, st *prenormTrain, rng *rand.Rand) {
	if p.dense == nil {
		p.out.Forward(logits, pooled, b)
		return
	}
	c := p.hidden()
	dense, act, out := make([]float32, b*c), make([]float32, b*c), make([]float32, b*c)
	var stats *normStats
	if st != nil {
		st.dense, st.headAct, st.headOut = dense, act, out
		st.headStats = newStats(b, func(k int) []float32 { return make([]float32, k) })
		stats = &st.headStats
	}
	p.dense.ForwardAct(dense, act, pooled, b, p.headAct)
	p.headNorm.forward(out, act, b, stats)
	if rng != nil && p.headDrop.P > 0 {
		st.headMask = make([]float32, b*c)
		p.headDrop.Forward(out, st.headMask, rng)
	}
	p.out.Forward(logits, out, b)
}

func (p *prenormNet) checkIDs(in *Batch) error {
	if len(in.InputIDs) != in.B*in.T || len(in.AttentionMask) != in.B*in.T {
		return fmt.Errorf("batch: %d ids and %d mask values for %d×%d tokens", len(in.InputIDs), len(in.AttentionMask), in.B, in.T)
	}
	return nil
}

// packForInference packs the weights for the GEMM kernels. Separate q, k
// and v projections become one concatenated product (block.concatQKV) in
// every block or in none; theirs are then not packed.
func (p *prenormNet) packForInference() {
	for _, b := range p.blocks {
		if p.separateQKV {
			b.inferQKV.drop()
		} else {
			b.concatQKV()
		}
	}
	for _, b := range p.blocks {
		if b.qkv == nil && b.inferQKV.get() == nil {
			p.dropConcat()
			break
		}
	}
	for _, b := range p.blocks {
		joined := b.inferQKV.get() != nil
		for _, l := range b.linears() {
			if !joined || l != b.q && l != b.k && l != b.v {
				l.Pack()
			}
		}
	}
	for _, l := range p.headLinears() {
		l.Pack()
	}
}

// weightsChanged drops the blocks' concatenated q, k, v projections.
func (p *prenormNet) weightsChanged() { p.dropConcat() }

// dropConcat drops the blocks' concatenated q, k, v projections.
func (p *prenormNet) dropConcat() {
	for _, b := range p.blocks {
		b.inferQKV.drop()
	}
}

func (p *prenormNet) forward(in *Batch) ([]float32, error) {
	if err := p.checkIDs(in); err != nil {
		return nil, err
	}
	sel, err := p.selection(in)
	if err != nil {
		return nil, err
	}
	p.packForInference()
	ar := inferenceArenas.Get().(*arena)
	defer inferenceArenas.Put(ar)
	ar.reset()
	n, c := in.B*in.T, p.hidden()
	x := ar.take(n * c)
	if err := p.embedForward(x, in, nil, nil); err != nil {
		return nil, err
	}
	rows := n
	if len(p.blocks) > 0 {
		// One set of buffers serves every block: the output of one is the
		// input of the next.
		a := p.blocks[0].newActs(in.B, in.T, nil, false, ar.take)
		a.x = x
		last := len(p.blocks) - 1
		for i, l := range p.blocks {
			if i == last && sel != nil {
				l.setSel(a, sel, ar.take)
				rows = in.B
			}
			a.attn = l.attn.NewState(in.B, in.T, in.AttentionMask, a.sel, false, nil)
			l.forward(a, in.AttentionMask, nil)
			a.x, a.out = a.out, a.x
		}
		x = a.x
	} else if sel != nil {
		gather(x, x, rowsOfPositions(sel, in.T), c) // rows in increasing order: in place is safe
		rows = in.B
	}
	h := ar.take(rows * c)
	p.final.forward(h, x, rows, nil)
	pooled := ar.take(in.B * c)
	p.poolForward(pooled, h, in)
	logits := make([]float32, in.B*p.out.Out)
	p.headForward(logits, pooled, in.B, nil, nil)
	return logits, nil
}

func (p *prenormNet) forwardTrain(in *Batch, rng *rand.Rand) ([]float32, error) {
	if err := p.checkIDs(in); err != nil {
		return nil, err
	}
	sel, err := p.selection(in)
	if err != nil {
		return nil, err
	}
	alloc := func(k int) []float32 { return make([]float32, k) }
	n, c := in.B*in.T, p.hidden()
	st := &prenormTrain{in: in, sel: sel}
	x := make([]float32, n*c)
	if err := p.embedForward(x, in, st, rng); err != nil {
		return nil, err
	}
	rows := n
	for i, l := range p.blocks {
		var lsel []int
		if i == len(p.blocks)-1 {
			lsel = sel
		}
		a := l.newActs(in.B, in.T, lsel, true, alloc)
		a.x = x
		a.attn = l.attn.NewState(in.B, in.T, in.AttentionMask, lsel, true, alloc)
		l.forward(a, in.AttentionMask, rng)
		st.acts = append(st.acts, a)
		x, rows = a.out, a.r
	}
	if len(p.blocks) == 0 && sel != nil {
		sx := make([]float32, in.B*c)
		gather(sx, x, rowsOfPositions(sel, in.T), c)
		x, rows = sx, in.B
	}
	st.hidden = x
	st.finOut = make([]float32, rows*c)
	st.finStats = newStats(rows, alloc)
	p.final.forward(st.finOut, x, rows, &st.finStats)
	st.pooled = make([]float32, in.B*c)
	p.poolForward(st.pooled, st.finOut, in)
	logits := make([]float32, in.B*p.out.Out)
	p.headForward(logits, st.pooled, in.B, st, rng)
	p.train = st
	return logits, nil
}

func (p *prenormNet) backward(dLogits []float32) error {
	st := p.train
	if st == nil {
		return fmt.Errorf("backward: no training forward pass to go back through")
	}
	in := st.in
	b, c := in.B, p.hidden()
	n := in.B * in.T
	// head
	dPooled := make([]float32, b*c)
	if p.dense == nil {
		p.out.Backward(dPooled, dLogits, st.pooled, b)
	} else {
		dOut := make([]float32, b*c)
		p.out.Backward(dOut, dLogits, st.headOut, b)
		if st.headMask != nil {
			p.headDrop.Backward(dOut, st.headMask)
		}
		// headOut was changed in place by dropout: the norm backward needs
		// only its input.
		dAct := make([]float32, b*c)
		p.headNorm.backward(dAct, dOut, st.headAct, b, &st.headStats)
		dDense := make([]float32, b*c)
		p.headAct.Backward(dDense, st.dense, dAct)
		p.dense.Backward(dPooled, dDense, st.pooled, b)
	}
	// pooling and final norm
	rows := len(st.finOut) / c
	dFin := make([]float32, rows*c)
	if p.pool == poolMean {
		for i := 0; i < b; i++ {
			var cnt float32
			for j := 0; j < in.T; j++ {
				cnt += float32(in.AttentionMask[i*in.T+j])
			}
			for j := 0; j < in.T; j++ {
				if m := float32(in.AttentionMask[i*in.T+j]); m != 0 {
					for k, v := range dPooled[i*c : (i+1)*c] {
						dFin[(i*in.T+j)*c+k] = m * v / cnt
					}
				}
			}
		}
	} else {
		copy(dFin, dPooled)
	}
	dHidden := make([]float32, rows*c)
	p.final.backward(dHidden, dFin, st.hidden, rows, &st.finStats)
	dx := make([]float32, n*c)
	if len(p.blocks) > 0 {
		g := p.blocks[0].newGrads(in.B, in.T, func(k int) []float32 { return make([]float32, k) })
		for i := len(p.blocks) - 1; i >= 0; i-- {
			clear(dx)
			p.blocks[i].backward(st.acts[i], g, dHidden, dx)
			if i > 0 {
				dHidden, dx = dx, make([]float32, n*c)
			}
		}
	} else if st.sel != nil {
		for i, row := range rowsOfPositions(st.sel, in.T) {
			copy(dx[row*c:(row+1)*c], dHidden[i*c:(i+1)*c])
		}
	} else {
		copy(dx, dHidden)
	}
	// embeddings
	if st.embMask != nil {
		p.embDrop.Backward(dx, st.embMask)
	}
	dSum := dx
	if p.embNorm != nil {
		dSum = make([]float32, n*c)
		p.embNorm.backward(dSum, dx, st.embSum, n, &st.embStats)
	}
	embedBackward(p.embed, dSum, in.InputIDs, p.gradSkip)
	if p.pos != nil {
		p.pos.Backward(dSum, st.posIDs)
	}
	p.train = nil
	return nil
}

// embedBackward adds dy [len(ids), dim] to the gradient rows of ids, except
// the row skip (an nn.Embedding's padding_idx, whose gradient torch keeps 0).
func embedBackward(e *nn.Embedding, dy []float32, ids []int, skip int) {
	for i, id := range ids {
		if id == skip {
			continue
		}
		addInPlace(e.Weight.Grad[id*e.Dim:(id+1)*e.Dim], dy[i*e.Dim:(i+1)*e.Dim])
	}
}

func (p *prenormNet) initParam(w *nn.Param, rng *rand.Rand) { p.init(w, rng) }
