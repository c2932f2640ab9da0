package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// newGPT2 builds GPT2ForSequenceClassification (modeling_gpt2.py):
// transformer.wte and transformer.wpe (learned positions), blocks
// transformer.h.N with ln_1, attn.c_attn (Conv1D: q, k, v side by side),
// causal attention, attn.c_proj, ln_2, mlp.c_fc, act (gelu_new), mlp.c_proj,
// then transformer.ln_f and score (no bias) on the last non-padding token.
func newGPT2(cfg *checkpoint.Config, labels int) (*prenormNet, error) {
	act, err := nn.ParseActivation(cfg.HiddenAct)
	if err != nil {
		return nil, fmt.Errorf("config: activation_function: %w", err)
	}
	c, heads := cfg.HiddenSize, cfg.NumAttentionHeads
	d, eps := c/heads, float32(cfg.LayerNormEps)
	p := &prenormNet{cfg: cfg, arch: "GPT2ForSequenceClassification",
		embed:    nn.NewEmbedding("transformer.wte", cfg.VocabSize, c),
		pos:      nn.NewEmbedding("transformer.wpe", cfg.MaxPositionEmbeddings, c),
		embDrop:  nn.Dropout{P: float32(cfg.EmbeddingDropout)},
		pool:     poolLast,
		padID:    cfg.PadTokenID,
		gradSkip: -1,
		final:    &normLayer{ln: nn.NewLayerNorm("transformer.ln_f", c, eps)},
		out:      nn.NewLinearNoBias("score", c, labels),
		// Buffers of older checkpoints (the causal mask and its fill value).
		ignore: []string{`(^|\.)h\.\d+\.attn\.(masked_)?bias$`},
	}
	p.drops = append(p.drops, &p.embDrop)
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		pre := fmt.Sprintf("transformer.h.%d.", i)
		scale := float32(1)
		if cfg.ScaleAttnWeights {
			scale = float32(1 / math.Sqrt(float64(d)))
		}
		if cfg.ScaleAttnByInverseLayerIdx {
			scale /= float32(i + 1)
		}
		drop := nn.Dropout{P: float32(cfg.HiddenDropoutProb)}
		b := &block{
			attnNorm: &normLayer{ln: nn.NewLayerNorm(pre+"ln_1", c, eps)},
			qkv:      nn.NewConv1D(pre+"attn.c_attn", c, 3*c),
			o:        nn.NewConv1D(pre+"attn.c_proj", c, c),
			attn: nn.MaskedAttention{Heads: heads, KVHeads: heads, HeadDim: d, Causal: true, Left: -1, Right: -1,
				Scale: scale, Dropout: nn.Dropout{P: float32(cfg.AttentionProbsDropout)}},
			mlpNorm:  &normLayer{ln: nn.NewLayerNorm(pre+"ln_2", c, eps)},
			up:       nn.NewConv1D(pre+"mlp.c_fc", c, cfg.IntermediateSize),
			down:     nn.NewConv1D(pre+"mlp.c_proj", cfg.IntermediateSize, c),
			act:      act,
			attnDrop: drop, outDrop: drop,
		}
		p.blocks = append(p.blocks, b)
		p.drops = append(p.drops, &b.attn.Dropout, &b.attnDrop, &b.outDrop)
	}
	std := cfg.InitializerRange
	p.init = func(w *nn.Param, rng *rand.Rand) {
		// GPT2PreTrainedModel._init_weights: normal(0, initializer_range),
		// c_proj weights normal(0, initializer_range/√(2·n_layer)), zero
		// biases, LayerNorm 1 and 0.
		switch {
		case strings.HasSuffix(w.Name, "c_proj.weight"):
			w.InitNormal(rng, std/math.Sqrt(2*float64(cfg.NumHiddenLayers)))
		case len(w.Shape) == 2:
			w.InitNormal(rng, std)
		case strings.Contains(w.Name, "ln_") && strings.HasSuffix(w.Name, ".weight"):
			w.Fill(1)
		default:
			w.Fill(0)
		}
	}
	p.collectParams()
	return p, nil
}
