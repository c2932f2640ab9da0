package plot

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/textclf/textclf/tune"
)

func searchTrials() []tune.Trial {
	v := func(x float64) *float64 { return &x }
	return []tune.Trial{
		{Number: 0, State: tune.Complete, Value: v(1.5), Intermediate: []tune.Step{{Step: 1, Value: 1.2}, {Step: 2, Value: 1.5}}},
		{Number: 1, State: tune.Pruned, Intermediate: []tune.Step{{Step: 1, Value: 0.9}}},
		{Number: 2, State: tune.Failed, Error: "out of memory"},
		{Number: 3, State: tune.Complete, Value: v(1.7), Intermediate: []tune.Step{{Step: 1, Value: 1.4}, {Step: 2, Value: math.NaN()}, {Step: 3, Value: 1.7}}},
		{Number: 4, State: tune.Pruned, Error: "stopped by the time budget"},
	}
}

func TestTrialPanels(t *testing.T) {
	panels, err := trialPanels(searchTrials(), tune.GoalFor("", false))
	if err != nil || len(panels) != 2 {
		t.Fatalf("%d panels, %v", len(panels), err)
	}
	top := panels[0]
	if top.Title.Text != "5 trials: 2 complete, 2 pruned, 1 failed" {
		t.Errorf("title %q", top.Title.Text)
	}
	// Every value is inside the axis, with the legend's room above.
	if top.Y.Min > 0.9 || top.Y.Max < 1.7 {
		t.Errorf("y axis [%g, %g] does not hold 0.9 and 1.7", top.Y.Min, top.Y.Max)
	}
	// Without intermediate values there is one panel.
	fast := []tune.Trial{searchTrials()[2], {Number: 1, State: tune.Complete, Value: searchTrials()[0].Value}}
	if panels, err := trialPanels(fast, tune.GoalFor("accuracy", false)); err != nil || len(panels) != 1 {
		t.Errorf("%d panels, %v", len(panels), err)
	}
	if _, err := trialPanels(nil, tune.GoalFor("", false)); err == nil {
		t.Error("no trials plotted")
	}
}

func TestTrialsWritesPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trials.png")
	if err := Trials(path, searchTrials(), tune.GoalFor("loss", false)); err != nil {
		t.Fatal(err)
	}
	checkStackedPNG(t, path)
}
