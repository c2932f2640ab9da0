package train

import (
	"github.com/textclf/textclf/internal/golden"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/textclf/textclf/model"
)

// The golden files under testdata/train come from a PyTorch reference of the
// HF Trainer's optimisation (scripts/train/gen.py): torch.optim.AdamW with
// the Trainer's no-decay groups, transformers' schedules, clip_grad_norm_
// and gradient accumulation, on a tiny BERT.

const trainData = "../testdata/train"

type trainCase struct {
	Name        string   `json:"name"`
	NoiseDriven []string `json:"noise_driven"`
	SelfChecks  struct {
		LRSum float64 `json:"lr_sum"`
	} `json:"self_checks"`
	Steps []struct {
		LR float64 `json:"lr"`
	} `json:"steps"`
}

type hparams struct {
	LR          float64    `json:"lr"`
	WeightDecay float64    `json:"weight_decay"`
	Betas       [2]float64 `json:"betas"`
	Eps         float64    `json:"eps"`
	WarmupSteps int        `json:"warmup_steps"`
	WarmupRatio float64    `json:"warmup_ratio"`
	TotalSteps  int        `json:"total_steps"`
	Schedule    string     `json:"schedule"`
	MaxGradNorm float64    `json:"max_grad_norm"`
	GradAccum   int        `json:"grad_accum"`
	ProblemType string     `json:"problem_type"`
}

// goldenBatch reads micro-batch i.
func goldenBatch(t *testing.T, f golden.File, i int, problem string) (*model.Batch, *model.Labels) {
	s := strconv.Itoa(i)
	ids, shape := f.Ints(t, "input_ids."+s)
	mask, _ := f.Ints(t, "attention_mask."+s)
	types, _ := f.Ints(t, "token_type_ids."+s)
	b := &model.Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask, TokenTypeIDs: types}
	labels := &model.Labels{}
	if problem == model.SingleLabel {
		labels.Classes, _ = f.Ints(t, "labels."+s)
	} else {
		labels.Values = f.Floats(t, "labels."+s)
	}
	return b, labels
}

func newGoldenStepper(t *testing.T, dir string, hp hparams) *Stepper {
	t.Helper()
	m, _, err := model.Load(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.ProblemType = hp.ProblemType
	warmup := hp.WarmupSteps
	if hp.WarmupRatio > 0 {
		warmup = WarmupFromRatio(hp.WarmupRatio, hp.TotalSteps)
	}
	sched, err := NewSchedule(hp.Schedule, warmup, hp.TotalSteps)
	if err != nil {
		t.Fatal(err)
	}
	opt := NewAdamW(m.Params(), AdamWConfig{LR: hp.LR, WeightDecay: hp.WeightDecay, Beta1: hp.Betas[0], Beta2: hp.Betas[1], Eps: hp.Eps})
	return &Stepper{Model: m, Optimizer: opt, Schedule: sched, BaseLR: hp.LR, MaxGradNorm: hp.MaxGradNorm}
}

func TestGoldenTrainerSteps(t *testing.T) {
	var index struct {
		Cases []trainCase `json:"cases"`
	}
	golden.ReadJSON(t, filepath.Join(trainData, "cases.json"), &index)
	if len(index.Cases) < 5 {
		t.Fatalf("%d training cases", len(index.Cases))
	}
	for _, c := range index.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join(trainData, c.Name)
			var hp hparams
			golden.ReadJSON(t, filepath.Join(dir, "hparams.json"), &hp)
			batches := golden.Open(t, filepath.Join(dir, "batches.safetensors"))
			expected := golden.Open(t, filepath.Join(dir, "expected.safetensors"))
			s := newGoldenStepper(t, dir, hp)
			initial := map[string][]float32{}
			for _, p := range s.Model.Params() {
				initial[p.Name] = append([]float32(nil), p.W...)
			}
			micro := 0
			for k := 1; k <= hp.TotalSteps; k++ {
				if c.Name == "resume" && k == 3 {
					s = resumeStepper(t, dir, hp, s)
				}
				var mbs []*model.Batch
				var lbs []*model.Labels
				for a := 0; a < hp.GradAccum; a++ {
					mb, lb := goldenBatch(t, batches, micro, hp.ProblemType)
					mbs, lbs = append(mbs, mb), append(lbs, lb)
					micro++
				}
				res, err := s.Step(mbs, lbs)
				if err != nil {
					t.Fatal(err)
				}
				ks := strconv.Itoa(k)
				wantLoss := float64(expected.Floats(t, "loss."+ks)[0])
				wantNorm := float64(expected.Floats(t, "grad_norm."+ks)[0])
				if math.Abs(res.Loss-wantLoss) > 1e-5*math.Max(1, math.Abs(wantLoss)) {
					t.Errorf("step %d: loss %g, PyTorch %g", k, res.Loss, wantLoss)
				}
				if math.Abs(res.GradNorm-wantNorm) > 1e-5*math.Max(1, wantNorm) {
					t.Errorf("step %d: grad norm %g, PyTorch %g", k, res.GradNorm, wantNorm)
				}
				if wantLR := c.Steps[k-1].LR; math.Abs(res.LR-wantLR) > 1e-12 {
					t.Errorf("step %d: learning rate %g, PyTorch %g", k, res.LR, wantLR)
				}
			}
			noise := map[string]bool{}
			for _, n := range c.NoiseDriven {
				noise[n] = true
			}
			for _, p := range s.Model.Params() {
				want := expected.Floats(t, "final."+p.Name)
				for i := range p.W {
					if noise[p.Name] {
						// Zero gradient in exact arithmetic: Adam moves these by
						// rounding noise, at most the sum of the learning rates.
						if d := math.Abs(float64(p.W[i] - initial[p.Name][i])); d > c.SelfChecks.LRSum*1.01 {
							t.Errorf("%s[%d] moved %g, more than the summed learning rates %g", p.Name, i, d, c.SelfChecks.LRSum)
							break
						}
						continue
					}
					if d := math.Abs(float64(p.W[i] - want[i])); d > 1e-4 {
						t.Errorf("%s[%d] = %g after training, PyTorch %g", p.Name, i, p.W[i], want[i])
						break
					}
				}
			}
		})
	}
}

// resumeStepper continues training in a new model and optimizer from the
// state of s (weights, AdamW moments and step), as a resumed run does.
func resumeStepper(t *testing.T, dir string, hp hparams, s *Stepper) *Stepper {
	t.Helper()
	fresh := newGoldenStepper(t, dir, hp)
	for i, p := range fresh.Model.Params() {
		copy(p.W, s.Model.Params()[i].W)
	}
	step, m, v := s.Optimizer.State()
	fresh.Optimizer.SetState(step, m, v)
	return fresh
}
