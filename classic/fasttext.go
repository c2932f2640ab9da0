package classic

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// EOS is the end-of-line token that fastText appends to every line.
const EOS = "</s>"

// Losses of the fastText-style model.
const (
	LossSoftmax = "softmax"
	LossHS      = "hs"
	LossOVA     = "ova"
)

// FastTextConfig holds the hyper-parameters of the fastText-style model,
// named after fastText's options. DefaultFastTextConfig gives fastText's
// supervised defaults.
type FastTextConfig struct {
	// Dim is the embedding size (--dim).
	Dim int `json:"dim"`
	// WordNgrams is the longest word n-gram (--word-ngrams; 1: words only).
	WordNgrams int `json:"word_ngrams"`
	// Minn and Maxn bound the char n-gram lengths (--minn, --maxn; Maxn 0:
	// no char n-grams).
	Minn int `json:"minn"`
	// Maxn is the longest char n-gram (see Minn).
	Maxn int `json:"maxn"`
	// Bucket is the number of hash buckets of n-gram rows (--bucket).
	Bucket int `json:"bucket"`
	// MinCount is the minimal count of a word to enter the vocabulary.
	MinCount int `json:"min_count"`
	// Loss is "softmax", "hs" (hierarchical softmax) or "ova" (one-vs-all).
	Loss string `json:"loss"`
	// LRUpdateRate is how many tokens a thread processes between updates of
	// the shared progress that drives the learning-rate decay.
	LRUpdateRate int `json:"lr_update_rate"`
}

// DefaultFastTextConfig returns fastText's supervised defaults (dim 100,
// word n-grams 1, no char n-grams, 2M buckets, min count 1, softmax).
func DefaultFastTextConfig() FastTextConfig {
	return FastTextConfig{Dim: 100, WordNgrams: 1, Bucket: 2000000, MinCount: 1, Loss: LossSoftmax, LRUpdateRate: 100}
}

// Check validates the configuration.
func (c *FastTextConfig) Check() error {
	switch {
	case c.Dim < 1:
		return fmt.Errorf("fasttext: --dim must be positive, got %d", c.Dim)
	case c.WordNgrams < 1:
		return fmt.Errorf("fasttext: --word-ngrams must be at least 1, got %d", c.WordNgrams)
	case c.Minn < 0 || c.Maxn < 0 || (c.Maxn > 0 && c.Minn > c.Maxn) || (c.Maxn > 0 && c.Minn < 1):
		return fmt.Errorf("fasttext: bad char n-gram range --minn %d --maxn %d", c.Minn, c.Maxn)
	case c.Bucket < 0:
		return fmt.Errorf("fasttext: --bucket must not be negative")
	case c.Loss != LossSoftmax && c.Loss != LossHS && c.Loss != LossOVA:
		return fmt.Errorf("fasttext: unknown --loss %q (want softmax, hs or ova)", c.Loss)
	}
	if c.LRUpdateRate < 1 {
		c.LRUpdateRate = 100
	}
	return nil
}

// FastText is a fastText-style classifier: the average of the embeddings of
// a text's words, word n-grams and char n-grams (hashed into buckets), fed
// to a linear layer with softmax, hierarchical softmax or one-vs-all
// sigmoids.
type FastText struct {
	// Config holds the hyper-parameters.
	Config FastTextConfig
	// Words is the vocabulary, most frequent first; ids index In's first rows.
	Words []string
	// LabelNames are the class names by id.
	LabelNames []string
	// In is the input embedding table "input" [len(Words)+Bucket, Dim]
	// (nil in a quantized model).
	In *nn.Param
	// Out is the output layer "output" [labels, Dim]: one row per label for
	// softmax and ova, one per inner node of the Huffman tree for hs (nil
	// when the quantized model's output is quantized too).
	Out *nn.Param
	// LabelCounts are the training counts of the labels (they shape the
	// Huffman tree of hs).
	LabelCounts []int64
	// WordCounts are the training counts of Words, when known (fastText's
	// files keep them).
	WordCounts []int64

	// qin and qout are the quantized input and output matrices of a
	// quantized (.ftz) model, in place of In and Out.
	qin, qout *quantMatrix
	// pruned maps the n-gram buckets kept by quantization with a cutoff to
	// their rows after the words' (fastText's pruneidx); nil when the model
	// was not pruned, empty when no n-gram was kept.
	pruned map[int32]int32
	// trained counts the epochs run (fastText's "epoch" field).
	epochs int

	wordIndex map[string]int32
	subwords  [][]int32 // per word: its id then its char n-gram ids
	paths     [][]int32 // hs: inner nodes from the leaf up
	codes     [][]bool  // hs: branch taken at each node
}

// hashFNV is fastText's word hash: 32-bit FNV-1a over the bytes, each byte
// sign-extended as fastText's C++ char is.
func hashFNV(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(int32(int8(s[i])))
		h *= 16777619
	}
	return h
}

// charNgrams calls fn with the hash of every char n-gram of "<word>" whose
// length in characters is in [minn, maxn], skipping the bare "<" and ">".
func charNgrams(word string, minn, maxn int, fn func(h uint32)) {
	w := "<" + word + ">"
	// Start offsets of each UTF-8 character.
	starts := make([]int, 0, len(w)+1)
	for i := range w {
		starts = append(starts, i)
	}
	nchar := len(starts)
	starts = append(starts, len(w))
	for i := 0; i < nchar; i++ {
		for n := 1; n <= maxn && i+n <= nchar; n++ {
			if n < minn || (n == 1 && (i == 0 || i+n == nchar)) {
				continue
			}
			fn(hashFNV(w[starts[i]:starts[i+n]]))
		}
	}
}

// NewFastText builds the vocabulary and label set from tokenized training
// examples (labels[i] are the label ids of docs[i]) and initialises the
// weights as fastText does.
func NewFastText(cfg FastTextConfig, labelNames []string, docs [][]string, labels [][]int, seed uint64) (*FastText, error) {
	return newFastText(cfg, labelNames, docs, labels, seed, nil)
}

// newFastText is NewFastText with optional pretrained vectors, as
// fastText's -pretrainedVectors: their words join the vocabulary (one more
// count each, kept whatever MinCount) and their vectors are the first
// values of those words' input rows.
func newFastText(cfg FastTextConfig, labelNames []string, docs [][]string, labels [][]int, seed uint64, vecs *Vectors) (*FastText, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if vecs != nil && vecs.Dim != cfg.Dim {
		return nil, fmt.Errorf("fasttext: the pretrained vectors have dimension %d, the model --dim %d", vecs.Dim, cfg.Dim)
	}
	if cfg.WordNgrams <= 1 && cfg.Maxn == 0 {
		cfg.Bucket = 0 // as fastText: no hashed features, no buckets
	}
	counts, order := countWords(docs)
	if counts[EOS] == 0 {
		order = append(order, EOS)
	}
	counts[EOS] += int64(len(docs))
	words := slices.DeleteFunc(order, func(w string) bool { return counts[w] < int64(cfg.MinCount) && w != EOS })
	if vecs != nil {
		kept := make(map[string]bool, len(words))
		for _, w := range words {
			kept[w] = true
		}
		for _, w := range vecs.Words {
			if kept[w] {
				counts[w]++
			} else {
				kept[w] = true
				counts[w] = 1
				words = append(words, w)
			}
		}
	}
	sortByCount(words, counts)
	m := &FastText{Config: cfg, Words: words, LabelNames: labelNames, LabelCounts: make([]int64, len(labelNames))}
	m.WordCounts = make([]int64, len(words))
	for i, w := range words {
		m.WordCounts[i] = counts[w]
	}
	for _, ls := range labels {
		for _, l := range ls {
			m.LabelCounts[l]++
		}
	}
	m.In = nn.NewParam("input", len(words)+cfg.Bucket, cfg.Dim)
	initUniform(m.In.W, 1/float32(cfg.Dim), seed, 8)
	if vecs != nil {
		for i, w := range words {
			if x := vecs.Vector(w); x != nil {
				copy(m.In.W[i*cfg.Dim:(i+1)*cfg.Dim], x)
			}
		}
	}
	m.Out = nn.NewParam("output", m.outRows(), cfg.Dim)
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// initUniform fills x with U(-a, a) values, in parallel chunks each seeded
// from seed and its index, so the result does not depend on the threads.
func initUniform(x []float32, a float32, seed uint64, parts int) {
	chunk := (len(x) + parts - 1) / parts
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		lo, hi := p*chunk, min((p+1)*chunk, len(x))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(seg []float32, p uint64) {
			defer wg.Done()
			// xorshift64*: cheap and good enough for an initialisation.
			st := seed*0x9E3779B97F4A7C15 + (p+1)*0xBF58476D1CE4E5B9
			if st == 0 {
				st = 1
			}
			for i := range seg {
				st ^= st >> 12
				st ^= st << 25
				st ^= st >> 27
				r := (st * 2685821657736338717) >> 40 // 24 random bits
				seg[i] = (float32(r)*(2.0/(1<<24)) - 1) * a
			}
		}(x[lo:hi], uint64(p))
	}
	wg.Wait()
}

// outRows is the number of output rows: one per label, as in fastText
// (hs uses the first len-1 for the inner nodes of its tree); one per word
// for a word-vector model (no labels).
func (m *FastText) outRows() int {
	if len(m.LabelNames) == 0 {
		return len(m.Words)
	}
	return len(m.LabelNames)
}

// params lists the weights: In and Out.
func (m *FastText) params() []*nn.Param { return []*nn.Param{m.In, m.Out} }

// Quantized reports whether the model's input matrix is quantized (a
// fastText .ftz model).
func (m *FastText) Quantized() bool { return m.qin != nil }

// inRows is the number of input rows: the words and the n-gram buckets (the
// kept ones, after pruning).
func (m *FastText) inRows() int {
	if m.pruned != nil {
		return len(m.Words) + len(m.pruned)
	}
	return len(m.Words) + m.Config.Bucket
}

// ngramRow returns the input row of hash h of an n-gram, or -1 when
// pruning dropped its bucket.
func (m *FastText) ngramRow(h uint64) int32 {
	b := int32(h % uint64(m.Config.Bucket))
	if m.pruned != nil {
		r, ok := m.pruned[b]
		if !ok {
			return -1
		}
		b = r
	}
	return int32(len(m.Words)) + b
}

// init derives the lookup tables from Words, LabelCounts and Config.
func (m *FastText) init() error {
	cfg := m.Config
	switch {
	case m.qin != nil && (m.qin.rows != m.inRows() || m.qin.cols != cfg.Dim):
		return fmt.Errorf("fasttext: quantized input matrix is %d × %d, want %d × %d", m.qin.rows, m.qin.cols, m.inRows(), cfg.Dim)
	case m.qin == nil && (m.In == nil || len(m.In.W) != m.inRows()*cfg.Dim):
		return fmt.Errorf("fasttext: input matrix does not hold (%d words + %d buckets) × %d values", len(m.Words), m.inRows()-len(m.Words), cfg.Dim)
	case m.qout != nil && (m.qout.rows != m.outRows() || m.qout.cols != cfg.Dim):
		return fmt.Errorf("fasttext: quantized output matrix is %d × %d, want %d × %d", m.qout.rows, m.qout.cols, m.outRows(), cfg.Dim)
	case len(m.LabelNames) > 0 && m.qout == nil && (m.Out == nil || len(m.Out.W) != m.outRows()*cfg.Dim):
		return fmt.Errorf("fasttext: output matrix does not hold %d × %d values", m.outRows(), cfg.Dim)
	case m.WordCounts != nil && len(m.WordCounts) != len(m.Words):
		return fmt.Errorf("fasttext: %d word counts for %d words", len(m.WordCounts), len(m.Words))
	}
	m.wordIndex = make(map[string]int32, len(m.Words))
	m.subwords = make([][]int32, len(m.Words))
	for i, w := range m.Words {
		if _, dup := m.wordIndex[w]; dup {
			return fmt.Errorf("fasttext: word %q appears twice in the vocabulary", w)
		}
		m.wordIndex[w] = int32(i)
		sub := []int32{int32(i)}
		if cfg.Maxn > 0 && cfg.Bucket > 0 && w != EOS {
			charNgrams(w, cfg.Minn, cfg.Maxn, func(h uint32) {
				if r := m.ngramRow(uint64(h)); r >= 0 {
					sub = append(sub, r)
				}
			})
		}
		m.subwords[i] = sub
	}
	if cfg.Loss == LossHS {
		m.buildTree()
	}
	return nil
}

// buildTree builds fastText's Huffman tree over the labels by count.
func (m *FastText) buildTree() {
	k := len(m.LabelNames)
	// Leaves ordered by count, most frequent first, as fastText's sorted labels.
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(m.LabelCounts[b], m.LabelCounts[a]) })
	type node struct {
		parent, left, right int
		count               int64
		binary              bool
	}
	tree := make([]node, max(2*k-1, 1))
	for i := range tree {
		tree[i] = node{parent: -1, left: -1, right: -1, count: 1e15}
	}
	for i := 0; i < k; i++ {
		tree[i].count = m.LabelCounts[order[i]]
	}
	leaf, nd := k-1, k
	for i := k; i < 2*k-1; i++ {
		var mini [2]int
		for j := 0; j < 2; j++ {
			if leaf >= 0 && tree[leaf].count < tree[nd].count {
				mini[j] = leaf
				leaf--
			} else {
				mini[j] = nd
				nd++
			}
		}
		tree[i].left, tree[i].right = mini[0], mini[1]
		tree[i].count = tree[mini[0]].count + tree[mini[1]].count
		tree[mini[0]].parent = i
		tree[mini[1]].parent = i
		tree[mini[1]].binary = true
	}
	m.paths = make([][]int32, k)
	m.codes = make([][]bool, k)
	for i := 0; i < k; i++ {
		var path []int32
		var code []bool
		for j := i; tree[j].parent != -1; j = tree[j].parent {
			path = append(path, int32(tree[j].parent-k))
			code = append(code, tree[j].binary)
		}
		m.paths[order[i]] = path
		m.codes[order[i]] = code
	}
}

// Features returns the input rows of a tokenized text: word ids (with their
// char n-grams), char n-grams of unknown words, EOS, and hashed word n-grams.
func (m *FastText) Features(tokens []string, ids []int32) []int32 {
	cfg := m.Config
	var hashes []uint64
	if cfg.WordNgrams > 1 {
		hashes = make([]uint64, 0, len(tokens)+1)
	}
	add := func(tok string) {
		if id, ok := m.wordIndex[tok]; ok {
			ids = append(ids, m.subwords[id]...)
		} else if cfg.Maxn > 0 && cfg.Bucket > 0 {
			charNgrams(tok, cfg.Minn, cfg.Maxn, func(h uint32) {
				if r := m.ngramRow(uint64(h)); r >= 0 {
					ids = append(ids, r)
				}
			})
		}
		if hashes != nil {
			hashes = append(hashes, uint64(int64(int32(hashFNV(tok)))))
		}
	}
	for _, t := range tokens {
		add(t)
	}
	add(EOS)
	if cfg.Bucket > 0 {
		for i := range hashes {
			h := hashes[i]
			for j := i + 1; j < len(hashes) && j < i+cfg.WordNgrams; j++ {
				h = h*116049371 + hashes[j]
				if r := m.ngramRow(h); r >= 0 {
					ids = append(ids, r)
				}
			}
		}
	}
	return ids
}

// hidden sets h to the mean of the input rows ids.
func (m *FastText) hidden(h []float32, ids []int32) {
	clear(h)
	if m.qin != nil {
		for _, id := range ids {
			m.qin.addRow(h, int(id), 1)
		}
	} else {
		d, in := m.Config.Dim, m.In.W
		for _, id := range ids {
			tensor.AxpySerial(1, in[int(id)*d:int(id+1)*d], h)
		}
	}
	if len(ids) > 0 {
		tensor.ScaleSerial(1/float32(len(ids)), h)
	}
}

// fastText's sigmoid is a table of 513 values over [-8, 8]; the same table
// gives the same scores as fastText's ova and hs models.
const (
	sigmoidTableSize = 512
	maxSigmoid       = 8
)

var sigmoidTable = func() []float32 {
	t := make([]float32, sigmoidTableSize+1)
	for i := range t {
		x := float32(i*2*maxSigmoid)/sigmoidTableSize - maxSigmoid
		t[i] = float32(1 / (1 + math.Exp(-float64(x))))
	}
	return t
}()

// ftSigmoid is fastText's table sigmoid.
func ftSigmoid(x float32) float32 {
	if x < -maxSigmoid {
		return 0
	}
	if x > maxSigmoid {
		return 1
	}
	return sigmoidTable[int64((x+maxSigmoid)*sigmoidTableSize/maxSigmoid/2)]
}

// outputs sets out[i] to the dot product of output row i and h, for
// i < len(out).
func (m *FastText) outputs(out, h []float32) {
	if m.qout != nil {
		for i := range out {
			out[i] = m.qout.dotRow(h, i)
		}
		return
	}
	d, w := m.Config.Dim, m.Out.W
	for i := range out {
		out[i] = tensor.Dot(w[i*d:(i+1)*d], h)
	}
}

// Scores returns the probability of each label for a tokenized text
// (softmax and hs: a distribution; ova: independent sigmoids).
func (m *FastText) Scores(tokens []string) []float32 {
	ids := m.Features(tokens, nil)
	h := make([]float32, m.Config.Dim)
	m.hidden(h, ids)
	k := len(m.LabelNames)
	out := make([]float32, k)
	switch m.Config.Loss {
	case LossSoftmax:
		m.outputs(out, h)
		tensor.Softmax(out, out, 1, k)
	case LossOVA:
		m.outputs(out, h)
		for i, v := range out {
			out[i] = ftSigmoid(v)
		}
	case LossHS:
		if k == 1 {
			out[0] = 1
			break
		}
		inner := make([]float32, k-1)
		m.outputs(inner, h)
		// fastText's hs prediction uses the exact sigmoid.
		tensor.Sigmoid(inner, inner)
		for l := 0; l < k; l++ {
			p := float32(1)
			for j, n := range m.paths[l] {
				if m.codes[l][j] {
					p *= inner[n]
				} else {
					p *= 1 - inner[n]
				}
			}
			out[l] = p
		}
	}
	return out
}

// TrainOptions are the settings of a training run shared by the classic
// models.
type TrainOptions struct {
	// Epochs is the number of passes over the training data.
	Epochs int
	// LR is the initial learning rate.
	LR float64
	// Threads is the number of worker goroutines (Hogwild for fastText and
	// word2vec).
	Threads int
	// Seed seeds the initialisation and sampling.
	Seed uint64
	// Log, when set, receives progress lines.
	Log io.Writer
	// Context, when not nil, stops training early once it is done (as
	// fastText's autotune aborts a trial at the end of its duration): Train
	// then returns the context's error.
	Context context.Context
	// OnEpoch, when set, receives a record at the end of each epoch.
	OnEpoch func(EpochLog)
	// Distill, when set, trains on a teacher's logits as well as the
	// labels (knowledge distillation; single-label TextCNN, BiLSTM and
	// fastText-style models with the softmax loss).
	Distill *Distillation
}

// EpochLog records the end of a training epoch.
type EpochLog struct {
	// Epoch counts the epochs done.
	Epoch int
	// Examples is the number of examples trained on so far.
	Examples int64
	// Loss is the mean training loss over the epoch.
	Loss float64
	// LR is the learning rate at the end of the epoch.
	LR float64
	// Eval holds the scores on the validation data, when given and scored
	// at this epoch: "accuracy" (subset accuracy for multi-label models)
	// and "loss" (mean cross-entropy, or binary cross-entropy per label).
	Eval map[string]float64
}

// evalScores scores a model (scores gives the label scores of a token
// list) on prepared validation data: accuracy and mean loss.
func evalScores(scores func([]string) []float32, multiLabel bool, threshold float64, valid *Prepared) map[string]float64 {
	var ok int
	var loss float64
	for i, d := range valid.Docs {
		s := scores(d)
		want := valid.Labels[i]
		if multiLabel {
			right := true
			for k, p := range s {
				y := slices.Contains(want, k)
				if (float64(p) >= threshold) != y {
					right = false
				}
				if y {
					loss -= math.Log(math.Max(float64(p), 1e-7))
				} else {
					loss -= math.Log(math.Max(1-float64(p), 1e-7))
				}
			}
			loss /= float64(max(len(s), 1))
			if right {
				ok++
			}
			continue
		}
		best := 0
		for k, p := range s {
			if p > s[best] {
				best = k
			}
		}
		if len(want) > 0 {
			if best == want[0] {
				ok++
			}
			loss -= math.Log(math.Max(float64(s[want[0]]), 1e-7))
		}
	}
	n := float64(max(len(valid.Docs), 1))
	return map[string]float64{"accuracy": float64(ok) / n, "loss": loss / n}
}

// ftWorker holds one training thread's buffers.
type ftWorker struct {
	m            *FastText
	rng          *rand.Rand
	hidden, grad []float32
	out, dlog    []float32
	loss         float64
	nexamples    int64
}

// binaryLogistic is fastText's logistic update of output row i towards
// label; it accumulates the hidden gradient in w.grad and returns the loss.
func (w *ftWorker) binaryLogistic(i int, label bool, lr float32) float64 {
	d := w.m.Config.Dim
	score := binaryLogistic(w.m.Out.W[i*d:(i+1)*d], w.hidden, w.grad, label, lr)
	if label {
		return -math.Log(float64(max(score, 1e-5)))
	}
	return -math.Log(float64(max(1-score, 1e-5)))
}

// update runs one SGD step on one example; teacher, when not nil, holds
// the teacher's logits of the example for dist's distillation loss.
func (w *ftWorker) update(ids []int32, labels []int, dist *Distillation, teacher []float32, lr float32) {
	m := w.m
	d := m.Config.Dim
	if len(ids) == 0 || len(labels) == 0 {
		return
	}
	m.hidden(w.hidden, ids)
	clear(w.grad)
	k := len(m.LabelNames)
	switch m.Config.Loss {
	case LossSoftmax:
		target := labels[0]
		if len(labels) > 1 {
			target = labels[w.rng.IntN(len(labels))]
		}
		m.outputs(w.out, w.hidden)
		if dist != nil {
			// The step along minus the loss's gradient in the logits.
			w.loss += dist.LossGrad(w.out, teacher, target, w.dlog)
			for i, g := range w.dlog {
				sgdRow(-lr*g, m.Out.W[i*d:(i+1)*d], w.hidden, w.grad)
			}
			break
		}
		tensor.Softmax(w.out, w.out, 1, k)
		for i, p := range w.out {
			var y float32
			if i == target {
				y = 1
			}
			sgdRow(lr*(y-p), m.Out.W[i*d:(i+1)*d], w.hidden, w.grad)
		}
		w.loss -= math.Log(float64(max(w.out[target], 1e-5)))
	case LossOVA:
		for i := 0; i < k; i++ {
			w.loss += w.binaryLogistic(i, slices.Contains(labels, i), lr)
		}
	case LossHS:
		target := labels[0]
		if len(labels) > 1 {
			target = labels[w.rng.IntN(len(labels))]
		}
		for j, n := range m.paths[target] {
			w.loss += w.binaryLogistic(int(n), m.codes[target][j], lr)
		}
	}
	w.nexamples++
	tensor.ScaleSerial(1/float32(len(ids)), w.grad)
	for _, id := range ids {
		tensor.AxpySerial(1, w.grad, m.In.W[int(id)*d:int(id+1)*d])
	}
}

// Train trains the model with SGD as fastText does: threads work through
// the examples from evenly spaced starts without locks (Hogwild), and the
// learning rate decays linearly to zero over Epochs passes, driven by the
// shared count of processed tokens. docs are tokenized texts (EOS is added
// here), labels their label ids.
func (m *FastText) Train(docs [][]string, labels [][]int, opt TrainOptions) error {
	if len(docs) != len(labels) {
		return errors.New("fasttext: docs and labels differ in length")
	}
	if len(docs) == 0 {
		return errors.New("fasttext: no training examples")
	}
	if m.qin != nil || m.qout != nil {
		return errors.New("fasttext: a quantized model cannot be trained")
	}
	if d := opt.Distill; d != nil {
		if m.Config.Loss != LossSoftmax {
			return fmt.Errorf("fasttext: distillation needs the softmax loss, not %q", m.Config.Loss)
		}
		if err := d.check(len(docs), len(m.LabelNames)); err != nil {
			return err
		}
	}
	threads := max(opt.Threads, 1)
	epochs := max(opt.Epochs, 1)
	// Token counts as fastText's: words, EOS and labels.
	ntok := make([]int64, len(docs))
	var total int64
	for i, d := range docs {
		ntok[i] = int64(len(d) + 1 + len(labels[i]))
		total += ntok[i]
	}
	budget := total * int64(epochs)
	var tokenCount atomic.Int64
	workers := make([]*ftWorker, threads)
	start := time.Now()
	done := make(chan struct{})
	if opt.Log != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					p := float64(tokenCount.Load()) / float64(budget)
					fmt.Fprintf(opt.Log, "\rprogress %5.1f%%  lr %.6f  %.0f tokens/s/thread ", 100*p, opt.LR*(1-p), float64(tokenCount.Load())/time.Since(start).Seconds()/float64(threads))
				}
			}
		}()
	}
	// Features do not change during training: compute them once.
	feats := make([][]int32, len(docs))
	for i, d := range docs {
		feats[i] = m.Features(d, nil)
	}
	for t := range workers {
		workers[t] = &ftWorker{m: m, rng: rand.New(rand.NewPCG(opt.Seed, uint64(t))), hidden: make([]float32, m.Config.Dim), grad: make([]float32, m.Config.Dim), out: make([]float32, len(m.LabelNames)), dlog: make([]float32, len(m.LabelNames))}
	}
	if opt.Context != nil {
		// Using up the token budget ends every worker's loop.
		stop := context.AfterFunc(opt.Context, func() { tokenCount.Store(budget) })
		defer stop()
	}
	// One Hogwild run per epoch, so that each epoch's record sums the loss
	// of every thread over it; the learning rate decays over the whole run.
	var lastLoss float64
	var lastN int64
	for e := 1; e <= epochs; e++ {
		stop := budget
		if e < epochs {
			stop = total * int64(e)
		}
		hogwild(threads, len(docs), budget, stop, int64(m.Config.LRUpdateRate), &tokenCount, func(t, i int, progress float64) int64 {
			var teacher []float32
			if opt.Distill != nil {
				teacher = opt.Distill.Teacher[i]
			}
			workers[t].update(feats[i], labels[i], opt.Distill, teacher, float32(opt.LR*(1-progress)))
			return ntok[i]
		})
		if opt.OnEpoch != nil {
			loss, n := workersLoss(workers)
			lr := opt.LR * max(0, 1-float64(tokenCount.Load())/float64(budget))
			opt.OnEpoch(EpochLog{Epoch: e, Examples: n, Loss: (loss - lastLoss) / float64(max(n-lastN, 1)), LR: lr})
			lastLoss, lastN = loss, n
		}
	}
	close(done)
	if opt.Context != nil && opt.Context.Err() != nil {
		return fmt.Errorf("fasttext: training stopped: %w", opt.Context.Err())
	}
	m.epochs = epochs
	if opt.Log != nil {
		loss, n := workersLoss(workers)
		fmt.Fprintf(opt.Log, "\rprogress 100.0%%  avg loss %.6f  %d updates in %s\n", loss/float64(max(n, 1)), n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// workersLoss sums the training loss and examples of the workers.
func workersLoss(workers []*ftWorker) (loss float64, n int64) {
	for _, w := range workers {
		loss += w.loss
		n += w.nexamples
	}
	return loss, n
}
