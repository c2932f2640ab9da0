package classic

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Word2VecConfig holds the skip-gram hyper-parameters, with word2vec's and
// fastText's names and defaults (DefaultWord2VecConfig).
type Word2VecConfig struct {
	Dim      int
	Window   int
	Negative int
	MinCount int
	Epochs   int
	LR       float64
	// Sample is the sub-sampling threshold of frequent words (0 disables).
	Sample  float64
	Threads int
	Seed    uint64
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
	counts := map[string]int64{}
	for _, s := range sentences {
		for _, w := range s {
			counts[w]++
		}
	}
	var words []string
	for w, c := range counts {
		if c >= int64(max(cfg.MinCount, 1)) {
			words = append(words, w)
		}
	}
	slices.SortFunc(words, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
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
	var wg sync.WaitGroup
	start := time.Now()
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(t)+1))
			grad := make([]float32, d)
			i := t * len(corpus) / threads
			for processed.Load() < budget {
				lr := float32(cfg.LR * math.Max(1e-4, 1-float64(processed.Load())/float64(budget)))
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
							target, label := kept[c], float32(1)
							if n > 0 {
								target, label = table[rng.IntN(len(table))], 0
								if target == kept[c] {
									continue
								}
							}
							row := out[int(target)*d : int(target+1)*d]
							alpha := lr * (label - ftSigmoid(dot(row, h)))
							axpy(alpha, row, grad)
							axpy(alpha, h, row)
						}
						axpy(1, grad, h)
					}
				}
				processed.Add(int64(len(sent)))
				if i++; i == len(corpus) {
					i = 0
				}
			}
		}(t)
	}
	wg.Wait()
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
	nx, ny := math.Sqrt(float64(dot(x, x))), math.Sqrt(float64(dot(y, y)))
	if nx == 0 || ny == 0 {
		return 0
	}
	return float64(dot(x, y)) / (nx * ny)
}
