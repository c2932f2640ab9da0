package tune

import (
	"fmt"
	"math"
	"sort"
)

// Pruner decides whether a running trial should stop, after each of its
// intermediate values.
type Pruner interface {
	// Prune reports whether trial (running; its Intermediate holds the
	// values reported so far) should stop, given the finished trials.
	Prune(trials []Trial, trial *Trial, dir Direction) bool
}

// PercentilePruner is Optuna's PercentilePruner: once NStartupTrials
// trials are complete, a trial past NWarmupSteps is pruned at its first
// report in each interval of IntervalSteps steps when its best
// intermediate value so far is worse than the Percentile-th best of the
// complete trials' values at that step (when at least NMinTrials of them
// have one). A NaN best value is pruned at once.
type PercentilePruner struct {
	// Percentile keeps the trials in the top Percentile percent (50: the median).
	Percentile float64
	// NStartupTrials complete trials are needed before any pruning (5).
	NStartupTrials int
	// NWarmupSteps: no pruning before this step (0).
	NWarmupSteps int
	// IntervalSteps between pruning checks (1).
	IntervalSteps int
	// NMinTrials complete trials must have a value at the step (1).
	NMinTrials int
}

// NewMedianPruner returns Optuna's MedianPruner with its defaults:
// percentile 50, 5 startup trials, no warmup, every step, one trial.
func NewMedianPruner() *PercentilePruner {
	return &PercentilePruner{Percentile: 50, NStartupTrials: 5, IntervalSteps: 1, NMinTrials: 1}
}

// Check validates the settings as Optuna's constructor does.
func (p *PercentilePruner) Check() error {
	switch {
	case p.Percentile < 0 || p.Percentile > 100 || math.IsNaN(p.Percentile):
		return fmt.Errorf("pruner: percentile %g is not in [0, 100]", p.Percentile)
	case p.NStartupTrials < 0:
		return fmt.Errorf("pruner: startup trials %d is negative", p.NStartupTrials)
	case p.NWarmupSteps < 0:
		return fmt.Errorf("pruner: warmup steps %d is negative", p.NWarmupSteps)
	case p.IntervalSteps < 1:
		return fmt.Errorf("pruner: interval steps must be at least 1, got %d", p.IntervalSteps)
	case p.NMinTrials < 1:
		return fmt.Errorf("pruner: min trials must be at least 1, got %d", p.NMinTrials)
	}
	return nil
}

// Prune implements Pruner.
func (p *PercentilePruner) Prune(trials []Trial, trial *Trial, dir Direction) bool {
	var complete []Trial
	for _, t := range trials {
		if t.State == Complete {
			complete = append(complete, t)
		}
	}
	if len(complete) == 0 || len(complete) < p.NStartupTrials || len(trial.Intermediate) == 0 {
		return false
	}
	step := trial.Intermediate[0].Step
	for _, s := range trial.Intermediate {
		step = max(step, s.Step)
	}
	if step < p.NWarmupSteps {
		return false
	}
	// Only the first report in each interval is checked.
	interval := max(p.IntervalSteps, 1)
	nearestLower := floorDiv(step-p.NWarmupSteps, interval)*interval + p.NWarmupSteps
	secondLast := -1
	for _, s := range trial.Intermediate {
		if s.Step > secondLast && s.Step != step {
			secondLast = s.Step
		}
	}
	if secondLast >= nearestLower {
		return false
	}
	best := math.NaN()
	for _, s := range trial.Intermediate {
		if math.IsNaN(s.Value) {
			continue
		}
		if math.IsNaN(best) || (dir == Maximize && s.Value > best) || (dir != Maximize && s.Value < best) {
			best = s.Value
		}
	}
	if math.IsNaN(best) {
		return true
	}
	var values []float64
	for _, t := range complete {
		for _, s := range t.Intermediate {
			if s.Step == step {
				values = append(values, s.Value)
				break
			}
		}
	}
	if len(values) < max(p.NMinTrials, 1) {
		return false
	}
	q := p.Percentile
	if dir == Maximize {
		q = 100 - q
	}
	ref := nanPercentile(values, q)
	if math.IsNaN(ref) {
		return false
	}
	if dir == Maximize {
		return best < ref
	}
	return best > ref
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// nanPercentile is numpy's nanpercentile with its default linear
// interpolation, computed as numpy computes it (index (n−1)·q/100, and
// numpy's _lerp), so that a value equal to the percentile compares equal.
func nanPercentile(values []float64, q float64) float64 {
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	index := float64(len(v)-1) * (q / 100)
	prev := int(math.Floor(index))
	next := min(prev+1, len(v)-1)
	a, b, t := v[prev], v[next], index-float64(prev)
	diff := b - a
	if t >= 0.5 {
		return b - diff*(1-t)
	}
	return a + diff*t
}
