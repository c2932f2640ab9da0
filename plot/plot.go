// Package plot draws a training run's curves, and the trials of a
// hyper-parameter search, with gonum/plot. It is a
// package of its own so that programs which only train or classify do not
// link plotting, fonts and image writers: the command line calls it after
// training.
package plot

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/train"
)

// legendRoom is the fraction of a panel's height kept free above the
// curves for the legend, so that it never covers them.
const legendRoom = 0.3

// TrainingCurves draws the log of a training run (train.State's
// LogHistory) into a PNG, SVG or PDF file (by extension), written
// atomically: on top the training and evaluation loss, below the
// evaluation metric (when it is not the loss), each panel with its own y
// axis over the same steps.
func TrainingCurves(path string, history []train.LogEntry, metric string) error {
	panels, err := curvePanels(history, metric)
	if err != nil {
		return err
	}
	return writePanels(path, panels)
}

// writePanels draws panels stacked top to bottom, 8 inches wide and 3
// high each, into a PNG, SVG or PDF file (by extension), written
// atomically.
func writePanels(path string, panels []*gplot.Plot) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	width, height := 8*vg.Inch, 3*vg.Inch*vg.Length(len(panels))+0.5*vg.Inch
	c, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	rows := make([][]*gplot.Plot, len(panels))
	for i, p := range panels {
		rows[i] = []*gplot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(12), PadY: vg.Points(12)}
	canvases := gplot.Align(rows, tiles, draw.New(c))
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		if _, err := c.WriteTo(out); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		return nil
	})
}

// curvePanels lays out the panels of TrainingCurves, top to bottom.
func curvePanels(history []train.LogEntry, metric string) ([]*gplot.Plot, error) {
	var trainLoss, evalLoss, evalMetric plotter.XYs
	maxStep := 1.0
	for _, e := range history {
		x := float64(e.Step)
		maxStep = max(maxStep, x)
		if e.Loss != nil {
			trainLoss = append(trainLoss, plotter.XY{X: x, Y: *e.Loss})
		}
		if e.Eval != nil {
			evalLoss = append(evalLoss, plotter.XY{X: x, Y: e.Eval["loss"]})
			if v, ok := e.Eval[metric]; ok && metric != "loss" {
				evalMetric = append(evalMetric, plotter.XY{X: x, Y: v})
			}
		}
	}
	loss, err := lossPanel(trainLoss, evalLoss)
	if err != nil {
		return nil, err
	}
	panels := []*gplot.Plot{loss}
	if len(evalMetric) > 0 {
		p, err := metricPanel(evalMetric, metric)
		if err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = 0, maxStep
	}
	panels[len(panels)-1].X.Label.Text = "step"
	return panels, nil
}

// lossPanel draws the losses, with room for the legend above them.
func lossPanel(trainLoss, evalLoss plotter.XYs) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = "Training"
	p.Y.Label.Text = "loss"
	var lines []any
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range []struct {
		name string
		xy   plotter.XYs
	}{{"train loss", trainLoss}, {"eval loss", evalLoss}} {
		if len(s.xy) == 0 {
			continue
		}
		lines = append(lines, s.name, s.xy)
		for _, xy := range s.xy {
			lo, hi = min(lo, xy.Y), max(hi, xy.Y)
		}
	}
	if len(lines) > 0 {
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		lo, hi = 0, 1
	}
	pad := max((hi-lo)*0.05, 0.01)
	lo, hi = max(0, lo-pad), hi+pad
	// The curves fill the lower part of the panel; the legend the rest.
	p.Y.Min, p.Y.Max = lo, lo+(hi-lo)/(1-legendRoom)
	p.Legend.Top = true
	return p, nil
}

// metricPanel draws the evaluation metric; with one curve, its name is the
// y axis label and no legend is needed.
func metricPanel(xy plotter.XYs, metric string) (*gplot.Plot, error) {
	p := gplot.New()
	p.Y.Label.Text = "eval " + metric
	line, points, err := plotter.NewLinePoints(xy)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	line.Color = plotutil.Color(2)
	points.Color = plotutil.Color(2)
	points.Shape = plotutil.Shape(2)
	p.Add(line, points)
	lo, hi := xy[0].Y, xy[0].Y
	for _, v := range xy {
		lo, hi = min(lo, v.Y), max(hi, v.Y)
	}
	pad := max((hi-lo)*0.1, 0.02)
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	if lo >= 0 && hi <= 1 { // accuracy, F1: stay within [0, 1]
		p.Y.Min, p.Y.Max = max(0, p.Y.Min), min(1, p.Y.Max)
	}
	return p, nil
}
