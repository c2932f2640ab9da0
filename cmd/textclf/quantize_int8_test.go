package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

// TestQuantizeTransformer: textclf quantize writes an int8 directory of a
// transformer that predict loads again; its scores are those of --dtype int8
// on the float32 directory (the same quantization), close to the float32
// scores but not equal to them; bf16 and int8 for a classic model are refused.
func TestQuantizeTransformer(t *testing.T) {
	src := "../../testdata/tiny-bert"
	out := filepath.Join(t.TempDir(), "int8")
	if _, err := runCLI(t, "", "quantize", "--model", src, "--output", out); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"quant_method": "textclf_int8"`) {
		t.Fatalf("config.json has no int8 quantization_config:\n%s", cfg)
	}
	if _, err := os.Stat(filepath.Join(out, "tokenizer.json")); err != nil {
		t.Fatal("tokenizer.json not copied:", err)
	}
	texts := []string{"the good, it was great", "the bad, it was awful"}
	predict := func(model string, extra ...string) []textclf.Prediction {
		t.Helper()
		args := append([]string{"predict", "--model", model, "--all"}, extra...)
		o, err := runCLI(t, "", append(args, texts...)...)
		if err != nil {
			t.Fatal(err)
		}
		var ps []textclf.Prediction
		for _, line := range strings.Split(strings.TrimSpace(o), "\n") {
			var p textclf.Prediction
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			ps = append(ps, p)
		}
		return ps
	}
	f32, q, onLoad := predict(src), predict(out), predict(src, "--dtype", "int8")
	same := true
	for i := range f32 {
		for j := range f32[i].Scores {
			if q[i].Scores[j] != onLoad[i].Scores[j] {
				t.Errorf("text %d label %d: int8 directory %v, --dtype int8 %v", i, j, q[i].Scores[j], onLoad[i].Scores[j])
			}
			d := q[i].Scores[j].Score - f32[i].Scores[j].Score
			if d > 0.02 || d < -0.02 {
				t.Errorf("text %d label %d: int8 %v, f32 %v", i, j, q[i].Scores[j], f32[i].Scores[j])
			}
			same = same && d == 0
		}
	}
	if same {
		t.Error("int8 scores equal the float32 ones: the model was not quantized")
	}
	if _, err := runCLI(t, "", "quantize", "--model", out, "--output", t.TempDir()); err == nil || !strings.Contains(err.Error(), "already int8") {
		t.Errorf("quantizing an int8 directory: %v", err)
	}
	if _, err := runCLI(t, "", "predict", "--model", src, "--dtype", "bf16", "x"); err == nil || !strings.Contains(err.Error(), "bf16") {
		t.Errorf("--dtype bf16: %v", err)
	}
	if _, err := runCLI(t, "", "bench", "--model", src, "--dtype", "int8", "--train", "--batch", "1", "--seq", "4"); err == nil || !strings.Contains(err.Error(), "inference only") {
		t.Errorf("bench --train --dtype int8: %v", err)
	}
	o, err := runCLI(t, "", "bench", "--model", out, "--batch", "2", "--seq", "8", "--iterations", "1", "--min-seconds", "0")
	if err != nil || !strings.Contains(o, `"dtype":"int8"`) {
		t.Errorf("bench of the int8 directory: %s %v", o, err)
	}
	if _, err := runCLI(t, "", "predict", "--model", filepath.Join(ftTestdata, "softmax.bin"), "--dtype", "int8", "x"); err == nil || !strings.Contains(err.Error(), "transformer") {
		t.Errorf("--dtype int8 with a fastText model: %v", err)
	}
}
