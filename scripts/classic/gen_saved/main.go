// Command gen_saved writes the saved classic models that package classic's
// tests load: a tiny fastText-style (softmax and hs), TextCNN and BiLSTM model trained
// on testdata/classic/fasttext/train.txt, each with scores.json, the scores
// the model gave the texts of test.txt when it was saved. The committed
// directories were written before classic used package safetensors (at
// b95bc0b), so the test checks that models saved by earlier versions still
// load and predict the same. Run from the repository root:
//
//	go run ./scripts/classic/gen_saved
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
)

func main() {
	if err := run("testdata/classic/fasttext", "testdata/classic/saved"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	train, err := data.ReadFile(filepath.Join(in, "train.txt"), data.Options{})
	if err != nil {
		return err
	}
	test, err := data.ReadFile(filepath.Join(in, "test.txt"), data.Options{})
	if err != nil {
		return err
	}
	ft := classic.DefaultFastTextConfig()
	ft.Dim, ft.WordNgrams, ft.Bucket, ft.Minn, ft.Maxn = 8, 2, 200, 2, 4
	nn := classic.DefaultNNConfig()
	nn.Dim, nn.Filters, nn.Widths, nn.Hidden = 8, 4, []int{2, 3}, 4
	seg := classic.Segmenter{Mode: classic.SegmentWhitespace}
	opts := classic.TrainOptions{Epochs: 3, LR: 0.5, Threads: 1, Seed: 1}
	models := map[string]classic.TrainConfig{
		"fasttext": {Arch: classic.ArchFastText, FastText: ft, Segmenter: seg, Train: opts},
		"fasttext-hs": {Arch: classic.ArchFastText, FastText: func() classic.FastTextConfig {
			c := ft
			c.Loss = classic.LossHS
			return c
		}(), Segmenter: seg, Train: opts},
		"textcnn": {Arch: classic.ArchTextCNN, NN: nn, Segmenter: seg, BatchSize: 16, Train: classic.TrainOptions{Epochs: 2, LR: 0.01, Threads: 1, Seed: 1}},
		"bilstm":  {Arch: classic.ArchBiLSTM, NN: nn, Segmenter: seg, BatchSize: 16, Train: classic.TrainOptions{Epochs: 2, LR: 0.01, Threads: 1, Seed: 1}},
	}
	for name, cfg := range models {
		c, err := classic.Train(train, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		dir := filepath.Join(out, name)
		if err := c.Save(dir); err != nil {
			return err
		}
		var scores [][]float32
		for _, ex := range test.Examples {
			s, err := c.Scores(ex.Text, ex.TextPair)
			if err != nil {
				return err
			}
			scores = append(scores, s)
		}
		b, err := json.Marshal(scores)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "scores.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
