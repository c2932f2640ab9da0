package checkpoint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedCheckpointLoadsInTorch saves weights read from BF16 safetensors, F32
// safetensors and an F16 torch .bin with Save, and has the generator's reader
// (torch) load them back, comparing every value with torch's own. It needs
// Debian's python3-torch and is skipped without it.
func TestSavedCheckpointLoadsInTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch not installed: ", err)
	}
	script, _ := filepath.Abs("../scripts/checkpoint/gen.py")
	args := []string{script, "check"}
	var outs []string
	for _, dir := range []string{"bert_bf16", "distilbert_f32", "roberta_bin_f16"} {
		src := filepath.Join(golden, dir)
		cfg, err := LoadConfig(src)
		if err != nil {
			t.Fatal(err)
		}
		w, err := LoadWeights(src)
		if err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		err = Save(out, cfg, w.Tensors, nil)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := filepath.Abs(filepath.Join(src, "expected.json"))
		args = append(args, exp, out)
		outs = append(outs, out)
	}
	b, err := exec.Command(py, args...).CombinedOutput()
	if err != nil || strings.Count(string(b), "ok:") != 3 {
		t.Fatalf("torch check failed: %v\n%s", err, b)
	}
	// Flip one bit of one value: the reference reader must notice.
	st := filepath.Join(outs[2], SafetensorsName)
	raw, _ := os.ReadFile(st)
	raw[len(raw)-1] ^= 0x40
	os.WriteFile(st, raw, 0o644)
	if b, err := exec.Command(py, args[:2+2*3]...).CombinedOutput(); err == nil || !strings.Contains(string(b), "tensor differs") {
		t.Fatalf("torch check accepted a corrupted file: %v\n%s", err, b)
	}
}
