package classic

import (
	"math"
	"strings"
	"testing"
)

// The loss itself is nn.SoftTargets', checked against PyTorch there
// (TestSoftTargetsMatchPyTorch).
func TestDistillationCheck(t *testing.T) {
	ok := [][]float32{{1, 2}, {3, 4}}
	for _, tc := range []struct {
		d    Distillation
		want string
	}{
		{Distillation{Loss: "l1", Teacher: ok}, `loss "l1"`},
		{Distillation{Loss: DistillKL, Alpha: 1.5, Teacher: ok}, "alpha 1.5"},
		{Distillation{Loss: DistillKL, Temperature: -1, Teacher: ok}, "temperature -1"},
		{Distillation{Loss: DistillKL, Teacher: ok[:1]}, "1 teacher logits for 2 training examples"},
		{Distillation{Loss: DistillKL, Teacher: [][]float32{{1, 2}, {3}}}, "example 2 has 1 teacher logits for 2 labels"},
		{Distillation{Loss: DistillMSE, Teacher: [][]float32{{1, float32(math.NaN())}, {3, 4}}}, "teacher logit NaN"},
	} {
		if err := tc.d.check(2, 2); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.d, err, tc.want)
		}
	}
}

// The distillation loss's gradients reach every TextCNN and BiLSTM
// parameter as finite differences say.
func TestDistillBackward(t *testing.T) {
	teacher := []float32{1.5, -0.5, 0.25}
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		for _, d := range []*Distillation{{Loss: DistillKL, Temperature: 2, Alpha: 0.7}, {Loss: DistillMSE, Alpha: 0.5}} {
			gradCheckSoft(t, smallModel(t, arch, false, PoolMax), []int32{1, 2, 3, 1, 4, 5}, []int{1}, d, teacher)
		}
	}
}
