package model

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
)

// paramShapes lists what New allocates, in order, for every architecture.
func TestParamShapesMatchNew(t *testing.T) {
	for _, js := range []string{
		`{"model_type":"bert","vocab_size":50,"hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":20,"num_labels":3}`,
		`{"model_type":"roberta","vocab_size":50,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":20,"type_vocab_size":1}`,
		`{"model_type":"xlm-roberta","vocab_size":50,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":20,"num_labels":1}`,
		`{"model_type":"distilbert","vocab_size":50,"dim":8,"n_layers":3,"n_heads":2,"hidden_dim":12,"max_position_embeddings":20,"num_labels":4}`,
		`{"vocab_size":50,"hidden_size":8,"num_hidden_layers":0,"num_attention_heads":2,"intermediate_size":12,"max_position_embeddings":20,"type_vocab_size":0}`,
	} {
		cfg, err := checkpoint.ParseConfig([]byte(js))
		if err != nil {
			// num_hidden_layers 0 is refused by Validate: fine, nothing to compare.
			continue
		}
		m, err := New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := paramShapes(cfg, false)
		if len(want) != len(m.Params()) {
			t.Fatalf("%s: %d shapes, New makes %d parameters", js, len(want), len(m.Params()))
		}
		for i, p := range m.Params() {
			if p.Name != want[i].Name || !slices.Equal(p.Shape, want[i].Shape) {
				t.Fatalf("%s: parameter %d is %s %v, paramShapes says %s %v", js, i, p.Name, p.Shape, want[i].Name, want[i].Shape)
			}
		}
	}
}

// FuzzLoadConfig loads tiny-bert's weights under fuzzed config.json files:
// whatever the config says, loading either fails with an error or gives a
// model of the config's shape, without allocating for sizes the weights do
// not hold (the plan refuses them first).
func FuzzLoadConfig(f *testing.F) {
	seed, err := os.ReadFile("../testdata/tiny-bert/config.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(strings.Replace(string(seed), `"num_hidden_layers": 2`, `"num_hidden_layers": 1000`, 1)))
	f.Add([]byte(strings.Replace(string(seed), `"hidden_size": 32`, `"hidden_size": 8192`, 1)))
	f.Add([]byte(strings.Replace(string(seed), `"model_type": "bert"`, `"model_type": "distilbert"`, 1)))
	weights, err := filepath.Abs("../testdata/tiny-bert/model.safetensors")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), config, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(weights, filepath.Join(dir, "model.safetensors")); err != nil {
			t.Fatal(err)
		}
		m, _, err := Load(dir, 1)
		if err != nil {
			return
		}
		if n := m.NumParameters(); n > 64<<20 {
			t.Fatalf("a model of %d parameters from a %d-byte weight file", n, 81548)
		}
	})
}
