package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

// predict without --model classifies Chinese and English with the
// built-in sentiment model; models lists the built-in models.
func TestPredictDefaultsToBuiltin(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	out, err := runCLI(t, "", "predict", "送餐太慢，菜都凉了，再也不点了", "a great film , funny and moving")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"NEGATIVE", "POSITIVE"}
	if len(lines) != 2 {
		t.Fatalf("%q", out)
	}
	for i, line := range lines {
		var p textclf.Prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil || p.Label != want[i] || len(p.Scores) != 1 {
			t.Errorf("line %d: %q, want label %s", i+1, line, want[i])
		}
	}
	if _, err := runCLI(t, "", "predict", "--model", "builtin:sentiment-xx", "x"); err == nil ||
		!strings.Contains(err.Error(), `unknown built-in model "sentiment-xx" (known: news-zh, news-zh-cnn-chars, news-zh-cnn-words, news-zh-cnn-words-cedict, news-zh-fasttext-chars, news-zh-lstm-chars, news-zh-lstm-words-cedict, sentiment, sentiment-en, sentiment-zh)`) {
		t.Errorf("unknown built-in: %v", err)
	}

	out, err = runCLI(t, "", "info", "--model", "builtin:sentiment")
	if err != nil || !strings.Contains(out, "by-script") || !strings.Contains(out, "builtin:sentiment-zh, builtin:sentiment-en in builtin:sentiment") {
		t.Errorf("info: %q (%v)", out, err)
	}
	out, err = runCLI(t, "", "models")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"builtin:sentiment ", "builtin:sentiment-en", "builtin:sentiment-zh", "bilstm", "textcnn", "NEGATIVE,POSITIVE",
		"builtin:news-zh ", "average", "education,entertainment,finance,game", "THUCTC"} {
		if !strings.Contains(out, s) {
			t.Errorf("models: no %q in\n%s", s, out)
		}
	}
	out, err = runCLI(t, "", "models", "--json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e modelEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if len(e.Parts) == 0 && (e.DevAccuracy < 0.75 || e.Bytes < 100_000 || !strings.Contains(e.DataLicence, "research")) {
			t.Errorf("%+v: no accuracy or archive", e)
		}
		n++
	}
	if n != 10 {
		t.Errorf("models --json: %d lines", n)
	}
}

// distill trains a student from a teacher, caches the teacher's logits
// beside the output and reuses them; its flags are checked per arch.
func TestDistillCommand(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	writeSeparable(t, train, 200, 1)
	teacher := filepath.Join(dir, "teacher")
	if _, err := runCLI(t, "", "train", "--arch", "fasttext", "--train", train, "--output", teacher, "--threads", "1",
		"--dim", "16", "--epochs", "10", "--lr", "0.5"); err != nil {
		t.Fatal(err)
	}
	unlabeled := filepath.Join(dir, "more.txt")
	os.WriteFile(unlabeled, []byte("the good, it was fine\nthe poor, it was bad\n"), 0o644)
	student := filepath.Join(dir, "student")
	args := []string{"distill", "--teacher", teacher, "--arch", "textcnn", "--train", train, "--unlabeled", unlabeled,
		"--output", student, "--threads", "1", "--epochs", "5", "--lr", "0.01", "--dim", "8", "--filters", "4", "--alpha", "0.7"}
	_, errOut, err := runCLIIn(t, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "teacher logits computed "+student+".teacher-logits") || !strings.Contains(errOut, "202 training examples") ||
		!strings.Contains(errOut, "trained textcnn on 202 examples") {
		t.Errorf("stderr: %s", errOut)
	}
	if _, err := os.Stat(student + ".teacher-logits"); err != nil {
		t.Error(err)
	}
	out, err := runCLI(t, "", "predict", "--model", student, "the good, it was great", "the bad, it was awful")
	if err != nil || !strings.Contains(out, `"label":"pos"`) || !strings.Contains(out, `"label":"neg"`) {
		t.Errorf("student predicts %q (%v)", out, err)
	}
	if _, errOut, err = runCLIIn(t, "", args...); err != nil || !strings.Contains(errOut, "teacher logits read from") {
		t.Errorf("second run: %v\n%s", err, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"distill", "--arch", "transformer", "--teacher", teacher, "--train", train, "--output", student}, "give one student: --config PRESET|config.json, --model DIR or --init-from-teacher"},
		{[]string{"distill", "--arch", "transformer", "--init-from-teacher", "--teacher", teacher, "--train", train, "--output", student}, "needs a transformer teacher"},
		{[]string{"distill", "--arch", "textcnn", "--init-from-teacher", "--teacher", teacher, "--train", train, "--output", student}, "--init-from-teacher makes a transformer student"},
		{[]string{"distill", "--arch", "transformer", "--config", "bert-tiny", "--teacher", teacher, "--train", train, "--output", student}, "is not a transformer: give the student's tokenizer"},
		{[]string{"distill", "--train", train, "--output", student}, "--teacher is required"},
		{[]string{"distill", "--teacher", teacher, "--train", train, "--output", student, "--hidden", "8"}, "--hidden does not apply to --arch fasttext"},
		{[]string{"distill", "--teacher", teacher, "--train", train, "--output", student, "--distill-loss", "l1"}, `distillation loss "l1"`},
		{[]string{"distill", "--teacher", "builtin:nope", "--train", train, "--output", student}, "unknown built-in model"},
	} {
		if _, err := runCLI(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// distill --arch transformer trains a transformer student of the tiny
// BERT's every other layer (or of a preset config with the teacher's
// tokenizer) on its cached logits, with the Trainer's outputs.
func TestDistillTransformerCommand(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.tsv")
	var b strings.Builder
	b.WriteString("sentence\tlabel\n")
	for i, s := range []string{"great movie", "bad movie", "a good film", "an awful film", "i loved it", "i hated it", "fine, i guess", "the best story", "the worst plot"} {
		fmt.Fprintf(&b, "%s\t%s\n", s, []string{"positive", "negative", "neutral"}[i%3])
	}
	os.WriteFile(train, []byte(b.String()), 0o644)
	student := filepath.Join(dir, "student")
	_, errOut, err := runCLIIn(t, "", "distill", "--teacher", tinyBERT, "--arch", "transformer", "--init-from-teacher", "--train", train,
		"--output", student, "--epochs", "3", "--batch-size", "4", "--lr", "1e-3", "--alpha", "0.9", "--temperature", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{"teacher logits computed " + student + ".teacher-logits", "9 training examples", "every other layer of the teacher (its layers 0 of 2", "trained 9 steps"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "metrics.jsonl", "training_curves.png", "trainer_state.json"} {
		if _, err := os.Stat(filepath.Join(student, f)); err != nil {
			t.Error(err)
		}
	}
	out, err := runCLI(t, "", "info", "--model", student)
	if err != nil || !strings.Contains(out, "negative") {
		t.Errorf("info: %v\n%s", err, out)
	}
	fromConfig := filepath.Join(dir, "from-config")
	if _, errOut, err = runCLIIn(t, "", "distill", "--teacher", tinyBERT, "--arch", "transformer", "--config", "bert-tiny", "--train", train,
		"--output", fromConfig, "--max-steps", "2", "--batch-size", "4", "--teacher-cache", student+".teacher-logits"); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "teacher logits read from "+student+".teacher-logits") || !strings.Contains(errOut, "trained 2 steps") {
		t.Errorf("stderr: %s", errOut)
	}
}
