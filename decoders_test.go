package textclf

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// writeArchModel saves a tiny random model of kind with the tokenizer file
// tok (as tokenizer.json) into a new directory; extra is spliced into its
// config.json.
func writeArchModel(t *testing.T, kind, tok, extra string) string {
	t.Helper()
	tk, err := tokenizer.Load(tok)
	if err != nil {
		t.Fatal(err)
	}
	vocab := tk.VocabSize()
	js := map[string]string{
		"gpt2": `{"model_type":"gpt2","n_positions":64,"n_embd":16,"n_layer":2,"n_head":2,"pad_token_id":50256`,
		"llama": `{"model_type":"llama","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,
			"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":64,"pad_token_id":0`,
		"qwen2": `{"model_type":"qwen2","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,
			"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":64,"pad_token_id":0`,
		"modernbert": `{"model_type":"modernbert","hidden_size":16,"intermediate_size":24,"num_hidden_layers":3,
			"num_attention_heads":2,"max_position_embeddings":4096,"local_attention":8,"pad_token_id":0`,
	}[kind]
	cfg, err := checkpoint.ParseConfig([]byte(js + `,"vocab_size":` + itoa(vocab) + `,"id2label":{"0":"neg","1":"pos"}` + extra + "}"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	if s == "" {
		s = "0"
	}
	return s
}

// GPT-2, Llama, Qwen2 and ModernBERT directories open through textclf.Open
// with their tokenizers (the pipelines of their tokenizer.json files), and a
// batch of texts gets each text's logits alone.
func TestOpenDecodersAndModernBERT(t *testing.T) {
	ctx := context.Background()
	texts := []string{"a gorgeous, witty, seductive movie.", "it's a bad sign", "ok"}
	for _, tc := range []struct{ kind, tok, arch string }{
		{"gpt2", "testdata/tokenizer/gpt2/tokenizer.json", "GPT2ForSequenceClassification"},
		{"llama", "testdata/tokenizer/variants/model-bpe-llama-byte-fallback.json", "LlamaForSequenceClassification"},
		{"qwen2", "testdata/tokenizer/variants/arch-qwen2.json", "Qwen2ForSequenceClassification"},
		{"modernbert", "testdata/tokenizer/variants/arch-modernbert.json", "ModernBertForSequenceClassification"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := writeArchModel(t, tc.kind, tc.tok, "")
			clf, err := Open(ctx, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			info := clf.Info()
			if info.Kind != tc.kind || info.Architecture != tc.arch {
				t.Fatalf("info %+v", info)
			}
			if want := map[string]int{"modernbert": 4096}[tc.kind]; want > 0 && info.MaxLength != want {
				t.Errorf("ModernBERT's default max length %d, want all its %d positions", info.MaxLength, want)
			}
			batched, err := clf.Classify(ctx, texts...)
			if err != nil {
				t.Fatal(err)
			}
			for i, text := range texts {
				alone, err := clf.Classify(ctx, text)
				if err != nil {
					t.Fatal(err)
				}
				for j := range alone[0].Logits {
					if d := math.Abs(float64(alone[0].Logits[j] - batched[i].Logits[j])); d > 1e-5 {
						t.Errorf("%q: logit %d alone %g, in a batch %g", text, j, alone[0].Logits[j], batched[i].Logits[j])
					}
				}
			}
		})
	}
}

// A decoder checkpoint without a pad token classifies texts one at a time
// (batch size 1) and refuses a batch of several with transformers' error.
func TestOpenDecoderWithoutPadToken(t *testing.T) {
	ctx := context.Background()
	dir := writeArchModel(t, "gpt2", "testdata/tokenizer/gpt2/tokenizer.json", `,"pad_token_id":null`)
	clf, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clf.Classify(ctx, "one text"); err != nil {
		t.Fatalf("one text: %v", err)
	}
	_, err = clf.Classify(ctx, "a b", "c d")
	if err == nil || !strings.Contains(err.Error(), "Cannot handle batch sizes > 1 if no padding token is defined") {
		t.Fatalf("two texts: %v", err)
	}
	one, err := Open(ctx, dir, Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if preds, err := one.Classify(ctx, "a b", "c d"); err != nil || len(preds) != 2 {
		t.Fatalf("two texts with batch size 1: %v, %d predictions", err, len(preds))
	}
}
