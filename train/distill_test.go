package train

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/nn"
)

var teacherLabels = []string{"negative", "neutral", "positive"}

// oppositeTeacher gives each example of ds logits that put the label
// opposite to its own (positive ↔ negative) first.
func oppositeTeacher(ds *data.Dataset) [][]float32 {
	out := make([][]float32, len(ds.Examples))
	for i, ex := range ds.Examples {
		out[i] = []float32{3, 0, -3}
		if ex.Labels[0] == "negative" {
			out[i] = []float32{-3, 0, 3}
		}
	}
	return out
}

// loggedLosses reads the training losses of metrics.jsonl.
func loggedLosses(t *testing.T, dir string) []float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("metrics.jsonl: %v: %s", err, sc.Text())
		}
		if e.Loss != nil {
			out = append(out, *e.Loss)
		}
	}
	return out
}

// A transformer student made of every other layer of the tiny BERT learns
// from the teacher's logits: with alpha 1 its distillation loss falls in
// metrics.jsonl and it follows the teacher where the hard labels say the
// opposite; it is saved with the teacher's labels and half its layers.
func TestDistillEveryOtherLayerStudent(t *testing.T) {
	ds, err := data.ReadFile(writeData(t, 12), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cfg := Config{Model: tinyBERT, EveryOtherLayer: true, Output: out, Epochs: 15, BatchSize: 8, LR: 1e-2, Seed: 1, LogSteps: 3,
		Distill: &Distillation{Loss: nn.SoftTargets{Loss: nn.DistillKL, Temperature: 2, Alpha: 1}, Labels: teacherLabels, Teacher: oppositeTeacher(ds)}}
	res, err := TrainData(context.Background(), cfg, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "a student of every other layer of the teacher (its layers 0 of 2; 23 weights copied)") {
		t.Errorf("warnings %q do not say how the student was made", w)
	}
	losses := loggedLosses(t, out)
	if len(losses) < 10 || !(losses[len(losses)-1] < losses[0]/4) {
		t.Fatalf("distillation losses in metrics.jsonl: %v, want a fall to under a quarter", losses)
	}
	mc, err := checkpoint.LoadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(mc.Labels, ",") != strings.Join(teacherLabels, ",") || mc.NumHiddenLayers != 1 {
		t.Fatalf("saved student: labels %v, %d layers", mc.Labels, mc.NumHiddenLayers)
	}
	m, _, err := model.Load(out, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The student says what the teacher says, not the hard labels.
	r := &run{cfg: cfg}
	if err := r.loadTokenizer(); err != nil {
		t.Fatal(err)
	}
	follows := 0
	for _, ex := range ds.Examples {
		enc, err := r.tk.Encode(ex.Text, true)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := m.Forward(model.PadBatch([][]int{enc.IDs}, [][]int{enc.TypeIDs}, m.PadID()))
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for j, v := range logits {
			if v > logits[best] {
				best = j
			}
		}
		if (teacherLabels[best] == "negative") == (ex.Labels[0] == "positive") {
			follows++
		}
	}
	if follows < len(ds.Examples)*9/10 {
		t.Fatalf("the student follows the teacher on %d of %d examples", follows, len(ds.Examples))
	}
}

// Bad distillation input is refused before anything is written.
func TestDistillRefuses(t *testing.T) {
	ds, err := data.ReadFile(writeData(t, 3), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := func() Config {
		return Config{Model: tinyBERT, Epochs: 1, Distill: &Distillation{Loss: nn.SoftTargets{Loss: nn.DistillKL}, Labels: teacherLabels, Teacher: oppositeTeacher(ds)}}
	}
	vocabSmall := filepath.Join(t.TempDir(), "config.json")
	b, _ := os.ReadFile(filepath.Join(tinyBERT, "config.json"))
	if err := os.WriteFile(vocabSmall, []byte(strings.Replace(string(b), `"vocab_size": 99`, `"vocab_size": 50`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"validation split", func(c *Config) { c.ValidationSplit = 0.2 }, "not with a validation split"},
		{"class weights", func(c *Config) { c.ClassWeights = "auto" }, "class weights do not apply"},
		{"multi-label", func(c *Config) { c.ProblemType = model.MultiLabel }, "single-label students"},
		{"alpha", func(c *Config) { c.Distill.Loss.Alpha = 2 }, "alpha 2"},
		{"few logits", func(c *Config) { c.Distill.Teacher = c.Distill.Teacher[1:] }, "5 teacher logits for 6 training examples"},
		{"other labels", func(c *Config) { c.Distill.Labels = []string{"neg", "neutral", "pos"} }, `unknown label "positive"`},
		{"every other layer of a config", func(c *Config) { c.EveryOtherLayer, c.ModelConfig = true, "bert-tiny" }, "from a teacher checkpoint"},
		{"vocab", func(c *Config) { c.ModelConfig = vocabSmall }, "vocab_size 50 is smaller than the tokenizer's 99 tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			cfg.Output = filepath.Join(t.TempDir(), "out")
			tc.edit(&cfg)
			_, err := TrainData(context.Background(), cfg, ds, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error saying %q", err, tc.want)
			}
			if _, err := os.Stat(cfg.Output); !os.IsNotExist(err) {
				t.Fatalf("%s written: %v", cfg.Output, err)
			}
		})
	}
}

// CheckModel finds, without weights or data, a student config whose
// vocabulary does not hold the tokenizer's, and an every-other-layer
// teacher outside the BERT family or of one layer.
func TestCheckModel(t *testing.T) {
	dir := t.TempDir()
	write := func(name, edit string) string {
		b, _ := os.ReadFile(filepath.Join(tinyBERT, "config.json"))
		p := filepath.Join(dir, name)
		s := string(b)
		if edit != "" {
			s = strings.Replace(s, `"vocab_size": 99`, edit, 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := CheckModel(Config{Model: tinyBERT, EveryOtherLayer: true}); err != nil {
		t.Fatalf("the tiny BERT: %v", err)
	}
	if err := CheckModel(Config{Tokenizer: tinyBERT, ModelConfig: "bert-tiny"}); err != nil {
		t.Fatalf("a preset: %v", err)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Tokenizer: tinyBERT, ModelConfig: write("small.json", `"vocab_size": 50`)}, "vocab_size 50 is smaller than the tokenizer's 99 tokens"},
		{Config{Tokenizer: tinyBERT, Model: write("one.json", `"vocab_size": 99, "num_hidden_layers": 1`), EveryOtherLayer: true}, "has 1 layer(s)"},
		{Config{Tokenizer: tinyBERT, Model: write("gpt2.json", `"vocab_size": 99, "model_type": "gpt2", "n_layer": 2`), EveryOtherLayer: true}, "teacher is a gpt2 model"},
		{Config{ModelConfig: "bert-tiny"}, "needs a tokenizer"},
	} {
		if err := CheckModel(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.cfg, err, tc.want)
		}
	}
}
