package classic

import (
	"math"
	"strings"
	"testing"

	"github.com/textclf/textclf/internal/golden"
)

// The distillation loss and its gradient equal PyTorch's (KL·T² mixed with
// cross-entropy, and MSE on logits), from scripts/distill/golden.py.
func TestDistillLossMatchesPyTorch(t *testing.T) {
	var g struct {
		Cases []struct {
			LossType    string      `json:"loss_type"`
			Temperature float64     `json:"temperature"`
			Alpha       float64     `json:"alpha"`
			Student     [][]float32 `json:"student"`
			Teacher     [][]float32 `json:"teacher"`
			Labels      []int       `json:"labels"`
			Loss        float64     `json:"loss"`
			Grad        [][]float64 `json:"grad"`
		} `json:"cases"`
	}
	golden.ReadJSON(t, "../nn/testdata/distill/losses.json", &g)
	if len(g.Cases) != 10 {
		t.Fatalf("%d cases, want 10", len(g.Cases))
	}
	for ci, c := range g.Cases {
		d := &Distillation{Loss: c.LossType, Temperature: c.Temperature, Alpha: c.Alpha, Teacher: c.Teacher}
		if err := d.check(len(c.Student), len(c.Student[0])); err != nil {
			t.Fatal(err)
		}
		n := float64(len(c.Student))
		var loss float64
		for i, s := range c.Student {
			grad := make([]float32, len(s))
			loss += d.LossGrad(s, c.Teacher[i], c.Labels[i], grad) / n
			for k, v := range grad {
				if want := c.Grad[i][k]; math.Abs(float64(v)/n-want) > 1e-4 {
					t.Errorf("case %d (%s, T=%g, α=%g) example %d: grad[%d] %g, PyTorch %g", ci, c.LossType, c.Temperature, c.Alpha, i, k, float64(v)/n, want)
				}
			}
		}
		if math.Abs(loss-c.Loss) > 1e-4*math.Max(1, math.Abs(c.Loss)) {
			t.Errorf("case %d (%s, T=%g, α=%g): loss %g, PyTorch %g", ci, c.LossType, c.Temperature, c.Alpha, loss, c.Loss)
		}
	}
}

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
