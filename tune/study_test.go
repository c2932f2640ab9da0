package tune

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// synthSpace resembles fastText's: a log-scale rate, a log-scale size, a
// small integer and a choice.
func synthSpace() Space {
	return Space{
		{Name: "lr", Kind: Float, Low: 0.01, High: 5, Log: true},
		{Name: "dim", Kind: Int, Low: 1, High: 1000, Log: true},
		{Name: "n", Kind: Int, Low: 1, High: 5},
		{Name: "c", Kind: Categorical, Choices: []any{0.0, 2.0, 3.0}},
	}
}

// synth peaks at lr 0.5, dim 100, n 2, c 2.
func synth(p map[string]any) float64 {
	lr := math.Log10(p["lr"].(float64) / 0.5)
	dim := math.Log10(float64(p["dim"].(int)) / 100)
	n := float64(p["n"].(int) - 2)
	c := 0.0
	if p["c"].(float64) != 2 {
		c = 0.3
	}
	return -lr*lr - dim*dim - 0.1*n*n - c
}

func synthObjective(ctx context.Context, h *Handle) (map[string]float64, error) {
	return map[string]float64{"score": synth(h.Params)}, nil
}

func runSynth(t *testing.T, sampler Sampler, seed uint64, trials int) []Trial {
	t.Helper()
	s := &Study{Space: synthSpace(), Goal: Goal{Metric: "score", Direction: Maximize}, Sampler: sampler, Seed: seed, TimeBudget: time.Hour, MaxTrials: trials}
	if err := s.Optimize(context.Background(), synthObjective); err != nil {
		t.Fatal(err)
	}
	if len(s.Trials) != trials {
		t.Fatalf("%d trials, want %d", len(s.Trials), trials)
	}
	return s.Trials
}

// TPE samples the better region of a synthetic objective far more often
// than random search, with the same seeds and number of trials.
func TestTPEConcentratesOnTheBetterRegion(t *testing.T) {
	const trials, seeds = 60, 5
	near := func(tr Trial) bool { return synth(tr.Params) > -0.3 }
	var tpeNear, randNear, tpeBest, randBest float64
	for seed := uint64(1); seed <= seeds; seed++ {
		tpe := runSynth(t, NewTPESampler(), seed, trials)
		rnd := runSynth(t, RandomSampler{}, seed, trials)
		// The first 10 trials are random for both.
		for i := 0; i < 10; i++ {
			if !reflect.DeepEqual(tpe[i].Params, rnd[i].Params) {
				t.Fatalf("seed %d: startup trial %d differs: %v vs %v", seed, i, tpe[i].Params, rnd[i].Params)
			}
		}
		for i := 10; i < trials; i++ {
			if near(tpe[i]) {
				tpeNear++
			}
			if near(rnd[i]) {
				randNear++
			}
		}
		tpeBest += *BestTrial(tpe, Maximize).Value
		randBest += *BestTrial(rnd, Maximize).Value
	}
	n := float64(seeds * (trials - 10))
	t.Logf("trials 10-59 near the optimum: TPE %.0f%%, random %.0f%%; mean best %.3f vs %.3f", 100*tpeNear/n, 100*randNear/n, tpeBest/seeds, randBest/seeds)
	if tpeNear < 3*randNear || tpeNear < 0.2*n {
		t.Errorf("TPE put %.0f of %.0f trials near the optimum, random %.0f: want ≥ 3× random and ≥ 20%%", tpeNear, n, randNear)
	}
	if tpeBest <= randBest {
		t.Errorf("TPE's mean best %.3f is not above random's %.3f", tpeBest/seeds, randBest/seeds)
	}
}

// Every sampled value lies in its parameter's range and grid, and random
// search covers log-scale ranges uniformly in log scale.
func TestSamplesStayInTheSpace(t *testing.T) {
	space := append(synthSpace(),
		Param{Name: "f", Kind: Float, Low: 0, High: 1, Step: 0.25},
		Param{Name: "s", Kind: Int, Low: 0, High: 100, Step: 10},
		Param{Name: "one", Kind: Int, Low: 3, High: 3},
		Param{Name: "word", Kind: Categorical, Choices: []any{"max", "mean"}})
	for _, sampler := range []Sampler{RandomSampler{}, NewTPESampler(), &TPESampler{NStartupTrials: 3, NEICandidates: 24, PriorWeight: 1, Multivariate: true}} {
		s := &Study{Space: space, Goal: Goal{Metric: "score", Direction: Maximize}, Sampler: sampler, Seed: 3, TimeBudget: time.Hour, MaxTrials: 120}
		var lowDecade int
		err := s.Optimize(context.Background(), func(ctx context.Context, h *Handle) (map[string]float64, error) {
			for i := range space {
				p := &space[i]
				v := h.Params[p.Name]
				if nv, ok := p.Value(v); !ok || !reflect.DeepEqual(nv, v) {
					t.Fatalf("%s: %s = %v (%T) is not a value of %s", sampler.Name(), p.Name, v, v, p)
				}
			}
			if h.Params["lr"].(float64) < 0.1 {
				lowDecade++
			}
			return map[string]float64{"score": synth(h.Params)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sampler.(RandomSampler); ok {
			// [0.01, 0.1) is 1 of log10(500) = 2.7 decades: 37% of draws.
			if frac := float64(lowDecade) / 120; frac < 0.22 || frac > 0.52 {
				t.Errorf("random search drew lr < 0.1 in %.0f%% of trials, want ~37%% (uniform in log scale)", 100*frac)
			}
		}
	}
}

// A study interrupted in its 13th trial and run again from its log ends
// with the same trials as one never interrupted; the log's last line, cut
// short by a crash, is dropped.
func TestStudyResumes(t *testing.T) {
	dir := t.TempDir()
	space := synthSpace()
	run := func(path string, stopAt int) ([]Trial, error) {
		done, log, err := OpenLog(path, space)
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := &Study{Space: space, Goal: Goal{Metric: "score", Direction: Maximize}, Seed: 7, TimeBudget: time.Hour, MaxTrials: 25,
			Trials: done, OnTrial: log.Append, Pruner: NewMedianPruner()}
		err = s.Optimize(ctx, func(ctx context.Context, h *Handle) (map[string]float64, error) {
			if h.Number == stopAt {
				cancel() // Ctrl-C in the middle of a trial
				return nil, ctx.Err()
			}
			v := synth(h.Params)
			for step := 1; step <= 3; step++ {
				if err := h.Report(step, map[string]float64{"score": v - float64(3-step)}); err != nil {
					return nil, err
				}
			}
			return map[string]float64{"score": v}, nil
		})
		return s.Trials, err
	}
	straight, err := run(filepath.Join(dir, "straight.jsonl"), -1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "resumed.jsonl")
	if _, err := run(path, 12); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted study returned %v", err)
	}
	back, err := ReadTrials(path, space)
	if err != nil || len(back) != 12 {
		t.Fatalf("after the interruption the log holds %d trials (%v), want 12", len(back), err)
	}
	// A crash while writing a line leaves half of it.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"number":12,"state":"compl`)
	f.Close()
	resumed, err := run(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(resumed) != 25 {
		t.Fatalf("resumed study has %d trials", len(resumed))
	}
	pruned := 0
	for i := range straight {
		a, b := straight[i], resumed[i]
		if a.State != b.State || !reflect.DeepEqual(a.Params, b.Params) || (a.Value == nil) != (b.Value == nil) || (a.Value != nil && *a.Value != *b.Value) {
			t.Errorf("trial %d: resumed %v %v, uninterrupted %v %v", i, b.State, b.Params, a.State, a.Params)
		}
		if a.State == Pruned {
			pruned++
		}
	}
	if pruned == 0 {
		t.Error("no trial was pruned: the resumed pruner state is not tested")
	}
	final, err := ReadTrials(path, space)
	if err != nil || len(final) != 25 {
		t.Fatalf("log after resuming: %d trials, %v", len(final), err)
	}
	if !reflect.DeepEqual(final[20].Params, resumed[20].Params) {
		t.Errorf("trial 20 read back as %v, was %v", final[20].Params, resumed[20].Params)
	}
}

// A trial running past the time budget is stopped and recorded as pruned,
// and no trial starts after it; the budget counts the trials of a resumed
// study.
func TestTimeBudgetStopsTheRunningTrial(t *testing.T) {
	s := &Study{Space: synthSpace(), Goal: Goal{Metric: "score", Direction: Maximize}, Seed: 1, TimeBudget: 30 * time.Millisecond}
	calls := 0
	err := s.Optimize(context.Background(), func(ctx context.Context, h *Handle) (map[string]float64, error) {
		calls++
		<-ctx.Done() // a trial longer than the budget
		return nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(s.Trials) != 1 || s.Trials[0].State != Pruned || !strings.Contains(s.Trials[0].Error, "time budget") {
		t.Fatalf("%d calls, trials %+v", calls, s.Trials)
	}
	// Resumed with the budget already spent, nothing runs.
	again := &Study{Space: synthSpace(), Goal: s.Goal, Seed: 1, TimeBudget: 30 * time.Millisecond, Trials: s.Trials}
	if err := again.Optimize(context.Background(), func(ctx context.Context, h *Handle) (map[string]float64, error) {
		t.Fatal("a trial started after the budget was spent")
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Enqueued parameters make the first trial (those outside the space are
// sampled); a failing objective, a NaN objective and a missing metric are
// failed trials, not errors of the study.
func TestEnqueueAndFailures(t *testing.T) {
	s := &Study{Space: synthSpace(), Goal: Goal{Metric: "score", Direction: Maximize}, Seed: 1, TimeBudget: time.Hour, MaxTrials: 4,
		Enqueue: []map[string]any{{"lr": 0.1, "dim": 100.0, "n": 7, "c": 0.0}}}
	err := s.Optimize(context.Background(), func(ctx context.Context, h *Handle) (map[string]float64, error) {
		switch h.Number {
		case 1:
			return nil, errors.New("out of memory")
		case 2:
			return map[string]float64{"score": math.NaN()}, nil
		case 3:
			return map[string]float64{"accuracy": 1}, nil
		}
		return map[string]float64{"score": 1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := s.Trials[0]
	if first.Sampler != "enqueued" || first.Params["lr"] != 0.1 || first.Params["dim"] != 100 || first.Params["c"] != 0.0 {
		t.Errorf("enqueued trial: %+v", first)
	}
	if n := first.Params["n"].(int); n < 1 || n > 5 {
		t.Errorf("n = %d outside the space was kept", n)
	}
	for i, want := range []string{"out of memory", "score is NaN", `no "score" metric`} {
		if tr := s.Trials[i+1]; tr.State != Failed || !strings.Contains(tr.Error, want) {
			t.Errorf("trial %d: %s %q, want failed with %q", i+1, tr.State, tr.Error, want)
		}
	}
	if b := s.Best(); b == nil || b.Number != 0 {
		t.Errorf("best trial %+v, want trial 0", b)
	}
}

func TestGoal(t *testing.T) {
	m := map[string]float64{"loss": 0.4, "accuracy": 0.8, "f1": 0.7}
	for _, c := range []struct {
		metric     string
		regression bool
		metrics    map[string]float64
		want       float64
		dir        Direction
	}{
		{"", false, m, 1.5, Maximize},                              // transformers' default: the sum of the metrics but the loss
		{"", true, map[string]float64{"loss": 0.4}, 0.4, Minimize}, // the loss alone
		{"loss", false, m, 0.4, Minimize},
		{"f1", false, m, 0.7, Maximize},
	} {
		g := GoalFor(c.metric, c.regression)
		v, err := g.Value(c.metrics)
		if err != nil || math.Abs(v-c.want) > 1e-12 || g.Direction != c.dir {
			t.Errorf("%q: %v %v %v, want %v %v", c.metric, v, err, g.Direction, c.want, c.dir)
		}
	}
}
