package train

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/internal/golden"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/privacy"
)

// A DP-SGD step's gradient is the sum of the examples' clipped gradients
// (PyTorch's, one backward per example: testdata/privacy) plus noise,
// divided by the expected batch size; without noise, exactly that sum.
func TestStepDPClipsLikeOpacus(t *testing.T) {
	dir := "../testdata/model/bert-single-label"
	m, _, err := model.Load(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	g := golden.Open(t, filepath.Join(dir, "golden.safetensors"))
	ids, shape := g.Ints(t, "input_ids")
	mask, _ := g.Ints(t, "attention_mask")
	types, _ := g.Ints(t, "token_type_ids")
	classes, _ := g.Ints(t, "labels")
	batch := &model.Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask, TokenTypeIDs: types}
	want := golden.Open(t, "../testdata/privacy/bert-single-label.safetensors")
	plan := &privacy.Plan{Config: privacy.Config{MaxGradNorm: float64(want.Floats(t, "max_grad_norm")[0]), Delta: 1e-5},
		SampleRate: 0.1, ExpectedBatchSize: 4, Steps: 1}
	s := &Stepper{Model: m, Optimizer: NewAdamW(m.Params(), AdamWConfig{LR: 0}), Schedule: constantSchedule(t), BaseLR: 0}
	if _, err := s.StepDP(batch, &model.Labels{Classes: classes}, plan, 1, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		clipped := want.Floats(t, "clipped."+p.Name)
		for i := range clipped {
			clipped[i] /= 4
		}
		compareRel(t, p.Name, p.Grad, clipped, 1e-4)
	}
	// With noise, the difference is noise of standard deviation σC/E.
	plan.NoiseMultiplier = 0.5
	if _, err := s.StepDP(batch, &model.Labels{Classes: classes}, plan, 1, 0); err != nil {
		t.Fatal(err)
	}
	var n, sumSq float64
	for _, p := range m.Params() {
		clipped := want.Floats(t, "clipped."+p.Name)
		for i, v := range p.Grad {
			d := float64(v) - float64(clipped[i])/4
			n++
			sumSq += d * d
		}
	}
	if std, wantStd := math.Sqrt(sumSq/n), 0.5*plan.MaxGradNorm/4; math.Abs(std-wantStd) > 0.03*wantStd {
		t.Fatalf("noise std %g, want %g", std, wantStd)
	}
}

func constantSchedule(t *testing.T) Schedule {
	s, err := NewSchedule("constant", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// compareRel checks got against want within tol of want's norm (at least
// 1e-2, as the model's golden tests: some gradients, the keys' biases, are
// zero in exact arithmetic).
func compareRel(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	var diff, norm float64
	for i := range want {
		d := float64(got[i] - want[i])
		diff += d * d
		norm += float64(want[i]) * float64(want[i])
	}
	if math.Sqrt(diff) > tol*math.Max(math.Sqrt(norm), 1e-2) {
		t.Errorf("%s: differs by %g, norm %g", name, math.Sqrt(diff), math.Sqrt(norm))
	}
}

// A private run spends at most its budget, logs ε as it goes, writes it
// into config.json, and resumes to the same weights (its batches and noise
// are functions of the seed and the step).
func TestTrainDP(t *testing.T) {
	data := writeData(t, 12) // 24 examples: 6 steps an epoch in batches of 4
	base := Config{Model: tinyBERT, Train: data, Epochs: 2, BatchSize: 4, LR: 1e-3, Seed: 5, LogSteps: 2,
		DP: &privacy.Config{Epsilon: 50, MaxGradNorm: 0.5}}
	straight := base
	straight.Output = t.TempDir()
	res, err := Train(context.Background(), straight)
	if err != nil {
		t.Fatal(err)
	}
	if res.Privacy == nil || res.State.GlobalStep != 12 || res.Epsilon > 50 || res.Epsilon < 49.99 || res.Privacy.Delta != 1.0/24 {
		t.Fatalf("private run: %d steps, ε %g, plan %+v", res.State.GlobalStep, res.Epsilon, res.Privacy)
	}
	var last float64
	f, err := os.Open(filepath.Join(straight.Output, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	logged := 0
	for sc.Scan() {
		var e LogEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Loss == nil {
			continue
		}
		if e.Epsilon == nil || *e.Epsilon <= last {
			t.Fatalf("metrics.jsonl line %s: ε must be logged and grow", sc.Text())
		}
		last = *e.Epsilon
		logged++
	}
	if logged != 6 || math.Abs(last-res.Epsilon) > 1e-12 {
		t.Fatalf("%d training lines, last ε %g, run's %g", logged, last, res.Epsilon)
	}
	var cfg struct {
		DP struct {
			Epsilon         float64 `json:"epsilon"`
			NoiseMultiplier float64 `json:"noise_multiplier"`
			SampleRate      float64 `json:"sample_rate"`
			StepsTaken      int     `json:"steps_taken"`
		} `json:"textclf_differential_privacy"`
	}
	b, _ := os.ReadFile(filepath.Join(straight.Output, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.DP.StepsTaken != 12 || cfg.DP.Epsilon != res.Epsilon || cfg.DP.SampleRate != 1.0/6 || cfg.DP.NoiseMultiplier != res.Privacy.NoiseMultiplier {
		t.Fatalf("config.json's privacy record: %+v (%v)", cfg.DP, err)
	}

	part := base
	part.Output, part.SaveSteps = t.TempDir(), 5
	if _, err := Train(context.Background(), part); err != nil {
		t.Fatal(err)
	}
	resumed := base
	resumed.Output, resumed.Resume = t.TempDir(), filepath.Join(part.Output, "checkpoint-5")
	if _, err := Train(context.Background(), resumed); err != nil {
		t.Fatal(err)
	}
	want, got := readWeights(t, straight.Output), readWeights(t, resumed.Output)
	for name, w := range want {
		for i := range w {
			if math.Abs(float64(w[i]-got[name][i])) > 1e-6 {
				t.Fatalf("%s[%d]: resumed %g, straight %g", name, i, got[name][i], w[i])
			}
		}
	}
}

func TestTrainDPErrors(t *testing.T) {
	data := writeData(t, 4)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{GradAccum: 2, DP: &privacy.Config{NoiseMultiplier: 1}}, "gradient accumulation"},
		{Config{ClassWeights: "auto", DP: &privacy.Config{NoiseMultiplier: 1}}, "class weights"},
		{Config{DP: &privacy.Config{}}, "noise multiplier or a target epsilon"},
		{Config{BatchSize: 8, DP: &privacy.Config{NoiseMultiplier: 1}}, "sample rate 1"},
		{Config{DP: &privacy.Config{Epsilon: 1, Delta: 2}}, "delta"},
	} {
		cfg := c.cfg
		cfg.Model, cfg.Train, cfg.Output = tinyBERT, data, t.TempDir()
		if cfg.BatchSize == 0 {
			cfg.BatchSize = 2
		}
		if _, err := Train(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", c.cfg.DP, err, c.want)
		}
	}
}
