package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/classic"
)

const ftTestdata = "../../testdata/classic/fasttext"

// TestQuantizeCommand quantizes a textclf model directory into a directory
// and fastText's own .bin into a .ftz file, and checks the errors of bad
// input.
func TestQuantizeCommand(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	writeSeparable(t, train, 400, 1)
	model := filepath.Join(dir, "ft")
	if _, err := runCLI(t, "", "train", "--arch", "fasttext", "--train", train, "--output", model, "--dim", "8",
		"--word-ngrams", "2", "--bucket", "2000", "--epochs", "5", "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	qdir := filepath.Join(dir, "q")
	if _, err := runCLI(t, "", "quantize", "--model", model, "--output", qdir, "--cutoff", "500", "--retrain",
		"--train", train, "--qnorm", "--dsub", "4", "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	q, err := classic.Load(qdir)
	if err != nil {
		t.Fatal(err)
	}
	if q.Config.Segmenter.Mode != classic.SegmentWords {
		t.Errorf("quantized model segments by %q, want the trained model's %q", q.Config.Segmenter.Mode, classic.SegmentWords)
	}
	out, err := runCLI(t, "", "eval", "--model", qdir, "--data", train, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"accuracy": 1`) {
		t.Errorf("quantized model on its separable training data: %s", out[:min(len(out), 200)])
	}
	ftz := filepath.Join(dir, "m.ftz")
	if _, err := runCLI(t, "", "quantize", "--model", filepath.Join(ftTestdata, "softmax.bin"), "--output", ftz); err != nil {
		t.Fatal(err)
	}
	if !classic.IsFastTextBin(ftz) {
		t.Fatalf("%s is not a fastText model file", ftz)
	}
	dense, _ := os.Stat(filepath.Join(ftTestdata, "softmax.bin"))
	small, _ := os.Stat(ftz)
	if small.Size() >= dense.Size() {
		t.Errorf(".ftz has %d bytes, the .bin %d", small.Size(), dense.Size())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", ftz, "--output", filepath.Join(dir, "again.ftz")}, "m.ftz: quantize: the model is already quantized"},
		{[]string{"--model", model, "--output", filepath.Join(dir, "x"), "--dsub", "3"}, "--dsub 3 does not divide the dimension 8"},
		{[]string{"--model", model, "--output", filepath.Join(dir, "x"), "--retrain", "--cutoff", "300"}, "--retrain needs --train"},
		{[]string{"--model", filepath.Join(dir, "missing"), "--output", filepath.Join(dir, "x")}, "missing"},
	} {
		if _, err := runCLI(t, "", append([]string{"quantize"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("quantize %v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
