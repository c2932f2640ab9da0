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
// scores but not equal to them; int8 for a classic model is refused.
func TestQuantizeTransformer(t *testing.T) {
	src := "../../testdata/tiny-bert"
	out := quantizedDir(t, src, "int8", `"quant_method": "textclf_int8"`)
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
	f32 := predict(src)
	compareReduced(t, "int8", f32, predict(out), predict(src, "--dtype", "int8"))
	if _, err := runCLI(t, "", "quantize", "--model", out, "--output", t.TempDir()); err == nil || !strings.Contains(err.Error(), "already int8") {
		t.Errorf("quantizing an int8 directory: %v", err)
	}
	if _, err := runCLI(t, "", "bench", "--model", src, "--dtype", "int8", "--train", "--batch", "1", "--seq", "4"); err == nil || !strings.Contains(err.Error(), "inference only") {
		t.Errorf("bench --train --dtype int8: %v", err)
	}
	// bf16: the directory holds the Linear weights in BF16, which load as
	// float32 exactly, so --dtype bf16 on it computes what --dtype bf16 on
	// the float32 directory does.
	outBF16 := quantizedDir(t, src, "bf16", `"torch_dtype": "bfloat16"`)
	compareReduced(t, "bf16", f32, predict(outBF16, "--dtype", "bf16"), predict(src, "--dtype", "bf16"))
	if st32, st16 := fileSize(t, filepath.Join(src, "model.safetensors")), fileSize(t, filepath.Join(outBF16, "model.safetensors")); st16 >= st32*3/4 {
		t.Errorf("bf16 model.safetensors has %d bytes, the float32 one %d", st16, st32)
	}
	if o, err := runCLI(t, "", "bench", "--model", src, "--dtype", "bf16", "--train", "--batch", "1", "--seq", "4", "--iterations", "1", "--min-seconds", "0"); err != nil || !strings.Contains(o, `"mixed_bf16":true`) {
		t.Errorf("bench --train --dtype bf16 (a mixed-precision step): %s %v", o, err)
	}
	if _, err := runCLI(t, "", "quantize", "--model", src, "--dtype", "f16", "--output", t.TempDir()); err == nil || !strings.Contains(err.Error(), "int8 or bf16") {
		t.Errorf("quantize --dtype f16: %v", err)
	}
	o, err := runCLI(t, "", "bench", "--model", out, "--batch", "2", "--seq", "8", "--iterations", "1", "--min-seconds", "0")
	if err != nil || !strings.Contains(o, `"dtype":"int8"`) {
		t.Errorf("bench of the int8 directory: %s %v", o, err)
	}
	for _, d := range []string{"int8", "bf16"} {
		if _, err := runCLI(t, "", "predict", "--model", filepath.Join(ftTestdata, "softmax.bin"), "--dtype", d, "x"); err == nil || !strings.Contains(err.Error(), "transformer") {
			t.Errorf("--dtype %s with a fastText model: %v", d, err)
		}
	}
}

// quantizedDir runs textclf quantize --dtype dtype on src and checks that the
// directory's config.json holds marker and that the tokenizer was copied.
func quantizedDir(t *testing.T, src, dtype, marker string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), dtype)
	if _, err := runCLI(t, "", "quantize", "--model", src, "--dtype", dtype, "--output", out); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), marker) {
		t.Fatalf("config.json of the %s directory has no %s:\n%s", dtype, marker, cfg)
	}
	if _, err := os.Stat(filepath.Join(out, "tokenizer.json")); err != nil {
		t.Fatal("tokenizer.json not copied:", err)
	}
	return out
}

// compareReduced checks that the scores of a written int8 or bf16 directory
// equal those of the same dtype on load, and are close to the float32
// scores but not equal to them.
func compareReduced(t *testing.T, dtype string, f32, dir, onLoad []textclf.Prediction) {
	t.Helper()
	same := true
	for i := range f32 {
		for j := range f32[i].Scores {
			if dir[i].Scores[j] != onLoad[i].Scores[j] {
				t.Errorf("text %d label %d: %s directory %v, --dtype %s %v", i, j, dtype, dir[i].Scores[j], dtype, onLoad[i].Scores[j])
			}
			d := dir[i].Scores[j].Score - f32[i].Scores[j].Score
			if d > 0.02 || d < -0.02 {
				t.Errorf("text %d label %d: %s %v, f32 %v", i, j, dtype, dir[i].Scores[j], f32[i].Scores[j])
			}
			same = same && d == 0
		}
	}
	if same {
		t.Errorf("%s scores equal the float32 ones: the model was not converted", dtype)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
