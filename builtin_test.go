package textclf

import (
	"context"
	"slices"
	"testing"
)

// The built-in sentiment models give the obvious labels, and the
// by-script model gives exactly the scores of the part each text goes to.
func TestBuiltinSentiment(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	texts := map[string]string{
		"这家外卖太难吃了，送得还慢，再也不点了":              "NEGATIVE",
		"非常好吃，分量足，送餐也快，下次还点":               "POSITIVE",
		"a great film , moving and funny":  "POSITIVE",
		"a dull , boring and tedious mess": "NEGATIVE",
	}
	both, err := Open(ctx, "builtin:sentiment", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info := both.Info(); info.Kind != "by-script" || !slices.Equal(info.Labels, []string{"NEGATIVE", "POSITIVE"}) || info.Source != "builtin:sentiment" {
		t.Errorf("info %+v", info)
	}
	parts := map[string]*Classifier{}
	for _, name := range []string{"sentiment-zh", "sentiment-en"} {
		if parts[name], err = Open(ctx, "builtin:"+name, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var inputs []Input
	for text := range texts {
		inputs = append(inputs, Input{Text: text})
	}
	got, err := both.ClassifyInputs(ctx, inputs, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if got[i].Label != texts[in.Text] {
			t.Errorf("%q: %s (%v), want %s", in.Text, got[i].Label, got[i].Scores, texts[in.Text])
		}
		part := "sentiment-en"
		if in.Text[0] >= 0x80 {
			part = "sentiment-zh"
		}
		alone, err := parts[part].ClassifyInputs(ctx, []Input{in}, ClassifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(alone[0].Scores, got[i].Scores) {
			t.Errorf("%q: scores %v, %s alone %v", in.Text, got[i].Scores, part, alone[0].Scores)
		}
	}
}

// One sentence at a time, as an interactive caller classifies: the whole
// Classify call (segmentation, forward pass, scores) on 2 threads. Besides
// wall time, cpu-ns/op is the process's CPU time per call, which a loaded
// machine does not inflate.
//
//	go test -run '^$' -bench BenchmarkBuiltin -benchtime 2000x .
func BenchmarkBuiltin(b *testing.B) {
	b.Setenv("TEXTCLF_BUILTIN_CACHE", b.TempDir())
	for _, tc := range []struct{ model, text string }{
		{"sentiment-en", "it 's a charming and often affecting journey , though the pacing drags in the middle ."},
		{"sentiment-zh", "送餐很快，味道也不错，就是分量有点少，下次还会再点。"},
		{"sentiment", "it 's a charming and often affecting journey , though the pacing drags in the middle ."},
	} {
		b.Run(tc.model, func(b *testing.B) {
			clf, err := Open(context.Background(), "builtin:"+tc.model, Options{Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := clf.Classify(context.Background(), tc.text); err != nil { // unpacked, warm
				b.Fatal(err)
			}
			cpu := processCPU()
			for b.Loop() {
				if _, err := clf.Classify(context.Background(), tc.text); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
