package textclf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/textclf/textclf"
)

// Classify texts with a model directory (or a hub id such as
// "distilbert-base-uncased-finetuned-sst-2-english"). testdata/tiny-bert is
// a tiny random BERT, so its labels mean nothing.
func ExampleClassifier_Classify() {
	ctx := context.Background()
	clf, err := textclf.Open(ctx, "testdata/tiny-bert", textclf.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	preds, err := clf.Classify(ctx, "这是一个示例文本", "a great film")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range preds {
		fmt.Println(p.Label, len(p.Scores))
	}
	// Output:
	// positive 3
	// negative 3
}

// Fine-tune a model on a TSV file with a header (sentence, label).
func ExampleTrain() {
	dir, _ := os.MkdirTemp("", "textclf-example")
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "train.tsv")
	os.WriteFile(data, []byte("sentence\tlabel\ngreat movie\tpos\nbad film\tneg\ni loved it\tpos\ni hated it\tneg\n"), 0o644)
	res, err := textclf.Train(context.Background(), textclf.TrainConfig{
		Model: "testdata/tiny-bert", Train: data, Output: filepath.Join(dir, "model"), Epochs: 2, BatchSize: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.State.GlobalStep, "steps; labels", res.State.Labels)
	// Output: 4 steps; labels [neg pos]
}
