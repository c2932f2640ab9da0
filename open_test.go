package textclf

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

const fastTextDir = "testdata/classic/fasttext"

// trainFastText trains a small fastText-style model and saves it as
// `textclf train --arch fasttext` does.
func trainFastText(t *testing.T, multi bool) string {
	t.Helper()
	ds := &data.Dataset{Path: "mem", MultiLabel: multi}
	for i := range 120 {
		w := []string{"good", "great", "bad", "awful"}[i%4]
		labels := []string{map[string]string{"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}[w]}
		text := fmt.Sprintf("the %s film %d", w, i%7)
		if multi && i%3 == 0 {
			text += " and a long one"
			labels = append(labels, "long")
		}
		ds.Examples = append(ds.Examples, data.Example{Text: text, Labels: labels, Line: i + 1})
	}
	cfg := classic.DefaultFastTextConfig()
	cfg.Dim, cfg.Bucket = 8, 1000
	c, err := classic.Train(ds, classic.TrainConfig{Arch: classic.ArchFastText, FastText: cfg,
		Train: classic.TrainOptions{Epochs: 5, LR: 0.5, Threads: 1, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Open recognises every kind of model a path can hold, and refuses what it
// cannot run with an error that says why.
func TestOpenRecognisesModels(t *testing.T) {
	ctx := context.Background()
	classicDir := trainFastText(t, false)
	for _, tc := range []struct {
		path, kind string
		labels     int
	}{
		{tinyBERT, "bert", 3},
		{classicDir, "fasttext", 2},
		{filepath.Join(fastTextDir, "softmax.bin"), "fasttext", 3},
	} {
		clf, err := Open(ctx, tc.path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if info := clf.Info(); info.Kind != tc.kind || len(info.Labels) != tc.labels || info.Source != tc.path {
			t.Errorf("%s: info %+v, want kind %s with %d labels", tc.path, info, tc.kind, tc.labels)
		}
	}

	t5 := t.TempDir()
	os.WriteFile(filepath.Join(t5, "config.json"), []byte(`{"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]}`), 0o644)
	notModel := filepath.Join(t.TempDir(), "notes.bin")
	os.WriteFile(notModel, []byte("not a fastText model"), 0o644)
	badArch := t.TempDir()
	os.WriteFile(filepath.Join(badArch, "config.json"), []byte(`{"arch": "svm"}`), 0o644)
	for _, tc := range []struct{ path, want string }{
		{t5, `model_type "t5" is not supported; supported model types: bert, roberta, xlm-roberta, camembert, distilbert, gpt2, llama, qwen2, mistral, modernbert`},
		{notModel, "not a fastText model"},
		{badArch, `arch "svm" is not a classic model`},
		{t.TempDir(), "no config.json"},
		{"builtin:nope", `unknown built-in model "nope" (known: news-zh, news-zh-cnn-chars, news-zh-cnn-words, news-zh-cnn-words-cedict, news-zh-fasttext-chars, news-zh-lstm-chars, news-zh-lstm-words-cedict, sentiment, sentiment-en, sentiment-zh)`},
		{"./no/such/dir", "no such directory"},
	} {
		if _, err := Open(ctx, tc.path, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
}

// A fastText .bin opened by Open predicts fastText's own probabilities
// (fasttext predict-prob -1 on test.txt, written by scripts/classic).
func TestOpenFastTextBinMatchesFastText(t *testing.T) {
	clf, err := Open(context.Background(), filepath.Join(fastTextDir, "softmax.bin"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts, err := os.ReadFile(filepath.Join(fastTextDir, "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var inputs []Input
	for _, line := range strings.Split(strings.TrimSpace(string(texts)), "\n") {
		words := strings.Fields(line)
		inputs = append(inputs, Input{Text: strings.Join(words[1:], " ")}) // without the __label__
	}
	preds, err := clf.ClassifyInputs(context.Background(), inputs, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(fastTextDir, "softmax.probs"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		fields := strings.Fields(sc.Text()) // __label__a p __label__b q …
		label := strings.TrimPrefix(fields[0], "__label__")
		var p float64
		fmt.Sscan(fields[1], &p)
		if preds[i].Label != label || math.Abs(float64(preds[i].Score)-p) > 1e-4 || preds[i].Logits != nil {
			t.Fatalf("line %d: %s %g (logits %v), fastText %s %g", i+1, preds[i].Label, preds[i].Score, preds[i].Logits, label, p)
		}
	}
}

// Evaluate gives a classic model's report from the same scores as predict,
// with the model's own multi-label threshold.
func TestEvaluateClassicMultiLabel(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, trainFastText(t, true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := &data.Dataset{Path: "mem", MultiLabel: true, Examples: []data.Example{
		{Text: "the good film 1 and a long one", Labels: []string{"pos", "long"}, Line: 1},
		{Text: "the awful film 2", Labels: []string{"neg"}, Line: 2},
		{Text: "the great film 3", Labels: []string{"pos"}, Line: 3},
	}}
	rep, err := clf.Evaluate(ctx, ds, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	preds, err := clf.ClassifyInputs(ctx, InputsOf(ds.Examples), ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for i, p := range preds {
		got, want := slices.Clone(p.Labels), slices.Clone(ds.Examples[i].Labels)
		slices.Sort(got)
		slices.Sort(want)
		if slices.Equal(got, want) {
			exact++
		}
	}
	if !rep.MultiLabel || rep.SubsetAccuracy != float64(exact)/3 || rep.Threshold != 0.5 {
		t.Fatalf("report: multi %v subset accuracy %g threshold %g; predictions give %g", rep.MultiLabel, rep.SubsetAccuracy, rep.Threshold, float64(exact)/3)
	}
}

// Windows: a long input is read in windows whose outputs are averaged; a
// short one is one window, with the truncated result.
func TestClassifyWindows(t *testing.T) {
	ctx := context.Background()
	clf, err := Open(ctx, tinyBERT, Options{MaxLength: 16, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	long := Input{Text: strings.Repeat("a great film and a bad plot , ", 12)}
	short := Input{Text: "a great film"}
	opt := ClassifyOptions{Windows: true, Stride: 4}
	preds, err := clf.ClassifyInputs(ctx, []Input{long, short}, opt)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := clf.Model.Encode(long, EncodeOptions{Truncate: true, Windows: true, Stride: 4})
	if err != nil {
		t.Fatal(err)
	}
	windows := append([]Encoding{enc}, enc.Overflowing...)
	if len(windows) < 3 || preds[0].Windows != len(windows) || preds[1].Windows != 1 {
		t.Fatalf("windows: %d and %d, want %d and 1", preds[0].Windows, preds[1].Windows, len(windows))
	}
	for _, w := range windows {
		if w.Len() > 16 {
			t.Fatalf("a window of %d tokens for max length 16", w.Len())
		}
	}
	outs, err := clf.Model.Logits(ctx, windows)
	if err != nil {
		t.Fatal(err)
	}
	for j := range preds[0].Logits {
		var mean float32
		for _, o := range outs {
			mean += o[j] / float32(len(outs))
		}
		if math.Abs(float64(mean-preds[0].Logits[j])) > 1e-5 {
			t.Fatalf("logit %d: %g, mean of the windows %g", j, preds[0].Logits[j], mean)
		}
	}
	truncated, err := clf.ClassifyInputs(ctx, []Input{short}, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if truncated[0].Label != preds[1].Label || math.Abs(float64(truncated[0].Score-preds[1].Score)) > 1e-6 {
		t.Fatalf("short input: %+v in windows, %+v truncated", preds[1], truncated[0])
	}
	if _, err := clf.ClassifyInputs(ctx, []Input{long}, ClassifyOptions{Windows: true, Stride: 8}); err == nil || !strings.Contains(err.Error(), "stride 8") {
		t.Fatalf("stride of half the max length: %v", err)
	}
}

// Truncating left keeps the end of a long input.
func TestTruncateLeft(t *testing.T) {
	clf, err := Open(context.Background(), tinyBERT, Options{MaxLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Text: "one two three four five six seven eight nine ten"}
	right, err := clf.Model.Encode(in, EncodeOptions{Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	left, err := clf.Model.Encode(in, EncodeOptions{Truncate: true, TruncateLeft: true})
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := clf.Model.Encode(in, EncodeOptions{})
	n := whole.Len()
	// [CLS] w… [SEP]: right keeps the first 6 word pieces, left the last 6.
	if right.Len() != 8 || left.Len() != 8 || !slices.Equal(right.IDs[1:7], whole.IDs[1:7]) || !slices.Equal(left.IDs[1:7], whole.IDs[n-7:n-1]) {
		t.Fatalf("whole %v\nright %v\nleft  %v", whole.IDs, right.IDs, left.IDs)
	}
}

// The default function is the text-classification pipeline's: none when
// config.json says regression, sigmoid for one label without a problem
// type and for multi-label models, else softmax.
func TestDefaultFunction(t *testing.T) {
	tk, err := tokenizer.Load(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		problem string
		labels  int
		want    Function
	}{
		{"", 3, Softmax}, {"single_label_classification", 3, Softmax}, {"multi_label_classification", 3, Sigmoid},
		{"", 1, Sigmoid}, {"regression", 1, None},
	} {
		js := fmt.Sprintf(`{"model_type": "bert", "vocab_size": 100, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 40, "num_labels": %d`, tc.labels)
		if tc.problem != "" {
			js += fmt.Sprintf(`, "problem_type": %q`, tc.problem)
		}
		cfg, err := checkpoint.ParseConfig([]byte(js + "}"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTransformer(m, tk, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.Info().Function; got != tc.want {
			t.Errorf("%q with %d labels: function %s, want %s", tc.problem, tc.labels, got, tc.want)
		}
	}
}
