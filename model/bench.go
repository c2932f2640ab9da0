package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/textclf/textclf/checkpoint"
)

// PresetConfig returns the config of a named model shape with random
// weights: "bert-base" (12 layers, 768 hidden, 12 heads, 3072 intermediate,
// vocab 30522) or "minilm" (6 layers, 384 hidden, 12 heads, 1536
// intermediate), both BERT-style with 2 labels.
func PresetConfig(name string) (*checkpoint.Config, error) {
	var layers, hidden, heads, inter int
	switch name {
	case "bert-base":
		layers, hidden, heads, inter = 12, 768, 12, 3072
	case "minilm":
		layers, hidden, heads, inter = 6, 384, 12, 1536
	default:
		return nil, fmt.Errorf("unknown preset config %q (want bert-base or minilm)", name)
	}
	js := fmt.Sprintf(`{"model_type":"bert","architectures":["BertForSequenceClassification"],"vocab_size":30522,
		"hidden_size":%d,"num_hidden_layers":%d,"num_attention_heads":%d,"intermediate_size":%d,
		"max_position_embeddings":512,"type_vocab_size":2,"hidden_act":"gelu","hidden_dropout_prob":0.1,
		"attention_probs_dropout_prob":0.1,"layer_norm_eps":1e-12,"initializer_range":0.02,"pad_token_id":0,
		"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}`, hidden, layers, heads, inter)
	return checkpoint.ParseConfig([]byte(js))
}

// RandomBatch returns b sequences of t random token ids (no padding), for
// benchmarks.
func RandomBatch(vocab, b, t int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	in := &Batch{B: b, T: t, InputIDs: make([]int, b*t), AttentionMask: make([]int, b*t), TokenTypeIDs: make([]int, b*t)}
	for i := range in.InputIDs {
		in.InputIDs[i] = 1000 + rng.IntN(vocab-1000)
		in.AttentionMask[i] = 1
	}
	return in
}
