package textclf

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/explain"
)

// Explain on a transformer: integrated gradients whose label, probability
// and scores are predict's, per-token attributions over the tokens read,
// normalized by their L2 norm, words merging the pieces, and a delta that
// is Σ attributions − (F(x) − F(baseline)).
func TestExplainTransformer(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := "an amazingly good films"
	preds, err := clf.Classify(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	e, err := clf.Explain(ctx, text, ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Label != preds[0].Label || e.Predicted != preds[0].Label || e.Probability != preds[0].Score {
		t.Fatalf("explained %s (%g), predicted %s; predict gives %s (%g)", e.Label, e.Probability, e.Predicted, preds[0].Label, preds[0].Score)
	}
	if e.Method != explain.GaussLegendre || e.Steps != 50 {
		t.Fatalf("method %s, %d steps", e.Method, e.Steps)
	}
	for i, s := range e.Scores {
		if LabelScore(s) != preds[0].Scores[i] {
			t.Fatalf("scores %v, predict %v", e.Scores, preds[0].Scores)
		}
	}
	enc, err := clf.Model.Encode(Input{Text: text}, EncodeOptions{Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.Tokens, " ") != strings.Join(enc.Tokens, " ") || len(e.Attributions) != enc.Len() ||
		!e.Special[0] || !e.Special[enc.Len()-1] || e.Special[1] {
		t.Fatalf("tokens %v special %v, the tokenizer gives %v", e.Tokens, e.Special, enc.Tokens)
	}
	sum, norm := 0.0, 0.0
	for i, a := range e.Attributions {
		sum += float64(a)
		norm += float64(a) * float64(a)
		if i > 0 && e.Normalized[i] != 0 && math.Abs(float64(e.Normalized[i]/a)-float64(e.Normalized[1]/e.Attributions[1])) > 1e-4 {
			t.Fatalf("normalized %v is not attributions %v scaled", e.Normalized, e.Attributions)
		}
	}
	if d := sum - float64(e.Probability-e.BaselineProbability); math.Abs(d-float64(e.Delta)) > 1e-6 {
		t.Fatalf("delta %g, Σ − ΔF = %g", e.Delta, d)
	}
	nn := 0.0
	for _, v := range e.Normalized {
		nn += float64(v) * float64(v)
	}
	if math.Abs(nn-1) > 1e-5 || norm == 0 {
		t.Fatalf("normalized has norm² %g", nn)
	}
	// Words: "an", "amazingly" (a ##m ##a ##z ##i ##n ##g ##l ##y in this
	// vocabulary), "good", "films" (film ##s).
	var ws []string
	pieces := 0
	for _, w := range e.Words {
		ws = append(ws, w.Word)
		pieces += w.Last - w.First + 1
		var s float32
		for k := w.First; k <= w.Last; k++ {
			s += e.Attributions[k]
		}
		if math.Abs(float64(s-w.Score)) > 1e-6 || string([]rune(text)[w.Start:w.End]) != w.Word {
			t.Fatalf("word %+v: pieces sum to %g", w, s)
		}
	}
	if strings.Join(ws, "|") != "an|amazingly|good|films" || pieces != 13 || len(e.Tokens) != 15 {
		t.Fatalf("words %q from %d of the tokens %q", ws, pieces, e.Tokens)
	}

	// Another target, the trapezoid rule and internal batches.
	other := preds[0].Scores[1].Label
	e2, err := clf.Explain(ctx, text, ExplainOptions{Target: other, Method: explain.RiemannTrapezoid, Steps: 20, InternalBatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Label != other || e2.Predicted != preds[0].Label || e2.Probability != preds[0].Scores[1].Score || e2.Steps != 20 {
		t.Fatalf("target %s: explained %s (%g), %d steps", other, e2.Label, e2.Probability, e2.Steps)
	}
	// Occlusion works on a transformer too.
	e3, err := clf.Explain(ctx, text, ExplainOptions{Method: explain.Occlusion})
	if err != nil {
		t.Fatal(err)
	}
	if e3.Steps != 0 || e3.Attributions[0] != 0 || e3.Attributions[1] == 0 {
		t.Fatalf("occlusion: %+v", e3)
	}
}

func TestExplainErrors(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		opt  ExplainOptions
		want string
	}{
		{"", ExplainOptions{}, "explain: empty text"},
		{" \t", ExplainOptions{}, "explain: empty text"},
		{"good", ExplainOptions{Target: "great"}, `explain: target "great" is not a label of the model (labels: negative, neutral, positive)`},
		{"good", ExplainOptions{Target: "3"}, `explain: target "3" is not a label of the model (labels: negative, neutral, positive)`},
		{"good", ExplainOptions{Steps: -5}, "explain: steps must be positive, got -5"},
		{"good", ExplainOptions{Method: "lime"}, `explain: method must be gausslegendre, riemann_trapezoid or occlusion, got "lime"`},
		{"good", ExplainOptions{Method: explain.RiemannTrapezoid, Steps: 1}, "explain: steps must be at least 2 for riemann_trapezoid, got 1"},
	} {
		if _, err := clf.Explain(ctx, tc.text, tc.opt); err == nil || err.Error() != tc.want {
			t.Errorf("Explain(%q, %+v): %v, want %q", tc.text, tc.opt, err, tc.want)
		}
	}
	// A label id works as a target.
	e, err := clf.Explain(ctx, "good", ExplainOptions{Target: "2", Steps: 4})
	if err != nil || e.Label != "positive" {
		t.Fatalf("target 2: %v %v", e.Label, err)
	}
}

// Classic models are explained by leaving each word out: a word's score is
// the drop of the label's probability without it.
func TestExplainClassic(t *testing.T) {
	ctx := context.Background()
	for _, arch := range []string{"fasttext", "textcnn", "bilstm"} {
		t.Run(arch, func(t *testing.T) {
			clf, err := Open(ctx, filepath.Join("testdata/classic/saved", arch), Options{})
			if err != nil {
				t.Fatal(err)
			}
			text := "The movie was Great fun"
			e, err := clf.Explain(ctx, text, ExplainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Method != explain.Occlusion || e.Steps != 0 {
				t.Fatalf("method %s steps %d", e.Method, e.Steps)
			}
			preds, err := clf.Classify(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			if e.Label != preds[0].Label || e.Probability != preds[0].Score {
				t.Fatalf("explained %s %g, predict %s %g", e.Label, e.Probability, preds[0].Label, preds[0].Score)
			}
			enc, err := clf.Model.Encode(Input{Text: text}, EncodeOptions{Truncate: true})
			if err != nil {
				t.Fatal(err)
			}
			for i := range enc.Tokens {
				rest := append(append([]string(nil), enc.Tokens[:i]...), enc.Tokens[i+1:]...)
				out, err := clf.Model.Logits(ctx, []Encoding{{Tokens: rest, IDs: make([]int, len(rest))}})
				if err != nil {
					t.Fatal(err)
				}
				id, _ := labelID(clf.Labels(), e.Label)
				if want := e.Probability - out[0][id]; e.Attributions[i] != want {
					t.Fatalf("word %d %q: %g, want %g", i, enc.Tokens[i], e.Attributions[i], want)
				}
			}
			if len(e.Words) != len(enc.Tokens) {
				t.Fatalf("%d words for %d tokens", len(e.Words), len(enc.Tokens))
			}
			for _, w := range e.Words {
				if w.Start >= 0 && !strings.EqualFold(string([]rune(text)[w.Start:w.End]), w.Word) && w.Word != string([]rune(text)[w.Start:w.End]) {
					t.Fatalf("word %+v not at its offsets in %q", w, text)
				}
			}
			if _, err := clf.Explain(ctx, text, ExplainOptions{Method: explain.GaussLegendre}); err == nil ||
				!strings.Contains(err.Error(), "integrated gradients need a transformer") {
				t.Fatalf("integrated gradients on %s: %v", arch, err)
			}
		})
	}
}
