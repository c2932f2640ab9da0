package classic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// UNK is the vocabulary entry (id 0) of words unseen in training.
const UNK = "<unk>"

// Pooling modes of the BiLSTM.
const (
	PoolMax  = "max"
	PoolMean = "mean"
)

// NNConfig holds the TextCNN/BiLSTM hyper-parameters.
type NNConfig struct {
	// Dim is the word-embedding size.
	Dim int `json:"dim"`
	// MinCount is the minimal count of a training word to enter the vocabulary.
	MinCount int `json:"min_count"`
	// Filters is the number of TextCNN filters per width.
	Filters int `json:"filters"`
	// Widths are the TextCNN filter widths (Kim 2014: 3, 4, 5).
	Widths []int `json:"widths"`
	// Hidden is the BiLSTM hidden size per direction.
	Hidden int `json:"hidden"`
	// Pool is the BiLSTM pooling over time: "max" or "mean".
	Pool string `json:"pool"`
	// Dropout is the dropout rate on the pooled features during training.
	Dropout float64 `json:"dropout"`
	// MaxLen truncates texts to this many tokens.
	MaxLen int `json:"max_len"`
	// Freeze keeps the embedding table fixed during training.
	Freeze bool `json:"freeze"`
	// MultiLabel trains sigmoid outputs with binary cross-entropy.
	MultiLabel bool `json:"multi_label"`
}

// DefaultNNConfig returns the TextCNN/BiLSTM defaults: 100-dim embeddings,
// 100 filters of widths 3/4/5, 128 hidden units, max pooling, dropout 0.5.
func DefaultNNConfig() NNConfig {
	return NNConfig{Dim: 100, MinCount: 1, Filters: 100, Widths: []int{3, 4, 5}, Hidden: 128, Pool: PoolMax, Dropout: 0.5, MaxLen: 256}
}

// NNModel is a TextCNN or BiLSTM classifier over word embeddings. Its
// parameters are named as PyTorch's nn.Embedding, nn.Conv1d-like convs,
// nn.LSTM (gate order i, f, g, o) and nn.Linear would name them. During
// training each parameter's Grad holds the mean gradient of the last batch,
// except the embedding's, whose touched rows are kept sparsely.
type NNModel struct {
	// Config holds the hyper-parameters.
	Config NNConfig
	// Arch is "textcnn" or "bilstm".
	Arch string
	// Words is the vocabulary; Words[0] is UNK.
	Words []string
	// K is the number of labels.
	K int

	wordIndex map[string]int32
	// Emb is embedding.weight [V, Dim].
	Emb *nn.Param
	// Convs are convs.i.weight [Filters, width*Dim] (TextCNN).
	Convs []*nn.Param
	// ConvBias are convs.i.bias [Filters] (TextCNN).
	ConvBias []*nn.Param
	// LSTM holds, per direction (forward, reverse), weight_ih [4H, Dim],
	// weight_hh [4H, H], bias_ih [4H] and bias_hh [4H] (BiLSTM).
	LSTM [2][4]*nn.Param
	// FC is fc.weight [K, features] and FCB fc.bias [K].
	FC, FCB *nn.Param
}

func (m *NNModel) features() int {
	if m.Arch == ArchTextCNN {
		return m.Config.Filters * len(m.Config.Widths)
	}
	return 2 * m.Config.Hidden
}

// params lists the parameters in a fixed order.
func (m *NNModel) params() []*nn.Param {
	ps := []*nn.Param{m.Emb}
	for i := range m.Convs {
		ps = append(ps, m.Convs[i], m.ConvBias[i])
	}
	if m.Arch == ArchBiLSTM {
		for d := 0; d < 2; d++ {
			ps = append(ps, m.LSTM[d][:]...)
		}
	}
	return append(ps, m.FC, m.FCB)
}

// newNNModel returns a model with freshly initialised weights: embeddings
// from N(0, 0.1²), the other parameters uniform in ±1/√fan-in as PyTorch
// initialises them.
func newNNModel(cfg NNConfig, arch string, words []string, k int, seed uint64) (*NNModel, error) {
	m, err := nnShapes(cfg, arch, words, k)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	uniform := func(a float64, ps ...*nn.Param) {
		for _, p := range ps {
			p.W = make([]float32, numel(p.Shape))
			for i := range p.W {
				p.W[i] = float32((2*rng.Float64() - 1) * a)
			}
		}
	}
	m.Emb.W = make([]float32, numel(m.Emb.Shape))
	m.Emb.InitNormal(rng, 0.1)
	for i, c := range m.Convs {
		uniform(1/math.Sqrt(float64(c.Shape[1])), c, m.ConvBias[i]) // fan-in width·Dim
	}
	if arch == ArchBiLSTM {
		for d := range m.LSTM {
			uniform(1/math.Sqrt(float64(m.Config.Hidden)), m.LSTM[d][:]...)
		}
	}
	uniform(1/math.Sqrt(float64(m.features())), m.FC, m.FCB)
	return m, nil
}

// numel is the number of values of a tensor of the given shape.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// nnShapes checks the configuration and returns a model whose parameters
// have their names and shapes but no values yet.
func nnShapes(cfg NNConfig, arch string, words []string, k int) (*NNModel, error) {
	if cfg.Dim < 1 || k < 1 || len(words) < 1 {
		return nil, fmt.Errorf("%s: bad sizes (dim %d, %d labels, %d words)", arch, cfg.Dim, k, len(words))
	}
	if cfg.MaxLen < 1 {
		cfg.MaxLen = 256
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, fmt.Errorf("%s: dropout %g not in [0, 1)", arch, cfg.Dropout)
	}
	m := &NNModel{Config: cfg, Arch: arch, Words: words, K: k, wordIndex: make(map[string]int32, len(words))}
	if words[0] != UNK {
		return nil, fmt.Errorf("%s: vocabulary must start with %s", arch, UNK)
	}
	for i, w := range words {
		if _, dup := m.wordIndex[w]; dup {
			return nil, fmt.Errorf("%s: word %q appears twice in the vocabulary", arch, w)
		}
		m.wordIndex[w] = int32(i)
	}
	shaped := func(name string, shape ...int) *nn.Param { return &nn.Param{Name: name, Shape: shape} }
	m.Emb = shaped("embedding.weight", len(words), cfg.Dim)
	switch arch {
	case ArchTextCNN:
		if cfg.Filters < 1 || len(cfg.Widths) == 0 {
			return nil, fmt.Errorf("textcnn: need filters and widths, got %d and %v", cfg.Filters, cfg.Widths)
		}
		for i, w := range cfg.Widths {
			if w < 1 {
				return nil, fmt.Errorf("textcnn: bad filter width %d", w)
			}
			m.Convs = append(m.Convs, shaped(fmt.Sprintf("convs.%d.weight", i), cfg.Filters, w*cfg.Dim))
			m.ConvBias = append(m.ConvBias, shaped(fmt.Sprintf("convs.%d.bias", i), cfg.Filters))
		}
	case ArchBiLSTM:
		if cfg.Hidden < 1 {
			return nil, fmt.Errorf("bilstm: bad hidden size %d", cfg.Hidden)
		}
		if cfg.Pool != PoolMax && cfg.Pool != PoolMean {
			return nil, fmt.Errorf("bilstm: pool must be max or mean, got %q", cfg.Pool)
		}
		h := cfg.Hidden
		for d, suffix := range []string{"", "_reverse"} {
			m.LSTM[d] = [4]*nn.Param{
				shaped("lstm.weight_ih_l0"+suffix, 4*h, cfg.Dim),
				shaped("lstm.weight_hh_l0"+suffix, 4*h, h),
				shaped("lstm.bias_ih_l0"+suffix, 4*h),
				shaped("lstm.bias_hh_l0"+suffix, 4*h),
			}
		}
	default:
		return nil, fmt.Errorf("unknown arch %q", arch)
	}
	m.FC = shaped("fc.weight", k, m.features())
	m.FCB = shaped("fc.bias", k)
	return m, nil
}

// ids maps tokens to vocabulary ids (UNK for unknown), truncated to MaxLen.
func (m *NNModel) ids(toks []string) []int32 {
	if len(toks) > m.Config.MaxLen {
		toks = toks[:m.Config.MaxLen]
	}
	ids := make([]int32, 0, max(len(toks), 1))
	for _, t := range toks {
		ids = append(ids, m.wordIndex[t]) // 0 (UNK) when absent
	}
	if len(ids) == 0 {
		ids = append(ids, 0)
	}
	return ids
}

// grads holds one worker's gradients: dense for every parameter but the
// embedding, whose touched rows are kept sparsely.
type grads struct {
	dense map[*nn.Param][]float32
	emb   map[int32][]float32
}

func (m *NNModel) newGrads() *grads {
	g := &grads{dense: map[*nn.Param][]float32{}, emb: map[int32][]float32{}}
	for _, p := range m.params()[1:] {
		g.dense[p] = make([]float32, len(p.W))
	}
	return g
}

func (g *grads) of(p *nn.Param) []float32 { return g.dense[p] }

func (g *grads) embRow(id int32, dim int) []float32 {
	r, ok := g.emb[id]
	if !ok {
		r = make([]float32, dim)
		g.emb[id] = r
	}
	return r
}

// cnnCache keeps the TextCNN activations of one example.
type cnnCache struct {
	x      []float32   // [T, E] embeddings (T ≥ the widest filter, zero padded)
	conv   [][]float32 // per width: ReLU output [L, F]
	argmax [][]int     // per width: the time step of each filter's max
}

// forwardCNN returns the pooled features [len(Widths)*F].
func (m *NNModel) forwardCNN(ids []int32, c *cnnCache) []float32 {
	e, f := m.Config.Dim, m.Config.Filters
	t := max(len(ids), slices.Max(m.Config.Widths))
	c.x = make([]float32, t*e)
	for i, id := range ids {
		copy(c.x[i*e:(i+1)*e], m.Emb.W[int(id)*e:int(id+1)*e])
	}
	feat := make([]float32, f*len(m.Config.Widths))
	c.conv = make([][]float32, len(m.Config.Widths))
	c.argmax = make([][]int, len(m.Config.Widths))
	for wi, w := range m.Config.Widths {
		l := t - w + 1
		out := make([]float32, l*f)
		for r := 0; r < l; r++ {
			copy(out[r*f:(r+1)*f], m.ConvBias[wi].W)
		}
		W := m.Convs[wi].W
		for j := 0; j < w; j++ {
			// out[L, F] += x[j:j+L, E] · W[:, j*E:(j+1)*E]ᵀ
			tensor.Sgemm(tensor.NoTrans, tensor.Trans, l, f, e, 1, c.x[j*e:], e, W[j*e:], w*e, 1, out, f)
		}
		am := make([]int, f)
		for k := 0; k < f; k++ {
			best := 0
			for r := 0; r < l; r++ {
				if out[r*f+k] < 0 {
					out[r*f+k] = 0
				}
				if out[r*f+k] > out[best*f+k] {
					best = r
				}
			}
			am[k] = best
			feat[wi*f+k] = out[best*f+k]
		}
		c.conv[wi], c.argmax[wi] = out, am
	}
	return feat
}

// backwardCNN accumulates the gradients of the TextCNN given dfeat.
func (m *NNModel) backwardCNN(ids []int32, c *cnnCache, dfeat []float32, g *grads) {
	e, f := m.Config.Dim, m.Config.Filters
	t := len(c.x) / e
	dx := make([]float32, t*e)
	for wi, w := range m.Config.Widths {
		l := t - w + 1
		dout := make([]float32, l*f)
		for k := 0; k < f; k++ {
			r := c.argmax[wi][k]
			if c.conv[wi][r*f+k] > 0 { // ReLU passes the gradient
				dout[r*f+k] = dfeat[wi*f+k]
			}
		}
		W, dW, db := m.Convs[wi].W, g.of(m.Convs[wi]), g.of(m.ConvBias[wi])
		tensor.AddColSums(db, dout, l, f)
		for j := 0; j < w; j++ {
			// dW[:, j] += doutᵀ · x[j:j+L];  dx[j:j+L] += dout · W[:, j]
			tensor.Sgemm(tensor.Trans, tensor.NoTrans, f, e, l, 1, dout, f, c.x[j*e:], e, 1, dW[j*e:], w*e)
			tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, l, e, f, 1, dout, f, W[j*e:], w*e, 1, dx[j*e:], e)
		}
	}
	m.embBackward(ids, dx, g)
}

func (m *NNModel) embBackward(ids []int32, dx []float32, g *grads) {
	if m.Config.Freeze {
		return
	}
	e := m.Config.Dim
	for i, id := range ids {
		tensor.AxpySerial(1, dx[i*e:(i+1)*e], g.embRow(id, e))
	}
}

// lstmCache keeps one direction's activations over T steps.
type lstmCache struct {
	x     []float32 // [T, E] inputs in processing order
	gates []float32 // [T, 4H] activated gates i, f, g, o
	c, tc []float32 // [T, H] cell states and their tanh
	h     []float32 // [T, H] hidden states
}

// lstmForward runs one LSTM direction over x [T, E].
func (m *NNModel) lstmForward(d int, x []float32, c *lstmCache) {
	e, h := m.Config.Dim, m.Config.Hidden
	t := len(x) / e
	p := m.LSTM[d]
	c.x = x
	c.gates = make([]float32, t*4*h)
	c.c, c.tc, c.h = make([]float32, t*h), make([]float32, t*h), make([]float32, t*h)
	for s := 0; s < t; s++ {
		copy(c.gates[s*4*h:], p[2].W)
		tensor.AxpySerial(1, p[3].W, c.gates[s*4*h:(s+1)*4*h])
	}
	tensor.Sgemm(tensor.NoTrans, tensor.Trans, t, 4*h, e, 1, x, e, p[0].W, e, 1, c.gates, 4*h)
	for s := 0; s < t; s++ {
		gs := c.gates[s*4*h : (s+1)*4*h]
		if s > 0 {
			tensor.Sgemm(tensor.NoTrans, tensor.Trans, 1, 4*h, h, 1, c.h[(s-1)*h:], h, p[1].W, h, 1, gs, 4*h)
		}
		tensor.Sigmoid(gs[:2*h], gs[:2*h]) // i, f
		tensor.Tanh(gs[2*h:3*h], gs[2*h:3*h])
		tensor.Sigmoid(gs[3*h:], gs[3*h:]) // o
		i, f, g, o := gs[:h], gs[h:2*h], gs[2*h:3*h], gs[3*h:]
		cs := c.c[s*h : (s+1)*h]
		for j := range cs {
			cs[j] = i[j] * g[j]
			if s > 0 {
				cs[j] += f[j] * c.c[(s-1)*h+j]
			}
		}
		tc := c.tc[s*h : (s+1)*h]
		tensor.Tanh(tc, cs)
		for j, v := range tc {
			c.h[s*h+j] = o[j] * v
		}
	}
}

// lstmBackward back-propagates dh [T, H] through one direction, returning dx.
func (m *NNModel) lstmBackward(d int, c *lstmCache, dh []float32, g *grads) []float32 {
	e, h := m.Config.Dim, m.Config.Hidden
	t := len(c.x) / e
	p := m.LSTM[d]
	dg := make([]float32, t*4*h)
	dhNext := make([]float32, h)
	dcNext := make([]float32, h)
	for s := t - 1; s >= 0; s-- {
		gs := c.gates[s*4*h : (s+1)*4*h]
		dgs := dg[s*4*h : (s+1)*4*h]
		for j := 0; j < h; j++ {
			i, f, gg, o := gs[j], gs[h+j], gs[2*h+j], gs[3*h+j]
			dhj := dh[s*h+j] + dhNext[j]
			tc := c.tc[s*h+j]
			dc := dhj*o*(1-tc*tc) + dcNext[j]
			var cPrev float32
			if s > 0 {
				cPrev = c.c[(s-1)*h+j]
			}
			dgs[j] = dc * gg * i * (1 - i)
			dgs[h+j] = dc * cPrev * f * (1 - f)
			dgs[2*h+j] = dc * i * (1 - gg*gg)
			dgs[3*h+j] = dhj * tc * o * (1 - o)
			dcNext[j] = dc * f
		}
		if s > 0 {
			tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, 1, h, 4*h, 1, dgs, 4*h, p[1].W, h, 0, dhNext, h)
		}
	}
	if t > 1 {
		tensor.Sgemm(tensor.Trans, tensor.NoTrans, 4*h, h, t-1, 1, dg[4*h:], 4*h, c.h, h, 1, g.of(p[1]), h)
	}
	tensor.Sgemm(tensor.Trans, tensor.NoTrans, 4*h, e, t, 1, dg, 4*h, c.x, e, 1, g.of(p[0]), e)
	tensor.AddColSums(g.of(p[2]), dg, t, 4*h)
	tensor.AddColSums(g.of(p[3]), dg, t, 4*h)
	dx := make([]float32, t*e)
	tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, t, e, 4*h, 1, dg, 4*h, p[0].W, e, 0, dx, e)
	return dx
}

// bilstmCache keeps the BiLSTM activations of one example.
type bilstmCache struct {
	dir    [2]lstmCache
	argmax []int // max pooling: the time step of each feature's max
}

// forwardLSTM returns the pooled features [2H].
func (m *NNModel) forwardLSTM(ids []int32, c *bilstmCache) []float32 {
	e, h := m.Config.Dim, m.Config.Hidden
	t := len(ids)
	xf, xb := make([]float32, t*e), make([]float32, t*e)
	for i, id := range ids {
		row := m.Emb.W[int(id)*e : int(id+1)*e]
		copy(xf[i*e:], row)
		copy(xb[(t-1-i)*e:], row)
	}
	m.lstmForward(0, xf, &c.dir[0])
	m.lstmForward(1, xb, &c.dir[1])
	feat := make([]float32, 2*h)
	// Output at time i: forward h[i], backward h[t-1-i].
	at := func(i, k int) float32 {
		if k < h {
			return c.dir[0].h[i*h+k]
		}
		return c.dir[1].h[(t-1-i)*h+k-h]
	}
	if m.Config.Pool == PoolMean {
		for i := 0; i < t; i++ {
			for k := range feat {
				feat[k] += at(i, k) / float32(t)
			}
		}
		return feat
	}
	c.argmax = make([]int, 2*h)
	for k := range feat {
		best := 0
		for i := 1; i < t; i++ {
			if at(i, k) > at(best, k) {
				best = i
			}
		}
		c.argmax[k], feat[k] = best, at(best, k)
	}
	return feat
}

func (m *NNModel) backwardLSTM(ids []int32, c *bilstmCache, dfeat []float32, g *grads) {
	e, h := m.Config.Dim, m.Config.Hidden
	t := len(ids)
	dhf, dhb := make([]float32, t*h), make([]float32, t*h)
	put := func(i, k int, v float32) {
		if k < h {
			dhf[i*h+k] += v
		} else {
			dhb[(t-1-i)*h+k-h] += v
		}
	}
	for k, v := range dfeat {
		if m.Config.Pool == PoolMean {
			for i := 0; i < t; i++ {
				put(i, k, v/float32(t))
			}
		} else {
			put(c.argmax[k], k, v)
		}
	}
	dxf := m.lstmBackward(0, &c.dir[0], dhf, g)
	dxb := m.lstmBackward(1, &c.dir[1], dhb, g)
	for i := 0; i < t; i++ {
		tensor.AxpySerial(1, dxb[(t-1-i)*e:(t-i)*e], dxf[i*e:(i+1)*e])
	}
	m.embBackward(ids, dxf, g)
}

// logits computes fc(feat) [K].
func (m *NNModel) logits(feat []float32) []float32 {
	nf := m.features()
	out := make([]float32, m.K)
	for k := 0; k < m.K; k++ {
		out[k] = m.FCB.W[k] + tensor.Dot(m.FC.W[k*nf:(k+1)*nf], feat)
	}
	return out
}

// Scores returns label probabilities (softmax) or, for multi-label models,
// independent sigmoids.
func (m *NNModel) Scores(toks []string) []float32 {
	ids := m.ids(toks)
	var feat []float32
	if m.Arch == ArchTextCNN {
		feat = m.forwardCNN(ids, &cnnCache{})
	} else {
		feat = m.forwardLSTM(ids, &bilstmCache{})
	}
	out := m.logits(feat)
	m.probabilities(out)
	return out
}

// probabilities turns logits into scores in place: independent sigmoids
// for multi-label models, a softmax otherwise.
func (m *NNModel) probabilities(logits []float32) {
	if m.Config.MultiLabel {
		tensor.Sigmoid(logits, logits)
	} else {
		tensor.Softmax(logits, logits, 1, len(logits))
	}
}

// lossGrad runs one example forward and backward, accumulating gradients in
// g, and returns its loss. mask, when not nil, is the dropout mask (already
// scaled by 1/(1-p)) applied to the pooled features.
func (m *NNModel) lossGrad(ids []int32, labels []int, mask []float32, g *grads) float64 {
	return m.lossGradSoft(ids, labels, nil, nil, mask, g)
}

// lossGradSoft is lossGrad with distillation: when d is not nil, the loss
// is d's mix of the soft targets (teacher, the teacher's logits of the
// example) and the hard label, and its gradient flows back from the
// student's logits.
func (m *NNModel) lossGradSoft(ids []int32, labels []int, d *Distillation, teacher []float32, mask []float32, g *grads) float64 {
	var feat []float32
	var cc cnnCache
	var lc bilstmCache
	if m.Arch == ArchTextCNN {
		feat = m.forwardCNN(ids, &cc)
	} else {
		feat = m.forwardLSTM(ids, &lc)
	}
	if mask != nil {
		for i := range feat {
			feat[i] *= mask[i]
		}
	}
	out := m.logits(feat)
	dlog := make([]float32, m.K)
	var loss float64
	switch {
	case d != nil:
		loss = d.LossGrad(out, teacher, labels[0], dlog)
	case m.Config.MultiLabel:
		m.probabilities(out)
		for k, p := range out {
			var y float32
			if slices.Contains(labels, k) {
				y = 1
			}
			dlog[k] = p - y
			loss -= float64(y)*math.Log(math.Max(float64(p), 1e-12)) + float64(1-y)*math.Log(math.Max(float64(1-p), 1e-12))
		}
	default:
		m.probabilities(out)
		copy(dlog, out)
		dlog[labels[0]] -= 1
		loss = -math.Log(math.Max(float64(out[labels[0]]), 1e-12))
	}
	nf := m.features()
	dfeat := make([]float32, nf)
	dFC, dFCB := g.of(m.FC), g.of(m.FCB)
	for k := 0; k < m.K; k++ {
		dFCB[k] += dlog[k]
		tensor.AxpySerial(dlog[k], feat, dFC[k*nf:(k+1)*nf])
		tensor.AxpySerial(dlog[k], m.FC.W[k*nf:(k+1)*nf], dfeat)
	}
	if mask != nil {
		for i := range dfeat {
			dfeat[i] *= mask[i]
		}
	}
	if m.Arch == ArchTextCNN {
		m.backwardCNN(ids, &cc, dfeat, g)
	} else {
		m.backwardLSTM(ids, &lc, dfeat, g)
	}
	return loss
}
