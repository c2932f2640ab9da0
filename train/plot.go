package train

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/textclf/textclf/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotCurves draws the training loss, the evaluation loss and the
// evaluation metric against the step into a PNG (or SVG, by extension) file,
// written atomically.
func PlotCurves(path string, history []LogEntry, metric string) error {
	var train, evalLoss, evalMetric plotter.XYs
	for _, e := range history {
		if e.Loss != nil {
			train = append(train, plotter.XY{X: float64(e.Step), Y: *e.Loss})
		}
		if e.Eval != nil {
			evalLoss = append(evalLoss, plotter.XY{X: float64(e.Step), Y: e.Eval["loss"]})
			if metric != "loss" {
				evalMetric = append(evalMetric, plotter.XY{X: float64(e.Step), Y: e.Eval[metric]})
			}
		}
	}
	p := plot.New()
	p.Title.Text = "Training"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "loss / " + metric
	var lines []any
	for _, s := range []struct {
		name string
		xy   plotter.XYs
	}{{"train loss", train}, {"eval loss", evalLoss}, {"eval " + metric, evalMetric}} {
		if len(s.xy) > 0 {
			lines = append(lines, s.name, s.xy)
		}
	}
	if len(lines) > 0 {
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
	}
	w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, filepath.Ext(path)[1:])
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		if _, err := w.WriteTo(out); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		return nil
	})
}
