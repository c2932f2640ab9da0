package model

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/textclf/textclf/internal/golden"
)

// The golden files under testdata/model come from a PyTorch reference of
// transformers' modeling files (scripts/model/gen.py): tiny random models,
// a padded batch, and the logits, loss and every parameter's gradient.

const modelData = "../testdata/model"

func TestGoldenPyTorch(t *testing.T) {
	// The BERT family (scripts/model/gen.py), then the decoders and
	// ModernBERT (scripts/model/gen_decoders.py).
	cases := caseNames(t, "cases.json", 8)
	cases = append(cases, caseNames(t, "cases-decoders.json", 9)...)
	for _, name := range cases {
		c := struct{ Name string }{name}
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join(modelData, c.Name)
			m, rep, err := Load(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Missing) != 0 || len(rep.Unexpected) != 0 {
				t.Fatalf("loading reported missing %v, unexpected %v", rep.Missing, rep.Unexpected)
			}
			g := golden.Open(t, filepath.Join(dir, "golden.safetensors"))
			f := g.F
			ids, shape := g.Ints(t, "input_ids")
			mask, _ := g.Ints(t, "attention_mask")
			in := &Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask}
			if g.Has("token_type_ids") {
				in.TokenTypeIDs, _ = g.Ints(t, "token_type_ids")
			}
			// transformers infers the problem type from the labels when the
			// config has none: float labels with several outputs are multi-label.
			if lt, err := f.Tensor("labels"); err == nil && m.Config.ProblemType == "" && lt.DType == "F32" && m.NumLabels > 1 {
				m.ProblemType = MultiLabel
			}
			var labels Labels
			if m.ProblemType == SingleLabel {
				labels.Classes, _ = g.Ints(t, "labels")
			} else {
				labels.Values = g.Floats(t, "labels")
			}

			// Inference.
			logits, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			wantLogits := g.Floats(t, "logits")
			compareAbs(t, "logits (inference)", logits, wantLogits, 1e-4)

			// Training pass: loss and gradients.
			trainLogits, loss, err := m.ForwardTrain(in, &labels)
			if err != nil {
				t.Fatal(err)
			}
			compareAbs(t, "logits (training)", trainLogits, wantLogits, 1e-4)
			wantLoss := g.Floats(t, "loss")[0]
			if math.Abs(float64(loss-wantLoss)) > 1e-4 {
				t.Errorf("loss %g, PyTorch %g", loss, wantLoss)
			}
			m.ZeroGrad()
			if err := m.Backward(nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				want := g.Floats(t, "grad."+p.Name)
				compareRelNorm(t, "grad."+p.Name, p.Grad, want, 1e-4)
			}

			// Each sequence alone gives its batched logits.
			for i := 0; g.Has("logits.single." + strconv.Itoa(i)); i++ {
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
				compareAbs(t, "logits.single."+strconv.Itoa(i), alone, g.Floats(t, "logits.single."+strconv.Itoa(i)), 1e-4)
			}
		})
	}
}

// caseNames reads the case names of an index file of testdata/model, which
// must list at least `least` cases.
func caseNames(t *testing.T, file string, least int) []string {
	t.Helper()
	var index struct {
		Cases []struct {
			Name string `json:"name"`
		} `json:"cases"`
	}
	golden.ReadJSON(t, filepath.Join(modelData, file), &index)
	if len(index.Cases) < least {
		t.Fatalf("%s: only %d golden cases", file, len(index.Cases))
	}
	var names []string
	for _, c := range index.Cases {
		names = append(names, c.Name)
	}
	return names
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
