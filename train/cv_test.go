package train

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/textclf/textclf/data"
)

func TestStratifiedFolds(t *testing.T) {
	ds := &data.Dataset{}
	for i := 0; i < 30; i++ {
		label := "a"
		if i%3 == 0 {
			label = "b" // 10 b, 20 a
		}
		ds.Examples = append(ds.Examples, data.Example{Text: fmt.Sprint(i), Labels: []string{label}})
	}
	folds, err := StratifiedFolds(ds, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for i, f := range folds {
		b := 0
		for _, idx := range f {
			if ds.Examples[idx].Labels[0] == "b" {
				b++
			}
		}
		if len(f) != 6 || b != 2 {
			t.Errorf("fold %d: %d examples with %d of label b, want 6 with 2", i, len(f), b)
		}
		all = append(all, f...)
	}
	sort.Ints(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("folds do not partition the examples: %v", all)
		}
	}
	again, _ := StratifiedFolds(ds, 5, 7)
	if fmt.Sprint(again) != fmt.Sprint(folds) {
		t.Error("the same seed gave different folds")
	}
	if _, err := StratifiedFolds(ds, 31, 1); err == nil {
		t.Error("31 folds of 30 examples were accepted")
	}
}

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
