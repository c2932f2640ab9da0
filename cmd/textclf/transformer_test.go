package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/metrics"
)

const tinyBERT = "../../testdata/tiny-bert"

func writeSentiment(t *testing.T, dir string, n int) string {
	t.Helper()
	pos := []string{"great movie", "a good film", "i loved it", "the best story", "fun and funny"}
	neg := []string{"bad movie", "an awful film", "i hated it", "the worst plot", "boring and sad"}
	var b strings.Builder
	b.WriteString("sentence\tlabel\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s\tpos\n%s\tneg\n", pos[i%len(pos)], neg[(i+2)%len(neg)])
	}
	p := filepath.Join(dir, "sentiment.tsv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTransformerTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 10)
	out := filepath.Join(dir, "model")
	if _, err := runCLI(t, "", "train", "--model", tinyBERT, "--train", data, "--eval", data, "--output", out,
		"--epochs", "60", "--lr", "1e-2", "--batch-size", "4", "--seed", "1"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "trainer_state.json", "metrics.jsonl", "training_curves.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("train output lacks %s", f)
		}
	}
	stdout, err := runCLI(t, "", "eval", "--model", out, "--data", data, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep metrics.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 20 || rep.Accuracy < 0.9 || strings.Join(rep.Labels, ",") != "neg,pos" {
		t.Fatalf("eval: n %d accuracy %g labels %v", rep.N, rep.Accuracy, rep.Labels)
	}
	// predict: arguments, --all, jsonl; the scores are a softmax.
	stdout, err = runCLI(t, "", "predict", "--model", out, "--all", "great movie", "an awful film")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("predict wrote %d lines", len(lines))
	}
	var preds []textclf.Prediction
	for _, l := range lines {
		var p textclf.Prediction
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, s := range p.Scores {
			sum += float64(s.Score)
		}
		if len(p.Scores) != 2 || math.Abs(sum-1) > 1e-5 || len(p.Logits) != 2 {
			t.Fatalf("prediction %s: want 2 softmax scores summing to 1 and 2 logits", l)
		}
		preds = append(preds, p)
	}
	if preds[0].Label != "pos" || preds[1].Label != "neg" {
		t.Fatalf("predicted %s and %s, want pos and neg", preds[0].Label, preds[1].Label)
	}
	// stdin, default top 1, and windows over a long text.
	stdout, err = runCLI(t, "great movie\n", "predict", "--model", out)
	if err != nil {
		t.Fatal(err)
	}
	var one textclf.Prediction
	if err := json.Unmarshal([]byte(stdout), &one); err != nil || len(one.Scores) != 1 || one.Label != "pos" {
		t.Fatalf("stdin prediction %q (%v)", stdout, err)
	}
	long := strings.Repeat("great movie and a good film , ", 20)
	stdout, err = runCLI(t, "", "predict", "--model", out, "--long-text", "window", "--max-length", "16", "--stride", "4", long)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(stdout), &one); err != nil || one.Label != "pos" {
		t.Fatalf("windowed prediction %q (%v)", stdout, err)
	}
	// text and csv formats.
	stdout, err = runCLI(t, "", "predict", "--model", out, "--format", "csv", "great movie")
	if err != nil || !strings.HasPrefix(stdout, "text,label,score\ngreat movie,pos,") {
		t.Fatalf("csv output %q (%v)", stdout, err)
	}
}
