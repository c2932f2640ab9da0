package explain

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/textclf/textclf/internal/golden"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// The golden files under testdata/explain come from scripts/explain/gen.py:
// Captum's LayerIntegratedGradients re-stated with torch autograd on the
// tiny random checkpoints of testdata/model, padded batches of 3 inputs.

const explainData = "../testdata/explain"

type goldenCase struct {
	Name     string `json:"name"`
	Model    string `json:"model"`
	Kind     string `json:"kind"`
	Function string `json:"function"`
	Targets  []int  `json:"targets"`
	Runs     []struct {
		Method string `json:"method"`
		Steps  int    `json:"steps"`
	} `json:"runs"`
}

func readCases(t *testing.T) []goldenCase {
	var index struct {
		Cases []goldenCase `json:"cases"`
	}
	golden.ReadJSON(t, filepath.Join(explainData, "cases.json"), &index)
	if len(index.Cases) < 5 {
		t.Fatalf("only %d golden cases", len(index.Cases))
	}
	return index.Cases
}

// goldenInputs returns the encodings of the golden batch's rows, unpadded.
func goldenInputs(t *testing.T, g golden.File) []tokenizer.Encoding {
	ids, shape := g.Ints(t, "input_ids")
	mask, _ := g.Ints(t, "attention_mask")
	types, _ := g.Ints(t, "token_type_ids")
	special, _ := g.Ints(t, "special_tokens_mask")
	b, tt := shape[0], shape[1]
	encs := make([]tokenizer.Encoding, b)
	for i := range encs {
		n := 0
		for _, m := range mask[i*tt : (i+1)*tt] {
			n += m
		}
		row := func(s []int) []int { return append([]int(nil), s[i*tt:i*tt+n]...) }
		encs[i] = tokenizer.Encoding{IDs: row(ids), TypeIDs: row(types), SpecialTokensMask: row(special)}
	}
	return encs
}

func TestGoldenCaptum(t *testing.T) {
	for _, c := range readCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			m, _, err := model.Load(filepath.Join("..", c.Model), 1)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind == "distilbert" {
				m.ProblemType = model.SingleLabel
			}
			g := golden.Open(t, filepath.Join(explainData, c.Name+".safetensors"))
			inputs := goldenInputs(t, g)
			wantBase, shape := g.Ints(t, "baseline_ids")
			for i, enc := range inputs {
				if got, want := Baseline(enc, m.PadID()), wantBase[i*shape[1]:i*shape[1]+enc.Len()]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("baseline of row %d: %v, want %v", i, got, want)
				}
			}
			for _, run := range c.Runs {
				key := fmt.Sprintf("%s.%d", run.Method, run.Steps)
				want := g.Floats(t, "attributions."+key)
				wantDelta := g.Floats(t, "delta."+key)
				wantOut := g.Floats(t, "output."+key)
				wantBaseOut := g.Floats(t, "baseline_output."+key)
				// Every grouping of the steps into passes gives the same result.
				for _, ibs := range []int{0, 3, 7, 1000} {
					name := fmt.Sprintf("%s/internal-batch-%d", key, ibs)
					got, err := IntegratedGradients(context.Background(), m, inputs, c.Targets,
						Config{Steps: run.Steps, Method: run.Method, InternalBatchSize: ibs, Function: c.Function})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for i, a := range got {
						row := want[i*shape[1] : i*shape[1]+len(a.Tokens)]
						scale := 0.0
						for _, v := range row {
							scale = math.Max(scale, math.Abs(float64(v)))
						}
						worst := 0.0
						for j, v := range a.Tokens {
							worst = math.Max(worst, math.Abs(float64(v-row[j]))/scale)
						}
						if worst > 1e-4 {
							t.Errorf("%s row %d: attributions differ from Captum's by %.2g of the largest\n got %v\nwant %v", name, i, worst, a.Tokens, row)
						}
						// Padding carries no attribution in the reference.
						for j := len(a.Tokens); j < shape[1]; j++ {
							if want[i*shape[1]+j] != 0 {
								t.Fatalf("reference has attribution %g on padding", want[i*shape[1]+j])
							}
						}
						if d := math.Abs(float64(a.Delta - wantDelta[i])); d > 1e-4*scale {
							t.Errorf("%s row %d: delta %g, Captum %g", name, i, a.Delta, wantDelta[i])
						}
						if math.Abs(float64(a.Output-wantOut[i])) > 1e-5 || math.Abs(float64(a.BaselineOutput-wantBaseOut[i])) > 1e-5 {
							t.Errorf("%s row %d: F(input), F(baseline) = %g, %g; Captum %g, %g", name, i, a.Output, a.BaselineOutput, wantOut[i], wantBaseOut[i])
						}
						// Completeness at 50 Gauss-Legendre steps, where the
						// path is smooth (DistilBERT's ReLU head is not; see
						// scripts/explain/gen.py).
						if key == "gausslegendre.50" && c.Kind != "distilbert" {
							if rel := math.Abs(float64(a.Delta)) / math.Abs(float64(a.Output-a.BaselineOutput)); rel > 0.01 {
								t.Errorf("%s row %d: |delta| is %.2g of |F(x) - F(baseline)|", name, i, rel)
							}
						}
					}
				}
			}
		})
	}
}

func TestQuadratureMatchesNumPy(t *testing.T) {
	var want map[string]struct {
		Alphas    []float64 `json:"alphas"`
		StepSizes []float64 `json:"step_sizes"`
	}
	golden.ReadJSON(t, filepath.Join(explainData, "quadrature.json"), &want)
	if len(want) < 10 {
		t.Fatalf("only %d quadrature rules", len(want))
	}
	for key, w := range want {
		var method string
		var n int
		for _, m := range []string{GaussLegendre, RiemannTrapezoid} {
			if _, err := fmt.Sscanf(key, m+".%d", &n); err == nil {
				method = m
			}
		}
		alphas, weights, err := Quadrature(method, n)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if len(alphas) != len(w.Alphas) {
			t.Fatalf("%s: %d points, numpy %d", key, len(alphas), len(w.Alphas))
		}
		for i := range alphas {
			if math.Abs(alphas[i]-w.Alphas[i]) > 1e-12 || math.Abs(weights[i]-w.StepSizes[i]) > 1e-12 {
				t.Errorf("%s point %d: alpha %v weight %v, Captum/numpy %v %v", key, i, alphas[i], weights[i], w.Alphas[i], w.StepSizes[i])
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	m, _, err := model.Load("../testdata/model/bert-single-label", 1)
	if err != nil {
		t.Fatal(err)
	}
	enc := tokenizer.Encoding{IDs: []int{2, 7, 3}, TypeIDs: []int{0, 0, 0}, SpecialTokensMask: []int{1, 0, 1}}
	for _, tc := range []struct {
		inputs  []tokenizer.Encoding
		targets []int
		cfg     Config
		want    string
	}{
		{[]tokenizer.Encoding{enc}, []int{0}, Config{Steps: -1}, "steps must be positive, got -1"},
		{[]tokenizer.Encoding{enc}, []int{0}, Config{Steps: 1, Method: RiemannTrapezoid}, "steps must be at least 2 for riemann_trapezoid, got 1"},
		{[]tokenizer.Encoding{enc}, []int{0}, Config{Method: "riemann_left"}, `method must be gausslegendre or riemann_trapezoid, got "riemann_left"`},
		{[]tokenizer.Encoding{enc}, []int{3}, Config{}, "input 1: target 3 is not a label id in [0, 3)"},
		{[]tokenizer.Encoding{{}}, []int{0}, Config{}, "input 1: no tokens to attribute"},
		{nil, nil, Config{}, "integrated gradients: no inputs"},
		{[]tokenizer.Encoding{enc}, []int{0}, Config{Function: "tanh"}, `function must be softmax, sigmoid or none, got "tanh"`},
	} {
		_, err := IntegratedGradients(context.Background(), m, tc.inputs, tc.targets, tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
