package plot

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/textclf/textclf/train"
)

func history() []train.LogEntry {
	var h []train.LogEntry
	for step := 10; step <= 200; step += 10 {
		loss := 0.7 * math.Exp(-float64(step)/80)
		h = append(h, train.LogEntry{Step: step, Loss: &loss})
		if step%50 == 0 {
			h = append(h, train.LogEntry{Step: step, Eval: map[string]float64{"loss": loss * 1.2, "accuracy": 1 - loss, "f1": 0.9 - loss}})
		}
	}
	return h
}

// Loss and metric have a panel and a y axis each; the legend sits in room
// kept above every loss point.
func TestCurvePanels(t *testing.T) {
	panels, err := curvePanels(history(), "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 2 || panels[0].Y.Label.Text != "loss" || panels[1].Y.Label.Text != "eval accuracy" {
		t.Fatalf("%d panels", len(panels))
	}
	highest := 0.0
	for _, e := range history() {
		if e.Loss != nil {
			highest = max(highest, *e.Loss)
		}
		if e.Eval != nil {
			highest = max(highest, e.Eval["loss"])
		}
	}
	loss := panels[0]
	if curvesTop := loss.Y.Min + (1-legendRoom)*(loss.Y.Max-loss.Y.Min); !loss.Legend.Top || highest > curvesTop || loss.Y.Min < 0 {
		t.Errorf("loss panel: legend on top %v, y from %g to %g; want the highest loss %g below %g", loss.Legend.Top, loss.Y.Min, loss.Y.Max, highest, curvesTop)
	}
	if acc := panels[1]; acc.Y.Min < 0 || acc.Y.Max > 1 || acc.Y.Max < 1-0.7*math.Exp(-200.0/80) {
		t.Errorf("accuracy panel y from %g to %g", acc.Y.Min, acc.Y.Max)
	}
	if panels[0].X.Max != 200 || panels[1].X.Max != 200 {
		t.Errorf("the panels do not share the steps")
	}
	only, err := curvePanels(history(), "loss")
	if err != nil || len(only) != 1 {
		t.Errorf("metric loss: %d panels (%v), want the loss panel alone", len(only), err)
	}
}

func TestTrainingCurvesWritesPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "training_curves.png")
	if err := TrainingCurves(path, history(), "accuracy"); err != nil {
		t.Fatal(err)
	}
	checkStackedPNG(t, path)
	if err := TrainingCurves(filepath.Join(t.TempDir(), "c.xyz"), history(), "accuracy"); err == nil {
		t.Error("an unknown image format was accepted")
	}
}

// checkStackedPNG decodes a PNG file and checks that it holds two stacked panels.
func checkStackedPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() <= b.Dx()/2 {
		t.Errorf("image %v, want two stacked panels", b)
	}
}
