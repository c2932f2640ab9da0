package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// newModernBERT builds ModernBertForSequenceClassification
// (modeling_modernbert.py): model.embeddings.tok_embeddings, norm (LayerNorm,
// bias norm_bias) and drop; blocks model.layers.N with attn_norm (the
// identity in layer 0), attn.Wqkv (q, k, v side by side), rotary embeddings
// (global_rope_theta on full-attention layers, local_rope_theta on sliding
// ones), bidirectional attention, local (local_attention/2 tokens each side)
// on every layer but each global_attn_every_n_layers-th (layer_types),
// attn.Wo, mlp_norm, mlp.Wi (the two halves of a GeGLU), mlp.Wo; then
// model.final_norm, pooling (classifier_pooling cls or mean), head.dense,
// classifier_activation, head.norm, drop and classifier.
func newModernBERT(cfg *checkpoint.Config, labels int) (*prenormNet, error) {
	act, err := nn.ParseActivation(cfg.HiddenAct)
	if err != nil {
		return nil, fmt.Errorf("config: hidden_activation: %w", err)
	}
	headAct, err := nn.ParseActivation(cfg.ClassifierActivation)
	if err != nil {
		return nil, fmt.Errorf("config: classifier_activation: %w", err)
	}
	// layer_types decides which layers are local; a file that also gives
	// global_attn_every_n_layers must agree with it.
	if _, ok := cfg.Raw["layer_types"]; ok {
		if _, ok := cfg.Raw["global_attn_every_n_layers"]; ok {
			for i, t := range cfg.LayerTypes {
				if (i%cfg.GlobalAttnEveryNLayers != 0) != (t == "sliding_attention") {
					return nil, fmt.Errorf("config: layer_types[%d] is %q but global_attn_every_n_layers %d makes layer %d %s",
						i, t, cfg.GlobalAttnEveryNLayers, i, map[bool]string{true: "local", false: "global"}[i%cfg.GlobalAttnEveryNLayers != 0])
				}
			}
		}
	}
	c, heads := cfg.HiddenSize, cfg.NumAttentionHeads
	d, eps := c/heads, float32(cfg.LayerNormEps)
	norm := func(name string) *normLayer {
		if cfg.NormBias {
			return &normLayer{ln: nn.NewLayerNorm(name, c, eps)}
		}
		return &normLayer{ln: nn.NewLayerNormNoBias(name, c, eps)}
	}
	linear := func(name string, in, out int, bias bool) *nn.Linear {
		if bias {
			return nn.NewLinear(name, in, out)
		}
		return nn.NewLinearNoBias(name, in, out)
	}
	pool := poolCLS
	if cfg.ClassifierPooling == "mean" {
		pool = poolMean
	}
	skip := -1
	if cfg.PadTokenID != nil {
		skip = *cfg.PadTokenID
	}
	classDrop := 0.0
	if cfg.ClassifierDropout != nil {
		classDrop = *cfg.ClassifierDropout
	}
	p := &prenormNet{cfg: cfg, arch: "ModernBertForSequenceClassification",
		embed:    nn.NewEmbedding("model.embeddings.tok_embeddings", cfg.VocabSize, c),
		embNorm:  norm("model.embeddings.norm"),
		embDrop:  nn.Dropout{P: float32(cfg.EmbeddingDropout)},
		pool:     pool,
		padID:    cfg.PadTokenID,
		gradSkip: skip,
		final:    norm("model.final_norm"),
		dense:    linear("head.dense", c, c, cfg.ClassifierBias),
		headAct:  headAct,
		headNorm: norm("head.norm"),
		headDrop: nn.Dropout{P: float32(classDrop)},
		out:      nn.NewLinear("classifier", c, labels),
	}
	p.drops = append(p.drops, &p.embDrop, &p.headDrop)
	global := &ropeTable{rope: nn.NewRotary(d, cfg.RopeTheta, nil)}
	local := &ropeTable{rope: nn.NewRotary(d, cfg.LocalRopeTheta, nil)}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		pre := fmt.Sprintf("model.layers.%d.", i)
		b := &block{
			qkv:     linear(pre+"attn.Wqkv", c, 3*c, cfg.AttentionBias),
			o:       linear(pre+"attn.Wo", c, c, cfg.AttentionBias),
			rope:    global,
			attn:    nn.MaskedAttention{Heads: heads, KVHeads: heads, HeadDim: d, Left: -1, Right: -1, Dropout: nn.Dropout{P: float32(cfg.AttentionProbsDropout)}},
			mlpNorm: norm(pre + "mlp_norm"),
			up:      linear(pre+"mlp.Wi", c, 2*cfg.IntermediateSize, cfg.MLPBias),
			down:    linear(pre+"mlp.Wo", cfg.IntermediateSize, c, cfg.MLPBias),
			glu:     &nn.GLU{Act: act},
			// out_drop after Wo and the MLP's dropout between GeGLU and Wo
			attnDrop: nn.Dropout{P: float32(cfg.AttentionProbsDropout)},
			midDrop:  nn.Dropout{P: float32(cfg.MLPDropout)},
		}
		if i > 0 {
			b.attnNorm = norm(pre + "attn_norm")
		}
		if cfg.LayerTypes[i] == "sliding_attention" {
			b.rope = local
			b.attn.Left, b.attn.Right = cfg.LocalAttention/2, cfg.LocalAttention/2
		}
		p.blocks = append(p.blocks, b)
		p.drops = append(p.drops, &b.attn.Dropout, &b.attnDrop, &b.midDrop)
	}
	std, cutoff := cfg.InitializerRange, cfg.InitializerCutoffFactor
	if cutoff == 0 {
		cutoff = 3
	}
	out := std / math.Sqrt(2*float64(cfg.NumHiddenLayers))
	p.init = func(w *nn.Param, rng *rand.Rand) {
		// ModernBertPreTrainedModel._init_weights: truncated normals
		// (±cutoff·std) with std initializer_range for the embeddings, Wqkv
		// and Wi, initializer_range/√(2·layers) for Wo and head.dense,
		// hidden_size^-0.5 for the classifier; zero biases, LayerNorm 1.
		var s float64
		switch {
		case len(w.Shape) == 1 && strings.Contains(w.Name, "norm"):
			w.Fill(1)
			if strings.HasSuffix(w.Name, ".bias") {
				w.Fill(0)
			}
			return
		case len(w.Shape) == 1:
			w.Fill(0)
			return
		case strings.HasSuffix(w.Name, "Wo.weight") || w.Name == "head.dense.weight":
			s = out
		case w.Name == "classifier.weight":
			s = 1 / math.Sqrt(float64(c))
		default:
			s = std
		}
		// A parameter without values (W nil) draws as many and drops them,
		// as nn.Param.InitNormal does.
		for i := range w.Size() {
			for {
				v := rng.NormFloat64() * s
				if math.Abs(v) <= cutoff*s {
					if w.W != nil {
						w.W[i] = float32(v)
					}
					break
				}
			}
		}
	}
	p.collectParams()
	return p, nil
}
