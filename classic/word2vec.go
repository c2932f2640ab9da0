package classic

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// Word-vector models.
const (
	ModelSkipgram = "skipgram"
	ModelCBOW     = "cbow"
)

// Word2VecConfig holds the settings of word-vector training, named after
// fastText's skipgram and cbow options (DefaultWord2VecConfig).
type Word2VecConfig struct {
	// Model is "skipgram" (predict each context word from the word) or
	// "cbow" (predict the word from the sum of its context).
	Model string
	// Dim is the vector size.
	Dim int
	// Window is the largest context window (each position draws 1..Window).
	Window int
	// Negative is the number of negative samples per prediction.
	Negative int
	// MinCount is the minimal count of a word to get a vector.
	MinCount int
	// Minn and Maxn bound the lengths of the char n-grams that make up a
	// word's vector with its own (fastText's subwords; Maxn 0: none). They
	// give vectors to words never seen in training too.
	Minn int
	// Maxn is the longest char n-gram (see Minn).
	Maxn int
	// Bucket is the number of hash buckets of the char n-grams.
	Bucket int
	// Epochs is the number of passes over the corpus.
	Epochs int
	// LR is the initial learning rate, decaying linearly to zero.
	LR float64
	// Sample is the sub-sampling threshold of frequent words (0 disables).
	Sample float64
	// LRUpdateRate is how many tokens a thread processes between updates of
	// the shared progress that drives the learning-rate decay.
	LRUpdateRate int
	// Threads is the number of Hogwild workers.
	Threads int
	// Seed seeds initialisation and sampling.
	Seed uint64
	// Log, when set, receives progress lines.
	Log io.Writer
}

// DefaultWord2VecConfig returns fastText's skipgram defaults (dim 100,
// window 5, 5 negatives, min count 5, 5 epochs, lr 0.05, sub-sampling 1e-4,
// 2M buckets, char n-grams from 3 to 6 when Maxn is set) with word2vec's
// whole-word vectors: Maxn 0. fastText's subword vectors are Minn 3, Maxn 6.
func DefaultWord2VecConfig() Word2VecConfig {
	return Word2VecConfig{Model: ModelSkipgram, Dim: 100, Window: 5, Negative: 5, MinCount: 5, Minn: 3, Maxn: 0, Bucket: 2000000,
		Epochs: 5, LR: 0.05, Sample: 1e-4, LRUpdateRate: 100, Threads: 1, Seed: 1}
}

func (cfg *Word2VecConfig) check() error {
	switch {
	case cfg.Model != ModelSkipgram && cfg.Model != ModelCBOW:
		return fmt.Errorf("word2vec: unknown --model %q (want skipgram or cbow)", cfg.Model)
	case cfg.Dim < 1 || cfg.Window < 1 || cfg.Negative < 1 || cfg.Epochs < 1 || cfg.LR <= 0:
		return fmt.Errorf("word2vec: bad settings (dim %d, window %d, negative %d, epochs %d, lr %g)", cfg.Dim, cfg.Window, cfg.Negative, cfg.Epochs, cfg.LR)
	case cfg.Maxn > 0 && (cfg.Minn < 1 || cfg.Minn > cfg.Maxn || cfg.Bucket < 1):
		return fmt.Errorf("word2vec: bad char n-gram settings (--minn %d, --maxn %d, --bucket %d)", cfg.Minn, cfg.Maxn, cfg.Bucket)
	case cfg.Maxn < 0 || cfg.Bucket < 0:
		return fmt.Errorf("word2vec: --maxn and --bucket must not be negative")
	}
	if cfg.LRUpdateRate < 1 {
		cfg.LRUpdateRate = 100
	}
	return nil
}

// maxLineTokens is fastText's MAX_LINE_SIZE: longer lines are cut.
const maxLineTokens = 1024

// negativeTableSize is the size of fastText's table of negatives.
const negativeTableSize = 10000000

// TrainWord2Vec trains word vectors on tokenized sentences as fastText's
// skipgram and cbow commands do: the vocabulary is the words of at least
// MinCount occurrences plus EOS ("</s>", ending each sentence), most frequent
// first; a word's input vector is the mean of its own row and those of its
// char n-grams (Minn…Maxn, hashed into Bucket rows); each prediction is a
// logistic regression against the output row of the target word and
// Negative words drawn by count^0.5; frequent words are dropped at random
// (Sample), the context window is drawn from 1…Window at each position, and
// the learning rate decays linearly to zero, shared by Hogwild threads.
// The result holds each word's vector and keeps the model, so that it gives
// vectors of unseen words and writes fastText .bin files.
func TrainWord2Vec(sentences [][]string, cfg Word2VecConfig) (*Vectors, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	counts, words := countWords(sentences)
	var ntokens int64
	for _, c := range counts {
		ntokens += c
	}
	counts[EOS] += int64(len(sentences))
	ntokens += int64(len(sentences))
	if !slices.Contains(words, EOS) {
		words = append(words, EOS)
	}
	words = slices.DeleteFunc(words, func(w string) bool { return counts[w] < int64(max(cfg.MinCount, 1)) })
	slices.Sort(words) // equal counts in alphabetical order, whatever the corpus order
	sortByCount(words, counts)
	if len(words) < 2 {
		return nil, errors.New("word2vec: fewer than two words reach --min-count")
	}
	bucket := cfg.Bucket
	if cfg.Maxn == 0 {
		bucket = 0
	}
	m := &FastText{Config: FastTextConfig{Dim: cfg.Dim, WordNgrams: 1, Minn: cfg.Minn, Maxn: cfg.Maxn, Bucket: bucket, MinCount: cfg.MinCount, LRUpdateRate: cfg.LRUpdateRate}, Words: words}
	m.WordCounts = make([]int64, len(words))
	for i, w := range words {
		m.WordCounts[i] = counts[w]
	}
	m.In = nn.NewParam("input", len(words)+bucket, cfg.Dim)
	initUniform(m.In.W, 1/float32(cfg.Dim), cfg.Seed, 8)
	m.Out = nn.NewParam("output", len(words), cfg.Dim)
	if err := m.init(); err != nil {
		return nil, err
	}
	// The corpus as word ids, cut into lines of at most maxLineTokens, and
	// the tokens each line counts for the learning rate (the known ones).
	eos := m.wordIndex[EOS]
	var lines [][]int32
	for _, s := range sentences {
		ids := make([]int32, 0, len(s)+1)
		for _, w := range s {
			if id, ok := m.wordIndex[w]; ok {
				ids = append(ids, id)
			}
		}
		ids = append(ids, eos)
		for len(ids) > maxLineTokens {
			lines = append(lines, ids[:maxLineTokens])
			ids = ids[maxLineTokens:]
		}
		lines = append(lines, ids)
	}
	// Keep probability of each word (fastText's pdiscard).
	keep := make([]float32, len(words))
	for i, c := range m.WordCounts {
		keep[i] = 1
		if cfg.Sample > 0 {
			f := float64(c) / float64(ntokens)
			keep[i] = float32(math.Sqrt(cfg.Sample/f) + cfg.Sample/f)
		}
	}
	// Negatives drawn by count^0.5, as fastText's table.
	var z float64
	for _, c := range m.WordCounts {
		z += math.Sqrt(float64(c))
	}
	table := make([]int32, 0, negativeTableSize+len(words))
	for i, c := range m.WordCounts {
		n := int(math.Ceil(math.Sqrt(float64(c)) * negativeTableSize / z))
		for j := 0; j < n; j++ {
			table = append(table, int32(i))
		}
	}
	threads := max(cfg.Threads, 1)
	workers := make([]*w2vWorker, threads)
	for t := range workers {
		workers[t] = &w2vWorker{m: m, cfg: &cfg, table: table, keep: keep,
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(t)+1)), hidden: make([]float32, cfg.Dim), grad: make([]float32, cfg.Dim)}
	}
	budget := int64(cfg.Epochs) * ntokens
	var processed atomic.Int64
	start := time.Now()
	hogwild(threads, len(lines), budget, budget, int64(cfg.LRUpdateRate), &processed, func(t, i int, progress float64) int64 {
		w := workers[t]
		lr := float32(cfg.LR * (1 - progress))
		line := w.subsample(lines[i])
		if cfg.Model == ModelCBOW {
			w.cbow(line, lr)
		} else {
			w.skipgram(line, lr)
		}
		return int64(len(lines[i]))
	})
	m.epochs = cfg.Epochs
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "word2vec %s: %d words, %d tokens × %d epochs in %s\n", cfg.Model, len(words), ntokens, cfg.Epochs, time.Since(start).Round(time.Millisecond))
	}
	v := m.wordVectors()
	v.modelType = ftModelSG
	if cfg.Model == ModelCBOW {
		v.modelType = ftModelCBOW
	}
	v.args = ftArgs{ws: int32(cfg.Window), neg: int32(cfg.Negative), t: cfg.Sample}
	return v, nil
}

// w2vWorker holds one training thread's state.
type w2vWorker struct {
	m            *FastText
	cfg          *Word2VecConfig
	table        []int32
	keep         []float32
	rng          *rand.Rand
	hidden, grad []float32
	line, bow    []int32
}

// subsample returns the words of line that sub-sampling keeps.
func (w *w2vWorker) subsample(line []int32) []int32 {
	w.line = w.line[:0]
	for _, id := range line {
		if w.keep[id] >= 1 || w.rng.Float32() <= w.keep[id] {
			w.line = append(w.line, id)
		}
	}
	return w.line
}

// update runs one prediction of target from the input rows: the hidden
// vector h (their mean) against the target's output row and Negative
// sampled ones, then adds the gradient to every input row and to h, which
// stays their mean (fastText recomputes it).
func (w *w2vWorker) update(rows []int32, target int32, lr float32) {
	if len(rows) == 0 {
		return
	}
	d := w.cfg.Dim
	out, in := w.m.Out.W, w.m.In.W
	clear(w.grad)
	binaryLogistic(out[int(target)*d:int(target+1)*d], w.hidden, w.grad, true, lr)
	for n := 0; n < w.cfg.Negative; n++ {
		neg := w.table[w.rng.IntN(len(w.table))]
		for neg == target {
			neg = w.table[w.rng.IntN(len(w.table))]
		}
		binaryLogistic(out[int(neg)*d:int(neg+1)*d], w.hidden, w.grad, false, lr)
	}
	for _, r := range rows {
		tensor.AxpySerial(1, w.grad, in[int(r)*d:int(r+1)*d])
	}
	tensor.AxpySerial(1, w.grad, w.hidden)
}

// skipgram predicts each context word of each word from its subwords.
func (w *w2vWorker) skipgram(line []int32, lr float32) {
	for pos, id := range line {
		b := 1 + w.rng.IntN(w.cfg.Window)
		rows := w.m.subwords[id]
		w.m.hidden(w.hidden, rows)
		for c := max(0, pos-b); c <= min(len(line)-1, pos+b); c++ {
			if c != pos {
				w.update(rows, line[c], lr)
			}
		}
	}
}

// cbow predicts each word from the subwords of its context words.
func (w *w2vWorker) cbow(line []int32, lr float32) {
	for pos, id := range line {
		b := 1 + w.rng.IntN(w.cfg.Window)
		w.bow = w.bow[:0]
		for c := max(0, pos-b); c <= min(len(line)-1, pos+b); c++ {
			if c != pos {
				w.bow = append(w.bow, w.m.subwords[line[c]]...)
			}
		}
		w.m.hidden(w.hidden, w.bow)
		w.update(w.bow, id, lr)
	}
}

// Cosine returns the cosine similarity of two words' vectors, or 0 when a
// word is missing.
func (v *Vectors) Cosine(a, b string) float64 {
	x, y := v.Vector(a), v.Vector(b)
	if x == nil || y == nil {
		return 0
	}
	nx, ny := math.Sqrt(float64(tensor.Dot(x, x))), math.Sqrt(float64(tensor.Dot(y, y)))
	if nx == 0 || ny == 0 {
		return 0
	}
	return float64(tensor.Dot(x, y)) / (nx * ny)
}
