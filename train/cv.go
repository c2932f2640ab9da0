package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/textclf/textclf/data"
)

// FoldResult is the evaluation of one fold: the best evaluation scores of
// the model trained on the other folds.
type FoldResult struct {
	Fold   int                `json:"fold"`
	Train  int                `json:"train_examples"`
	Eval   int                `json:"eval_examples"`
	Scores map[string]float64 `json:"scores"`
}

// CVResult is a K-fold cross-validation: each fold's scores and their mean
// and (sample) standard deviation.
type CVResult struct {
	Folds []FoldResult       `json:"folds"`
	Mean  map[string]float64 `json:"mean"`
	Std   map[string]float64 `json:"std"`
}

// CrossValidate runs stratified K-fold cross-validation of cfg on cfg.Train:
// the examples of each label (the first label of multi-label rows) are
// shuffled with cfg.Seed and dealt round-robin into k folds; each fold is
// evaluated by a model trained on the others, written to cfg.Output/fold-i.
func CrossValidate(ctx context.Context, cfg Config, k int) (*CVResult, error) {
	if k < 2 {
		return nil, fmt.Errorf("cv: need at least 2 folds, got %d", k)
	}
	cfg.Defaults()
	if cfg.ValidationSplit > 0 || cfg.Resume != "" {
		return nil, fmt.Errorf("cv: the folds are the evaluation data; a validation split or a resume does not apply")
	}
	ds, err := data.ReadFile(cfg.Train, cfg.Data)
	if err != nil {
		return nil, err
	}
	folds, err := data.StratifiedFolds(ds, k, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("cv: %w", err)
	}
	res := &CVResult{Mean: map[string]float64{}, Std: map[string]float64{}}
	for i := range folds {
		trainSet := &data.Dataset{Path: ds.Path, MultiLabel: ds.MultiLabel, LabelNames: ds.LabelNames}
		evalSet := &data.Dataset{Path: fmt.Sprintf("%s (fold %d)", ds.Path, i+1), MultiLabel: ds.MultiLabel, LabelNames: ds.LabelNames}
		for j, f := range folds {
			for _, idx := range f {
				if j == i {
					evalSet.Examples = append(evalSet.Examples, ds.Examples[idx])
				} else {
					trainSet.Examples = append(trainSet.Examples, ds.Examples[idx])
				}
			}
		}
		fc := cfg
		fc.Output = filepath.Join(cfg.Output, fmt.Sprintf("fold-%d", i+1))
		fc.Eval = ""
		r, err := TrainData(ctx, fc, trainSet, evalSet)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", i+1, err)
		}
		res.Folds = append(res.Folds, FoldResult{Fold: i + 1, Train: len(trainSet.Examples), Eval: len(evalSet.Examples), Scores: bestEval(r.State)})
	}
	for name := range res.Folds[0].Scores {
		var sum float64
		for _, f := range res.Folds {
			sum += f.Scores[name]
		}
		mean := sum / float64(k)
		var ss float64
		for _, f := range res.Folds {
			ss += (f.Scores[name] - mean) * (f.Scores[name] - mean)
		}
		res.Mean[name], res.Std[name] = mean, math.Sqrt(ss/float64(k-1))
	}
	return res, nil
}

// bestEval returns the evaluation scores logged at the best step.
func bestEval(st *State) map[string]float64 {
	var last map[string]float64
	for _, e := range st.LogHistory {
		if e.Eval != nil {
			last = e.Eval
			if e.Step == st.BestStep {
				return e.Eval
			}
		}
	}
	return last
}
