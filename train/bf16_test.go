package train

import (
	"context"
	"strings"
	"testing"

	"github.com/textclf/textclf/privacy"
	"github.com/textclf/textclf/tensor"
)

// TestTrainBF16: mixed-precision training learns separable data as float32
// training does, to different weights (its products are rounded), and
// saves float32 master weights, not bfloat16 ones; DP-SGD refuses it.
func TestTrainBF16(t *testing.T) {
	data := writeData(t, 12)
	base := Config{Model: tinyBERT, Train: data, Eval: data, Epochs: 20, BatchSize: 4, LR: 1e-2, Seed: 1, LogSteps: 6}
	runs := map[bool]map[string][]float32{}
	for _, bf16 := range []bool{false, true} {
		c := base
		c.BF16 = bf16
		c.Output = t.TempDir()
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if st := res.State; st.BestMetric == nil || *st.BestMetric < 0.9 {
			t.Fatalf("bf16=%v: best eval accuracy %v on separable data, want ≥ 0.9", bf16, fmtPtr(st.BestMetric))
		}
		runs[bf16] = readWeights(t, c.Output)
	}
	name := "bert.encoder.layer.0.attention.self.query.weight"
	w32, w16 := runs[false][name], runs[true][name]
	if len(w16) == 0 || len(w16) != len(w32) {
		t.Fatalf("%s: %d and %d values", name, len(w32), len(w16))
	}
	differ, notBF16 := 0, 0
	for i := range w16 {
		if w16[i] != w32[i] {
			differ++
		}
		r := []float32{w16[i]}
		tensor.RoundBF16(r, r)
		if r[0] != w16[i] {
			notBF16++
		}
	}
	if differ < len(w16)/2 {
		t.Errorf("%s: only %d of %d weights differ between bf16 and float32 training", name, differ, len(w16))
	}
	if notBF16 < len(w16)/2 {
		t.Errorf("%s: %d of %d saved weights are not bfloat16 values: master weights should be float32", name, notBF16, len(w16))
	}
	c := base
	c.BF16 = true
	c.Output = t.TempDir()
	c.DP = &privacy.Config{NoiseMultiplier: 1, MaxGradNorm: 1, Delta: 1e-5}
	if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), "bf16") {
		t.Errorf("bf16 with DP-SGD: %v", err)
	}
}
