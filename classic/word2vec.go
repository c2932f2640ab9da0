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

	"github.com/textclf/textclf/tensor"
)

// Word2VecConfig holds the skip-gram hyper-parameters, with word2vec's and
// fastText's names and defaults (DefaultWord2VecConfig).
type Word2VecConfig struct {
	// Dim is the vector size.
	Dim int
	// Window is the largest context window (each position draws 1..Window).
	Window int
	// Negative is the number of negative samples per context word.
	Negative int
	// MinCount is the minimal count of a word to get a vector.
	MinCount int
	// Epochs is the number of passes over the corpus.
	Epochs int
	// LR is the initial learning rate, decaying linearly to zero.
	LR float64
	// Sample is the sub-sampling threshold of frequent words (0 disables).
	Sample float64
	// Threads is the number of Hogwild workers.
	Threads int
	// Seed seeds initialisation and sampling.
	Seed uint64
	// Log, when set, receives progress lines.
	Log io.Writer
}

// DefaultWord2VecConfig returns dim 100, window 5, 5 negatives, min count 5,
// 5 epochs, learning rate 0.025 and sub-sampling 1e-4.
func DefaultWord2VecConfig() Word2VecConfig {
	return Word2VecConfig{Dim: 100, Window: 5, Negative: 5, MinCount: 5, Epochs: 5, LR: 0.025, Sample: 1e-4, Threads: 1, Seed: 1}
}

// TrainWord2Vec trains skip-gram word vectors with negative sampling on
// tokenized sentences, with Hogwild threads and a linearly decaying learning
// rate as word2vec does, and returns the input vectors, most frequent word
// first.
func TrainWord2Vec(sentences [][]string, cfg Word2VecConfig) (*Vectors, error) {
	if cfg.Dim < 1 || cfg.Window < 1 || cfg.Negative < 1 || cfg.Epochs < 1 || cfg.LR <= 0 {
		return nil, fmt.Errorf("word2vec: bad settings (dim %d, window %d, negative %d, epochs %d, lr %g)", cfg.Dim, cfg.Window, cfg.Negative, cfg.Epochs, cfg.LR)
	}
	counts, words := countWords(sentences)
	words = slices.DeleteFunc(words, func(w string) bool { return counts[w] < int64(max(cfg.MinCount, 1)) })
	slices.Sort(words) // equal counts in alphabetical order, whatever the corpus order
	sortByCount(words, counts)
	if len(words) < 2 {
		return nil, errors.New("word2vec: fewer than two words reach --min-count")
	}
	index := make(map[string]int32, len(words))
	var total int64
	for i, w := range words {
		index[w] = int32(i)
		total += counts[w]
	}
	corpus := make([][]int32, 0, len(sentences))
	for _, s := range sentences {
		ids := make([]int32, 0, len(s))
		for _, w := range s {
			if id, ok := index[w]; ok {
				ids = append(ids, id)
			}
		}
		if len(ids) > 1 {
			corpus = append(corpus, ids)
		}
	}
	if len(corpus) == 0 {
		return nil, errors.New("word2vec: no sentence has two known words")
	}
	// Keep probability of each word (word2vec's sub-sampling formula).
	keep := make([]float32, len(words))
	for i, w := range words {
		keep[i] = 1
		if cfg.Sample > 0 {
			f := float64(counts[w]) / (cfg.Sample * float64(total))
			keep[i] = float32(math.Min(1, math.Sqrt(1/f)+1/f))
		}
	}
	// Unigram^0.75 table for negatives.
	tableSize := 1 << 20
	table := make([]int32, 0, tableSize)
	var z float64
	for _, w := range words {
		z += math.Pow(float64(counts[w]), 0.75)
	}
	for i, w := range words {
		n := int(math.Ceil(math.Pow(float64(counts[w]), 0.75) / z * float64(tableSize)))
		for j := 0; j < n; j++ {
			table = append(table, int32(i))
		}
	}
	d := cfg.Dim
	in := make([]float32, len(words)*d)
	initUniform(in, 0.5/float32(d), cfg.Seed, 4)
	out := make([]float32, len(words)*d)
	budget := int64(cfg.Epochs) * total
	var processed atomic.Int64
	threads := max(cfg.Threads, 1)
	rngs := make([]*rand.Rand, threads)
	grads := make([][]float32, threads)
	for t := range rngs {
		rngs[t] = rand.New(rand.NewPCG(cfg.Seed, uint64(t)+1))
		grads[t] = make([]float32, d)
	}
	start := time.Now()
	hogwild(threads, len(corpus), budget, 0, &processed, func(t, i int, progress float64) int64 {
		rng, grad := rngs[t], grads[t]
		lr := float32(cfg.LR * math.Max(1e-4, 1-progress))
		sent := corpus[i]
		kept := make([]int32, 0, len(sent))
		for _, w := range sent {
			if keep[w] >= 1 || rng.Float32() < keep[w] {
				kept = append(kept, w)
			}
		}
		for pos, center := range kept {
			b := 1 + rng.IntN(cfg.Window)
			h := in[int(center)*d : int(center+1)*d]
			for c := max(0, pos-b); c <= min(len(kept)-1, pos+b); c++ {
				if c == pos {
					continue
				}
				clear(grad)
				for n := 0; n <= cfg.Negative; n++ {
					target := kept[c]
					if n > 0 {
						if target = table[rng.IntN(len(table))]; target == kept[c] {
							continue
						}
					}
					binaryLogistic(out[int(target)*d:int(target+1)*d], h, grad, n == 0, lr)
				}
				tensor.AxpySerial(1, grad, h)
			}
		}
		return int64(len(sent))
	})
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "word2vec: %d words, %d tokens × %d epochs in %s\n", len(words), total, cfg.Epochs, time.Since(start).Round(time.Millisecond))
	}
	v := &Vectors{Words: words, Dim: d, Data: in, index: map[string]int{}}
	for i, w := range words {
		v.index[w] = i
	}
	return v, nil
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
