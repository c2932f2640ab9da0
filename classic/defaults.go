package classic

import (
	"fmt"
	"runtime"
)

// DefaultTrainConfig returns the training defaults of a classic arch, the
// one place the command line and Go programs take them from: for fasttext
// fastText's supervised defaults (DefaultFastTextConfig, lr 0.1, 5
// epochs); for textcnn and bilstm DefaultNNConfig trained with Adam at lr
// 1e-3 for 10 epochs in batches of 32. Every arch segments by words,
// decides multi-label outputs at 0.5, seeds with 42 and uses all cores.
func DefaultTrainConfig(arch string) (TrainConfig, error) {
	cfg := TrainConfig{
		Arch:      arch,
		Segmenter: Segmenter{Mode: SegmentWords},
		Threshold: 0.5,
		Train:     TrainOptions{Threads: runtime.NumCPU(), Seed: 42},
	}
	switch arch {
	case ArchFastText:
		cfg.FastText = DefaultFastTextConfig()
		cfg.Train.Epochs, cfg.Train.LR = 5, 0.1
	case ArchTextCNN, ArchBiLSTM:
		cfg.NN = DefaultNNConfig()
		cfg.Train.Epochs, cfg.Train.LR = 10, 1e-3
		cfg.BatchSize = 32
	default:
		return TrainConfig{}, fmt.Errorf("unknown classic arch %q (want fasttext, textcnn or bilstm)", arch)
	}
	return cfg, nil
}
