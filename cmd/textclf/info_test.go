package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

const golden = "../../testdata/checkpoint"

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// expectedFile is expected.json from scripts/checkpoint/gen.py (torch).
type expectedFile struct {
	Parameters int64 `json:"parameters"`
	Tensors    map[string]struct {
		DType string  `json:"dtype"`
		Shape []int   `json:"shape"`
		Sum   float64 `json:"sum"`
	} `json:"tensors"`
}

func TestInfoJSONMatchesTorch(t *testing.T) {
	for _, dir := range []string{"bert_f32", "bert_bf16", "bert_bin_sharded", "bert_pretraining_legacy", "distilbert_f32", "roberta_bin_f16"} {
		t.Run(dir, func(t *testing.T) {
			out, err := run(t, "info", "--model", filepath.Join(golden, dir), "--tensors", "--format", "json")
			if err != nil {
				t.Fatal(err)
			}
			var rep textclf.Description
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			b, _ := os.ReadFile(filepath.Join(golden, dir, "expected.json"))
			var exp expectedFile
			json.Unmarshal(b, &exp)
			if rep.Parameters != exp.Parameters {
				t.Errorf("parameters %d, torch counts %d", rep.Parameters, exp.Parameters)
			}
			if len(rep.Tensors) != len(exp.Tensors) {
				t.Fatalf("%d tensors, want %d", len(rep.Tensors), len(exp.Tensors))
			}
			for _, ten := range rep.Tensors {
				e := exp.Tensors[ten.Name]
				if ten.DType != e.DType || !slices.Equal(ten.Shape, e.Shape) {
					t.Errorf("%s: %s %v, want %s %v", ten.Name, ten.DType, ten.Shape, e.DType, e.Shape)
				}
				if math.Abs(ten.Sum-e.Sum) > 1e-9*(1+math.Abs(e.Sum)) {
					t.Errorf("%s: sum %v, torch %v", ten.Name, ten.Sum, e.Sum)
				}
			}
		})
	}
	out, _ := run(t, "info", "--model", filepath.Join(golden, "bert_sharded"), "--format", "json")
	var rep map[string]any
	json.Unmarshal([]byte(out), &rep)
	if rep["architecture"] != "BertForSequenceClassification" || rep["model_type"] != "bert" ||
		rep["format"] != "safetensors (sharded)" || len(rep["files"].([]any)) != 2 || rep["tensors"] != nil {
		t.Errorf("json: %s", out)
	}
	if labels := rep["labels"].([]any); len(labels) != 3 || labels[2] != "positive" {
		t.Errorf("labels %v", labels)
	}
}

func TestInfoText(t *testing.T) {
	out, err := run(t, "info", "--model", filepath.Join(golden, "roberta_bin_f16"), "--tensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"architecture:   RobertaForSequenceClassification",
		"model type:     roberta",
		"labels:         2 (LABEL_0, LABEL_1)",
		"hidden size:    8\nlayers:         2\nheads:          2\nvocab size:     40\nmax positions:  22\n",
		"parameters:     1810",
		"weights:        pytorch_model.bin: pytorch_model.bin in",
		"classifier.out_proj.weight",
		"F16    [2 8]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInfoErrors(t *testing.T) {
	if _, err := run(t, "info", "--model", filepath.Join(golden, "malicious_bin")); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("malicious: %v", err)
	}
	if _, err := run(t, "info", "--model", filepath.Join(golden, "bert_f32"), "--format", "xml"); err == nil {
		t.Error("bad format accepted")
	}
	if _, err := run(t, "info"); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("missing --model: %v", err)
	}
}

// A hub id resolves through the HF cache; offline, nothing touches the network.
func TestInfoAndDownloadFromCacheOffline(t *testing.T) {
	cache := t.TempDir()
	const commit = "89abcdef0123456789abcdef0123456789abcdef"
	repo := filepath.Join(cache, "models--acme--tiny-distilbert")
	snap := filepath.Join(repo, "snapshots", commit)
	os.MkdirAll(snap, 0o755)
	os.MkdirAll(filepath.Join(repo, "refs"), 0o755)
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644)
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, _ := os.ReadFile(filepath.Join(golden, "distilbert_f32", f))
		os.WriteFile(filepath.Join(snap, f), b, 0o644)
	}
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1")
	out, err := run(t, "info", "--model", "acme/tiny-distilbert", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep textclf.Description
	json.Unmarshal([]byte(out), &rep)
	if rep.Hub != "acme/tiny-distilbert@main" || rep.Source != snap || rep.Parameters != 1786 {
		t.Errorf("%+v", rep)
	}
	out, err = run(t, "download", "acme/tiny-distilbert", "-q")
	if err != nil || strings.TrimSpace(out) != snap {
		t.Errorf("download: %q %v", out, err)
	}
	if _, err := run(t, "download", "acme/absent"); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("absent model offline: %v", err)
	}
}
