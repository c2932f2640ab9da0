package train

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// Fine-tuning works for the decoders and ModernBERT as for BERT: the loss
// falls on separable data, and the output directory reloads with its
// architecture and the new labels.
func TestTrainDecodersAndModernBERT(t *testing.T) {
	data := writeData(t, 6)
	for _, tc := range []struct{ kind, tok, js string }{
		{"gpt2", "../testdata/tokenizer/gpt2/tokenizer.json",
			`{"model_type":"gpt2","n_positions":64,"n_embd":16,"n_layer":2,"n_head":2,"pad_token_id":50256`},
		{"llama", "../testdata/tokenizer/variants/model-bpe-llama-byte-fallback.json",
			`{"model_type":"llama","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":64,"pad_token_id":0`},
		{"qwen2", "../testdata/tokenizer/variants/arch-qwen2.json",
			`{"model_type":"qwen2","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":64,"pad_token_id":0`},
		{"modernbert", "../testdata/tokenizer/variants/arch-modernbert.json",
			`{"model_type":"modernbert","hidden_size":16,"intermediate_size":24,"num_hidden_layers":3,"num_attention_heads":2,"max_position_embeddings":512,"local_attention":4,"pad_token_id":0`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			tk, err := tokenizer.Load(tc.tok)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := checkpoint.ParseConfig([]byte(tc.js + `,"vocab_size":` + strconv.Itoa(tk.VocabSize()) + `,"id2label":{"0":"x","1":"y","2":"z"}}`))
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.New(cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := m.Save(dir, nil); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(tc.tok)
			if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			res, err := Train(context.Background(), Config{Model: dir, Train: data, Output: out, Epochs: 15, BatchSize: 4,
				LR: 1e-2, Seed: 1, LogSteps: 3})
			if err != nil {
				t.Fatal(err)
			}
			var first, last float64
			for _, e := range res.State.LogHistory {
				if e.Loss != nil {
					if first == 0 {
						first = *e.Loss
					}
					last = *e.Loss
				}
			}
			if !(last < first/2) {
				t.Errorf("training loss went from %g to %g", first, last)
			}
			back, _, err := model.Load(out, 1)
			if err != nil {
				t.Fatal(err)
			}
			if back.Architecture() != m.Architecture() || back.NumLabels != 2 || back.Config.Labels[1] != "positive" {
				t.Fatalf("saved model: %s, labels %v", back.Architecture(), back.Config.Labels)
			}
		})
	}
}
