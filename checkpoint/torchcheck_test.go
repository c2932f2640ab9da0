package checkpoint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedCheckpointLoadsInTorch saves F16- and BF16-sourced weights with Save
// and has the generator's reader (torch) load them back, comparing every value
// with torch's own. It needs Debian's python3-torch and is skipped without it.
func TestSavedCheckpointLoadsInTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch not installed: ", err)
	}
	script, _ := filepath.Abs("../scripts/checkpoint/gen.py")
	for _, dir := range []string{"bert_bf16", "distilbert_f32", "roberta_bin_f16"} {
		t.Run(dir, func(t *testing.T) {
			src := filepath.Join(golden, dir)
			cfg, err := LoadConfig(src)
			if err != nil {
				t.Fatal(err)
			}
			w, err := LoadWeights(src)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			out := t.TempDir()
			if err := Save(out, cfg, w.Tensors, nil); err != nil {
				t.Fatal(err)
			}
			exp, _ := filepath.Abs(filepath.Join(src, "expected.json"))
			cmd := exec.Command(py, script, "check", exp, out)
			b, err := cmd.CombinedOutput()
			if err != nil || !strings.HasPrefix(string(b), "ok:") {
				t.Fatalf("torch check failed: %v\n%s", err, b)
			}
			// Tamper with one value: the reference reader must notice.
			st := filepath.Join(out, SafetensorsName)
			raw, _ := os.ReadFile(st)
			raw[len(raw)-1] ^= 0x40
			os.WriteFile(st, raw, 0o644)
			if b, err := exec.Command(py, script, "check", exp, out).CombinedOutput(); err == nil {
				t.Fatalf("torch check accepted a corrupted file:\n%s", b)
			}
		})
	}
}
