package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/textclf/textclf/internal/golden"
)

// The batch loss of SoftTargets and its gradient equal PyTorch's on
// batches of 4 (KL·T² with reduction="batchmean" mixed with
// cross-entropy, and MSE on logits), from scripts/distill/golden.py.
func TestSoftTargetsMatchPyTorch(t *testing.T) {
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
	golden.ReadJSON(t, "testdata/distill/losses.json", &g)
	if len(g.Cases) != 10 {
		t.Fatalf("%d cases, want 10", len(g.Cases))
	}
	for ci, c := range g.Cases {
		d := SoftTargets{Loss: c.LossType, Temperature: c.Temperature, Alpha: c.Alpha}
		if err := d.Check(); err != nil {
			t.Fatal(err)
		}
		k := len(c.Student[0])
		var s, te []float32
		for i := range c.Student {
			s, te = append(s, c.Student[i]...), append(te, c.Teacher[i]...)
		}
		grad := make([]float32, len(s))
		loss, err := d.Batch(grad, s, te, c.Labels, k)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(loss)-c.Loss) > 1e-4*math.Max(1, math.Abs(c.Loss)) {
			t.Errorf("case %d (%s, T=%g, α=%g): loss %g, PyTorch %g", ci, c.LossType, c.Temperature, c.Alpha, loss, c.Loss)
		}
		for i := range c.Student {
			for j := 0; j < k; j++ {
				if got, want := float64(grad[i*k+j]), c.Grad[i][j]; math.Abs(got-want) > 1e-4 {
					t.Errorf("case %d (%s, T=%g, α=%g) example %d: grad[%d] %g, PyTorch %g", ci, c.LossType, c.Temperature, c.Alpha, i, j, got, want)
				}
			}
		}
	}
}

// The gradient of the batch loss is its finite-difference slope, for both
// losses, several temperatures and alphas.
func TestSoftTargetsFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, k = 3, 4
	for _, d := range []SoftTargets{{Loss: DistillKL, Alpha: 0.5}, {Loss: DistillKL, Temperature: 4, Alpha: 0.9}, {Loss: DistillKL, Temperature: 0.7, Alpha: 1}, {Loss: DistillMSE, Alpha: 0.3}, {Loss: DistillMSE, Alpha: 0}} {
		s, te := make([]float64, n*k), make([]float32, n*k)
		for i := range s {
			s[i], te[i] = 2*rng.NormFloat64(), float32(2*rng.NormFloat64())
		}
		labels := []int{0, 3, 1}
		at := func(x []float64) float64 {
			// The loss in float64 throughout: the examples' losses of float32
			// logits are float64 sums, the batch mean is not rounded.
			var total float64
			for i := 0; i < n; i++ {
				row := make([]float32, k)
				for j := range row {
					row[j] = float32(x[i*k+j])
				}
				total += d.Example(make([]float32, k), row, te[i*k:(i+1)*k], labels[i])
			}
			return total / n
		}
		s32 := make([]float32, len(s))
		for i, v := range s {
			s32[i] = float32(v)
			s[i] = float64(s32[i])
		}
		grad := make([]float32, len(s))
		if _, err := d.Batch(grad, s32, te, labels, k); err != nil {
			t.Fatal(err)
		}
		const h = 1e-3
		for i := range s {
			x := append([]float64(nil), s...)
			x[i] += h
			up := at(x)
			x[i] -= 2 * h
			down := at(x)
			if fd := (up - down) / (2 * h); math.Abs(fd-float64(grad[i])) > 2e-3*math.Max(1, math.Abs(fd)) {
				t.Errorf("%+v: dL/ds[%d] %g, finite differences %g", d, i, grad[i], fd)
			}
		}
	}
}

func TestSoftTargetsBadInput(t *testing.T) {
	for _, tc := range []struct {
		d    SoftTargets
		want string
	}{
		{SoftTargets{Loss: "l1"}, `loss "l1"`},
		{SoftTargets{Loss: DistillKL, Alpha: 1.5}, "alpha 1.5"},
		{SoftTargets{Loss: DistillKL, Temperature: -1}, "temperature -1"},
		{SoftTargets{Loss: DistillKL, Temperature: math.Inf(1)}, "temperature +Inf"},
	} {
		if err := tc.d.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.d, err, tc.want)
		}
	}
	d := SoftTargets{Loss: DistillKL}
	if _, err := d.Batch(nil, make([]float32, 4), make([]float32, 2), []int{0, 1}, 2); err == nil || !strings.Contains(err.Error(), "4 student and 2 teacher logits for 2 examples of 2 labels") {
		t.Errorf("short teacher logits: %v", err)
	}
	if _, err := d.Batch(nil, make([]float32, 4), make([]float32, 4), []int{0, 2}, 2); err == nil || !strings.Contains(err.Error(), "label 2 of example 1") {
		t.Errorf("label out of range: %v", err)
	}
	if err := CheckTeacherLogits([][]float32{{1, float32(math.NaN())}}, 1, 2); err == nil || !strings.Contains(err.Error(), "example 1 has a teacher logit NaN") {
		t.Errorf("NaN teacher logit: %v", err)
	}
}
