package model

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/textclf/textclf/internal/golden"
)

// Per-sample gradient norms and the clipped sum of DP-SGD equal PyTorch's
// per-example gradients, one backward pass per example of the padded batch
// (testdata/privacy, written by scripts/privacy/gen_grads.py).
func TestPerSampleGradientsMatchPyTorch(t *testing.T) {
	for _, name := range []string{"bert-single-label", "bert-multi-label", "bert-regression", "roberta-single-label", "distilbert-single-label"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(modelData, name)
			m, _, err := Load(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			g := golden.Open(t, filepath.Join(dir, "golden.safetensors"))
			ids, shape := g.Ints(t, "input_ids")
			mask, _ := g.Ints(t, "attention_mask")
			in := &Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask}
			if g.Has("token_type_ids") {
				in.TokenTypeIDs, _ = g.Ints(t, "token_type_ids")
			}
			if lt, err := g.F.Tensor("labels"); err == nil && m.Config.ProblemType == "" && lt.DType == "F32" && m.NumLabels > 1 {
				m.ProblemType = MultiLabel
			}
			var labels Labels
			if m.ProblemType == SingleLabel {
				labels.Classes, _ = g.Ints(t, "labels")
			} else {
				labels.Values = g.Floats(t, "labels")
			}
			want := golden.Open(t, filepath.Join("../testdata/privacy", name+".safetensors"))
			wantNorms := want.Floats(t, "norms")
			clip := float64(want.Floats(t, "max_grad_norm")[0])

			if _, _, err := m.ForwardTrain(in, &labels); err != nil {
				t.Fatal(err)
			}
			// Each example's own loss: the batch's mean loss times B.
			dLogits := m.LossGradient()
			for i := range dLogits {
				dLogits[i] *= float32(in.B)
			}
			norms, err := m.PerSampleGradNorms(dLogits)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range norms {
				if w := float64(wantNorms[i]); math.Abs(n-w) > 1e-4*w {
					t.Errorf("example %d: gradient norm %g, PyTorch %g", i, n, w)
				}
			}
			// Clipped (flat clipping, Opacus' factor) and summed.
			for i, n := range norms {
				f := float32(min(1, clip/(n+1e-6)))
				for j := range m.NumLabels {
					dLogits[i*m.NumLabels+j] *= f
				}
			}
			m.ZeroGrad()
			if err := m.Backward(dLogits); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				compareRelNorm(t, "clipped."+p.Name, p.Grad, want.Floats(t, "clipped."+p.Name), 1e-4)
			}
		})
	}
}
