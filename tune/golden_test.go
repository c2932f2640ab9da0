package tune

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// golden is testdata/tune/golden.json, written by scripts/tune/gen.py from
// Optuna's own code.
type golden struct {
	Optuna  string      `json:"optuna"`
	Gamma   []int       `json:"gamma"`
	Weights [][]float64 `json:"weights"`
	Parzen  []struct {
		Name         string          `json:"name"`
		Space        json.RawMessage `json:"space"`
		Observations [][]float64     `json:"observations"`
		Points       [][]float64     `json:"points"`
		LogPDF       []float64       `json:"log_pdf"`
	} `json:"parzen"`
	Split []struct {
		Direction Direction     `json:"direction"`
		Trials    []goldenTrial `json:"trials"`
		NBelow    int           `json:"n_below"`
		Below     []int         `json:"below"`
		Above     []int         `json:"above"`
	} `json:"split"`
	Pruner []struct {
		Name   string `json:"name"`
		Pruner struct {
			Percentile     float64 `json:"percentile"`
			NStartupTrials *int    `json:"n_startup_trials"`
			NWarmupSteps   int     `json:"n_warmup_steps"`
			IntervalSteps  *int    `json:"interval_steps"`
			NMinTrials     *int    `json:"n_min_trials"`
		} `json:"pruner"`
		Direction Direction     `json:"direction"`
		Trials    []goldenTrial `json:"trials"`
		Running   [][2]*float64 `json:"running"`
		Prune     []bool        `json:"prune"`
	} `json:"pruner"`
}

type goldenTrial struct {
	State        State         `json:"state"`
	Value        *float64      `json:"value"`
	Intermediate [][2]*float64 `json:"intermediate"`
}

func steps(pairs [][2]*float64) []Step {
	var out []Step
	for _, p := range pairs {
		v := math.NaN()
		if p[1] != nil {
			v = *p[1]
		}
		out = append(out, Step{Step: int(*p[0]), Value: v})
	}
	return out
}

func (g goldenTrial) trial(n int) Trial {
	return Trial{Number: n, State: g.State, Value: g.Value, Intermediate: steps(g.Intermediate), Params: map[string]any{}}
}

func readGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("../testdata/tune/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func TestGammaAndWeightsMatchOptuna(t *testing.T) {
	g := readGolden(t)
	for n, want := range g.Gamma {
		if got := DefaultGamma(n); got != want {
			t.Errorf("gamma(%d) = %d, Optuna %d", n, got, want)
		}
	}
	for n, want := range g.Weights {
		got := defaultWeights(n)
		if len(got) != len(want) {
			t.Fatalf("weights(%d) has %d values, Optuna %d", n, len(got), len(want))
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-15 {
				t.Errorf("weights(%d)[%d] = %v, Optuna %v", n, i, got[i], want[i])
			}
		}
	}
}

// The Parzen estimators' log densities equal Optuna's on every kind of
// parameter, with 0 to 30 observations, alone and jointly.
func TestParzenEstimatorMatchesOptuna(t *testing.T) {
	g := readGolden(t)
	if len(g.Parzen) < 10 {
		t.Fatalf("only %d estimator cases", len(g.Parzen))
	}
	opt := NewTPESampler().options()
	for _, c := range g.Parzen {
		space, err := ParseSpace(c.Space, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		params := make([]*Param, len(space))
		for i := range space {
			params[i] = &space[i]
		}
		pe := newParzen(c.Observations, params, opt)
		if len(c.Points) != len(c.LogPDF) || len(c.Points) < 20 {
			t.Fatalf("%s: %d points, %d values", c.Name, len(c.Points), len(c.LogPDF))
		}
		for i, x := range c.Points {
			got, want := pe.logPDF(x), c.LogPDF[i]
			if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
				t.Errorf("%s: log pdf at %v = %.15g, Optuna %.15g", c.Name, x, got, want)
			}
		}
	}
}

// Complete and pruned trials split into below and above as Optuna splits
// them, in both directions.
func TestSplitMatchesOptuna(t *testing.T) {
	g := readGolden(t)
	for _, c := range g.Split {
		var trials []Trial
		for i, gt := range c.Trials {
			trials = append(trials, gt.trial(i))
		}
		below, above := splitTrials(trials, c.NBelow, c.Direction)
		if !equalNumbers(below, c.Below) || !equalNumbers(above, c.Above) {
			t.Errorf("%s, %d below: got %v | %v, Optuna %v | %v", c.Direction, c.NBelow, numbers(below), numbers(above), c.Below, c.Above)
		}
	}
}

func numbers(ts []Trial) []int {
	out := []int{}
	for _, t := range ts {
		out = append(out, t.Number)
	}
	return out
}

func equalNumbers(ts []Trial, want []int) bool {
	got := numbers(ts)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// The pruner prunes exactly when Optuna's MedianPruner and
// PercentilePruner do, report after report.
func TestPrunerMatchesOptuna(t *testing.T) {
	g := readGolden(t)
	pruned := 0
	for _, c := range g.Pruner {
		p := NewMedianPruner()
		p.Percentile, p.NWarmupSteps = c.Pruner.Percentile, c.Pruner.NWarmupSteps
		if v := c.Pruner.NStartupTrials; v != nil {
			p.NStartupTrials = *v
		}
		if v := c.Pruner.IntervalSteps; v != nil {
			p.IntervalSteps = *v
		}
		if v := c.Pruner.NMinTrials; v != nil {
			p.NMinTrials = *v
		}
		var trials []Trial
		for i, gt := range c.Trials {
			trials = append(trials, gt.trial(i))
		}
		running := steps(c.Running)
		for k := range running {
			cur := Trial{Number: len(trials), Intermediate: running[:k+1]}
			if got := p.Prune(trials, &cur, c.Direction); got != c.Prune[k] {
				t.Errorf("%s (%s): after %v prune = %v, Optuna %v", c.Name, c.Direction, running[:k+1], got, c.Prune[k])
			}
			if c.Prune[k] {
				pruned++
			}
		}
	}
	if pruned < 5 {
		t.Errorf("the golden cases prune only %d times", pruned)
	}
}
