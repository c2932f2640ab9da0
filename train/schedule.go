package train

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate multiplier of each optimizer step, as
// transformers' get_*_schedule_with_warmup (LambdaLR): step k (0-based) runs
// at lr·Factor(k).
type Schedule struct {
	Kind        string // "linear", "cosine", "constant" or "constant_with_warmup"
	WarmupSteps int
	TotalSteps  int
}

// NewSchedule checks the kind and returns a schedule.
func NewSchedule(kind string, warmupSteps, totalSteps int) (Schedule, error) {
	switch kind {
	case "linear", "cosine", "constant", "constant_with_warmup":
	default:
		return Schedule{}, fmt.Errorf("unknown learning-rate schedule %q (want linear, cosine or constant)", kind)
	}
	if warmupSteps < 0 || totalSteps < 0 {
		return Schedule{}, fmt.Errorf("negative warmup or total steps")
	}
	if kind == "constant" && warmupSteps > 0 {
		kind = "constant_with_warmup"
	}
	return Schedule{Kind: kind, WarmupSteps: warmupSteps, TotalSteps: totalSteps}, nil
}

// WarmupFromRatio is the Trainer's get_warmup_steps: ceil(ratio·total).
func WarmupFromRatio(ratio float64, totalSteps int) int {
	return int(math.Ceil(ratio * float64(totalSteps)))
}

// Factor is the multiplier of the base learning rate at step k.
func (s Schedule) Factor(k int) float64 {
	if s.Kind == "constant" {
		return 1
	}
	if k < s.WarmupSteps {
		return float64(k) / float64(max(1, s.WarmupSteps))
	}
	switch s.Kind {
	case "linear":
		return math.Max(0, float64(s.TotalSteps-k)/float64(max(1, s.TotalSteps-s.WarmupSteps)))
	case "cosine":
		progress := float64(k-s.WarmupSteps) / float64(max(1, s.TotalSteps-s.WarmupSteps))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*2*0.5*progress)))
	}
	return 1 // constant_with_warmup after warmup
}
