package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/textclf/textclf/safetensors"
)

// The golden files under testdata/model come from a PyTorch reference of
// transformers' modeling files (scripts/model/gen.py): tiny random models,
// a padded batch, and the logits, loss and every parameter's gradient.

const modelData = "../testdata/model"

type goldenFile struct {
	f *safetensors.File
}

func (g goldenFile) floats(t *testing.T, name string) []float32 {
	t.Helper()
	tn, err := g.f.Tensor(name)
	if err != nil {
		t.Fatalf("golden tensor %s: %v", name, err)
	}
	v, err := tn.Float32()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (g goldenFile) ints(t *testing.T, name string) ([]int, []int) {
	t.Helper()
	tn, err := g.f.Tensor(name)
	if err != nil {
		t.Fatalf("golden tensor %s: %v", name, err)
	}
	v, err := tn.Int64()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, tn.Shape
}

func (g goldenFile) has(name string) bool {
	_, err := g.f.Tensor(name)
	return err == nil
}

func TestGoldenPyTorch(t *testing.T) {
	var index struct {
		Cases []struct {
			Name string `json:"name"`
		} `json:"cases"`
	}
	data, err := os.ReadFile(filepath.Join(modelData, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Cases) < 8 {
		t.Fatalf("only %d golden cases", len(index.Cases))
	}
	for _, c := range index.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join(modelData, c.Name)
			m, rep, err := Load(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Missing) != 0 || len(rep.Unexpected) != 0 {
				t.Fatalf("loading reported missing %v, unexpected %v", rep.Missing, rep.Unexpected)
			}
			f, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			g := goldenFile{f}
			ids, shape := g.ints(t, "input_ids")
			mask, _ := g.ints(t, "attention_mask")
			in := &Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask}
			if g.has("token_type_ids") {
				in.TokenTypeIDs, _ = g.ints(t, "token_type_ids")
			}
			// transformers infers the problem type from the labels when the
			// config has none: float labels with several outputs are multi-label.
			if lt, err := f.Tensor("labels"); err == nil && m.Config.ProblemType == "" && lt.DType == "F32" && m.NumLabels > 1 {
				m.ProblemType = MultiLabel
			}
			var labels Labels
			if m.ProblemType == SingleLabel {
				labels.Classes, _ = g.ints(t, "labels")
			} else {
				labels.Values = g.floats(t, "labels")
			}

			// Inference.
			logits, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			wantLogits := g.floats(t, "logits")
			compareAbs(t, "logits (inference)", logits, wantLogits, 1e-4)

			// Training pass: loss and gradients.
			trainLogits, loss, err := m.ForwardTrain(in, &labels)
			if err != nil {
				t.Fatal(err)
			}
			compareAbs(t, "logits (training)", trainLogits, wantLogits, 1e-4)
			wantLoss := g.floats(t, "loss")[0]
			if math.Abs(float64(loss-wantLoss)) > 1e-4 {
				t.Errorf("loss %g, PyTorch %g", loss, wantLoss)
			}
			m.ZeroGrad()
			if err := m.Backward(nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				want := g.floats(t, "grad."+p.Name)
				compareRelNorm(t, "grad."+p.Name, p.Grad, want, 1e-4)
			}

			// Each sequence alone gives its batched logits.
			for i := 0; g.has("logits.single." + strconv.Itoa(i)); i++ {
				n := 0
				for _, v := range mask[i*in.T : (i+1)*in.T] {
					n += v
				}
				one := &Batch{B: 1, T: n, InputIDs: ids[i*in.T : i*in.T+n], AttentionMask: mask[i*in.T : i*in.T+n]}
				if in.TokenTypeIDs != nil {
					one.TokenTypeIDs = in.TokenTypeIDs[i*in.T : i*in.T+n]
				}
				alone, err := m.Forward(one)
				if err != nil {
					t.Fatal(err)
				}
				compareAbs(t, "logits.single."+strconv.Itoa(i), alone, g.floats(t, "logits.single."+strconv.Itoa(i)), 1e-4)
			}
		})
	}
}

func compareAbs(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol || math.IsNaN(float64(got[i])) {
			t.Errorf("%s[%d] = %g, PyTorch %g (|Δ| %g > %g)", name, i, got[i], want[i], d, tol)
			return
		}
	}
}

// compareRelNorm checks max|got-want| ≤ tol·max(‖want‖, 1e-2): relative to
// the gradient's norm, with a floor for gradients that are zero in exact
// arithmetic (the key biases) and hold only float32 noise.
func compareRelNorm(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var norm, maxDiff float64
	for i := range want {
		norm += float64(want[i]) * float64(want[i])
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-want[i])))
		if math.IsNaN(float64(got[i])) {
			maxDiff = math.Inf(1)
		}
	}
	norm = math.Sqrt(norm)
	if maxDiff > tol*math.Max(norm, 1e-2) {
		t.Errorf("%s: max |Δ| %g exceeds %g × max(‖grad‖ %g, 1e-2)", name, maxDiff, tol, norm)
	}
}
