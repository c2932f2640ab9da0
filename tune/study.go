package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// ErrPruned is the error of a trial that the pruner stopped: Handle.Report
// returns it, and an objective returns it (or an error wrapping it) to
// end a trial as pruned.
var ErrPruned = errors.New("trial pruned")

// Goal turns evaluation metrics into the objective.
type Goal struct {
	// Metric is the metric optimised ("accuracy", "f1", "loss", …); ""
	// is transformers' default_compute_objective: the loss when it is the
	// only metric, else the sum of the other metrics.
	Metric string
	// Direction is the metric's: Minimize for the loss, Maximize for the
	// others (see GoalFor).
	Direction Direction
}

// GoalFor returns the goal of a metric with its direction: the loss is
// minimised, other metrics maximised. "" (transformers' default
// objective) is minimised for regression, whose only metric is the loss,
// and maximised otherwise (the sum of accuracy and F1).
func GoalFor(metric string, regression bool) Goal {
	switch {
	case metric == "loss", metric == "" && regression:
		return Goal{Metric: metric, Direction: Minimize}
	}
	return Goal{Metric: metric, Direction: Maximize}
}

// Name is how the objective is shown: the metric, or "objective" for the
// default.
func (g Goal) Name() string {
	if g.Metric == "" {
		return "objective"
	}
	return g.Metric
}

// Value computes the objective from an evaluation's metrics.
func (g Goal) Value(metrics map[string]float64) (float64, error) {
	if g.Metric != "" {
		v, ok := metrics[g.Metric]
		if !ok {
			return 0, fmt.Errorf("the evaluation has no %q metric (it has %s)", g.Metric, strings.Join(metricNames(metrics), ", "))
		}
		return v, nil
	}
	// transformers.trainer_utils.default_compute_objective.
	var sum float64
	n := 0
	for k, v := range metrics {
		if k != "loss" {
			sum += v
			n++
		}
	}
	if n == 0 {
		v, ok := metrics["loss"]
		if !ok {
			return 0, errors.New("the evaluation has no metrics")
		}
		return v, nil
	}
	return sum, nil
}

func metricNames(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Handle is a running trial, given to the objective.
type Handle struct {
	// Number is the trial's number.
	Number int
	// Params are the trial's parameter values.
	Params map[string]any
	study  *Study
	trial  *Trial
}

// Report records an intermediate evaluation at step (steps increase:
// epochs, or evaluation numbers) and returns ErrPruned when the pruner
// says the trial should stop.
func (h *Handle) Report(step int, metrics map[string]float64) error {
	v, err := h.study.Goal.Value(metrics)
	if err != nil {
		return err
	}
	for _, s := range h.trial.Intermediate {
		if s.Step == step {
			return nil // as Optuna: a second report at a step is ignored
		}
	}
	h.trial.Intermediate = append(h.trial.Intermediate, Step{Step: step, Value: v, Metrics: metrics})
	if p := h.study.Pruner; p != nil && p.Prune(h.study.Trials, h.trial, h.study.Goal.Direction) {
		return ErrPruned
	}
	return nil
}

// Objective trains and evaluates one configuration: it returns the final
// evaluation's metrics, and may Report intermediate ones.
type Objective func(ctx context.Context, h *Handle) (map[string]float64, error)

// Study is a hyper-parameter search: trials sampled from Space, run by an
// objective until MaxTrials trials or TimeBudget is used up.
type Study struct {
	// Space is the search space.
	Space Space
	// Goal makes the objective of the evaluations.
	Goal Goal
	// Sampler proposes parameters (nil: NewTPESampler()).
	Sampler Sampler
	// Pruner stops unpromising trials (nil: none).
	Pruner Pruner
	// Seed seeds the sampling: trial n draws from PCG(Seed, n), so that a
	// resumed study samples as an uninterrupted one would.
	Seed uint64
	// TimeBudget bounds the seconds of all trials together, those of a
	// resumed study included: no trial starts once it is used up, and a
	// trial running past it is stopped (recorded as pruned).
	TimeBudget time.Duration
	// MaxTrials, when positive, bounds the number of trials (a resumed
	// study's included).
	MaxTrials int
	// Enqueue gives the parameters of the first trials (trial i takes
	// Enqueue[i]; parameters missing, or outside the space, are sampled
	// at random), as Optuna's enqueue_trial.
	Enqueue []map[string]any
	// Trials are the finished trials, in order (a resumed study starts
	// with those of its log).
	Trials []Trial
	// OnTrial, when not nil, is called with each finished trial after it
	// joins Trials (to write it to the log); an error stops the study.
	OnTrial func(t Trial) error
	// Start, when not nil, is called as each trial starts.
	Start func(n int, params map[string]any, sampler string)
}

// Check validates the study's settings before any trial runs.
func (s *Study) Check() error {
	if err := s.Space.Check(); err != nil {
		return err
	}
	if s.TimeBudget <= 0 {
		return fmt.Errorf("the time budget must be positive, got %s", s.TimeBudget)
	}
	if s.MaxTrials < 0 {
		return fmt.Errorf("the number of trials must not be negative, got %d", s.MaxTrials)
	}
	if s.Goal.Direction != Minimize && s.Goal.Direction != Maximize {
		return fmt.Errorf("unknown direction %q (want minimize or maximize)", s.Goal.Direction)
	}
	if p, ok := s.Pruner.(*PercentilePruner); ok {
		if err := p.Check(); err != nil {
			return err
		}
	}
	return nil
}

// Spent is the time the finished trials took together.
func (s *Study) Spent() time.Duration {
	var sec float64
	for _, t := range s.Trials {
		sec += t.Seconds
	}
	return time.Duration(sec * float64(time.Second))
}

// Best returns the best complete trial (the first of equals), or nil.
func (s *Study) Best() *Trial { return BestTrial(s.Trials, s.Goal.Direction) }

// BestTrial returns the best complete trial of trials in direction d (the
// first of equals), or nil.
func BestTrial(trials []Trial, d Direction) *Trial {
	var best *Trial
	for i := range trials {
		t := &trials[i]
		if t.State == Complete && t.Value != nil && (best == nil || d.better(*t.Value, *best.Value)) {
			best = t
		}
	}
	return best
}

// Optimize runs trials until MaxTrials or TimeBudget is reached. When ctx
// is cancelled (an interruption), the running trial is abandoned without
// a record, so that running the study again runs it again, and Optimize
// returns ctx's error.
func (s *Study) Optimize(ctx context.Context, obj Objective) error {
	if err := s.Check(); err != nil {
		return err
	}
	sampler := s.Sampler
	if sampler == nil {
		sampler = NewTPESampler()
	}
	for {
		if s.MaxTrials > 0 && len(s.Trials) >= s.MaxTrials {
			return nil
		}
		left := s.TimeBudget - s.Spent()
		if left <= 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n := len(s.Trials)
		rng := rand.New(rand.NewPCG(s.Seed, uint64(n)))
		params, source := s.next(n, sampler, rng)
		t := Trial{Number: n, Params: params, Start: time.Now().UTC(), Sampler: source}
		if s.Start != nil {
			s.Start(n, params, source)
		}
		tctx, cancel := context.WithTimeout(ctx, left)
		metrics, err := obj(tctx, &Handle{Number: n, Params: params, study: s, trial: &t})
		cancel()
		t.Seconds = time.Since(t.Start).Seconds()
		switch {
		case err == nil:
			t.Metrics = metrics
			v, verr := s.Goal.Value(metrics)
			switch {
			case verr != nil:
				t.State, t.Error = Failed, verr.Error()
			case math.IsNaN(v) || math.IsInf(v, 0):
				t.State, t.Error = Failed, fmt.Sprintf("the %s is %g", s.Goal.Name(), v)
			default:
				t.State, t.Value = Complete, &v
			}
		case errors.Is(err, ErrPruned):
			t.State = Pruned
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(tctx.Err(), context.DeadlineExceeded):
			t.State, t.Error = Pruned, fmt.Sprintf("stopped by the time budget (%s)", s.TimeBudget)
		default:
			t.State, t.Error = Failed, err.Error()
		}
		s.Trials = append(s.Trials, t)
		if s.OnTrial != nil {
			if err := s.OnTrial(t); err != nil {
				return err
			}
		}
	}
}

// next chooses trial n's parameters: enqueued ones first, then the sampler's.
func (s *Study) next(n int, sampler Sampler, rng *rand.Rand) (map[string]any, string) {
	if n < len(s.Enqueue) {
		params := make(map[string]any, len(s.Space))
		for i := range s.Space {
			p := &s.Space[i]
			if v, ok := p.Value(s.Enqueue[n][p.Name]); ok {
				params[p.Name] = v
			} else {
				params[p.Name] = sampleUniform(p, rng)
			}
		}
		return params, "enqueued"
	}
	source := sampler.Name()
	if tpe, ok := sampler.(*TPESampler); ok {
		done := 0
		for _, t := range s.Trials {
			if t.State == Complete || t.State == Pruned {
				done++
			}
		}
		if done < tpe.NStartupTrials {
			source = "random"
		}
	}
	return sampler.Sample(s.Space, s.Trials, s.Goal.Direction, rng), source
}
