package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/tokenizer"
	"github.com/textclf/textclf/train/tensorboard"
)

// recorder is a Progress that keeps what it is told, in order.
type recorder struct {
	events []string
	evals  []EvalInfo
	saved  []string
	onSave func(dir string)
}

func (r *recorder) Warning(msg string) { r.events = append(r.events, "warning: "+msg) }
func (r *recorder) Step(s StepInfo) {
	r.events = append(r.events, fmt.Sprintf("step %d/%d", s.Step, s.MaxSteps))
}
func (r *recorder) Evaluated(e EvalInfo) {
	r.events = append(r.events, fmt.Sprintf("eval %d", e.Step))
	r.evals = append(r.evals, e)
}
func (r *recorder) Saved(dir string) {
	r.events = append(r.events, "saved "+filepath.Base(dir))
	r.saved = append(r.saved, dir)
	if r.onSave != nil {
		r.onSave(dir)
	}
}

// The Go API's zero MaxGradNorm clips at 1, as the CLI does; NoClipping
// turns clipping off.
func TestZeroMaxGradNormClipsAtOne(t *testing.T) {
	data := writeData(t, 6)
	run := func(norm float64) (map[string][]float32, float64) {
		out := t.TempDir()
		res, err := Train(context.Background(), Config{Model: tinyBERT, Train: data, Output: out, MaxSteps: 2, BatchSize: 4, LR: 1e-2, MaxGradNorm: norm, LogSteps: 1})
		if err != nil {
			t.Fatal(err)
		}
		return readWeights(t, out), *res.State.LogHistory[0].GradNorm
	}
	zero, gradNorm := run(0)
	if gradNorm <= 1 {
		t.Fatalf("gradient norm %g: the test needs one above 1 to see clipping", gradNorm)
	}
	one, _ := run(1)
	off, _ := run(NoClipping)
	if diff := maxDiff(zero, one); diff != 0 {
		t.Errorf("MaxGradNorm 0 and 1 differ by %g: zero does not take the default 1", diff)
	}
	if diff := maxDiff(zero, off); diff < 1e-6 {
		t.Errorf("clipping on and off give the same weights (max difference %g)", diff)
	}
	if c := DefaultConfig(); c.MaxGradNorm != 1 || c.Epochs != 3 || c.BatchSize != 8 || c.LR != 5e-5 || c.Seed != 42 || c.MaxLength != 128 ||
		c.Scheduler != "linear" || c.LogSteps != 50 || c.Metric != "accuracy" || c.EvalBatchSize != 32 || c.GradAccum != 1 {
		t.Errorf("DefaultConfig %+v", c)
	}
}

func maxDiff(a, b map[string][]float32) float64 {
	var d float64
	for name, w := range a {
		for i := range w {
			d = max(d, math.Abs(float64(w[i]-b[name][i])))
		}
	}
	return d
}

// Progress hears of newly initialised weights before the first step, and of
// every step, evaluation and checkpoint.
func TestProgressReportsAsItHappens(t *testing.T) {
	data := writeData(t, 4) // 8 rows: 2 steps an epoch
	rec := &recorder{}
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: data, Eval: data, Output: t.TempDir(), Epochs: 2, BatchSize: 4, Progress: rec})
	if err != nil {
		t.Fatal(err)
	}
	firstStep := slices.Index(rec.events, "step 1/4")
	warned := slices.IndexFunc(rec.events, func(e string) bool { return strings.Contains(e, "newly initialized") })
	if warned < 0 || firstStep < 0 || warned > firstStep {
		t.Fatalf("events %q: want the newly-initialized notice before step 1", rec.events)
	}
	want := []string{"step 1/4", "step 2/4", "eval 2", "saved checkpoint-2", "step 3/4", "step 4/4", "eval 4"}
	if got := rec.events[firstStep:]; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if !rec.evals[0].Best || rec.evals[0].Scores["accuracy"] != res.State.LogHistory[1].Eval["accuracy"] {
		t.Errorf("first evaluation %+v, logged %+v", rec.evals[0], res.State.LogHistory[1])
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "newly initialized") }) {
		t.Errorf("result warnings %q", res.Warnings)
	}
}

// A cancelled context stops training with an error naming the newest
// checkpoint, which resumes it.
func TestInterruptNamesCheckpoint(t *testing.T) {
	data := writeData(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	rec := &recorder{onSave: func(string) { cancel() }}
	_, err := Train(ctx, Config{Model: tinyBERT, Train: data, Output: out, Epochs: 3, BatchSize: 4, SaveSteps: 2, Progress: rec})
	var in *Interrupted
	if !errors.As(err, &in) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want an Interrupted wrapping context.Canceled", err)
	}
	if in.Step != 2 || in.Checkpoint != filepath.Join(out, "checkpoint-2") || !strings.Contains(err.Error(), in.Checkpoint) {
		t.Fatalf("interrupted at step %d with checkpoint %q: %v", in.Step, in.Checkpoint, err)
	}
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: data, Output: out, Epochs: 3, BatchSize: 4, SaveSteps: 2, Resume: in.Checkpoint})
	if err != nil || res.State.GlobalStep != 6 {
		t.Fatalf("resume: %v", err)
	}
}

func TestMaxStepsOverridesEpochs(t *testing.T) {
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: writeData(t, 6), Output: t.TempDir(), Epochs: 1, MaxSteps: 5, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.State; st.GlobalStep != 5 || st.MaxSteps != 5 || math.Abs(st.Epoch-5.0/3) > 1e-12 {
		t.Fatalf("step %d of %d, epoch %g; want 5 of 5 over 5/3 epochs", st.GlobalStep, st.MaxSteps, st.Epoch)
	}
}

func TestValidationSplitAndMaxTrainSamples(t *testing.T) {
	path := writeData(t, 12) // 24 rows, 12 of each label
	base := Config{Model: tinyBERT, Train: path, Output: t.TempDir(), Epochs: 1, BatchSize: 4, ValidationSplit: 0.25}
	rec := &recorder{}
	base.Progress = rec
	res, err := Train(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if st := res.State; st.MaxSteps != 5 || len(rec.evals) != 1 {
		t.Fatalf("%d steps and %d evaluations, want 5 (18 training rows) and 1", st.MaxSteps, len(rec.evals))
	}
	capped := base
	capped.Output, capped.MaxTrainSamples, capped.Progress = t.TempDir(), 8, nil
	if res, err = Train(context.Background(), capped); err != nil {
		t.Fatal(err)
	}
	if res.State.MaxSteps != 2 {
		t.Fatalf("%d steps with 8 training samples in batches of 4", res.State.MaxSteps)
	}
	both := base
	both.Eval, both.Progress = path, nil
	if _, err := Train(context.Background(), both); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("eval data and a validation split: %v", err)
	}
}

func TestSaveTotalLimit(t *testing.T) {
	path := writeData(t, 6) // 3 steps an epoch
	ckpts := func(out string) (names []string) {
		for _, d := range Checkpoints(out) {
			names = append(names, filepath.Base(d))
		}
		return names
	}
	all := Config{Model: tinyBERT, Train: path, Output: t.TempDir(), Epochs: 2, BatchSize: 4, SaveSteps: 1}
	if _, err := Train(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if got := ckpts(all.Output); !slices.Equal(got, []string{"checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4", "checkpoint-5"}) {
		t.Fatalf("without a limit kept %q, want every checkpoint", got)
	}
	limited := all
	limited.Output, limited.SaveTotalLimit, limited.Eval, limited.EvalSteps, limited.Metric = t.TempDir(), 1, path, 1, "loss"
	res, err := Train(context.Background(), limited)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"checkpoint-5"}
	if best := res.State.BestStep; best < 5 {
		want = []string{fmt.Sprintf("checkpoint-%d", best), "checkpoint-5"}
	}
	if got := ckpts(limited.Output); !slices.Equal(got, want) {
		t.Fatalf("limit 1 with best step %d kept %q, want %q", res.State.BestStep, got, want)
	}
	if got := checkpointsBeyondLimit([]string{"o/checkpoint-2", "o/checkpoint-4", "o/checkpoint-6", "o/checkpoint-8"}, 2, 2); !slices.Equal(got, []string{"o/checkpoint-4"}) {
		t.Errorf("beyond limit 2 with best 2: %q", got)
	}
}

func TestLoggingDirHoldsTensorBoardEvents(t *testing.T) {
	path := writeData(t, 4)
	logDir := filepath.Join(t.TempDir(), "runs")
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: path, Eval: path, Output: t.TempDir(), Epochs: 2, BatchSize: 4, LogSteps: 1, LoggingDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(logDir, "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("event files %q", files)
	}
	events, err := tensorboard.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, e := range events[1:] {
		for _, s := range e.Scalars {
			got[fmt.Sprintf("%s@%d", s.Tag, e.Step)] = s.Value
		}
	}
	for _, e := range res.State.LogHistory {
		if e.Loss != nil && got[fmt.Sprintf("train/loss@%d", e.Step)] != float64(float32(*e.Loss)) {
			t.Errorf("train/loss at step %d: %v, logged %v", e.Step, got[fmt.Sprintf("train/loss@%d", e.Step)], *e.Loss)
		}
		if e.Eval != nil && got[fmt.Sprintf("eval/accuracy@%d", e.Step)] != float64(float32(e.Eval["accuracy"])) {
			t.Errorf("eval/accuracy at step %d: %v, logged %v", e.Step, got[fmt.Sprintf("eval/accuracy@%d", e.Step)], e.Eval["accuracy"])
		}
	}
	if _, ok := got["train/learning_rate@4"]; !ok || len(got) < 10 {
		t.Errorf("scalars %v", got)
	}
}

// A model of a config.json trains from random weights with the tokenizer
// given apart, and saves a complete model directory.
func TestTrainFromConfig(t *testing.T) {
	path := writeData(t, 4)
	out := t.TempDir()
	res, err := Train(context.Background(), Config{ModelConfig: filepath.Join(tinyBERT, "config.json"), Tokenizer: tinyBERT, Train: path, Output: out, Epochs: 1, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "every weight is newly initialized") }) {
		t.Errorf("warnings %q", res.Warnings)
	}
	cfg, err := checkpoint.LoadConfig(out)
	if err != nil || !slices.Equal(cfg.Labels, []string{"negative", "positive"}) || cfg.HiddenSize != 32 {
		t.Fatalf("saved config %+v (%v)", cfg, err)
	}
	if _, err := os.Stat(filepath.Join(out, "tokenizer.json")); err != nil {
		t.Fatal("the tokenizer was not saved with the model")
	}
	// Pretrained weights differ from the random ones.
	if maxDiff(readWeights(t, out), readWeights(t, tinyBERT)) < 1e-3 {
		t.Error("the model trained from a config has the checkpoint's weights")
	}
	if _, err := Train(context.Background(), Config{ModelConfig: "minilm", Train: path, Output: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "needs a tokenizer") {
		t.Errorf("no tokenizer: %v", err)
	}
}

func TestModelConfigFor(t *testing.T) {
	tk, err := tokenizer.Load(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := modelConfigFor("minilm", tk)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HiddenSize != 384 || cfg.NumHiddenLayers != 6 || cfg.VocabSize != tk.VocabSize() {
		t.Fatalf("minilm preset: hidden %d, layers %d, vocab %d (tokenizer %d)", cfg.HiddenSize, cfg.NumHiddenLayers, cfg.VocabSize, tk.VocabSize())
	}
	if _, err := modelConfigFor("gpt-9", tk); err == nil || !strings.Contains(err.Error(), "bert-base, minilm, gpt2, qwen2-0.5b, modernbert-base") {
		t.Errorf("unknown preset: %v", err)
	}
	small := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(small, []byte(`{"model_type":"bert","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":8}`), 0o644)
	if _, err := modelConfigFor(small, tk); err == nil || !strings.Contains(err.Error(), "vocab_size 10") {
		t.Errorf("config vocabulary smaller than the tokenizer's: %v", err)
	}
}

// Labels with one example are warned about; label names keep their order
// in the saved model.
func TestDataWarningsAndLabelNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.tsv")
	os.WriteFile(path, []byte("great movie\t2\nbad movie\t0\ngood film\t2\nawful film\t0\nso so\t1\n"), 0o644)
	out := t.TempDir()
	names := []string{"neg", "neutral", "pos"}
	rec := &recorder{}
	res, err := Train(context.Background(), Config{Model: tinyBERT, Train: path, Output: out, Epochs: 1, Progress: rec,
		Data: data.Options{Header: data.HeaderNo, LabelNames: names}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rec.events, `warning: `+path+`: label "neutral" has a single example (line 5)`) || len(res.Warnings) == 0 {
		t.Errorf("events %q", rec.events)
	}
	cfg, err := checkpoint.LoadConfig(out)
	if err != nil || !slices.Equal(cfg.Labels, names) {
		t.Fatalf("saved labels %v (%v), want %v", cfg.Labels, err, names)
	}
}
