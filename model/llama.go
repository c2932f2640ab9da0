package model

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// newLlama builds LlamaForSequenceClassification (modeling_llama.py), and
// Qwen2's and Mistral's, which differ only in their config: model.embed_tokens,
// blocks model.layers.N with input_layernorm (RMSNorm), self_attn.q_proj,
// k_proj, v_proj (grouped-query: num_key_value_heads; Qwen2 with biases,
// Llama with attention_bias), rotary embeddings (rope_theta, rope_scaling
// none, linear or llama3), causal attention (Mistral's and Qwen2's sliding
// window on the layers that have one), o_proj, post_attention_layernorm,
// mlp.gate_proj, up_proj, down_proj (SwiGLU), then model.norm and score (no
// bias) on the last non-padding token.
func newLlama(cfg *checkpoint.Config, labels int) (*prenormNet, error) {
	act, err := nn.ParseActivation(cfg.HiddenAct)
	if err != nil {
		return nil, fmt.Errorf("config: hidden_act: %w", err)
	}
	arch := map[string]string{"llama": "LlamaForSequenceClassification", "qwen2": "Qwen2ForSequenceClassification",
		"mistral": "MistralForSequenceClassification"}[cfg.ModelType]
	c, heads, kv := cfg.HiddenSize, cfg.NumAttentionHeads, cfg.NumKeyValueHeads
	d := cfg.HeadDim
	if d == 0 {
		d = c / heads
	}
	var scaling *nn.RopeScaling
	if s := cfg.RopeScaling; s != nil {
		switch s.Type {
		case "linear", "llama3":
		default:
			return nil, fmt.Errorf("config: rope_scaling type %q is not supported (default, linear or llama3)", s.Type)
		}
		if s.Factor <= 0 || s.Type == "llama3" && (s.OriginalMaxPositionEmbeddings <= 0 || s.HighFreqFactor <= s.LowFreqFactor) {
			return nil, fmt.Errorf("config: rope_scaling %+v is incomplete", *s)
		}
		scaling = &nn.RopeScaling{Type: s.Type, Factor: s.Factor, LowFreqFactor: s.LowFreqFactor,
			HighFreqFactor: s.HighFreqFactor, OriginalMaxPositions: s.OriginalMaxPositionEmbeddings}
	}
	if cfg.RopeTheta <= 0 {
		return nil, fmt.Errorf("config: rope_theta must be positive, is %g", cfg.RopeTheta)
	}
	rope := &ropeTable{rope: nn.NewRotary(d, cfg.RopeTheta, scaling)}
	eps := float32(cfg.LayerNormEps)
	skip := -1
	if cfg.PadTokenID != nil {
		skip = *cfg.PadTokenID
	}
	p := &prenormNet{cfg: cfg, arch: arch,
		embed:    nn.NewEmbedding("model.embed_tokens", cfg.VocabSize, c),
		pool:     poolLast,
		padID:    cfg.PadTokenID,
		gradSkip: skip,
		final:    &normLayer{rms: nn.NewRMSNorm("model.norm", c, eps)},
		out:      nn.NewLinearNoBias("score", c, labels),
	}
	qkvBias, oBias := cfg.AttentionBias, cfg.AttentionBias
	if cfg.ModelType == "qwen2" {
		qkvBias, oBias = true, false
	}
	linear := func(name string, in, out int, bias bool) *nn.Linear {
		if bias {
			return nn.NewLinear(name, in, out)
		}
		return nn.NewLinearNoBias(name, in, out)
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		pre := fmt.Sprintf("model.layers.%d.", i)
		left := -1
		sliding := cfg.SlidingWindow > 0 && (cfg.LayerTypes == nil || cfg.LayerTypes[i] == "sliding_attention")
		if cfg.ModelType == "llama" {
			sliding = false
		}
		if sliding {
			left = cfg.SlidingWindow - 1 // a query sees itself and sliding_window-1 keys before it
		}
		b := &block{
			attnNorm: &normLayer{rms: nn.NewRMSNorm(pre+"input_layernorm", c, eps)},
			q:        linear(pre+"self_attn.q_proj", c, heads*d, qkvBias),
			k:        linear(pre+"self_attn.k_proj", c, kv*d, qkvBias),
			v:        linear(pre+"self_attn.v_proj", c, kv*d, qkvBias),
			o:        linear(pre+"self_attn.o_proj", heads*d, c, oBias),
			rope:     rope,
			attn: nn.MaskedAttention{Heads: heads, KVHeads: kv, HeadDim: d, Causal: true, Left: left, Right: -1,
				Dropout: nn.Dropout{P: float32(cfg.AttentionProbsDropout)}},
			mlpNorm: &normLayer{rms: nn.NewRMSNorm(pre+"post_attention_layernorm", c, eps)},
			gate:    linear(pre+"mlp.gate_proj", c, cfg.IntermediateSize, cfg.MLPBias),
			up:      linear(pre+"mlp.up_proj", c, cfg.IntermediateSize, cfg.MLPBias),
			down:    linear(pre+"mlp.down_proj", cfg.IntermediateSize, c, cfg.MLPBias),
			glu:     &nn.GLU{Act: act},
		}
		p.blocks = append(p.blocks, b)
		p.drops = append(p.drops, &b.attn.Dropout)
	}
	std := cfg.InitializerRange
	p.init = func(w *nn.Param, rng *rand.Rand) {
		// LlamaPreTrainedModel._init_weights: Linear and Embedding
		// normal(0, initializer_range), the padding row 0, zero biases,
		// RMSNorm weights 1.
		switch {
		case len(w.Shape) == 2:
			w.InitNormal(rng, std)
			if w == p.embed.Weight && w.W != nil && skip >= 0 && skip < cfg.VocabSize {
				clear(w.W[skip*c : (skip+1)*c])
			}
		case strings.HasSuffix(w.Name, "norm.weight"):
			w.Fill(1)
		default:
			w.Fill(0)
		}
	}
	p.collectParams()
	return p, nil
}
