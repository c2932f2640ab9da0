package tune

import (
	"math"
	"testing"
)

// Hand-worked median pruning, Optuna's semantics: the median of the
// complete trials' values at the running trial's last step, against the
// running trial's best value so far.
func TestMedianPrunerByHand(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	var done []Trial
	for i, x := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		done = append(done, Trial{Number: i, State: Complete, Value: v(x), Intermediate: []Step{{Step: 1, Value: x - 0.1}, {Step: 2, Value: x}}})
	}
	// A pruned trial's values do not count: only complete trials make the median.
	done = append(done, Trial{Number: 5, State: Pruned, Intermediate: []Step{{Step: 1, Value: 0}, {Step: 2, Value: 0}}})
	p := NewMedianPruner()
	run := func(dir Direction, steps ...Step) bool {
		return p.Prune(done, &Trial{Number: 6, Intermediate: steps}, dir)
	}
	// Step 1's median is 0.6 (0.4 … 0.8), step 2's 0.7.
	for _, c := range []struct {
		steps []Step
		want  bool
	}{
		{[]Step{{1, 0.59, nil}}, true},
		{[]Step{{1, 0.6, nil}}, false},                  // equal to the median: kept
		{[]Step{{1, 0.65, nil}, {2, 0.69, nil}}, true},  // best so far 0.69 < 0.7
		{[]Step{{1, 0.75, nil}, {2, 0.65, nil}}, false}, // best so far 0.75 ≥ 0.7
		{[]Step{{1, 0.5, nil}, {2, 0.69, nil}}, true},
		{[]Step{{1, math.NaN(), nil}}, true}, // a NaN best value is pruned at once
		{[]Step{{3, 0.1, nil}}, false},       // no complete trial reached step 3
	} {
		if got := run(Maximize, c.steps...); got != c.want {
			t.Errorf("maximize %v: prune %v, want %v", c.steps, got, c.want)
		}
	}
	// Minimising, the same values are losses: 0.59 at step 1 beats the median 0.6.
	if run(Minimize, Step{Step: 1, Value: 0.59}) || !run(Minimize, Step{Step: 1, Value: 0.61}) {
		t.Error("minimize: wrong side of the median")
	}
	// Fewer than 5 complete trials: never pruned.
	if p.Prune(done[:4], &Trial{Intermediate: []Step{{Step: 1, Value: 0}}}, Maximize) {
		t.Error("pruned before 5 complete trials")
	}
	// Warmup: no pruning before step 2.
	p.NWarmupSteps = 2
	if run(Maximize, Step{Step: 1, Value: 0}) || !run(Maximize, Step{Step: 1, Value: 0}, Step{Step: 2, Value: 0}) {
		t.Error("warmup steps not honoured")
	}
}
