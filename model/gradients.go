package model

import "fmt"

// PositionIDs returns the position id of every token of the batch [B*T]:
// in.PositionIDs when set, else the model's own (0..T-1; RoBERTa's count
// from padding_idx+1 over the tokens that are not padding).
func (m *Model) PositionIDs(in *Batch) []int {
	if in.PositionIDs != nil {
		return in.PositionIDs
	}
	return m.emb.positionIDs(in.InputIDs, in.B, in.T)
}

// EmbeddingOutput returns the output of the embeddings module
// (bert.embeddings, roberta.embeddings, distilbert.embeddings) for the
// batch, [B*T, C]: the sum of the word, position and token type embeddings
// after LayerNorm, in inference (dropout off).
func (m *Model) EmbeddingOutput(in *Batch) ([]float32, error) {
	if err := m.checkBatch(in); err != nil {
		return nil, err
	}
	n, c := in.B*in.T, m.Config.HiddenSize
	out := make([]float32, n*c)
	if err := m.emb.forward(&embeddingActs{sum: make([]float32, n*c)}, out, in, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// EmbeddingGradient runs the model in inference (dropout off) on x [B*T, C]
// in place of the output of the embeddings module — in gives the shape and
// the attention mask; its ids are not read — and back-propagates to x. grad
// receives the logits [B, NumLabels] and writes into dLogits (zeroed, same
// shape) the gradient of the explained output with respect to them. It
// returns the logits and the gradient of that output with respect to x
// [B*T, C]. Parameter gradients are not touched, so concurrent calls are
// safe (with each other and with Forward, not with training).
//
// This is the gradient that Captum's LayerIntegratedGradients takes on the
// embeddings module's output.
func (m *Model) EmbeddingGradient(in *Batch, x []float32, grad func(logits, dLogits []float32)) (logits, dx []float32, err error) {
	if err := m.errQuantized("embedding gradient"); err != nil {
		return nil, nil, err
	}
	if err := m.checkBatch(in); err != nil {
		return nil, nil, err
	}
	if m.mlm != nil || m.net != nil {
		return nil, nil, fmt.Errorf("embedding gradient: %s is not a BERT-family classifier", m.Architecture())
	}
	n, c := in.B*in.T, m.Config.HiddenSize
	if len(x) != n*c {
		return nil, nil, fmt.Errorf("embedding gradient: %d values for %d×%d tokens of %d", len(x), in.B, in.T, c)
	}
	for _, l := range m.linears() {
		l.Pack()
	}
	ar := inferenceArenas.Get().(*arena)
	defer inferenceArenas.Put(ar)
	ar.reset()
	// Forward, keeping every layer's activations; the last layer computes
	// only the first token of each sequence, all that the head reads.
	acts := make([]*layerActs, len(m.layers))
	h, t := x, in.T
	for i, l := range m.layers {
		last := i == len(m.layers)-1
		a := l.newActs(h, in.B, in.T, false, last, false, ar.take)
		l.forward(a, in.AttentionMask, nil)
		acts[i], h = a, a.out
		if last {
			t = 1
		}
	}
	ha := m.head.newActs(in.B)
	m.head.forward(ha, h, in.B, t, nil)
	logits = ha.logits
	dLogits := make([]float32, len(logits))
	grad(logits, dLogits)

	// Backward to x, without parameter gradients.
	g := &layerGrads{inputOnly: true}
	dHidden := ar.take(in.B * t * c)
	clear(dHidden)
	m.head.backward(ha, g, dLogits, dHidden, in.B, t)
	if len(m.layers) == 0 {
		return logits, dHidden, nil
	}
	lg := m.layers[0].newGrads(in.B, in.T, ar.take)
	lg.inputOnly = true
	dx = make([]float32, n*c) // the result outlives the arena
	bufs := [2][]float32{ar.take(n * c), ar.take(n * c)}
	for i := len(m.layers) - 1; i >= 0; i-- {
		out := bufs[i%2]
		if i == 0 {
			out = dx
		}
		clear(out)
		m.layers[i].backward(acts[i], lg, dHidden, out)
		dHidden = out
	}
	return logits, dx, nil
}
