package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
)

// A checkpoint of an architecture textclf does not build (T5, say) is refused, naming
// the supported model types, instead of loading as a default BERT.
func TestUnsupportedModelTypeRefused(t *testing.T) {
	for _, tc := range []struct{ name, config, want string }{
		{"t5", `{"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "d_model": 64}`, `model_type "t5" is not supported`},
		{"no model_type", `{"architectures": ["LlamaForCausalLM"]}`, "no model_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := checkpoint.LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(cfg, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bert, roberta, xlm-roberta, camembert, distilbert, gpt2, llama, qwen2, mistral, modernbert") {
				t.Fatalf("New: err = %v, want %q naming the supported types", err, tc.want)
			}
		})
	}
	// A config without model_type whose architectures are BERT's still loads.
	cfg, err := checkpoint.ParseConfig([]byte(`{"architectures": ["BertForSequenceClassification"], "vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 8, "max_position_embeddings": 8}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, 1); err != nil {
		t.Fatalf("BERT config without model_type: %v", err)
	}
}

// An output layer of another shape is reported once, as from_pretrained
// reports mismatched sizes, not also as a missing weight.
func TestLoadForTrainingReportsMismatchOnce(t *testing.T) {
	_, rep, err := LoadForTraining("../testdata/tiny-bert", []string{"neg", "pos"}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 0 || strings.Join(rep.Mismatched, ",") != "classifier.bias,classifier.weight" {
		t.Fatalf("missing %v, mismatched %v", rep.Missing, rep.Mismatched)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "newly initialized because the shapes did not match") ||
		!strings.Contains(rep.Warnings[0], "- classifier.weight: found shape [3 32] in the checkpoint and [2 32] in the model instantiated") {
		t.Fatalf("warnings %q", rep.Warnings)
	}
}

// A decoder config that lies about its sizes is refused before the model
// is built (it would allocate them), as the BERT family's is.
func TestDecoderConfigLyingAboutSizes(t *testing.T) {
	for _, src := range []string{"../testdata/model/gpt2-right-pad", "../testdata/model/llama-left-pad", "../testdata/model/modernbert-cls"} {
		dir := t.TempDir()
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(src, e.Name()))
			if e.Name() == "config.json" {
				var cfg map[string]any
				if err := json.Unmarshal(b, &cfg); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"n_embd", "hidden_size"} {
					if _, ok := cfg[k]; ok {
						cfg[k] = 32768
					}
				}
				for _, k := range []string{"n_layer", "num_hidden_layers"} {
					if _, ok := cfg[k]; ok {
						cfg[k] = 512
					}
				}
				b, _ = json.Marshal(cfg)
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		if _, _, err := Load(dir, 1); err == nil || !strings.Contains(err.Error(), "do not belong together") {
			t.Errorf("%s with 32768 hidden and 512 layers: %v", src, err)
		}
	}
}
