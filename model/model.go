package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// Problem types, as transformers names them.
const (
	SingleLabel = "single_label_classification"
	MultiLabel  = "multi_label_classification"
	Regression  = "regression"
)

// Batch is B sequences of T tokens (padded to the longest), row-major.
type Batch struct {
	B, T          int
	InputIDs      []int // [B*T]
	AttentionMask []int // [B*T], 1 for real tokens, 0 for padding
	TokenTypeIDs  []int // [B*T]; nil means all 0
	// PositionIDs [B*T], when not nil, replace the position ids the model
	// computes (0..T-1; RoBERTa's count from the padding index), as
	// transformers' position_ids argument.
	PositionIDs []int
}

// Labels are the targets of a batch: class ids for single-label
// classification, B×L values in {0,1} for multi-label, B×L values for regression.
type Labels struct {
	Classes []int
	Values  []float32
	// Teacher, with single-label Classes and Model.Distill set, holds a
	// teacher's logits [B, NumLabels]: the loss is then Model.Distill's
	// soft-target loss (knowledge distillation).
	Teacher []float32
}

// Model is a transformer encoder with a sequence classification head:
// BertForSequenceClassification, RobertaForSequenceClassification
// (XLM-RoBERTa too) or DistilBertForSequenceClassification, with HF's
// parameter names.
type Model struct {
	Config      *checkpoint.Config
	NumLabels   int
	ProblemType string // SingleLabel, MultiLabel or Regression
	// ClassWeights, when set, weight the single-label cross-entropy.
	ClassWeights []float32
	// Distill, when set, is the loss of single-label batches whose Labels
	// carry a teacher's logits (knowledge distillation) in place of the
	// cross-entropy.
	Distill *nn.SoftTargets

	prefix string // "bert", "roberta" or "distilbert"
	// net is the architecture beyond the BERT family (GPT-2, Llama, Qwen2,
	// Mistral, ModernBERT); nil for the BERT family, whose parts follow.
	net    network
	emb    *embeddings
	layers []*layer
	head   *head
	params []*nn.Param
	rng    *rand.Rand
	pcg    *rand.PCG // rng's source, for saving and restoring its state
	// mlm is the masked-language-model head of NewMaskedLM / LoadMaskedLM
	// (head is then nil).
	mlm *mlmHead
	// arena holds the activations and gradient buffers of a training step,
	// reused from step to step.
	arena arena

	// The activations of the last ForwardTrain, for Backward.
	train *trainState
	// dtype is DtypeInt8 once the Linear layers are int8 (Quantize, or an
	// int8 checkpoint), DtypeBF16 once they are bfloat16 (ToBF16): inference
	// only. It is "" for float32.
	dtype string
	// mixedBF16 is set by SetMixedBF16: the Linear layers' products run in
	// bf16 with float32 master weights.
	mixedBF16 bool
	// separateQKV makes BERT-family inference run q, k and v as three
	// products: the path the joined one is tested against.
	separateQKV bool
}

type trainState struct {
	batch  *Batch
	emb    *embeddingActs
	layers []*layerActs
	head   *headActs
	mlm    *mlmActs
	dLogit []float32
}

// SupportedModelTypes are the config.json model_type values this package
// builds.
var SupportedModelTypes = []string{"bert", "roberta", "xlm-roberta", "camembert", "distilbert",
	"gpt2", "llama", "qwen2", "mistral", "modernbert"}

// CheckSupported refuses a config of an architecture this package does not
// build (a T5 checkpoint, say), as transformers refuses an unknown
// model_type, naming the supported ones. A config without model_type is
// taken as BERT unless its architectures name another family.
func CheckSupported(cfg *checkpoint.Config) error {
	if slices.Contains(SupportedModelTypes, cfg.ModelType) {
		return nil
	}
	if cfg.ModelType == "" {
		ok := true
		for _, a := range cfg.Architectures {
			ok = ok && strings.HasPrefix(a, "Bert")
		}
		if ok {
			return nil
		}
		return fmt.Errorf("no model_type, and architectures %v are not BERT; supported model types: %s",
			cfg.Architectures, strings.Join(SupportedModelTypes, ", "))
	}
	return fmt.Errorf("model_type %q is not supported; supported model types: %s",
		cfg.ModelType, strings.Join(SupportedModelTypes, ", "))
}

// New builds a model of the architecture cfg describes, with weights
// initialised as transformers' _init_weights does (normal(0,
// initializer_range), LayerNorm 1 and 0, zero biases). seed drives the
// initialisation and dropout.
func New(cfg *checkpoint.Config, seed uint64) (*Model, error) {
	return build(cfg, seed, false, nil)
}

// build makes the model of cfg: a classifier, or with mlm a masked language
// model (BERT family only). without, when not nil, is given the model once
// its parameters exist, before they are initialised; the parameters it
// names get no values (W nil, never allocated in memory that is touched):
// weights that come in another form (an int8 or bf16 checkpoint's Linear
// weights, packed from the file) or that take a slice of their own (values
// converted to float32 on loading).
func build(cfg *checkpoint.Config, seed uint64, mlm bool, without func(*Model) map[string]bool) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckSupported(cfg); err != nil {
		return nil, err
	}
	if cfg.IsDecoder() || cfg.ModelType == "modernbert" {
		return newArch(cfg, seed, without)
	}
	if cfg.HiddenSize%cfg.NumAttentionHeads != 0 {
		return nil, fmt.Errorf("config: hidden size %d is not a multiple of %d heads", cfg.HiddenSize, cfg.NumAttentionHeads)
	}
	act, err := nn.ParseActivation(cfg.HiddenAct)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.PositionEmbeddingType != "" && cfg.PositionEmbeddingType != "absolute" {
		return nil, fmt.Errorf("config: position_embedding_type %q is not supported (only absolute)", cfg.PositionEmbeddingType)
	}
	if cfg.SinusoidalPosEmbds {
		return nil, fmt.Errorf("config: sinusoidal_pos_embds is not supported")
	}
	m := newModel(cfg, seed)
	c, eps := cfg.HiddenSize, float32(cfg.LayerNormEps)
	hiddenDrop := nn.Dropout{P: float32(cfg.HiddenDropoutProb)}
	distil := cfg.IsDistilBERT()

	emb := "embeddings"
	m.emb = &embeddings{
		word:       nn.NewEmbedding(m.name(emb+".word_embeddings"), cfg.VocabSize, c),
		position:   nn.NewEmbedding(m.name(emb+".position_embeddings"), cfg.MaxPositionEmbeddings, c),
		ln:         nn.NewLayerNorm(m.name(emb+".LayerNorm"), c, eps),
		dropout:    hiddenDrop,
		paddingIdx: -1,
	}
	if !distil {
		m.emb.tokenType = nn.NewEmbedding(m.name(emb+".token_type_embeddings"), max(cfg.TypeVocabSize, 1), c)
	}
	if m.prefix == "roberta" {
		m.emb.paddingIdx = 1
		if cfg.PadTokenID != nil {
			m.emb.paddingIdx = *cfg.PadTokenID
		}
	}
	attn := nn.Attention{Heads: cfg.NumAttentionHeads, HeadDim: c / cfg.NumAttentionHeads, Dropout: nn.Dropout{P: float32(cfg.AttentionProbsDropout)}}
	names := bertLayerNames
	if distil {
		names = distilBERTLayerNames
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		p := m.name(fmt.Sprintf(names.prefix, i))
		m.layers = append(m.layers, &layer{
			q:    nn.NewLinear(p+names.q, c, c),
			k:    nn.NewLinear(p+names.k, c, c),
			v:    nn.NewLinear(p+names.v, c, c),
			o:    nn.NewLinear(p+names.o, c, c),
			ln1:  nn.NewLayerNorm(p+names.ln1, c, eps),
			ffn1: nn.NewLinear(p+names.ffn1, c, cfg.IntermediateSize),
			ffn2: nn.NewLinear(p+names.ffn2, cfg.IntermediateSize, c),
			ln2:  nn.NewLayerNorm(p+names.ln2, c, eps),
			attn: attn, act: act, dropout: hiddenDrop, attnOutDropout: !distil,
		})
	}
	var headParams []*nn.Param
	if mlm {
		m.mlm = newMLMHead(m, act, eps)
		headParams = m.mlm.params()
	} else {
		m.head = classifierHead(m, cfg, hiddenDrop)
		headParams = m.head.params()
	}
	m.params = m.emb.params()
	for _, l := range m.layers {
		m.params = append(m.params, l.params()...)
	}
	m.params = append(m.params, headParams...)
	dropValues(m, without)
	m.initWeights()
	return m, nil
}

// classifierHead makes the sequence-classification head of a BERT-family
// model, with its architecture's names: RoBERTa's classifier.dense/out_proj,
// DistilBERT's pre_classifier/classifier, BERT's pooler and classifier.
func classifierHead(m *Model, cfg *checkpoint.Config, hiddenDrop nn.Dropout) *head {
	c := cfg.HiddenSize
	headDrop := hiddenDrop
	if cfg.ClassifierDropout != nil {
		headDrop = nn.Dropout{P: float32(*cfg.ClassifierDropout)}
	}
	switch m.prefix {
	case "roberta":
		return &head{dense: nn.NewLinear("classifier.dense", c, c), tanh: true, dropoutBefore: true, dropout: headDrop,
			out: nn.NewLinear("classifier.out_proj", c, m.NumLabels)}
	case "distilbert":
		if cfg.ClassifierDropout == nil {
			headDrop = nn.Dropout{P: 0.2} // DistilBertConfig's seq_classif_dropout default
		}
		return &head{dense: nn.NewLinear("pre_classifier", c, c), dropout: headDrop, out: nn.NewLinear("classifier", c, m.NumLabels)}
	}
	return &head{dense: nn.NewLinear(m.name("pooler.dense"), c, c), tanh: true, dropout: headDrop,
		out: nn.NewLinear("classifier", c, m.NumLabels)}
}

// dropValues leaves the parameters of m that without names with no values.
func dropValues(m *Model, without func(*Model) map[string]bool) {
	if without == nil {
		return
	}
	names := without(m)
	for _, p := range m.params {
		if names[p.Name] {
			p.W = nil
		}
	}
}

// newModel makes the Model of cfg without its layers: labels, problem type
// and random generator.
func newModel(cfg *checkpoint.Config, seed uint64) *Model {
	pcg := rand.NewPCG(seed, 0x7e47c1f)
	m := &Model{Config: cfg, NumLabels: cfg.NumLabels(), prefix: cfg.BasePrefix(), rng: rand.New(pcg), pcg: pcg}
	if m.NumLabels == 0 {
		m.NumLabels = 2
	}
	m.ProblemType = cfg.ProblemType
	if m.ProblemType == "" {
		// transformers infers single/multi-label from the labels' dtype at the
		// first loss; textclf decides from the config: 1 label is regression.
		m.ProblemType = SingleLabel
		if m.NumLabels == 1 {
			m.ProblemType = Regression
		}
	}
	return m
}

// newArch builds a model of an architecture beyond the BERT family.
func newArch(cfg *checkpoint.Config, seed uint64, without func(*Model) map[string]bool) (*Model, error) {
	m := newModel(cfg, seed)
	var net *prenormNet
	var err error
	switch cfg.ModelType {
	case "gpt2":
		net, err = newGPT2(cfg, m.NumLabels)
	case "modernbert":
		net, err = newModernBERT(cfg, m.NumLabels)
	default:
		net, err = newLlama(cfg, m.NumLabels)
	}
	if err != nil {
		return nil, err
	}
	m.net, m.params = net, net.params()
	dropValues(m, without)
	m.initWeights()
	return m, nil
}

// layerNames are the HF module names of a transformer block's parts.
type layerNames struct {
	prefix                           string // with %d for the layer index
	q, k, v, o, ln1, ffn1, ffn2, ln2 string
}

var (
	bertLayerNames = layerNames{"encoder.layer.%d.", "attention.self.query", "attention.self.key", "attention.self.value",
		"attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"}
	distilBERTLayerNames = layerNames{"transformer.layer.%d.", "attention.q_lin", "attention.k_lin", "attention.v_lin",
		"attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"}
)

// name prefixes an encoder parameter with the base model prefix.
func (m *Model) name(s string) string { return m.prefix + "." + s }

// initWeights initialises every parameter as transformers' _init_weights.
func (m *Model) initWeights() {
	if m.net != nil {
		for _, p := range m.params {
			m.net.initParam(p, m.rng)
		}
		return
	}
	std := m.Config.InitializerRange
	if std == 0 {
		std = 0.02
	}
	for _, p := range m.params {
		m.initParam(p, std)
	}
}

func (m *Model) initParam(p *nn.Param, std float64) {
	switch {
	case len(p.Shape) == 1 && isLayerNormWeight(p.Name):
		p.Fill(1)
	case len(p.Shape) == 1:
		p.Fill(0)
	default:
		p.InitNormal(m.rng, std)
		if m.emb.paddingIdx >= 0 && p.Name == m.emb.word.Weight.Name && p.W != nil {
			clear(p.W[m.emb.paddingIdx*p.Shape[1] : (m.emb.paddingIdx+1)*p.Shape[1]])
		}
	}
}

func isLayerNormWeight(name string) bool {
	for _, suffix := range []string{"LayerNorm.weight", "layer_norm.weight"} {
		if len(name) >= len(suffix) && name[len(name)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}

// Params returns every parameter in HF's module order.
func (m *Model) Params() []*nn.Param { return m.params }

// NumParameters is the number of weights.
func (m *Model) NumParameters() int {
	n := 0
	for _, p := range m.params {
		n += p.Size()
	}
	return n
}

// SetDropout sets every dropout probability (hidden, attention, head), as
// --dropout does.
func (m *Model) SetDropout(p float32) {
	if m.net != nil {
		m.net.setDropout(p)
		return
	}
	m.emb.dropout.P = p
	for _, l := range m.layers {
		l.dropout.P = p
		l.attn.Dropout.P = p
	}
	if m.head != nil {
		m.head.dropout.P = p
	}
}

// linears lists every Linear layer of the model.
func (m *Model) linears() []*nn.Linear {
	if m.net != nil {
		return m.net.linears()
	}
	var out []*nn.Linear
	for _, l := range m.layers {
		out = append(out, l.q, l.k, l.v, l.o, l.ffn1, l.ffn2)
	}
	if m.mlm != nil {
		return append(out, m.mlm.dense, m.mlm.decoder)
	}
	return append(out, m.head.dense, m.head.out)
}

// WeightsChanged must be called after changing parameter values directly
// (not through training): inference then repacks the weights.
func (m *Model) WeightsChanged() {
	for _, l := range m.linears() {
		l.Unpack()
	}
	for _, l := range m.layers {
		l.dropJoined()
	}
	if m.net != nil {
		m.net.weightsChanged()
	}
}

// packForInference packs the weights of a BERT-family model for the GEMM
// kernels and joins each layer's q, k and v into one product
// (layer.inferQKV), in every layer or in none; it reports which. With
// firstOnly the last layer computes only the first token of each sequence:
// its k and v are joined (layer.inferKV) and its q packed apart. Joined
// layers are not packed themselves.
func (m *Model) packForInference(firstOnly bool) (joined bool) {
	last := len(m.layers) - 1
	joined = last >= 0 && !m.separateQKV
	for i, l := range m.layers {
		if joined && !l.join(firstOnly && i == last) {
			joined = false
		}
	}
	if !joined {
		for _, l := range m.layers {
			l.dropJoined()
		}
	}
	for i, l := range m.linears() {
		// linears lists q, k, v, o, ffn1, ffn2 of each layer, then the head.
		if !joined || i >= 6*len(m.layers) || i%6 >= 3 || firstOnly && i == 6*last {
			l.Pack()
		}
	}
	return joined
}

// Forward runs inference and returns logits [B, NumLabels] (a masked
// language model's: [B*T, VocabSize], see MaskedLMLogits). It keeps no
// activations for Backward. The first call after the weights changed packs
// them for the GEMM kernels.
func (m *Model) Forward(in *Batch) ([]float32, error) {
	if m.mlm != nil {
		return m.MaskedLMLogits(in, nil)
	}
	if err := m.checkBatch(in); err != nil {
		return nil, err
	}
	if m.net != nil {
		return m.net.forward(in)
	}
	joined := m.packForInference(true)
	// The buffers of the pass come from an arena kept for the next call.
	ar := inferenceArenas.Get().(*arena)
	defer inferenceArenas.Put(ar)
	ar.reset()
	n, c := in.B*in.T, m.Config.HiddenSize
	ea := &embeddingActs{sum: ar.take(n * c)}
	x := ar.take(n * c)
	if err := m.emb.forward(ea, x, in, nil); err != nil {
		return nil, err
	}
	t := in.T
	if last := len(m.layers) - 1; last >= 0 {
		// One set of buffers serves every layer: the output of one is the
		// input of the next. The head reads only the first token of each
		// sequence, so the last layer computes only those rows.
		a := m.layers[0].newActs(x, in.B, in.T, false, false, joined, ar.take)
		for _, l := range m.layers[:last] {
			l.forward(a, in.AttentionMask, nil)
			a.x, a.out = a.out, a.x
		}
		m.layers[last].setAttention(a, in.B, in.T, nn.StateOptions{FirstOnly: true, Alloc: ar.take})
		m.layers[last].forward(a, in.AttentionMask, nil)
		x, t = a.out[:in.B*c], 1
	}
	ha := m.head.newActs(in.B)
	m.head.forward(ha, x, in.B, t, nil)
	return ha.logits, nil
}

func (m *Model) checkBatch(in *Batch) error {
	n := in.B * in.T
	if in.B <= 0 || in.T <= 0 {
		return fmt.Errorf("batch: empty (%d×%d)", in.B, in.T)
	}
	if len(in.InputIDs) != n || len(in.AttentionMask) != n {
		return fmt.Errorf("batch: %d ids and %d mask values for %d×%d tokens", len(in.InputIDs), len(in.AttentionMask), in.B, in.T)
	}
	return nil
}

// ForwardTrain runs a training forward pass (dropout on), keeps the
// activations for Backward and returns the logits and, when labels are
// given, the loss of the model's problem type.
//
// ForwardTrain is the reference path that the fast inference path, Forward,
// is tested against: it multiplies by the weights as stored and keeps every
// layer's activations in buffers of its own, where Forward multiplies by
// packed weights, fuses the residual connections into the products and
// reuses one set of buffers for all layers. TestForwardFirstTokens checks
// that both give the logits of every row of every layer computed (dropout
// 0, random BERT, RoBERTa and DistilBERT models); TestGoldenPyTorch checks
// both against PyTorch, and ForwardTrain's loss and gradients too. Like
// Forward, it computes the last layer for the first token of each sequence
// only, all that the head reads.
func (m *Model) ForwardTrain(in *Batch, labels *Labels) ([]float32, float32, error) {
	if err := m.errQuantized("training"); err != nil {
		return nil, 0, err
	}
	if err := m.checkBatch(in); err != nil {
		return nil, 0, err
	}
	m.WeightsChanged() // the optimizer will update them
	if m.net != nil {
		logits, err := m.net.forwardTrain(in, m.rng)
		if err != nil {
			return nil, 0, err
		}
		m.train = &trainState{batch: in}
		return m.finishTrain(logits, labels)
	}
	if m.mlm != nil {
		return m.forwardTrainMLM(in, labels)
	}
	st, x, err := m.trainEncoder(in, true)
	if err != nil {
		return nil, 0, err
	}
	t := in.T
	if len(m.layers) > 0 {
		t = 1
	}
	st.head = m.head.newActs(in.B)
	m.head.forward(st.head, x, in.B, t, m.rng)
	m.train = st
	return m.finishTrain(st.head.logits, labels)
}

// trainEncoder runs the embeddings and layers of a training pass, keeping
// their activations in a new trainState, and returns it with the last
// layer's output. With firstOnly the last layer computes only the first
// token of each sequence, all that a classification head reads (its output
// then has B rows).
func (m *Model) trainEncoder(in *Batch, firstOnly bool) (*trainState, []float32, error) {
	n, c := in.B*in.T, m.Config.HiddenSize
	st := &trainState{batch: in, emb: &embeddingActs{sum: make([]float32, n*c), mean: make([]float32, n), rstd: make([]float32, n)}}
	if m.emb.dropout.P > 0 {
		st.emb.dropMask = make([]float32, n*c)
	}
	x := make([]float32, n*c)
	if err := m.emb.forward(st.emb, x, in, m.rng); err != nil {
		return nil, nil, err
	}
	m.arena.reset()
	for i, l := range m.layers {
		a := l.newActs(x, in.B, in.T, true, firstOnly && i == len(m.layers)-1, false, m.arena.take)
		l.forward(a, in.AttentionMask, m.rng)
		st.layers = append(st.layers, a)
		x = a.out
	}
	return st, x, nil
}

// finishTrain computes the loss of a training pass and its gradient.
func (m *Model) finishTrain(logits []float32, labels *Labels) ([]float32, float32, error) {
	if labels == nil {
		return logits, 0, nil
	}
	m.train.dLogit = make([]float32, len(logits))
	loss, err := m.loss(m.train.dLogit, logits, labels, m.train.batch.B)
	return logits, loss, err
}

// loss computes the loss of the problem type and its gradient, as
// transformers' *ForSequenceClassification.forward.
func (m *Model) loss(dLogits, logits []float32, labels *Labels, b int) (float32, error) {
	switch m.ProblemType {
	case SingleLabel:
		if len(labels.Classes) != b {
			return 0, fmt.Errorf("loss: %d class labels for a batch of %d", len(labels.Classes), b)
		}
		if labels.Teacher != nil {
			if m.Distill == nil {
				return 0, fmt.Errorf("loss: teacher logits without a distillation loss (Model.Distill)")
			}
			return m.Distill.Batch(dLogits, logits, labels.Teacher, labels.Classes, m.NumLabels)
		}
		return nn.CrossEntropy(dLogits, logits, labels.Classes, m.NumLabels, m.ClassWeights)
	case MultiLabel:
		if len(labels.Values) != b*m.NumLabels {
			return 0, fmt.Errorf("loss: %d label values for %d×%d", len(labels.Values), b, m.NumLabels)
		}
		return nn.BCEWithLogits(dLogits, logits, labels.Values), nil
	case Regression:
		if len(labels.Values) != b*m.NumLabels {
			return 0, fmt.Errorf("loss: %d regression targets for %d×%d", len(labels.Values), b, m.NumLabels)
		}
		return nn.MSE(dLogits, logits, labels.Values), nil
	}
	return 0, fmt.Errorf("loss: unknown problem type %q", m.ProblemType)
}

// LossGradient is the gradient of the loss with respect to the logits of
// the last ForwardTrain with labels (nil without). Scaling it scales the
// gradients Backward(nil) computes.
func (m *Model) LossGradient() []float32 {
	if m.train == nil {
		return nil
	}
	return m.train.dLogit
}

// Backward back-propagates the loss of the last ForwardTrain, adding to
// every parameter's gradient (allocating it on first use). dLogits, when
// not nil, replaces the loss gradient (for example for distillation).
func (m *Model) Backward(dLogits []float32) error {
	st := m.train
	if st == nil {
		return fmt.Errorf("backward: no training forward pass to go back through")
	}
	if dLogits == nil {
		dLogits = st.dLogit
	}
	if dLogits == nil {
		return fmt.Errorf("backward: the forward pass had no labels and no logit gradient was given")
	}
	for _, p := range m.params {
		if p.Grad == nil {
			p.AllocGrad()
		}
	}
	m.train = nil
	if m.net != nil {
		return m.net.backward(dLogits)
	}
	m.backward(st, dLogits, nil)
	return nil
}

// PerSampleGradNorms returns, for each example of the last ForwardTrain,
// the norm of the gradient of its loss over all the parameters, when
// dLogits [B, NumLabels] is the gradient of the examples' losses with
// respect to their logits (each row that of its own example's loss, not of
// their mean). It goes back through the pass without touching the
// parameter gradients, and leaves the pass in place for Backward: DP-SGD
// clips each example's gradient (Opacus' flat clipping) by scaling its row
// of dLogits before Backward. Linear layers give their norms from their
// inputs and output gradients (nn's AddSampleGradNormSq), so the cost is
// one backward pass of input gradients, not one per example. BERT-family
// models only.
func (m *Model) PerSampleGradNorms(dLogits []float32) ([]float64, error) {
	st := m.train
	switch {
	case st == nil:
		return nil, fmt.Errorf("per-sample gradient norms: no training forward pass to go back through")
	case m.net != nil:
		return nil, fmt.Errorf("per-sample gradient norms: not supported for %s models (the BERT family only)", m.Config.ModelType)
	case m.mlm != nil:
		return nil, fmt.Errorf("per-sample gradient norms: not supported for masked language models")
	case len(dLogits) != st.batch.B*m.NumLabels:
		return nil, fmt.Errorf("per-sample gradient norms: %d logit gradients for %d×%d", len(dLogits), st.batch.B, m.NumLabels)
	}
	// The norms pass takes its scratch buffers from the arena after those of
	// the forward pass, and gives them back for Backward.
	mark := m.arena.mark()
	defer m.arena.release(mark)
	sq := make([]float64, st.batch.B)
	m.backward(st, slices.Clone(dLogits), sq)
	for i, v := range sq {
		sq[i] = math.Sqrt(v)
	}
	return sq, nil
}

// backward goes back through the training pass st from dLogits: into the
// parameter gradients, or with norms into the squared norms of each
// example's gradients (norms [B]), the parameter gradients untouched.
func (m *Model) backward(st *trainState, dLogits []float32, norms []float64) {
	in := st.batch
	n, c := in.B*in.T, m.Config.HiddenSize
	dHidden := make([]float32, n*c)
	if m.mlm != nil {
		m.mlm.backward(st.mlm, dLogits, dHidden)
	} else {
		t := in.T
		if len(m.layers) > 0 {
			t = 1 // the last layer's output: the first tokens only
		}
		m.head.backward(st.head, &layerGrads{norms: norms}, dLogits, dHidden, in.B, t)
	}
	if len(m.layers) > 0 {
		g := m.layers[0].newGrads(in.B, in.T, m.arena.take)
		g.norms = norms
		dx := m.arena.take(n * c)
		for i := len(m.layers) - 1; i >= 0; i-- {
			clear(dx)
			m.layers[i].backward(st.layers[i], g, dHidden, dx)
			dHidden, dx = dx, dHidden
		}
	}
	m.emb.backward(st.emb, dHidden, in, norms)
}

// ZeroGrad clears every gradient.
func (m *Model) ZeroGrad() {
	for _, p := range m.params {
		p.AllocGrad()
	}
}

// RNGState returns the state of the dropout random generator.
func (m *Model) RNGState() ([]byte, error) { return m.pcg.MarshalBinary() }

// SetRNGState restores a state RNGState returned.
func (m *Model) SetRNGState(b []byte) error { return m.pcg.UnmarshalBinary(b) }

// PadID is the id padding positions get (the config's pad_token_id, else 0).
func (m *Model) PadID() int {
	if m.Config.PadTokenID != nil {
		return *m.Config.PadTokenID
	}
	return 0
}

// PadBatch lays out token id sequences (and their type ids, may be nil) as a
// batch padded with padID to the longest.
func PadBatch(ids, typeIDs [][]int, padID int) *Batch {
	t := 1
	for _, s := range ids {
		t = max(t, len(s))
	}
	b := &Batch{B: len(ids), T: t, InputIDs: make([]int, len(ids)*t), AttentionMask: make([]int, len(ids)*t),
		TokenTypeIDs: make([]int, len(ids)*t)}
	for i := range b.InputIDs {
		b.InputIDs[i] = padID
	}
	for i, s := range ids {
		copy(b.InputIDs[i*t:], s)
		if typeIDs != nil {
			copy(b.TokenTypeIDs[i*t:], typeIDs[i])
		}
		for j := range s {
			b.AttentionMask[i*t+j] = 1
		}
	}
	return b
}

// MaxTokens is the longest sequence the model takes: max_position_embeddings,
// less RoBERTa's padding offset (its positions start after padding_idx).
func (m *Model) MaxTokens() int {
	if m.net != nil {
		return m.net.maxTokens()
	}
	if m.emb.paddingIdx >= 0 {
		return m.Config.MaxPositionEmbeddings - m.emb.paddingIdx - 1
	}
	return m.Config.MaxPositionEmbeddings
}

// paramShapes lists the parameters New(cfg) makes, names and shapes in the
// order of Params, without allocating them, so that a checkpoint's tensors
// can be checked against the config before the model takes any memory.
// TestParamShapesMatchNew keeps it in step with New.
func paramShapes(cfg *checkpoint.Config, mlm bool) []checkpoint.Param {
	prefix := cfg.BasePrefix() + "."
	c, distil := cfg.HiddenSize, cfg.IsDistilBERT()
	labels := cfg.NumLabels()
	if labels == 0 {
		labels = 2
	}
	var out []checkpoint.Param
	add := func(name string, shape ...int) { out = append(out, checkpoint.Param{Name: name, Shape: shape}) }
	linear := func(name string, in, outDim int) { add(name+".weight", outDim, in); add(name+".bias", outDim) }
	norm := func(name string) { add(name+".weight", c); add(name+".bias", c) }
	add(prefix+"embeddings.word_embeddings.weight", cfg.VocabSize, c)
	add(prefix+"embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, c)
	if !distil {
		add(prefix+"embeddings.token_type_embeddings.weight", max(cfg.TypeVocabSize, 1), c)
	}
	norm(prefix + "embeddings.LayerNorm")
	names := bertLayerNames
	if distil {
		names = distilBERTLayerNames
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		p := prefix + fmt.Sprintf(names.prefix, i)
		for _, n := range []string{names.q, names.k, names.v, names.o} {
			linear(p+n, c, c)
		}
		norm(p + names.ln1)
		linear(p+names.ffn1, c, cfg.IntermediateSize)
		linear(p+names.ffn2, cfg.IntermediateSize, c)
		norm(p + names.ln2)
	}
	if mlm {
		dense, ln, bias := mlmNames(cfg.BasePrefix())
		linear(dense, c, c)
		norm(ln)
		add(bias, cfg.VocabSize)
		return out
	}
	switch cfg.BasePrefix() {
	case "roberta":
		linear("classifier.dense", c, c)
		linear("classifier.out_proj", c, labels)
	case "distilbert":
		linear("pre_classifier", c, c)
		linear("classifier", c, labels)
	default:
		linear(prefix+"pooler.dense", c, c)
		linear("classifier", c, labels)
	}
	return out
}

// DefaultMaxTokens is the truncation length when none is given: the model's
// limit (MaxTokens), at most 512, except for ModernBERT, whose local
// attention keeps its whole 8,192 positions affordable.
func (m *Model) DefaultMaxTokens() int {
	if m.Config.ModelType == "modernbert" {
		return m.MaxTokens()
	}
	return min(m.MaxTokens(), 512)
}
