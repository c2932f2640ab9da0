package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// IgnoreIndex is the label of a token the masked-language-model loss skips
// (torch's cross_entropy ignore_index, which DataCollatorForLanguageModeling
// gives every token it did not mask).
const IgnoreIndex = -100

// mlmHead is the masked-language-model head over every token's hidden state:
//
//	BERT (cls.predictions):  LayerNorm(act(transform.dense(h))) · Eᵀ + bias
//	RoBERTa (lm_head):       layer_norm(gelu(dense(h)))          · Eᵀ + bias
//
// with E the word embeddings (the decoder is tied to them: the decoder's
// weight gradient adds into the embedding gradient) and act the config's
// hidden_act for BERT (BertPredictionHeadTransform), exact GELU for RoBERTa
// (RobertaLMHead).
type mlmHead struct {
	dense   *nn.Linear
	act     nn.Activation
	ln      *nn.LayerNorm
	decoder *nn.Linear // Weight is the word embedding table, Bias the head's bias
}

type mlmActs struct {
	rows       []int     // the rows of the [B*T] batch the head computed
	x          []float32 // their hidden states [R, C]
	dense, act []float32 // [R, C] before and after the activation
	mean, rstd []float32 // [R]
	h          []float32 // LayerNorm output [R, C]
	logits     []float32 // [R, V]
}

// mlmNames are the head's parameter names for a base prefix.
func mlmNames(prefix string) (dense, ln, bias string) {
	if prefix == "roberta" {
		return "lm_head.dense", "lm_head.layer_norm", "lm_head.bias"
	}
	return "cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.bias"
}

func newMLMHead(m *Model, act nn.Activation, eps float32) *mlmHead {
	c, v := m.Config.HiddenSize, m.Config.VocabSize
	dense, ln, bias := mlmNames(m.prefix)
	if m.prefix == "roberta" {
		act = nn.GELU
	}
	return &mlmHead{
		dense: nn.NewLinear(dense, c, c), act: act, ln: nn.NewLayerNorm(ln, c, eps),
		decoder: &nn.Linear{In: c, Out: v, Weight: m.emb.word.Weight, Bias: nn.NewParam(bias, v)},
	}
}

// params lists the head's own parameters (the tied decoder weight is the
// embeddings').
func (h *mlmHead) params() []*nn.Param {
	return append(append(h.dense.Params(), h.ln.Params()...), h.decoder.Bias)
}

// forward computes the logits of the given rows of hidden [B*T, C].
func (h *mlmHead) forward(hidden []float32, rows []int, alloc func(int) []float32) *mlmActs {
	c, v, r := h.dense.In, h.decoder.Out, len(rows)
	a := &mlmActs{rows: rows, x: alloc(r * c), dense: alloc(r * c), act: alloc(r * c), mean: alloc(r), rstd: alloc(r),
		h: alloc(r * c), logits: alloc(r * v)}
	for i, row := range rows {
		copy(a.x[i*c:(i+1)*c], hidden[row*c:(row+1)*c])
	}
	h.dense.ForwardAct(a.dense, a.act, a.x, r, h.act)
	h.ln.Forward(a.h, a.mean, a.rstd, a.act, r)
	h.decoder.Forward(a.logits, a.h, r)
	return a
}

// backward adds the gradients of the head's parameters (the decoder's into
// the word embeddings') and of the hidden states of its rows into dHidden
// [B*T, C], given dLogits [R, V].
func (h *mlmHead) backward(a *mlmActs, dLogits, dHidden []float32) {
	c, r := h.dense.In, len(a.rows)
	dH := make([]float32, r*c)
	h.decoder.Backward(dH, dLogits, a.h, r)
	dAct := make([]float32, r*c)
	h.ln.Backward(dAct, dH, a.act, a.mean, a.rstd, r)
	dDense := make([]float32, r*c)
	h.act.Backward(dDense, a.dense, dAct)
	dX := make([]float32, r*c)
	h.dense.Backward(dX, dDense, a.x, r)
	for i, row := range a.rows {
		addInPlace(dHidden[row*c:(row+1)*c], dX[i*c:(i+1)*c])
	}
}

// NewMaskedLM builds a masked language model (BertForMaskedLM,
// RobertaForMaskedLM, XLMRobertaForMaskedLM) of cfg: the encoder without
// pooler, and the MLM head whose decoder is tied to the word embeddings,
// initialised as transformers' _init_weights.
func NewMaskedLM(cfg *checkpoint.Config, seed uint64) (*Model, error) {
	if err := checkMaskedLM(cfg); err != nil {
		return nil, err
	}
	return build(cfg, seed, true, nil)
}

func checkMaskedLM(cfg *checkpoint.Config) error {
	if err := CheckSupported(cfg); err != nil {
		return err
	}
	switch cfg.BasePrefix() {
	case "bert", "roberta":
		if cfg.IsDecoder() || cfg.ModelType == "modernbert" {
			break
		}
		return nil
	}
	return fmt.Errorf("masked language model: model_type %q is not supported (bert, roberta, xlm-roberta, camembert)", cfg.ModelType)
}

// LoadMaskedLM reads a checkpoint directory into a masked language model,
// as AutoModelForMaskedLM.from_pretrained: the encoder by its HF names, the
// MLM head from cls.predictions (lm_head for RoBERTa) when the checkpoint
// has it, else newly initialised (reported in the LoadReport). The
// checkpoint's pooler and tied decoder copies are ignored, as transformers
// ignores them.
func LoadMaskedLM(dir string, seed uint64) (*Model, *LoadReport, error) {
	cfg, err := checkpoint.LoadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := checkMaskedLM(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return load(dir, nil, false, true, seed, "")
}

// IsMaskedLM says whether the model has the masked-language-model head
// (NewMaskedLM, LoadMaskedLM) instead of a classifier.
func (m *Model) IsMaskedLM() bool { return m.mlm != nil }

// MaskedLMLogits runs inference and returns the vocabulary logits [len(rows),
// VocabSize] of the given token rows of the batch (indices into its B*T
// tokens; nil for all of them), the prediction_logits of BertForMaskedLM.
func (m *Model) MaskedLMLogits(in *Batch, rows []int) ([]float32, error) {
	if m.mlm == nil {
		return nil, fmt.Errorf("masked LM logits: %s has no masked-language-model head", m.Architecture())
	}
	if err := m.checkBatch(in); err != nil {
		return nil, err
	}
	n, c := in.B*in.T, m.Config.HiddenSize
	if rows == nil {
		rows = allRows(n)
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("masked LM logits: row %d outside the batch's %d tokens", r, n)
		}
	}
	joined := m.packForInference(false)
	ar := inferenceArenas.Get().(*arena)
	defer inferenceArenas.Put(ar)
	ar.reset()
	ea := &embeddingActs{sum: ar.take(n * c)}
	x := ar.take(n * c)
	if err := m.emb.forward(ea, x, in, nil); err != nil {
		return nil, err
	}
	if len(m.layers) > 0 {
		a := m.layers[0].newActs(x, in.B, in.T, false, false, joined, ar.take)
		for _, l := range m.layers {
			l.forward(a, in.AttentionMask, nil)
			a.x, a.out = a.out, a.x
		}
		x = a.x
	}
	out := m.mlm.forward(x, rows, ar.take).logits
	return append([]float32(nil), out...), nil // the result outlives the arena
}

func allRows(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// forwardTrainMLM is ForwardTrain of a masked language model: labels hold
// one class per token [B*T], IgnoreIndex for those outside the loss. The
// head computes the labelled rows only (all rows without labels), and the
// logits returned are theirs, [R, VocabSize] in row order; the loss is
// their mean cross-entropy, as transformers' CrossEntropyLoss with
// ignore_index -100 (0 when no token is labelled).
func (m *Model) forwardTrainMLM(in *Batch, labels *Labels) ([]float32, float32, error) {
	n := in.B * in.T
	var rows, classes []int
	if labels == nil {
		rows = allRows(n)
	} else {
		if len(labels.Classes) != n {
			return nil, 0, fmt.Errorf("masked LM loss: %d labels for %d×%d tokens", len(labels.Classes), in.B, in.T)
		}
		for i, y := range labels.Classes {
			if y == IgnoreIndex {
				continue
			}
			if y < 0 || y >= m.Config.VocabSize {
				return nil, 0, fmt.Errorf("masked LM loss: label %d of token %d is outside [0, %d) and not %d", y, i, m.Config.VocabSize, IgnoreIndex)
			}
			rows, classes = append(rows, i), append(classes, y)
		}
	}
	st, x, err := m.trainEncoder(in, false)
	if err != nil {
		return nil, 0, err
	}
	st.mlm = m.mlm.forward(x, rows, m.arena.take)
	m.train = st
	logits := st.mlm.logits
	if labels == nil {
		return logits, 0, nil
	}
	st.dLogit = make([]float32, len(logits))
	if len(rows) == 0 {
		return logits, 0, nil
	}
	loss, err := nn.CrossEntropy(st.dLogit, logits, classes, m.Config.VocabSize, nil)
	return logits, loss, err
}

// mlmPresets are Google's BERT miniatures (Turc et al. 2019, the
// bert_uncased_L-*_H-*_A-* checkpoints), by the names
// prajjwal1/bert-{tiny,mini,small,medium} made usual.
var mlmPresets = map[string][4]int{ // layers, hidden, heads, intermediate
	"bert-tiny":   {2, 128, 2, 512},
	"bert-mini":   {4, 256, 4, 1024},
	"bert-small":  {4, 512, 8, 2048},
	"bert-medium": {8, 512, 8, 2048},
}

// MaskedLMAccuracy is the share of labelled tokens whose argmax logit is the
// label, and their summed cross-entropy (natural log) and count, given the
// logits of the labelled rows [R, V] in row order and the labels of the
// batch [B*T] (IgnoreIndex elsewhere): run_mlm.py's accuracy and the terms
// of the evaluation loss.
func MaskedLMAccuracy(logits []float32, labels []int, vocab int) (correct int, nll float64, count int) {
	r := 0
	for _, y := range labels {
		if y == IgnoreIndex {
			continue
		}
		row := logits[r*vocab : (r+1)*vocab]
		best, mx := 0, row[0]
		for j, v := range row {
			if v > mx {
				best, mx = j, v
			}
		}
		nll += nn.LogSumExp(row) - float64(row[y])
		if best == y {
			correct++
		}
		count++
		r++
	}
	return correct, nll, count
}

// TokenScore is a vocabulary id with its probability.
type TokenScore struct {
	ID    int
	Score float32
}

// TopK returns the k most probable tokens of one position's vocabulary
// logits, most probable first (the softmax over the vocabulary, then
// torch.topk, as the fill-mask pipeline does; equal scores in id order).
func TopK(logits []float32, k int) []TokenScore {
	lse := nn.LogSumExp(logits)
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	k = min(k, len(idx))
	out := make([]TokenScore, k)
	for i, id := range idx[:k] {
		out[i] = TokenScore{ID: id, Score: float32(math.Exp(float64(logits[id]) - lse))}
	}
	return out
}
