package serve

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
)

// trainClassic trains a small fastText-style model and saves it in a
// directory, as `textclf train` does.
func trainClassic(t *testing.T, multi bool) (*classic.Classifier, string) {
	t.Helper()
	ds := &data.Dataset{Path: "mem", MultiLabel: multi}
	words := map[string]string{"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}
	keys := []string{"good", "great", "bad", "awful"}
	for i := 0; i < 200; i++ {
		w := keys[i%4]
		labels := []string{words[w]}
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
	back, err := classic.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return back, dir
}

func TestClassicMatchesScores(t *testing.T) {
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprint("multi=", multi), func(t *testing.T) {
			c, dir := trainClassic(t, multi)
			s := newTestServer(t, textclf.NewClassic(c, 0, dir), Config{})
			if s.Info().MultiLabel != multi || s.Info().ModelKind != "fasttext" {
				t.Fatalf("info %+v", s.Info())
			}
			texts := []string{"a good film", "an awful film and a long one", "nothing"}
			var batch [][]string
			for _, x := range texts {
				batch = append(batch, []string{x})
			}
			b, _ := json.Marshal(map[string]any{"inputs": batch})
			code, resp := do(t, s.Handler(), "POST", "/predict", string(b))
			var got [][]prediction
			if code != 200 || json.Unmarshal(resp, &got) != nil {
				t.Fatalf("%d %s", code, resp)
			}
			for i, x := range texts {
				scores, err := c.Scores(x, "")
				if err != nil {
					t.Fatal(err)
				}
				exp := make([]prediction, len(scores))
				for j, v := range scores {
					exp[j] = prediction{Score: v, Label: c.Config.Labels[j]}
				}
				sort.SliceStable(exp, func(a, b int) bool { return exp[a].Score > exp[b].Score })
				samePredictions(t, got[i], exp, 0)
			}
		})
	}
}

func TestClassicTokenizeAndLength(t *testing.T) {
	c, dir := trainClassic(t, false)
	h := newTestServer(t, textclf.NewClassic(c, 3, dir), Config{}).Handler()
	code, b := do(t, h, "POST", "/tokenize", `{"inputs": "The good zebra"}`)
	var got [][]Token
	if code != 200 || json.Unmarshal(b, &got) != nil || len(got) != 1 {
		t.Fatalf("%d %s", code, b)
	}
	toks, _ := c.Tokens("The good zebra", "")
	if len(got[0]) != len(toks) {
		t.Fatalf("tokens %+v, want %v", got[0], toks)
	}
	for i, tok := range got[0] {
		if tok.Text != toks[i] {
			t.Fatalf("token %d %q, want %q", i, tok.Text, toks[i])
		}
	}
	if got[0][1].ID < 0 || got[0][2].ID != -1 {
		t.Fatalf("ids %+v: want a vocabulary id for %q and -1 for %q", got[0], toks[1], toks[2])
	}
	// --max-input-length 3: four words are too long unless truncated.
	code, b = do(t, h, "POST", "/predict", `{"inputs": "the good film again"}`)
	errorBody(t, code, b, 413, "validation")
	code, b = do(t, h, "POST", "/predict", `{"inputs": "the good film again", "truncate": true}`)
	var p []prediction
	if code != 200 || json.Unmarshal(b, &p) != nil {
		t.Fatalf("%d %s", code, b)
	}
	scores := c.ScoresTokens(strings.Fields("the good film"))
	best := 0
	for j := range scores {
		if scores[j] > scores[best] {
			best = j
		}
	}
	if p[0].Label != c.Config.Labels[best] || p[0].Score != scores[best] {
		t.Fatalf("truncated answer %+v, want %s %g", p[0], c.Config.Labels[best], scores[best])
	}
}
