package tune

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// fastText's width schedule: the start width until a quarter of the
// budget, the end width from three quarters, linear between.
func TestAutotuneStddev(t *testing.T) {
	for _, c := range []struct{ t, want float64 }{{0, 1.9}, {0.25, 1.9}, {0.5, 1.45}, {0.75, 1.0}, {1, 1.0}} {
		if got := autotuneStddev(1.9, 1.0, c.t); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("t %g: %g, want %g", c.t, got, c.want)
		}
	}
}

// Perturbations as fastText's casts make them: ints truncated, log-scale
// values multiplied by 2^coeff, a categorical index moved and truncated,
// all clipped to the space.
func TestPerturb(t *testing.T) {
	space := synthSpace()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		param string
		v     any
		coeff float64
		want  any
	}{
		{"lr", 0.5, 1, 1.0},
		{"lr", 0.5, -10, 0.01}, // clipped
		{"dim", 100, 0.5, 141}, // 100·√2 = 141.4, truncated
		{"dim", 1, -0.3, 1},
		{"n", 3, 1.7, 4}, // linear: 3 + 1.7 = 4.7 → 4
		{"n", 3, -2.5, 1},
		{"c", 0.0, 0.7, 0.0}, // index 0 + 0.7 → 0
		{"c", 0.0, 1.5, 2.0}, // index 1
		{"c", 3.0, 5, 3.0},   // clipped to the last choice
	} {
		p := space.Lookup(c.param)
		if got := perturb(p, c.v, c.coeff, rng); got != c.want {
			t.Errorf("%s %v + %g: %v, want %v", c.param, c.v, c.coeff, got, c.want)
		}
	}
}

// Around the best trial, samples stay in the space and tighten as the
// budget is used; from defaults far from the optimum the strategy climbs.
func TestAutotuneSampler(t *testing.T) {
	space := synthSpace()
	v := 1.0
	best := Trial{Number: 0, State: Complete, Value: &v, Params: map[string]any{"lr": 0.5, "dim": 100, "n": 2, "c": 2.0}, Seconds: 10}
	spread := func(budget time.Duration) float64 {
		s := NewAutotuneSampler(budget)
		var d []float64
		for i := 0; i < 400; i++ {
			p := s.Sample(space, []Trial{best}, Maximize, rand.New(rand.NewPCG(9, uint64(i))))
			for _, q := range space {
				if nv, ok := q.Value(p[q.Name]); !ok || nv != p[q.Name] {
					t.Fatalf("%s = %v outside the space", q.Name, p[q.Name])
				}
			}
			d = append(d, math.Abs(math.Log2(p["lr"].(float64)/0.5)))
		}
		sort.Float64s(d)
		return d[len(d)/2]
	}
	early, late := spread(time.Hour), spread(10*time.Second) // 10 s used: t = 0 and t = 1
	// Median |N(0, σ)| = 0.674σ: 1.28 at σ 1.9, 0.67 at σ 1.0.
	if math.Abs(early-1.28) > 0.2 || math.Abs(late-0.67) > 0.12 {
		t.Errorf("median |log2 lr/best| %.2f early, %.2f late; want 1.28 and 0.67", early, late)
	}
	s := &Study{Space: space, Goal: Goal{Metric: "score", Direction: Maximize}, Sampler: NewAutotuneSampler(time.Minute), Seed: 4,
		TimeBudget: time.Hour, MaxTrials: 40, Enqueue: []map[string]any{{"lr": 0.02, "dim": 5, "n": 5, "c": 0.0}}}
	if err := s.Optimize(context.Background(), synthObjective); err != nil {
		t.Fatal(err)
	}
	start, end := *s.Trials[0].Value, *s.Best().Value
	if end < start+1 || end < -0.5 {
		t.Errorf("from %.3f the strategy reached %.3f in 40 trials", start, end)
	}
	if s.Trials[5].Sampler != "autotune" {
		t.Errorf("trial 5 sampled by %q", s.Trials[5].Sampler)
	}
}
