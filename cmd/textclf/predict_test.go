package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

// Classic models read texts from arguments and stdin too, and honour
// --format text and csv, as the README says.
func TestPredictClassicInputsAndFormats(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	writeSeparable(t, train, 300, 1)
	model := filepath.Join(dir, "ft")
	if _, err := runCLI(t, "", "train", "--arch", "fasttext", "--train", train, "--output", model, "--threads", "1",
		"--dim", "16", "--epochs", "10", "--lr", "0.5"); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "predict", "--model", model, "the good, it was great", "the bad, it was awful")
	if err != nil {
		t.Fatalf("texts as arguments: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var p textclf.Prediction
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &p) != nil || p.Label != "pos" || len(p.Scores) != 1 {
		t.Fatalf("arguments: %q", out)
	}
	out, err = runCLI(t, "the bad, it was awful\n", "predict", "--model", model, "--format", "text", "--all")
	if err != nil {
		t.Fatalf("stdin: %v", err)
	}
	fields := strings.Split(strings.TrimSuffix(out, "\n"), "\t")
	if len(fields) != 3 || fields[0] != "neg,pos" || fields[2] != "the bad, it was awful" || strings.Count(fields[1], ",") != 1 {
		t.Fatalf("stdin, --format text --all: %q", out)
	}
	out, err = runCLI(t, "", "predict", "--model", model, "--format", "csv", "the good, it was great")
	if err != nil || !strings.HasPrefix(out, "text,label,score\n\"the good, it was great\",pos,0.") {
		t.Fatalf("--format csv: %q (%v)", out, err)
	}
	if _, err := runCLI(t, "", "predict", "--model", model, "--function", "softmax", "x"); err == nil || !strings.Contains(err.Error(), "transformers only") {
		t.Fatalf("--function with a classic model: %v", err)
	}
}

// multiLabelTiny copies the tiny BERT as a multi-label model.
func multiLabelTiny(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"model.safetensors", "tokenizer.json"} {
		b, err := os.ReadFile(filepath.Join(tinyBERT, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(tinyBERT, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["problem_type"] = "multi_label_classification"
	b, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
	return dir
}

// --format text and csv keep --top-k / --all and every chosen label of a
// multi-label model.
func TestPredictTransformerTextFormats(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		labels int
	}{
		{[]string{"--all"}, 3},
		{[]string{"--top-k", "2"}, 2},
		{nil, 1},
	} {
		args := append([]string{"predict", "--model", tinyBERT, "--format", "text", "great film"}, tc.args...)
		out, err := runCLI(t, "", args...)
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Split(strings.TrimSuffix(out, "\n"), "\t")
		if len(fields) != 3 || len(strings.Split(fields[0], ",")) != tc.labels || len(strings.Split(fields[1], ",")) != tc.labels {
			t.Errorf("%v: %q, want %d labels and scores", tc.args, out, tc.labels)
		}
	}
	multi := multiLabelTiny(t)
	// Sigmoids are in (0, 1): threshold 0.0001 chooses every label, 0.9999 none.
	for _, tc := range []struct {
		threshold string
		labels    int
	}{{"0.0001", 3}, {"0.9999", 0}} {
		out, err := runCLI(t, "", "predict", "--model", multi, "--format", "csv", "--threshold", tc.threshold, "great film")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("csv %q (%v)", out, err)
		}
		labels, scores := strings.Split(rows[1][1], ","), strings.Split(rows[1][2], ",")
		if rows[1][1] == "" {
			labels, scores = nil, nil
		}
		if len(labels) != tc.labels || len(scores) != tc.labels {
			t.Errorf("threshold %s: row %q, want %d labels", tc.threshold, rows[1], tc.labels)
		}
	}
}

// info describes classic models and fastText .bin files too.
func TestInfoClassic(t *testing.T) {
	out, err := runCLI(t, "", "info", "--model", "../../testdata/classic/fasttext/softmax.bin")
	if err != nil {
		t.Fatal(err)
	}
	squashed := regexp.MustCompile(` +`).ReplaceAllString(out, " ")
	for _, want := range []string{"model type: fasttext", "labels: 3 (food, sport, tech)", "hidden size: 8", "vocab size: 41", "weights: fasttext-bin: softmax.bin"} {
		if !strings.Contains(squashed, want) {
			t.Errorf("fastText .bin: output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	train := filepath.Join(dir, "train.tsv")
	os.WriteFile(train, []byte("text\tlabel\na b\tx\nc d\ty\ne f\tz\ng h\tw\n"), 0o644)
	model := filepath.Join(dir, "m")
	if _, err := runCLI(t, "", "train", "--arch", "textcnn", "--train", train, "--output", model, "--dim", "4", "--filters", "2", "--epochs", "1"); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "", "info", "--model", model, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d textclf.Description
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Architecture != "textcnn" || len(d.Labels) != 4 || d.Labels[3] != "z" || d.HiddenSize != 4 || d.Parameters == 0 || d.Format != "safetensors" {
		t.Errorf("textcnn info %+v", d)
	}
}

// predict treats invalid UTF-8 alike in --data and on stdin: replaced by
// U+FFFD, with a warning naming the line, and the same predictions.
func TestPredictInvalidUTF8Policy(t *testing.T) {
	lines := "a great film\nbad \xff\xfe acting\n"
	p := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(p, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, fileErr, err := runCLIIn(t, "", "predict", "--model", tinyBERT, "--data", p, "--data-format", "tsv", "--header", "no", "--text-column", "0")
	if err != nil {
		t.Fatalf("--data: %v\n%s", err, fileErr)
	}
	fromStdin, stdinErr, err := runCLIIn(t, lines, "predict", "--model", tinyBERT)
	if err != nil {
		t.Fatalf("stdin: %v\n%s", err, stdinErr)
	}
	if fromFile != fromStdin || !strings.Contains(fromFile, "bad \uFFFD\uFFFD acting") {
		t.Fatalf("--data gives\n%s\nstdin gives\n%s", fromFile, fromStdin)
	}
	if !strings.Contains(fileErr, p+": invalid UTF-8 replaced by U+FFFD on line 2") || !strings.Contains(stdinErr, "stdin: invalid UTF-8 replaced by U+FFFD on line 2") {
		t.Fatalf("warnings:\n%s\n%s", fileErr, stdinErr)
	}
}

// eval on an empty or header-only file is an error, not accuracy 0.
func TestEvalEmptyData(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.tsv": "", "header.tsv": "sentence\tlabel\n", "blank.csv": "\n\n"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := runCLI(t, "", "eval", "--model", tinyBERT, "--data", p); err == nil || !strings.Contains(err.Error(), "no examples to evaluate") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
