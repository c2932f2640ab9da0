package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// goldenCase is one case of testdata/classic/metrics_golden.json, written by
// scripts/classic/gen_metrics_golden.py with scikit-learn.
type goldenCase struct {
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Labels    []string    `json:"labels"`
	Gold      []int       `json:"gold"`
	Pred      []int       `json:"pred"`
	GoldSets  [][]int     `json:"gold_sets"`
	Scores    [][]float32 `json:"scores"`
	Threshold float64     `json:"threshold"`
	Accuracy  float64     `json:"accuracy"`
	Precision []float64   `json:"precision"`
	Recall    []float64   `json:"recall"`
	F1        []float64   `json:"f1"`
	Support   []int       `json:"support"`
	Avg       map[string]Average
	Confusion [][]int `json:"confusion"`
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAgainstScikitLearn(t *testing.T) {
	b, err := os.ReadFile("../testdata/classic/metrics_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 4 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var r *Report
			var err error
			if c.Kind == "multi" {
				r, err = MultiLabel(c.Labels, c.GoldSets, c.Scores, c.Threshold)
			} else {
				r, err = Classification(c.Labels, c.Gold, c.Pred)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !near(r.Accuracy, c.Accuracy) {
				t.Errorf("accuracy %v, want %v", r.Accuracy, c.Accuracy)
			}
			for i, pc := range r.PerClass {
				if !near(pc.Precision, c.Precision[i]) || !near(pc.Recall, c.Recall[i]) || !near(pc.F1, c.F1[i]) || pc.Support != c.Support[i] {
					t.Errorf("class %d: got %+v, want P %v R %v F1 %v support %d", i, pc, c.Precision[i], c.Recall[i], c.F1[i], c.Support[i])
				}
			}
			for name, got := range map[string]Average{"macro": r.Macro, "micro": r.Micro, "weighted": r.Weighted} {
				want := c.Avg[name]
				if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) {
					t.Errorf("%s average %+v, want %+v", name, got, want)
				}
			}
			if c.Confusion != nil {
				for g := range c.Confusion {
					for p := range c.Confusion[g] {
						if r.Confusion[g][p] != c.Confusion[g][p] {
							t.Fatalf("confusion[%d][%d] = %d, want %d", g, p, r.Confusion[g][p], c.Confusion[g][p])
						}
					}
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if _, err := Classification([]string{"a"}, []int{0}, []int{0, 0}); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := Classification([]string{"a"}, []int{0}, []int{3}); err == nil {
		t.Error("out-of-range prediction accepted")
	}
	if _, err := MultiLabel([]string{"a", "b"}, [][]int{{0}}, [][]float32{{0.1}}, 0.5); err == nil {
		t.Error("short score row accepted")
	}
}

func TestWriters(t *testing.T) {
	r, err := Classification([]string{"ham", "spam<x>"}, []int{0, 0, 1, 1, 1}, []int{0, 1, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"precision", "accuracy", "0.6000", "macro avg", "confusion matrix", "spam<x>"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Accuracy != r.Accuracy || back.Confusion[1][0] != 1 || back.PerClass[1].Label != "spam<x>" {
		t.Errorf("JSON round trip lost data: %+v", back)
	}
	dir := t.TempDir()
	if err := r.WriteReportDir(dir, "test <report>"); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(dir + "/report.html")
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	// Escaped label, the confusion matrix cells and one bar per class and score.
	for _, want := range []string{"spam&lt;x&gt;", "test &lt;report&gt;", "Confusion matrix", ">2</td>", "width:50.0px"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if strings.Count(h, `class="bar p"`) != 3 { // 2 classes + legend
		t.Errorf("want one precision bar per class")
	}
	if _, err := os.Stat(dir + "/report.json"); err != nil {
		t.Error(err)
	}
}
