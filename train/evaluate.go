package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/safetensors"
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
	logits, err := logitsOf(r.m, r.eval, r.cfg.EvalBatchSize)
	if err != nil {
		return false, err
	}
	scores, _, err := evalMetrics(r.m, r.labels, r.problem, r.eval, logits)
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
		st.BestMetric, st.BestStep, st.BadEvals = &v, st.GlobalStep, 0
		st.BestModelCheckpoint = r.cfg.Output
		return false, r.saveModel(r.cfg.Output)
	}
	st.BadEvals++
	return r.cfg.Patience > 0 && st.BadEvals >= r.cfg.Patience, nil
}

// saveCheckpoint writes checkpoint-<step>: the model, the optimizer
// moments and the trainer state, then removes the checkpoints beyond
// SaveTotalLimit.
func (r *run) saveCheckpoint() error {
	st := r.state
	dir := filepath.Join(r.cfg.Output, fmt.Sprintf("checkpoint-%d", st.GlobalStep))
	if err := r.saveModel(dir); err != nil {
		return err
	}
	step, m, v := r.stepper.Optimizer.State()
	var tensors []safetensors.Tensor
	for i, p := range r.m.Params() {
		tensors = append(tensors, safetensors.FromFloat32("exp_avg."+p.Name, p.Shape, m[i]),
			safetensors.FromFloat32("exp_avg_sq."+p.Name, p.Shape, v[i]))
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "optimizer.safetensors"), tensors, map[string]string{"step": strconv.Itoa(step)}); err != nil {
		return err
	}
	rng, err := r.m.RNGState()
	if err != nil {
		return err
	}
	st.RNG = rng
	if err := writeJSONAtomic(filepath.Join(dir, "trainer_state.json"), st); err != nil {
		return err
	}
	r.lastSave = dir
	if p := r.cfg.Progress; p != nil {
		p.Saved(dir)
	}
	for _, old := range checkpointsBeyondLimit(Checkpoints(r.cfg.Output), r.cfg.SaveTotalLimit, st.BestStep) {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("save total limit: %w", err)
		}
	}
	return nil
}

// checkpointsBeyondLimit are the checkpoints (oldest first) to delete to
// keep the limit most recent ones, and the best one (the checkpoint of
// bestStep) besides; limit 0 keeps all.
func checkpointsBeyondLimit(dirs []string, limit, bestStep int) []string {
	if limit <= 0 || len(dirs) <= limit {
		return nil
	}
	best := fmt.Sprintf("checkpoint-%d", bestStep)
	var out []string
	for _, d := range dirs[:len(dirs)-limit] {
		if filepath.Base(d) != best {
			out = append(out, d)
		}
	}
	return out
}

// restore continues from a checkpoint directory written by saveCheckpoint
// (the model weights were loaded from it already).
func (r *run) restore(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "trainer_state.json"))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("resume: %s: %w", filepath.Join(dir, "trainer_state.json"), err)
	}
	if strings.Join(st.Labels, "\x00") != strings.Join(r.labels, "\x00") || st.ProblemType != r.problem {
		return fmt.Errorf("resume: %s was trained on labels %v (%s), the data has %v (%s)", dir, st.Labels, st.ProblemType, r.labels, r.problem)
	}
	if st.MaxSteps != r.state.MaxSteps {
		return fmt.Errorf("resume: %s was planned for %d steps, this run for %d: keep the same data and options", dir, st.MaxSteps, r.state.MaxSteps)
	}
	f, err := safetensors.Open(filepath.Join(dir, "optimizer.safetensors"))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer f.Close()
	step, err := strconv.Atoi(f.Metadata()["step"])
	if err != nil {
		return fmt.Errorf("resume: %s: no optimizer step count", f.Path)
	}
	params := r.m.Params()
	m, v := make([][]float32, len(params)), make([][]float32, len(params))
	for i, p := range params {
		for _, k := range []struct {
			name string
			dst  *[]float32
		}{{"exp_avg." + p.Name, &m[i]}, {"exp_avg_sq." + p.Name, &v[i]}} {
			t, err := f.Tensor(k.name)
			if err != nil {
				return fmt.Errorf("resume: %s: %w", f.Path, err)
			}
			if *k.dst, err = t.Float32(); err != nil {
				return fmt.Errorf("resume: %s: %w", f.Path, err)
			}
			if len(*k.dst) != p.Size() {
				return fmt.Errorf("resume: %s: tensor %s has %d values, the model %d", f.Path, k.name, len(*k.dst), p.Size())
			}
		}
	}
	r.stepper.Optimizer.SetState(step, m, v)
	if err := r.m.SetRNGState(st.RNG); err != nil {
		return fmt.Errorf("resume: random state: %w", err)
	}
	*r.state = st
	return nil
}

// Checkpoints returns the checkpoint-N directories of output, by
// increasing N.
func Checkpoints(output string) []string {
	dirs, _ := filepath.Glob(filepath.Join(output, "checkpoint-*"))
	steps := map[string]int{}
	var out []string
	for _, d := range dirs {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "checkpoint-"))
		if st, serr := os.Stat(d); err == nil && serr == nil && st.IsDir() {
			steps[d] = n
			out = append(out, d)
		}
	}
	sort.Slice(out, func(a, b int) bool { return steps[out[a]] < steps[out[b]] })
	return out
}

// LatestCheckpoint returns the checkpoint-N directory of output with the
// largest N, or "" if there is none.
func LatestCheckpoint(output string) string {
	dirs := Checkpoints(output)
	if len(dirs) == 0 {
		return ""
	}
	return dirs[len(dirs)-1]
}
