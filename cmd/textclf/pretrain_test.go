package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPretrainFillMaskFineTune runs the commands end to end: pretrain a
// tiny masked LM, fill in a mask with it, and fine-tune a classifier from
// it (its encoder kept, the new head announced as newly initialized).
func TestPretrainFillMaskFineTune(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	var b strings.Builder
	for i := 0; i < 60; i++ {
		b.WriteString([]string{"the movie was great .", "a film is good !", "this plot was bad ."}[i%3] + "\n")
	}
	if err := os.WriteFile(corpus, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"model_type":"bert","vocab_size":99,"hidden_size":16,"num_hidden_layers":1,
		"num_attention_heads":2,"intermediate_size":32,"max_position_embeddings":32,"pad_token_id":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mlm")
	if _, err := runCLI(t, "", "pretrain", "--corpus", corpus, "--config", cfg, "--tokenizer", tinyBERT, "--output", out,
		"--max-length", "14", "--epochs", "2", "--batch-size", "4", "--threads", "1", "--validation-split", "0.1"); err != nil {
		t.Fatal(err)
	}
	var c struct{ Architectures []string }
	b2, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b2, &c); err != nil || len(c.Architectures) != 1 || c.Architectures[0] != "BertForMaskedLM" {
		t.Fatalf("config architectures %v (%v)", c.Architectures, err)
	}
	log, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil || !strings.Contains(string(log), `"perplexity"`) {
		t.Fatalf("metrics.jsonl without perplexity: %s (%v)", log, err)
	}
	// Mixed precision: the decoder tied to the word embeddings rounds its
	// operands like any Linear; the run learns the same way, not the same
	// numbers.
	outBF16 := filepath.Join(dir, "mlm-bf16")
	if _, err := runCLI(t, "", "pretrain", "--corpus", corpus, "--config", cfg, "--tokenizer", tinyBERT, "--output", outBF16,
		"--max-length", "14", "--epochs", "2", "--batch-size", "4", "--threads", "1", "--validation-split", "0.1", "--bf16"); err != nil {
		t.Fatal(err)
	}
	logBF16, err := os.ReadFile(filepath.Join(outBF16, "metrics.jsonl"))
	if err != nil || !strings.Contains(string(logBF16), `"perplexity"`) || string(logBF16) == string(log) {
		t.Fatalf("bf16 metrics.jsonl without perplexity, or equal to float32's: %s (%v)", logBF16, err)
	}

	// fill-mask: one JSON list of --top-k proposals for one mask, a list of lists for two.
	stdout, err := runCLI(t, "", "predict", "--task", "fill-mask", "--model", out, "--top-k", "3", "the movie was [MASK] .", "the [MASK] was [MASK] .")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("fill-mask wrote %d lines:\n%s", len(lines), stdout)
	}
	var one []map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &one); err != nil || len(one) != 3 {
		t.Fatalf("one mask: %s (%v)", lines[0], err)
	}
	for _, k := range []string{"score", "token", "token_str", "sequence"} {
		if _, ok := one[0][k]; !ok {
			t.Errorf("proposal %v lacks %q", one[0], k)
		}
	}
	var two [][]map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &two); err != nil || len(two) != 2 || len(two[1]) != 3 {
		t.Fatalf("two masks: %s (%v)", lines[1], err)
	}
	if _, err := runCLI(t, "", "predict", "--task", "fill-mask", "--model", out, "no mask"); err == nil || !strings.Contains(err.Error(), "no mask token") {
		t.Errorf("a text without a mask: %v", err)
	}
	if _, err := runCLI(t, "", "predict", "--task", "fill-mask", "--dtype", "int8", "--model", out, "a [MASK] ."); err == nil || !strings.Contains(err.Error(), "runs in f32") {
		t.Errorf("fill-mask with --dtype int8: %v", err)
	}

	// Fine-tuning starts from the encoder, with transformers' notice.
	data := filepath.Join(dir, "train.tsv")
	if err := os.WriteFile(data, []byte("sentence\tlabel\ngreat movie\tpos\nbad movie\tneg\ngood film\tpos\nbad plot\tneg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLIOutErr(t, "train", "--model", out, "--train", data, "--output", filepath.Join(dir, "clf"), "--epochs", "1", "--threads", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "newly initialized") || !strings.Contains(stderr, "classifier.weight") {
		t.Errorf("train from a masked LM did not announce the new head:\n%s", stderr)
	}
}

// TestPretrainBadInputWritesNothing: an empty corpus is an error before
// the output directory is made.
func TestPretrainBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	_, err := runCLI(t, "", "pretrain", "--corpus", empty, "--config", "bert-tiny", "--tokenizer", tinyBERT, "--output", out)
	if err == nil || !strings.Contains(err.Error(), "no text") {
		t.Fatalf("empty corpus: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written", out)
	}
	if _, err := runCLI(t, "", "pretrain", "--corpus", empty, "--config", "bert-tiny", "--tokenizer", tinyBERT, "--output", out, "--problem-type", "regression"); err == nil {
		t.Error("--problem-type accepted")
	}
}
