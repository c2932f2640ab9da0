package train

import (
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// logitsOf runs inference on examples in batches of at most batchSize
// examples of similar length (data.InferenceBatches).
func logitsOf(m *model.Model, exs []example, batchSize int) ([][]float32, error) {
	out := make([][]float32, len(exs))
	lengths := make([]int, len(exs))
	for i, ex := range exs {
		lengths[i] = len(ex.ids)
	}
	for _, idx := range data.InferenceBatches(lengths, batchSize) {
		b, _ := microBatch(exs, idx, model.SingleLabel, m.PadID())
		logits, err := m.Forward(b)
		if err != nil {
			return nil, err
		}
		l := m.NumLabels
		for i, j := range idx {
			out[j] = logits[i*l : (i+1)*l : (i+1)*l]
		}
	}
	return out, nil
}

// evalMetrics computes the loss and the metrics of logits against examples.
func evalMetrics(m *model.Model, labels []string, problem string, exs []example, logits [][]float32) (map[string]float64, *metrics.Report, error) {
	out := map[string]float64{}
	var total float64
	var rep *metrics.Report
	var err error
	switch problem {
	case model.SingleLabel:
		gold, pred := make([]int, len(exs)), make([]int, len(exs))
		for i, ex := range exs {
			loss, err := nn.CrossEntropy(nil, logits[i], []int{ex.class}, m.NumLabels, nil)
			if err != nil {
				return nil, nil, err
			}
			total += float64(loss)
			gold[i], pred[i] = ex.class, metrics.Argmax(logits[i])
		}
		if rep, err = metrics.Classification(labels, gold, pred); err != nil {
			return nil, nil, err
		}
		out["accuracy"], out["f1"] = rep.Accuracy, rep.Macro.F1
	case model.MultiLabel:
		gold, scores := make([][]int, len(exs)), make([][]float32, len(exs))
		for i, ex := range exs {
			total += float64(nn.BCEWithLogits(nil, logits[i], ex.values))
			gold[i] = ex.gold
			scores[i] = make([]float32, len(logits[i]))
			tensor.Sigmoid(scores[i], logits[i])
		}
		if rep, err = metrics.MultiLabel(labels, gold, scores, 0.5); err != nil {
			return nil, nil, err
		}
		out["accuracy"], out["f1"] = rep.Accuracy, rep.Macro.F1
	case model.Regression:
		for i, ex := range exs {
			total += float64(nn.MSE(nil, logits[i], ex.values))
		}
	}
	out["loss"] = total / float64(max(1, len(exs)))
	return out, rep, nil
}

// evaluate scores the evaluation set, saves the model when it is the best so
// far and reports whether early stopping should end training.
func (r *run) evaluate() (bool, error) {
	scores, err := r.scores()
	if err != nil {
		return false, err
	}
	st := r.state
	if err := r.record(LogEntry{Step: st.GlobalStep, Epoch: st.Epoch, Eval: scores}); err != nil {
		return false, err
	}
	metric := r.cfg.Metric
	if r.problem == model.Regression {
		metric = "loss"
	}
	v := scores[metric]
	better := st.BestMetric == nil || (metric == "loss" && v < *st.BestMetric) || (metric != "loss" && v > *st.BestMetric)
	if p := r.cfg.Progress; p != nil {
		p.Evaluated(EvalInfo{Step: st.GlobalStep, Epoch: st.Epoch, Scores: scores, Best: better})
	}
	if better {
		if err := r.saveModel(r.cfg.Output); err != nil {
			return false, err
		}
		st.BestMetric, st.BestStep, st.BadEvals = &v, st.GlobalStep, 0
		st.BestModelCheckpoint = r.cfg.Output
		return false, r.logSaved(".")
	}
	st.BadEvals++
	return r.cfg.Patience > 0 && st.BadEvals >= r.cfg.Patience, nil
}

// scores evaluates the model on the evaluation set.
func (r *run) scores() (map[string]float64, error) {
	if r.mlm != nil {
		return r.mlmScores()
	}
	logits, err := logitsOf(r.m, r.eval, r.cfg.EvalBatchSize)
	if err != nil {
		return nil, err
	}
	scores, _, err := evalMetrics(r.m, r.labels, r.problem, r.eval, logits)
	return scores, err
}
