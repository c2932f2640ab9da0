package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/tokenizer"
)

const tinyBERT = "../testdata/tiny-bert"

func loadTiny(t *testing.T, dir string, opts textclf.Options) *textclf.Classifier {
	t.Helper()
	clf, err := textclf.Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return clf
}

// want is what textclf predict answers (ClassifyInputs with the default
// function), or the logits with raw.
func want(t *testing.T, clf *textclf.Classifier, in []tokenizer.Input, raw bool) [][]prediction {
	t.Helper()
	var opt textclf.ClassifyOptions
	if raw {
		opt.Function = textclf.None
	}
	preds, err := clf.ClassifyInputs(context.Background(), in, opt)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]prediction, len(preds))
	for i, p := range preds {
		for _, s := range p.Scores {
			out[i] = append(out[i], prediction{Score: s.Score, Label: s.Label})
		}
	}
	return out
}

func str(s string) *string { return &s }

func TestTransformerMatchesPredict(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{BatchSize: 64})
	h := newTestServer(t, clf.Model, Config{}).Handler()
	ref := loadTiny(t, tinyBERT, textclf.Options{}) // predict's defaults
	inputs := []tokenizer.Input{
		{Text: "the movie was great"},
		{Text: "an awful, boring film!"},
		{Text: "is it good?", Pair: str("yes it is")},
		{Text: "x"},
	}
	for _, raw := range []bool{false, true} {
		exp := want(t, ref, inputs, raw)
		// One request per input.
		for i, in := range inputs {
			body := map[string]any{"inputs": in.Text, "raw_scores": raw}
			if in.Pair != nil {
				body["inputs"] = []string{in.Text, *in.Pair}
			}
			b, _ := json.Marshal(body)
			code, resp := do(t, h, "POST", "/predict", string(b))
			var got []prediction
			if code != 200 || json.Unmarshal(resp, &got) != nil {
				t.Fatalf("input %d: %d %s", i, code, resp)
			}
			samePredictions(t, got, exp[i], 1e-5)
		}
		// One batch request.
		var batch [][]string
		for _, in := range inputs {
			if in.Pair != nil {
				batch = append(batch, []string{in.Text, *in.Pair})
			} else {
				batch = append(batch, []string{in.Text})
			}
		}
		b, _ := json.Marshal(map[string]any{"inputs": batch, "raw_scores": raw})
		code, resp := do(t, h, "POST", "/predict", string(b))
		var got [][]prediction
		if code != 200 || json.Unmarshal(resp, &got) != nil || len(got) != len(inputs) {
			t.Fatalf("batch: %d %s", code, resp)
		}
		for i := range got {
			samePredictions(t, got[i], exp[i], 1e-5)
		}
	}
}

func TestTransformerTruncate(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{})
	h := newTestServer(t, clf.Model, Config{}).Handler()
	long := strings.Repeat("great ", 60)
	code, b := do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": %q}`, long))
	msg := errorBody(t, code, b, 413, "validation")
	if !strings.Contains(msg, "less than 40 tokens. Given: 62") {
		t.Fatalf("too-long message %q", msg)
	}
	// A text far too long is tokenized only as far as 8 × the max length.
	code, b = do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": %q}`, strings.Repeat("great ", 1000)))
	if msg := errorBody(t, code, b, 413, "validation"); !strings.Contains(msg, "less than 40 tokens. Given: more than 320") {
		t.Fatalf("far-too-long message %q", msg)
	}
	// Truncated, the answer is predict's (which truncates to max length).
	code, b = do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": %q, "truncate": true}`, long))
	var got []prediction
	if code != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("truncate: %d %s", code, b)
	}
	samePredictions(t, got, want(t, clf, []tokenizer.Input{{Text: long}}, false)[0], 1e-5)
	// --max-input-length lowers the limit.
	short := loadTiny(t, tinyBERT, textclf.Options{MaxLength: 8})
	h8 := newTestServer(t, short.Model, Config{}).Handler()
	code, b = do(t, h8, "POST", "/predict", `{"inputs": "one two three four five six seven"}`)
	errorBody(t, code, b, 413, "validation")
}

func TestTransformerMultiLabelSigmoid(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"model.safetensors", "tokenizer.json"} {
		b, err := os.ReadFile(filepath.Join(tinyBERT, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(tinyBERT, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["problem_type"] = "multi_label_classification"
	b, _ = json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	clf := loadTiny(t, dir, textclf.Options{})
	s := newTestServer(t, clf.Model, Config{})
	if !s.Info().MultiLabel {
		t.Fatal("info: multi_label false for a multi-label model")
	}
	code, resp := do(t, s.Handler(), "POST", "/predict", `{"inputs": "what a film"}`)
	var got []prediction
	if code != 200 || json.Unmarshal(resp, &got) != nil {
		t.Fatalf("%d %s", code, resp)
	}
	logits := want(t, clf, []tokenizer.Input{{Text: "what a film"}}, true)[0]
	byLabel := map[string]float32{}
	for _, p := range logits {
		byLabel[p.Label] = p.Score
	}
	var sum float64
	for _, p := range got {
		sig := float32(1 / (1 + math.Exp(-float64(byLabel[p.Label]))))
		if d := p.Score - sig; d > 1e-6 || d < -1e-6 {
			t.Fatalf("%s: score %g, want sigmoid(%g) = %g", p.Label, p.Score, byLabel[p.Label], sig)
		}
		sum += float64(p.Score)
	}
	if math.Abs(sum-1) < 1e-3 {
		t.Fatalf("multi-label scores sum to %g: a softmax?", sum)
	}
}

func TestTransformerTokenize(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{})
	h := newTestServer(t, clf.Model, Config{}).Handler()
	text := "The Film, was great"
	enc, err := clf.Model.(*textclf.Transformer).Tokenizer().Encode(text, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{fmt.Sprintf(`{"inputs": %q}`, text), fmt.Sprintf(`{"inputs": [%q, "x"]}`, text)} {
		code, b := do(t, h, "POST", "/tokenize", body)
		var got [][]Token
		if code != 200 || json.Unmarshal(b, &got) != nil || len(got) == 0 {
			t.Fatalf("%s: %d %s", body, code, b)
		}
		toks := got[0]
		if len(toks) != enc.Len() {
			t.Fatalf("%d tokens, want %d", len(toks), enc.Len())
		}
		runes := []rune(text)
		for i, tok := range toks {
			special := enc.SpecialTokensMask[i] == 1
			if tok.ID != enc.IDs[i] || tok.Special != special {
				t.Fatalf("token %d: %+v, want id %d special %v", i, tok, enc.IDs[i], special)
			}
			if special {
				if tok.Start != nil || tok.Text != enc.Tokens[i] {
					t.Fatalf("special token %d: %+v", i, tok)
				}
				continue
			}
			if tok.Start == nil || *tok.Start != enc.Offsets[i][0] || *tok.Stop != enc.Offsets[i][1] ||
				tok.Text != string(runes[*tok.Start:*tok.Stop]) {
				t.Fatalf("token %d: %+v, offsets %v", i, tok, enc.Offsets[i])
			}
		}
	}
	code, b := do(t, h, "POST", "/tokenize", `{"inputs": "great", "add_special_tokens": false}`)
	var got [][]Token
	if code != 200 || json.Unmarshal(b, &got) != nil || len(got) != 1 || len(got[0]) != 1 || got[0][0].Special {
		t.Fatalf("without special tokens: %d %s", code, b)
	}
}

// TestTransformerConcurrentClients checks that clients whose inputs share
// batches each get their own answer.
func TestTransformerConcurrentClients(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{BatchSize: 64})
	srv := httptest.NewServer(newTestServer(t, clf.Model, Config{}).Handler())
	defer srv.Close()
	words := []string{"good", "bad", "film", "movie", "great", "awful", "plot", "actor", "the", "a"}
	var texts []string
	for i := 0; i < 48; i++ {
		var b strings.Builder
		for j := 0; j <= i%9; j++ {
			b.WriteString(words[(i*7+j*3)%len(words)] + " ")
		}
		texts = append(texts, fmt.Sprintf("%s%d", b.String(), i))
	}
	inputs := make([]tokenizer.Input, len(texts))
	for i, s := range texts {
		inputs[i] = tokenizer.Input{Text: s}
	}
	exp := want(t, loadTiny(t, tinyBERT, textclf.Options{}), inputs, false)
	var wg sync.WaitGroup
	errs := make(chan error, len(texts))
	for i, text := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := postPredict(srv.URL, text)
			if err != nil {
				errs <- err
				return
			}
			for j := range got {
				d := got[j].Score - exp[i][j].Score
				if got[j].Label != exp[i][j].Label || d > 1e-5 || d < -1e-5 {
					errs <- fmt.Errorf("%q: got %v, want %v", text, got, exp[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// "truncation_direction": "Left" keeps the end of a long input (TEI's
// field); the answer is the classifier's with TruncateLeft.
func TestTransformerTruncationDirection(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{MaxLength: 8})
	h := newTestServer(t, clf.Model, Config{}).Handler()
	text := "an awful boring film , but the end was great and fun"
	answers := map[string][]prediction{}
	for _, dir := range []string{"Left", "Right"} {
		code, b := do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": %q, "truncate": true, "truncation_direction": %q, "raw_scores": true}`, text, dir))
		var got []prediction
		if code != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("%s: %d %s", dir, code, b)
		}
		preds, err := clf.ClassifyInputs(context.Background(), []tokenizer.Input{{Text: text}},
			textclf.ClassifyOptions{Function: textclf.None, TruncateLeft: dir == "Left"})
		if err != nil {
			t.Fatal(err)
		}
		var exp []prediction
		for _, s := range preds[0].Scores {
			exp = append(exp, prediction{Score: s.Score, Label: s.Label})
		}
		samePredictions(t, got, exp, 1e-5)
		answers[dir] = got
	}
	if fmt.Sprint(answers["Left"]) == fmt.Sprint(answers["Right"]) {
		t.Fatalf("left and right truncation gave the same logits %v", answers["Left"])
	}
	code, b := do(t, h, "POST", "/predict", `{"inputs": "x", "truncation_direction": "middle"}`)
	errorBody(t, code, b, 422, "validation")
}
