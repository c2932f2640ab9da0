package train

import (
	"context"
	"math"
	"testing"
)

func TestCrossValidate(t *testing.T) {
	res, err := CrossValidate(context.Background(), Config{Model: tinyBERT, Train: writeData(t, 6), Output: t.TempDir(),
		Epochs: 1, BatchSize: 4, Seed: 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Folds) != 3 {
		t.Fatalf("%d folds", len(res.Folds))
	}
	var sum float64
	for _, f := range res.Folds {
		if f.Train != 8 || f.Eval != 4 {
			t.Errorf("fold %d: %d train, %d eval, want 8 and 4", f.Fold, f.Train, f.Eval)
		}
		sum += f.Scores["accuracy"]
	}
	if math.Abs(res.Mean["accuracy"]-sum/3) > 1e-12 {
		t.Errorf("mean accuracy %g, want %g", res.Mean["accuracy"], sum/3)
	}
	if _, ok := res.Std["loss"]; !ok {
		t.Error("no standard deviation of the loss")
	}
}
