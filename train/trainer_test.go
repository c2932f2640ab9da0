package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/model"
)

const tinyBERT = "../testdata/tiny-bert"

// writeData writes a small separable sentiment set as TSV.
func writeData(t *testing.T, n int) string {
	t.Helper()
	pos := []string{"great movie", "a good film", "i loved it", "the best story", "fun and funny", "very good acting"}
	neg := []string{"bad movie", "an awful film", "i hated it", "the worst plot", "boring and sad", "very bad acting"}
	var b strings.Builder
	b.WriteString("sentence\tlabel\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s\tpositive\n%s\tnegative\n", pos[i%len(pos)], neg[(i+1)%len(neg)])
	}
	p := filepath.Join(t.TempDir(), "data.tsv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	w, err := checkpoint.LoadWeights(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	out := map[string][]float32{}
	for _, tn := range w.Tensors {
		out[tn.Name] = append([]float32(nil), tn.Data...)
	}
	return out
}

func TestTrainLearnsAndWritesHFModel(t *testing.T) {
	data := writeData(t, 12)
	out := t.TempDir()
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: data, Eval: data, Output: out,
		Epochs: 40, BatchSize: 4, LR: 1e-2, Seed: 1, LogSteps: 6, Metric: "accuracy"})
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	// A random tiny BERT plateaus before it separates the classes.
	if st.GlobalStep != 240 || st.MaxSteps != 240 {
		t.Fatalf("%d of %d steps, want 240 (40 epochs of 6)", st.GlobalStep, st.MaxSteps)
	}
	if st.BestMetric == nil || *st.BestMetric < 0.9 {
		t.Fatalf("best eval accuracy %v on separable data, want ≥ 0.9", fmtPtr(st.BestMetric))
	}
	var first, last float64
	for _, e := range st.LogHistory {
		if e.Loss != nil {
			if first == 0 {
				first = *e.Loss
			}
			last = *e.Loss
		}
	}
	if !(last < first/2) {
		t.Fatalf("training loss went from %g to %g", first, last)
	}
	cfg, err := checkpoint.LoadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Labels, ",") != "negative,positive" || cfg.ProblemType != model.SingleLabel ||
		len(cfg.Architectures) != 1 || cfg.Architectures[0] != "BertForSequenceClassification" {
		t.Fatalf("saved config: labels %v, problem %q, architectures %v", cfg.Labels, cfg.ProblemType, cfg.Architectures)
	}
	for _, f := range []string{"model.safetensors", "tokenizer.json", "trainer_state.json", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("output lacks %s: %v", f, err)
		}
	}
	lines, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	var evals int
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		var e LogEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("metrics.jsonl: %v: %s", err, l)
		}
		if e.Eval != nil {
			evals++
		}
	}
	if evals != 40 {
		t.Fatalf("%d evaluations logged, want one per epoch", evals)
	}
	// The saved model reloads and classifies the training data well.
	m, _, err := model.Load(out, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumLabels != 2 {
		t.Fatalf("reloaded model has %d labels", m.NumLabels)
	}
}

// Training 2 steps, stopping, and resuming from the checkpoint gives the same
// weights as training straight through (dropout on, shuffled batches).
func TestResumeEqualsStraightRun(t *testing.T) {
	data := writeData(t, 6)
	drop := 0.1
	base := Config{Model: tinyBERT, Train: data, Epochs: 2, BatchSize: 4, LR: 1e-3, Seed: 3, Dropout: &drop,
		WarmupSteps: 1, WeightDecay: 0.01, MaxGradNorm: 1, GradAccum: 1}
	straight := base
	straight.Output = t.TempDir()
	if _, err := Train(context.Background(), straight); err != nil {
		t.Fatal(err)
	}
	// A run that checkpoints every 2 steps; its checkpoint-2 is a stop after 2 steps.
	part := base
	part.Output = t.TempDir()
	part.SaveSteps = 2
	part.Epochs = 2
	if _, err := Train(context.Background(), part); err != nil {
		t.Fatal(err)
	}
	ckpt := LatestCheckpoint(part.Output)
	if ckpt == "" {
		t.Fatal("no checkpoint written")
	}
	resumed := base
	resumed.Output = t.TempDir()
	resumed.Resume = ckpt
	res, err := Train(context.Background(), resumed)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.GlobalStep != 6 {
		t.Fatalf("resumed run ended at step %d, want 6", res.State.GlobalStep)
	}
	want, got := readWeights(t, straight.Output), readWeights(t, resumed.Output)
	for name, w := range want {
		g := got[name]
		for i := range w {
			if math.Abs(float64(w[i]-g[i])) > 1e-6 {
				t.Fatalf("%s[%d]: resumed %g, straight %g", name, i, g[i], w[i])
			}
		}
	}
}

func TestTrainErrors(t *testing.T) {
	data := writeData(t, 2)
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	os.WriteFile(bad, []byte("sentence\tlabel\nonly text\n"), 0o644)
	one := filepath.Join(t.TempDir(), "one.tsv")
	os.WriteFile(one, []byte("sentence\tlabel\na\tx\nb\tx\n"), 0o644)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Model: tinyBERT, Train: bad, Output: t.TempDir()}, "bad.tsv"},
		{Config{Model: tinyBERT, Train: one, Output: t.TempDir()}, "at least 2"},
		{Config{Model: tinyBERT, Train: data, Output: t.TempDir(), Metric: "auc"}, "metric"},
		{Config{Model: tinyBERT, Train: data, Output: t.TempDir(), WarmupSteps: 2, WarmupRatio: 0.1}, "warmup"},
		{Config{Model: tinyBERT, Train: data, Output: t.TempDir(), ClassWeights: "1,2,3"}, "class weights"},
		{Config{Model: "/nonexistent", Train: data, Output: t.TempDir()}, "nonexistent"},
	} {
		if _, err := Train(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error mentioning %q", err, c.want)
		}
	}
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}
