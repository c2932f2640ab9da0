package model

import (
	"path/filepath"
	"testing"
)

// EmbeddingGradient on the embeddings output of a batch gives Forward's
// logits, leaves the parameter gradients alone, and its gradient is the
// gradient of the output: a step along it changes the output by the
// product (checked by finite differences in float64 sums).
func TestEmbeddingGradient(t *testing.T) {
	for _, name := range []string{"bert-single-label", "roberta-single-label", "distilbert-single-label"} {
		t.Run(name, func(t *testing.T) {
			m, _, err := Load(filepath.Join(modelData, name), 1)
			if err != nil {
				t.Fatal(err)
			}
			in := PadBatch([][]int{{2, 9, 17, 40, 3}, {2, 33, 3}}, nil, m.PadID())
			want, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			x, err := m.EmbeddingOutput(in)
			if err != nil {
				t.Fatal(err)
			}
			// The explained output: logit 1 of row 0 plus logit 0 of row 1.
			grad := func(logits, d []float32) { d[1], d[m.NumLabels] = 1, 1 }
			logits, dx, err := m.EmbeddingGradient(in, x, grad)
			if err != nil {
				t.Fatal(err)
			}
			compareAbs(t, "logits", logits, want, 1e-5)
			for _, p := range m.Params() {
				if p.Grad != nil {
					t.Fatalf("%s has a gradient after EmbeddingGradient", p.Name)
				}
			}
			out := func(l []float32) float64 { return float64(l[1]) + float64(l[m.NumLabels]) }
			// Finite differences along a direction mixing a few coordinates of
			// real tokens of both rows.
			dir := make([]float32, len(x))
			c := m.Config.HiddenSize
			for _, i := range []int{3, c + 7, 2*c + 1, 4*c + 30, in.T*c + 5, (in.T+1)*c + 2} {
				dir[i] = 1
			}
			const h = 1e-2
			shifted := func(s float32) []float32 {
				y := append([]float32(nil), x...)
				for i, d := range dir {
					y[i] += s * d
				}
				l, _, err := m.EmbeddingGradient(in, y, grad)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			numeric := (out(shifted(h)) - out(shifted(-h))) / (2 * h)
			analytic := 0.0
			for i, d := range dir {
				analytic += float64(d * dx[i])
			}
			if diff := numeric - analytic; diff > 2e-3*max(1, abs(analytic)) || -diff > 2e-3*max(1, abs(analytic)) {
				t.Errorf("directional derivative %g, finite differences %g", analytic, numeric)
			}
			// Padding positions of row 1 get no gradient: they are masked.
			for j := 3 * c; j < in.T*c; j++ {
				if dx[in.T*c+j] != 0 {
					t.Fatalf("padding of row 1 has gradient %g", dx[in.T*c+j])
				}
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
