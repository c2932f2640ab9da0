package plot

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/textclf/textclf/tune"
)

// Trials draws a hyper-parameter search into a PNG, SVG or PDF file (by
// extension), written atomically, as Optuna's plot_optimization_history
// and plot_intermediate_values: on top the objective of each trial by
// trial number (complete trials as dots, pruned ones as crosses at their
// last intermediate value) and the best value so far; below, when trials
// reported intermediate values, each trial's values over its steps (pruned
// trials in grey).
func Trials(path string, trials []tune.Trial, goal tune.Goal) error {
	panels, err := trialPanels(trials, goal)
	if err != nil {
		return err
	}
	return writePanels(path, panels)
}

// lastValue is a pruned trial's last finite intermediate value.
func lastValue(t tune.Trial) (float64, bool) {
	for i := len(t.Intermediate) - 1; i >= 0; i-- {
		if v := t.Intermediate[i].Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	return 0, false
}

// trialPanels lays out the panels of Trials, top to bottom.
func trialPanels(trials []tune.Trial, goal tune.Goal) ([]*gplot.Plot, error) {
	if len(trials) == 0 {
		return nil, errors.New("plot: no trials")
	}
	var complete, pruned, best plotter.XYs
	var bestSoFar *float64
	for _, t := range trials {
		x := float64(t.Number)
		switch t.State {
		case tune.Complete:
			v := *t.Value
			complete = append(complete, plotter.XY{X: x, Y: v})
			if bestSoFar == nil || (goal.Direction == tune.Maximize && v > *bestSoFar) || (goal.Direction == tune.Minimize && v < *bestSoFar) {
				bestSoFar = &v
			}
		case tune.Pruned:
			if v, ok := lastValue(t); ok {
				pruned = append(pruned, plotter.XY{X: x, Y: v})
			}
		}
		if bestSoFar != nil {
			best = append(best, plotter.XY{X: x, Y: *bestSoFar})
		}
	}
	top := gplot.New()
	top.Title.Text = fmt.Sprintf("%d trials: %d complete, %d pruned, %d failed", len(trials), len(complete), countState(trials, tune.Pruned), countState(trials, tune.Failed))
	top.X.Label.Text = "trial"
	top.Y.Label.Text = goal.Name() + " (" + string(goal.Direction) + ")"
	top.Legend.Top = true
	if len(best) > 0 {
		line, err := plotter.NewLine(best)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		line.StepStyle = plotter.PostStep
		line.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
		top.Add(line)
		top.Legend.Add("best so far", line)
	}
	for _, s := range []struct {
		name  string
		xy    plotter.XYs
		shape draw.GlyphDrawer
		color color.Color
	}{
		{"complete", complete, draw.CircleGlyph{}, color.RGBA{R: 30, G: 90, B: 200, A: 255}},
		{"pruned (last value)", pruned, draw.CrossGlyph{}, color.Gray{Y: 120}},
	} {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: s.shape, Color: s.color, Radius: vg.Points(3)}
		top.Add(sc)
		top.Legend.Add(s.name, sc)
	}
	top.X.Min, top.X.Max = -0.5, float64(trials[len(trials)-1].Number)+0.5
	fitY(top, append(append(plotter.XYs{}, complete...), pruned...))
	panels := []*gplot.Plot{top}

	curves := gplot.New()
	curves.Title.Text = "Intermediate values"
	curves.X.Label.Text = "step"
	curves.Y.Label.Text = goal.Name()
	var all plotter.XYs
	order := make([]tune.Trial, 0, len(trials))
	for _, t := range trials {
		if len(t.Intermediate) > 0 {
			order = append(order, t)
		}
	}
	// Pruned curves first, so that the complete ones are drawn over them.
	sort.SliceStable(order, func(a, b int) bool { return order[a].State == tune.Pruned && order[b].State != tune.Pruned })
	for _, t := range order {
		var xy plotter.XYs
		for _, s := range t.Intermediate {
			if !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0) {
				xy = append(xy, plotter.XY{X: float64(s.Step), Y: s.Value})
			}
		}
		if len(xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		c := color.Color(color.RGBA{R: 30, G: 90, B: 200, A: 200})
		if t.State != tune.Complete {
			c = color.Gray{Y: 170}
		}
		line.Color, points.Color, points.Radius = c, c, vg.Points(1.5)
		curves.Add(line, points)
		all = append(all, xy...)
	}
	if len(all) > 0 {
		fitY(curves, all)
		panels = append(panels, curves)
	}
	return panels, nil
}

func countState(trials []tune.Trial, s tune.State) int {
	n := 0
	for _, t := range trials {
		if t.State == s {
			n++
		}
	}
	return n
}

// fitY sets the y range to the values with a margin, and room for the
// legend above them.
func fitY(p *gplot.Plot, xy plotter.XYs) {
	if len(xy) == 0 {
		p.Y.Min, p.Y.Max = 0, 1
		return
	}
	lo, hi := xy[0].Y, xy[0].Y
	for _, v := range xy {
		lo, hi = min(lo, v.Y), max(hi, v.Y)
	}
	pad := max((hi-lo)*0.05, 1e-3)
	lo, hi = lo-pad, hi+pad
	p.Y.Min, p.Y.Max = lo, lo+(hi-lo)/(1-legendRoom)
}
