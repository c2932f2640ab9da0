package textclf

import (
	"context"
	"math"
	"slices"
	"strings"
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
		{"news-zh", "沪指低开低走跌1.2% 两市成交不足千亿"},
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

// The built-in news-zh model averages its parts' probabilities, exactly,
// and puts clear headlines of several topics in their topic.
func TestBuiltinNews(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	news, err := Open(ctx, "builtin:news-zh", Options{})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"education", "entertainment", "finance", "game", "politics", "realty", "science", "society", "sports", "stocks"}
	if info := news.Info(); info.Kind != "average" || !slices.Equal(info.Labels, labels) || info.Source != "builtin:news-zh" ||
		!strings.Contains(info.Architecture, "news-zh-cnn-words (textcnn)") {
		t.Errorf("info %+v", info)
	}
	headlines := map[string]string{
		"国足1比0力克韩国队 晋级亚洲杯八强":      "sports",
		"沪指低开低走跌1.2% 两市成交不足千亿":    "stocks",
		"2012年考研报名人数突破165万 创历史新高": "education",
		"《魔兽世界》新资料片今日开启公测":        "game",
		"北京二手房成交量连续三周下滑 房价松动":     "realty",
		"周杰伦新专辑MV首播 女主角身份曝光":      "entertainment",
	}
	var inputs []Input
	for text := range headlines {
		inputs = append(inputs, Input{Text: text})
	}
	got, err := news.ClassifyInputs(ctx, inputs, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var parts [][]Prediction
	for _, name := range []string{"news-zh-cnn-chars", "news-zh-cnn-words", "news-zh-lstm-chars",
		"news-zh-cnn-words-cedict", "news-zh-lstm-words-cedict", "news-zh-fasttext-chars"} {
		part, err := Open(ctx, "builtin:"+name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := part.ClassifyInputs(ctx, inputs, ClassifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	all, err := news.ClassifyInputs(ctx, inputs, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if got[i].Label != headlines[in.Text] {
			t.Errorf("%q: %s (%v), want %s", in.Text, got[i].Label, got[i].Scores, headlines[in.Text])
		}
		for _, s := range all[i].Scores {
			var mean float64
			for _, p := range parts {
				for _, ps := range p[i].Scores {
					if ps.Label == s.Label {
						mean += float64(ps.Score) / float64(len(parts))
					}
				}
			}
			if math.Abs(mean-float64(s.Score)) > 1e-6 {
				t.Errorf("%q %s: %v, mean of the parts %v", in.Text, s.Label, s.Score, mean)
			}
		}
	}
	if _, err := news.ClassifyInputs(ctx, inputs[:1], ClassifyOptions{Windows: true}); err == nil || !strings.Contains(err.Error(), "windows are not supported") {
		t.Errorf("windows: %v", err)
	}
	if _, err := news.Model.Logits(ctx, []Encoding{{Tokens: []string{"国", "足"}}}); err == nil || !strings.Contains(err.Error(), "0 type ids for 2 tokens") {
		t.Errorf("tokens without type ids: %v", err)
	}
	// Occlusion sees every part's tokens, each located in the text.
	e, err := news.Explain(ctx, "国足1比0力克韩国队", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Label != "sports" || len(e.Tokens) < 10 {
		t.Errorf("explain: %s, %d tokens", e.Label, len(e.Tokens))
	}
	for i, off := range e.Offsets {
		if off[0] < 0 || off[1] <= off[0] {
			t.Errorf("explain: token %q at %v, not located", e.Tokens[i], off)
		}
	}
}
