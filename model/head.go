package model

import (
	"math/rand/v2"

	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// head turns the hidden state of each sequence's first token into logits:
//
//	BERT:       dropout(tanh(pooler.dense(h₀)))        → classifier
//	RoBERTa:    dropout(tanh(dense(dropout(h₀))))      → out_proj
//	DistilBERT: dropout(relu(pre_classifier(h₀)))      → classifier
type head struct {
	dense         *nn.Linear
	tanh          bool // else ReLU
	dropoutBefore bool // RoBERTa drops out h₀ before dense
	dropout       nn.Dropout
	out           *nn.Linear
}

type headActs struct {
	first     []float32 // h₀ of each sequence, after the first dropout [B, C]
	dropMask0 []float32
	dense     []float32 // dense output, before the activation [B, C]
	pooled    []float32 // after activation and dropout [B, C]
	activated []float32 // after the activation, before dropout [B, C]
	dropMask  []float32
	logits    []float32 // [B, L]
}

func (h *head) params() []*nn.Param { return append(h.dense.Params(), h.out.Params()...) }

func (h *head) newActs(b int) *headActs {
	c, l := h.dense.In, h.out.Out
	a := &headActs{first: make([]float32, b*c), dense: make([]float32, b*c), activated: make([]float32, b*c),
		pooled: make([]float32, b*c), logits: make([]float32, b*l)}
	if h.dropout.P > 0 {
		a.dropMask0 = make([]float32, b*c)
		a.dropMask = make([]float32, b*c)
	}
	return a
}

// forward computes logits from the encoder output hidden [B*t, C] (t is T,
// or 1 when the last layer computed only the first tokens).
func (h *head) forward(a *headActs, hidden []float32, b, t int, rng *rand.Rand) {
	c := h.dense.In
	for i := 0; i < b; i++ {
		copy(a.first[i*c:(i+1)*c], hidden[i*t*c:i*t*c+c])
	}
	if rng != nil && h.dropoutBefore {
		h.dropout.Forward(a.first, a.dropMask0, rng)
	}
	h.dense.Forward(a.dense, a.first, b)
	if h.tanh {
		tensor.Tanh(a.activated, a.dense)
	} else {
		nn.ReLU.Forward(a.activated, a.dense)
	}
	copy(a.pooled, a.activated)
	if rng != nil {
		h.dropout.Forward(a.pooled, a.dropMask, rng)
	}
	h.out.Forward(a.logits, a.pooled, b)
}

// backward adds the gradient of the encoder output to dHidden [B*t, C] given
// dLogits [B, L]; g says whether parameter gradients are computed too.
func (h *head) backward(a *headActs, g *layerGrads, dLogits, dHidden []float32, b, t int) {
	c := h.dense.In
	dPooled := make([]float32, b*c)
	g.linear(h.out, dPooled, dLogits, a.pooled, b)
	h.dropout.Backward(dPooled, a.dropMask)
	dDense := make([]float32, b*c)
	if h.tanh {
		tensor.TanhBackward(dDense, a.activated, dPooled)
	} else {
		nn.ReLU.Backward(dDense, a.dense, dPooled)
	}
	dFirst := make([]float32, b*c)
	g.linear(h.dense, dFirst, dDense, a.first, b)
	if h.dropoutBefore {
		h.dropout.Backward(dFirst, a.dropMask0)
	}
	for i := 0; i < b; i++ {
		addInPlace(dHidden[i*t*c:i*t*c+c], dFirst[i*c:(i+1)*c])
	}
}
