package model

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/textclf/textclf/checkpoint"
)

// PresetNames are the shapes PresetConfig knows.
var PresetNames = []string{"bert-base", "minilm", "gpt2", "qwen2-0.5b", "modernbert-base", "bert-tiny", "bert-mini", "bert-small", "bert-medium"}

// PresetConfig returns the config of a named model shape with random
// weights, with 2 labels: "bert-base" (12 layers, 768 hidden, 12 heads, 3072
// intermediate, vocab 30522) or "minilm" (6 layers, 384 hidden, 12 heads,
// 1536 intermediate), both BERT-style; Google's BERT miniatures "bert-tiny"
// (2 layers, 128 hidden, 2 heads), "bert-mini" (4, 256, 4), "bert-small"
// (4, 512, 8) and "bert-medium" (8, 512, 8), intermediate 4× hidden; "gpt2" (GPT-2 small: 12 layers, 768
// hidden, 12 heads, vocab 50257, pad token 50256 as GPT-2 classifiers set
// it), "qwen2-0.5b" (Qwen2-0.5B: 24 layers, 896 hidden, 14 heads sharing 2
// key/value heads, 4864 intermediate, vocab 151936, pad token 151643) or
// "modernbert-base" (22 layers, 768 hidden, 12 heads, 1152 intermediate,
// 8192 positions, local attention 128 on two layers of three).
func PresetConfig(name string) (*checkpoint.Config, error) {
	if js, ok := archPresets[name]; ok {
		return checkpoint.ParseConfig([]byte(js))
	}
	var layers, hidden, heads, inter int
	switch name {
	case "bert-base":
		layers, hidden, heads, inter = 12, 768, 12, 3072
	case "minilm":
		layers, hidden, heads, inter = 6, 384, 12, 1536
	default:
		if p, ok := mlmPresets[name]; ok {
			layers, hidden, heads, inter = p[0], p[1], p[2], p[3]
			break
		}
		return nil, fmt.Errorf("unknown preset config %q (want %s)", name, strings.Join(PresetNames, ", "))
	}
	js := fmt.Sprintf(`{"model_type":"bert","architectures":["BertForSequenceClassification"],"vocab_size":30522,
		"hidden_size":%d,"num_hidden_layers":%d,"num_attention_heads":%d,"intermediate_size":%d,
		"max_position_embeddings":512,"type_vocab_size":2,"hidden_act":"gelu","hidden_dropout_prob":0.1,
		"attention_probs_dropout_prob":0.1,"layer_norm_eps":1e-12,"initializer_range":0.02,"pad_token_id":0,
		"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}`, hidden, layers, heads, inter)
	return checkpoint.ParseConfig([]byte(js))
}

// RandomBatch returns b sequences of t random token ids (no padding), for
// benchmarks: ids from 1000 on (past the special tokens), or from 0 for a
// vocabulary of at most 2000.
func RandomBatch(vocab, b, t int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	in := &Batch{B: b, T: t, InputIDs: make([]int, b*t), AttentionMask: make([]int, b*t), TokenTypeIDs: make([]int, b*t)}
	lo := 1000
	if vocab <= 2*lo {
		lo = 0
	}
	for i := range in.InputIDs {
		in.InputIDs[i] = lo + rng.IntN(vocab-lo)
		in.AttentionMask[i] = 1
	}
	return in
}

// archPresets are the configs of the presets beyond BERT, as the hub's
// config.json files of gpt2, Qwen/Qwen2-0.5B and answerdotai/ModernBERT-base
// give them (with a classifier's two labels and pad token).
var archPresets = map[string]string{
	"gpt2": `{"model_type":"gpt2","architectures":["GPT2ForSequenceClassification"],"vocab_size":50257,
		"n_positions":1024,"n_embd":768,"n_layer":12,"n_head":12,"n_inner":null,"activation_function":"gelu_new",
		"resid_pdrop":0.1,"embd_pdrop":0.1,"attn_pdrop":0.1,"layer_norm_epsilon":1e-5,"initializer_range":0.02,
		"bos_token_id":50256,"eos_token_id":50256,"pad_token_id":50256,"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}`,
	"qwen2-0.5b": `{"model_type":"qwen2","architectures":["Qwen2ForSequenceClassification"],"vocab_size":151936,
		"hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,
		"num_key_value_heads":2,"hidden_act":"silu","max_position_embeddings":32768,"rms_norm_eps":1e-6,
		"rope_theta":1000000.0,"tie_word_embeddings":true,"use_sliding_window":false,"sliding_window":32768,
		"max_window_layers":24,"attention_dropout":0.0,"initializer_range":0.02,"bos_token_id":151643,
		"eos_token_id":151643,"pad_token_id":151643,"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}`,
	"modernbert-base": `{"model_type":"modernbert","architectures":["ModernBertForSequenceClassification"],
		"vocab_size":50368,"hidden_size":768,"intermediate_size":1152,"num_hidden_layers":22,"num_attention_heads":12,
		"hidden_activation":"gelu","max_position_embeddings":8192,"initializer_range":0.02,
		"initializer_cutoff_factor":2.0,"norm_eps":1e-5,"norm_bias":false,"pad_token_id":50283,"eos_token_id":50282,
		"bos_token_id":50281,"cls_token_id":50281,"sep_token_id":50282,"global_rope_theta":160000.0,
		"attention_bias":false,"attention_dropout":0.0,"global_attn_every_n_layers":3,"local_attention":128,
		"local_rope_theta":10000.0,"embedding_dropout":0.0,"mlp_bias":false,"mlp_dropout":0.0,
		"classifier_pooling":"cls","classifier_dropout":0.0,"classifier_bias":false,"classifier_activation":"gelu",
		"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}`,
}
