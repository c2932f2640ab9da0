package classic

import (
	"fmt"
	"strings"
	"testing"
)

// Training benchmarks: one training run per iteration on the synthetic
// separable data of the tests (3 classes, about 8 tokens per text).
// Compare runs before and after a change with `go test -bench Train -count 10`.

// BenchmarkTrainFastText trains fastText-style models with word bigrams and
// char n-grams (the Hogwild loop: hidden mean, output rows, input rows).
func BenchmarkTrainFastText(b *testing.B) {
	train := separable(4000, 1)
	for _, loss := range []string{LossSoftmax, LossHS, LossOVA} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", loss, threads), func(b *testing.B) {
				cfg := DefaultFastTextConfig()
				cfg.Dim, cfg.Loss, cfg.WordNgrams, cfg.Bucket, cfg.Minn, cfg.Maxn = 100, loss, 2, 20000, 3, 6
				tc := TrainConfig{Arch: ArchFastText, FastText: cfg, Train: TrainOptions{Epochs: 5, LR: 0.5, Threads: threads, Seed: 1}}
				for b.Loop() {
					if _, err := Train(train, tc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkTrainNN trains one epoch of TextCNN and of BiLSTM.
func BenchmarkTrainNN(b *testing.B) {
	train := separable(1000, 1)
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		b.Run(arch, func(b *testing.B) {
			nc := DefaultNNConfig()
			nc.Dim, nc.Filters, nc.Hidden = 50, 50, 32
			tc := TrainConfig{Arch: arch, NN: nc, BatchSize: 32, Train: TrainOptions{Epochs: 1, LR: 0.01, Threads: 2, Seed: 1}}
			for b.Loop() {
				if _, err := Train(train, tc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrainWord2Vec trains skip-gram vectors with negative sampling.
func BenchmarkTrainWord2Vec(b *testing.B) {
	var sents [][]string
	for _, ex := range separable(4000, 2).Examples {
		sents = append(sents, strings.Fields(ex.Text))
	}
	cfg := DefaultWord2VecConfig()
	cfg.MinCount, cfg.Epochs, cfg.Threads = 1, 2, 2
	for b.Loop() {
		if _, err := TrainWord2Vec(sents, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScores predicts with a trained model of each architecture.
func BenchmarkScores(b *testing.B) {
	train := separable(500, 1)
	ft := DefaultFastTextConfig()
	ft.Dim, ft.WordNgrams, ft.Bucket = 100, 2, 20000
	nc := DefaultNNConfig()
	nc.Dim, nc.Filters, nc.Hidden = 50, 50, 32
	for _, arch := range []string{ArchFastText, ArchTextCNN, ArchBiLSTM} {
		c, err := Train(train, TrainConfig{Arch: arch, FastText: ft, NN: nc, Train: TrainOptions{Epochs: 1, LR: 0.1, Threads: 1, Seed: 1}})
		if err != nil {
			b.Fatal(err)
		}
		toks, err := c.Tokens("the good table was a lovely door and it is fine", "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(arch, func(b *testing.B) {
			for b.Loop() {
				c.ScoresTokens(toks)
			}
		})
	}
}

// BenchmarkQuantize product-quantizes a 4096 × 100 matrix in 2-value
// sub-vectors (fastText's -dsub 2) with norms apart (-qnorm), on 2 threads.
func BenchmarkQuantize(b *testing.B) {
	const rows, dim = 4096, 100
	x := make([]float32, rows*dim)
	initUniform(x, 1, 3, 4)
	for i := 0; i < b.N; i++ {
		m := append([]float32(nil), x...)
		if _, err := quantizeMatrix(m, rows, dim, 2, true, 2); err != nil {
			b.Fatal(err)
		}
	}
}
