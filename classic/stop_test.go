package classic

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A done context stops fastText-style training (whose threads would
// otherwise run 10,000 epochs) and Train returns its error.
func TestFastTextTrainingStopsWithItsContext(t *testing.T) {
	train := separable(300, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cfg := DefaultFastTextConfig()
	cfg.Dim = 8
	start := time.Now()
	_, err := Train(train, TrainConfig{Arch: ArchFastText, FastText: cfg, Train: TrainOptions{Epochs: 10000, LR: 0.1, Threads: 2, Seed: 1, Context: ctx}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Train returned %v, want the context's deadline error", err)
	}
	// 10,000 epochs of 300 lines take far longer than this.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Train stopped only after %s", d)
	}
	// An already cancelled context stops it before any update.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := Train(train, TrainConfig{Arch: ArchFastText, FastText: cfg, Train: TrainOptions{Epochs: 5, LR: 0.1, Threads: 1, Seed: 1, Context: done}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train with a cancelled context returned %v", err)
	}
}

// EpochEnd sees every TextCNN/BiLSTM epoch with the model trained so far;
// its error stops training, and a done context stops it too.
func TestNNEpochEndAndContext(t *testing.T) {
	train, test := separable(300, 6), separable(100, 7)
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		t.Run(arch, func(t *testing.T) {
			nc := DefaultNNConfig()
			nc.Dim, nc.Filters, nc.Hidden = 8, 4, 4
			var epochs []int
			var accs []float64
			stop := errors.New("enough")
			cfg := TrainConfig{Arch: arch, NN: nc, BatchSize: 16, Train: TrainOptions{Epochs: 5, LR: 0.01, Threads: 2, Seed: 1}}
			cfg.EpochEnd = func(epoch int, c *Classifier) error {
				epochs = append(epochs, epoch)
				accs = append(accs, accuracy(t, c, test))
				if epoch == 3 {
					return stop
				}
				return nil
			}
			if _, err := Train(train, cfg); !errors.Is(err, stop) {
				t.Fatalf("Train returned %v, want EpochEnd's error", err)
			}
			if len(epochs) != 3 || epochs[0] != 1 || epochs[2] != 3 {
				t.Fatalf("EpochEnd saw epochs %v, want [1 2 3]", epochs)
			}
			// The model it is given is the one being trained: it learns.
			if accs[2] < 0.9 {
				t.Errorf("accuracy after epochs %v: %v, want ≥ 0.9 by epoch 3", epochs, accs)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cfg.EpochEnd = func(epoch int, c *Classifier) error {
				cancel()
				return nil
			}
			cfg.Train.Context = ctx
			if _, err := Train(train, cfg); !errors.Is(err, context.Canceled) {
				t.Fatalf("Train after its context was cancelled returned %v", err)
			}
		})
	}
}
