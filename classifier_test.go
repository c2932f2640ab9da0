package textclf

import (
	"strings"

	"context"
	"fmt"
	"math"
	"testing"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/model"
)

// tinyBERT is a tiny random BERT with a WordPiece tokenizer
// (scripts/tiny-bert/make.py).
const tinyBERT = "testdata/tiny-bert"

func TestClassifierMatchesModel(t *testing.T) {
	ctx := context.Background()
	dir := tinyBERT
	texts := []string{"The movie was great!", "not good", "a very, very boring film and it was bad .", "I"}
	clf, err := Open(ctx, dir, Options{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	preds, err := clf.Classify(ctx, texts...)
	if err != nil {
		t.Fatal(err)
	}
	tr := clf.Model.(*Transformer)
	for i, text := range texts {
		enc, err := tr.Tokenizer().Encode(text, true)
		if err != nil {
			t.Fatal(err)
		}
		alone, err := tr.Network().Forward(model.PadBatch([][]int{enc.IDs}, [][]int{enc.TypeIDs}, 0))
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for j := range alone {
			if d := math.Abs(float64(alone[j] - preds[i].Logits[j])); d > 1e-5 {
				t.Errorf("%q: logit %d %g batched, %g alone", text, j, preds[i].Logits[j], alone[j])
			}
		}
		want := ApplyFunction(alone, Softmax)
		for _, s := range preds[i].Scores {
			sum += float64(s.Score)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("%q: softmax scores sum to %g", text, sum)
		}
		best := 0
		for j := range want {
			if want[j] > want[best] {
				best = j
			}
		}
		if preds[i].Label != []string{"negative", "neutral", "positive"}[best] || math.Abs(float64(preds[i].Score-want[best])) > 1e-6 {
			t.Errorf("%q: predicted %s %g, want %s %g", text, preds[i].Label, preds[i].Score, clf.Labels()[best], want[best])
		}
		for j := 1; j < len(preds[i].Scores); j++ {
			if preds[i].Scores[j].Score > preds[i].Scores[j-1].Score {
				t.Errorf("%q: scores not sorted: %v", text, preds[i].Scores)
			}
		}
	}
}

func TestClassifierTruncatesToModelLimit(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if clf.MaxLength() != 40 {
		t.Fatalf("max length %d, want the model's 40 positions", clf.MaxLength())
	}
	long := ""
	for i := 0; i < 100; i++ {
		long += "great film "
	}
	if _, err := clf.Classify(ctx, long); err != nil {
		t.Fatalf("a 200-word text: %v", err)
	}
	if _, err := Open(ctx, tinyBERT, Options{MaxLength: 41}); err == nil {
		t.Fatal("max length 41 for a 40-position model was accepted")
	}
}

func TestApplyFunction(t *testing.T) {
	logits := []float32{1, 2, 3}
	soft := ApplyFunction(logits, Softmax)
	e := []float64{math.Exp(1), math.Exp(2), math.Exp(3)}
	for i := range soft {
		if want := e[i] / (e[0] + e[1] + e[2]); math.Abs(float64(soft[i])-want) > 1e-6 {
			t.Errorf("softmax[%d] %g, want %g", i, soft[i], want)
		}
	}
	sig := ApplyFunction([]float32{0, 2}, Sigmoid)
	if sig[0] != 0.5 || math.Abs(float64(sig[1])-1/(1+math.Exp(-2))) > 1e-6 {
		t.Errorf("sigmoid %v", sig)
	}
	if none := ApplyFunction(logits, None); fmt.Sprint(none) != fmt.Sprint(logits) {
		t.Errorf("none %v", none)
	}
}

func TestEvaluate(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := &data.Dataset{Path: "mem", Examples: []data.Example{
		{Text: "great movie", Labels: []string{"positive"}, Line: 1},
		{Text: "bad film", Labels: []string{"negative"}, Line: 2},
		{Text: "the plot", Labels: []string{"neutral"}, Line: 3},
		{Text: "i loved it", TextPair: "so fun", Labels: []string{"positive"}, Line: 4},
	}}
	rep, err := clf.Evaluate(ctx, ds, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	preds, err := clf.ClassifyInputs(ctx, InputsOf(ds.Examples), ClassifyOptions{Function: Softmax})
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range preds {
		if p.Label == ds.Examples[i].Labels[0] {
			correct++
		}
	}
	if rep.N != 4 || math.Abs(rep.Accuracy-float64(correct)/4) > 1e-12 {
		t.Fatalf("report: n %d accuracy %g, predictions give %g", rep.N, rep.Accuracy, float64(correct)/4)
	}
	ds.Examples[0].Labels = []string{"unknown"}
	if _, err := clf.Evaluate(ctx, ds, ClassifyOptions{}); err == nil || !strings.Contains(err.Error(), "mem:1") {
		t.Fatalf("unknown label: %v, want an error naming mem:1", err)
	}
}

// nanModel wraps a model and gives NaN logits for texts with an unknown
// word ("nan": tiny-bert's vocabulary lacks it) as their second.
type nanModel struct{ Model }

func (m nanModel) Logits(ctx context.Context, batch []Encoding) ([][]float32, error) {
	out, err := m.Model.Logits(ctx, batch)
	for i, e := range batch {
		if len(e.Tokens) > 2 && e.Tokens[2] == "[UNK]" {
			out[i][1] = float32(math.NaN())
		}
	}
	return out, err
}

// NaN or infinite outputs are an error naming the input, whatever the
// output format; an empty data set cannot be evaluated.
func TestNaNOutputsAndEmptyData(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := NewClassifier(nanModel{clf.Model}, Options{})
	_, err = bad.Classify(ctx, "fine", "a nan text", "fine too")
	if err == nil || !strings.Contains(err.Error(), `input 2 ("a nan text"): output 1 of the model is NaN`) {
		t.Fatalf("NaN logits: %v", err)
	}
	ds := &data.Dataset{Path: "mem", Examples: []data.Example{{Text: "a nan", Labels: []string{"positive"}, Line: 7}}}
	if _, err := bad.Evaluate(ctx, ds, ClassifyOptions{}); err == nil || !strings.Contains(err.Error(), "is NaN") {
		t.Fatalf("NaN logits in evaluate: %v", err)
	}
	if _, err := clf.Evaluate(ctx, &data.Dataset{Path: "empty.tsv"}, ClassifyOptions{}); err == nil || !strings.Contains(err.Error(), "empty.tsv: no examples") {
		t.Fatalf("empty data: %v", err)
	}
}
