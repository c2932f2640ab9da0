package checkpoint

import "fmt"

// ArchFields are the config.json fields of the architectures beyond the BERT
// family — GPT-2, Llama, Qwen2, Mistral and ModernBERT — with the defaults of
// their transformers config classes. The fields they share with BERT use
// Config's own (HiddenSize is GPT-2's n_embd, LayerNormEps its
// layer_norm_epsilon, Llama's rms_norm_eps and ModernBERT's norm_eps,
// HiddenAct GPT-2's activation_function and ModernBERT's hidden_activation,
// HiddenDropoutProb GPT-2's resid_pdrop, AttentionProbsDropout GPT-2's
// attn_pdrop and the others' attention_dropout, ClassifierDropout
// ModernBERT's classifier_dropout).
type ArchFields struct {
	// NumKeyValueHeads is num_key_value_heads (grouped-query attention);
	// NumAttentionHeads when absent.
	NumKeyValueHeads int
	// HeadDim is head_dim; 0 means HiddenSize/NumAttentionHeads.
	HeadDim int
	// RopeTheta is the RoPE base (rope_theta; ModernBERT's global_rope_theta,
	// for its full-attention layers).
	RopeTheta float64
	// LocalRopeTheta is ModernBERT's local_rope_theta (sliding layers).
	LocalRopeTheta float64
	// RopeScaling is rope_scaling (or the new rope_parameters) beyond theta;
	// nil means none.
	RopeScaling *RopeScaling
	// AttentionBias and MLPBias are Llama's and ModernBERT's attention_bias
	// and mlp_bias (Qwen2 always has q, k, v biases).
	AttentionBias, MLPBias bool
	// SlidingWindow is Mistral's and Qwen2's sliding_window (0: none): a
	// token sees itself and the SlidingWindow-1 tokens before it.
	SlidingWindow int
	// LayerTypes is "full_attention" or "sliding_attention" per layer
	// (layer_types, or derived as transformers derives it).
	LayerTypes []string
	// LocalAttention is ModernBERT's local_attention (the window: a token
	// sees LocalAttention/2 tokens on each side); GlobalAttnEveryNLayers its
	// global_attn_every_n_layers.
	LocalAttention, GlobalAttnEveryNLayers int
	// NormBias, ClassifierBias, ClassifierPooling ("cls" or "mean") and
	// ClassifierActivation are ModernBERT's norm_bias, classifier_bias,
	// classifier_pooling and classifier_activation.
	NormBias, ClassifierBias                bool
	ClassifierPooling, ClassifierActivation string
	// EmbeddingDropout is GPT-2's embd_pdrop and ModernBERT's
	// embedding_dropout; MLPDropout ModernBERT's mlp_dropout.
	EmbeddingDropout, MLPDropout float64
	// InitializerCutoffFactor is ModernBERT's initializer_cutoff_factor.
	InitializerCutoffFactor float64
	// ScaleAttnWeights and ScaleAttnByInverseLayerIdx are GPT-2's
	// scale_attn_weights and scale_attn_by_inverse_layer_idx.
	ScaleAttnWeights, ScaleAttnByInverseLayerIdx bool
}

// RopeScaling is a RoPE scaling of a config: Type "default", "linear" or
// "llama3" (others are refused when the model is built), with its factors.
type RopeScaling struct {
	Type                          string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
}

// The model types whose fields ArchFields holds.
var archTypes = map[string]bool{"gpt2": true, "llama": true, "qwen2": true, "mistral": true, "modernbert": true}

// IsDecoder reports whether the model type is a decoder classified on its
// last token (GPT-2, Llama, Qwen2, Mistral).
func (c *Config) IsDecoder() bool { return archTypes[c.ModelType] && c.ModelType != "modernbert" }

// ropeJSON is rope_scaling or one entry of rope_parameters as it appears in
// a file ("type" is the old spelling of "rope_type").
type ropeJSON struct {
	RopeScaling
	OldType string   `json:"type"`
	Theta   *float64 `json:"rope_theta"`
}

func (r *ropeJSON) scaling() *RopeScaling {
	s := r.RopeScaling
	if s.Type == "" {
		s.Type = r.OldType
	}
	if s.Type == "" || s.Type == "default" {
		return nil
	}
	return &s
}

// field is a config key and where its value goes.
type field struct {
	key string
	dst any
}

// getAll reads every field with get.
func getAll(get func(string, any), fields []field) {
	for _, f := range fields {
		get(f.key, f.dst)
	}
}

// parseArch sets the defaults of the model type's config class and reads its
// keys; it reports false for the BERT family (handled by ParseConfig).
func (c *Config) parseArch(get func(string, any)) (bool, error) {
	if !archTypes[c.ModelType] {
		return false, nil
	}
	c.TypeVocabSize, c.HiddenDropoutProb, c.AttentionProbsDropout = 0, 0, 0
	c.PositionEmbeddingType = ""
	c.PadTokenID, c.BosTokenID, c.EosTokenID = nil, nil, nil
	a := &c.ArchFields
	a.RopeTheta = 10000
	var err error
	switch c.ModelType {
	case "gpt2":
		c.VocabSize, c.MaxPositionEmbeddings, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads = 50257, 1024, 768, 12, 12
		c.HiddenAct, c.HiddenDropoutProb, c.AttentionProbsDropout, a.EmbeddingDropout = "gelu_new", 0.1, 0.1, 0.1
		c.LayerNormEps, a.ScaleAttnWeights = 1e-5, true
		c.BosTokenID, c.EosTokenID = intPtr(50256), intPtr(50256)
		get("n_positions", &c.MaxPositionEmbeddings)
		get("n_embd", &c.HiddenSize)
		get("n_layer", &c.NumHiddenLayers)
		get("n_head", &c.NumAttentionHeads)
		var inner *int
		get("n_inner", &inner)
		get("activation_function", &c.HiddenAct)
		get("resid_pdrop", &c.HiddenDropoutProb)
		get("embd_pdrop", &a.EmbeddingDropout)
		get("attn_pdrop", &c.AttentionProbsDropout)
		get("layer_norm_epsilon", &c.LayerNormEps)
		get("scale_attn_weights", &a.ScaleAttnWeights)
		get("scale_attn_by_inverse_layer_idx", &a.ScaleAttnByInverseLayerIdx)
		c.IntermediateSize = 4 * c.HiddenSize
		if inner != nil {
			c.IntermediateSize = *inner
		}
	case "llama", "qwen2", "mistral":
		c.HiddenAct, c.LayerNormEps = "silu", 1e-6
		switch c.ModelType {
		case "llama":
			c.VocabSize, c.HiddenSize, c.IntermediateSize, c.MaxPositionEmbeddings = 32000, 4096, 11008, 2048
			c.BosTokenID, c.EosTokenID = intPtr(1), intPtr(2)
		case "qwen2":
			c.VocabSize, c.HiddenSize, c.IntermediateSize, c.MaxPositionEmbeddings = 151936, 4096, 22016, 32768
			a.SlidingWindow = 4096
		case "mistral":
			c.VocabSize, c.HiddenSize, c.IntermediateSize, c.MaxPositionEmbeddings = 32000, 4096, 14336, 4096*32
			c.BosTokenID, c.EosTokenID = intPtr(1), intPtr(2)
			a.SlidingWindow, a.NumKeyValueHeads = 4096, 8
		}
		c.NumHiddenLayers, c.NumAttentionHeads = 32, 32
		getAll(get, []field{{"hidden_size", &c.HiddenSize}, {"intermediate_size", &c.IntermediateSize},
			{"num_hidden_layers", &c.NumHiddenLayers}, {"num_attention_heads", &c.NumAttentionHeads},
			{"num_key_value_heads", &a.NumKeyValueHeads}, {"head_dim", &a.HeadDim}, {"hidden_act", &c.HiddenAct},
			{"rms_norm_eps", &c.LayerNormEps}, {"attention_dropout", &c.AttentionProbsDropout},
			{"attention_bias", &a.AttentionBias}, {"mlp_bias", &a.MLPBias}})
		if a.NumKeyValueHeads == 0 {
			a.NumKeyValueHeads = c.NumAttentionHeads
		}
		var window *int
		if _, ok := c.Raw["sliding_window"]; ok {
			get("sliding_window", &window)
			a.SlidingWindow = 0
			if window != nil {
				a.SlidingWindow = *window
			}
		}
		if c.ModelType == "qwen2" {
			use, maxWindow := false, 28
			get("use_sliding_window", &use)
			get("max_window_layers", &maxWindow)
			if !use {
				a.SlidingWindow = 0
			}
			get("layer_types", &a.LayerTypes)
			if a.LayerTypes == nil && a.SlidingWindow > 0 {
				for i := 0; i < c.NumHiddenLayers; i++ {
					t := "full_attention"
					if i >= maxWindow {
						t = "sliding_attention"
					}
					a.LayerTypes = append(a.LayerTypes, t)
				}
			}
		}
		var scaling, params *ropeJSON
		get("rope_theta", &a.RopeTheta)
		get("rope_scaling", &scaling)
		get("rope_parameters", &params)
		for _, r := range []*ropeJSON{scaling, params} {
			if r == nil {
				continue
			}
			if r.Theta != nil {
				a.RopeTheta = *r.Theta
			}
			a.RopeScaling = r.scaling()
		}
	case "modernbert":
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = 50368, 768, 1152, 22, 12
		c.HiddenAct, c.MaxPositionEmbeddings, c.LayerNormEps = "gelu", 8192, 1e-5
		c.PadTokenID, c.EosTokenID, c.BosTokenID = intPtr(50283), intPtr(50282), intPtr(50281)
		a.InitializerCutoffFactor, a.RopeTheta, a.LocalRopeTheta = 2, 160000, 10000
		a.LocalAttention, a.GlobalAttnEveryNLayers = 128, 3
		a.ClassifierPooling, a.ClassifierActivation = "cls", "gelu"
		zero := 0.0
		c.ClassifierDropout = &zero
		getAll(get, []field{{"hidden_size", &c.HiddenSize}, {"intermediate_size", &c.IntermediateSize},
			{"num_hidden_layers", &c.NumHiddenLayers}, {"num_attention_heads", &c.NumAttentionHeads},
			{"hidden_activation", &c.HiddenAct}, {"norm_eps", &c.LayerNormEps}, {"norm_bias", &a.NormBias},
			{"attention_bias", &a.AttentionBias}, {"attention_dropout", &c.AttentionProbsDropout},
			{"mlp_bias", &a.MLPBias}, {"mlp_dropout", &a.MLPDropout}, {"embedding_dropout", &a.EmbeddingDropout},
			{"local_attention", &a.LocalAttention}, {"global_attn_every_n_layers", &a.GlobalAttnEveryNLayers},
			{"global_rope_theta", &a.RopeTheta}, {"local_rope_theta", &a.LocalRopeTheta},
			{"classifier_pooling", &a.ClassifierPooling}, {"classifier_activation", &a.ClassifierActivation},
			{"classifier_bias", &a.ClassifierBias}, {"classifier_dropout", &c.ClassifierDropout},
			{"initializer_cutoff_factor", &a.InitializerCutoffFactor}, {"layer_types", &a.LayerTypes}})
		var params map[string]*ropeJSON
		get("rope_parameters", &params)
		for kind, r := range params {
			if r == nil || r.Theta == nil {
				continue
			}
			switch kind {
			case "full_attention":
				a.RopeTheta = *r.Theta
			case "sliding_attention":
				a.LocalRopeTheta = *r.Theta
			}
			if s := r.scaling(); s != nil && err == nil {
				err = fmt.Errorf("config.json: rope_parameters.%s: rope_type %q is not supported for ModernBERT (only default)", kind, s.Type)
			}
		}
		if a.GlobalAttnEveryNLayers <= 0 {
			return true, fmt.Errorf("config.json: global_attn_every_n_layers must be positive, is %d", a.GlobalAttnEveryNLayers)
		}
		if a.LayerTypes == nil {
			for i := 0; i < c.NumHiddenLayers; i++ {
				t := "full_attention"
				if i%a.GlobalAttnEveryNLayers != 0 {
					t = "sliding_attention"
				}
				a.LayerTypes = append(a.LayerTypes, t)
			}
		}
	}
	get("vocab_size", &c.VocabSize)
	if c.ModelType != "gpt2" {
		get("max_position_embeddings", &c.MaxPositionEmbeddings)
	}
	get("initializer_range", &c.InitializerRange)
	get("pad_token_id", &c.PadTokenID)
	get("bos_token_id", &c.BosTokenID)
	get("eos_token_id", &c.EosTokenID)
	return true, err
}

// validateArch checks the fields of ArchFields.
func (c *Config) validateArch() error {
	if !archTypes[c.ModelType] {
		return nil
	}
	a := &c.ArchFields
	if c.ModelType != "gpt2" && c.ModelType != "modernbert" {
		if a.NumKeyValueHeads <= 0 || c.NumAttentionHeads%a.NumKeyValueHeads != 0 {
			return fmt.Errorf("config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumAttentionHeads, a.NumKeyValueHeads)
		}
		if a.HeadDim < 0 || a.HeadDim%2 != 0 {
			return fmt.Errorf("config.json: head_dim must be even and positive, is %d", a.HeadDim)
		}
	}
	if a.LayerTypes != nil && len(a.LayerTypes) != c.NumHiddenLayers {
		return fmt.Errorf("config.json: layer_types has %d entries for %d layers", len(a.LayerTypes), c.NumHiddenLayers)
	}
	for i, t := range a.LayerTypes {
		if t != "full_attention" && t != "sliding_attention" {
			return fmt.Errorf("config.json: layer_types[%d] is %q, not full_attention or sliding_attention", i, t)
		}
	}
	if c.ModelType == "modernbert" {
		if a.ClassifierPooling != "cls" && a.ClassifierPooling != "mean" {
			return fmt.Errorf("config.json: classifier_pooling %q is not cls or mean", a.ClassifierPooling)
		}
		if a.LocalAttention < 0 {
			return fmt.Errorf("config.json: local_attention must not be negative, is %d", a.LocalAttention)
		}
	}
	if a.SlidingWindow < 0 {
		return fmt.Errorf("config.json: sliding_window must not be negative, is %d", a.SlidingWindow)
	}
	return nil
}

// marshalArch sets the keys of the model type's config class (it reports
// false for the BERT family).
func (c *Config) marshalArch(set func(string, any)) bool {
	if !archTypes[c.ModelType] {
		return false
	}
	a := &c.ArchFields
	switch c.ModelType {
	case "gpt2":
		set("n_positions", c.MaxPositionEmbeddings)
		set("n_embd", c.HiddenSize)
		set("n_layer", c.NumHiddenLayers)
		set("n_head", c.NumAttentionHeads)
		if c.IntermediateSize == 4*c.HiddenSize {
			set("n_inner", nil)
		} else {
			set("n_inner", c.IntermediateSize)
		}
		set("activation_function", c.HiddenAct)
		set("resid_pdrop", c.HiddenDropoutProb)
		set("embd_pdrop", a.EmbeddingDropout)
		set("attn_pdrop", c.AttentionProbsDropout)
		set("layer_norm_epsilon", c.LayerNormEps)
		set("scale_attn_weights", a.ScaleAttnWeights)
		set("scale_attn_by_inverse_layer_idx", a.ScaleAttnByInverseLayerIdx)
	case "llama", "qwen2", "mistral":
		set("hidden_size", c.HiddenSize)
		set("intermediate_size", c.IntermediateSize)
		set("num_hidden_layers", c.NumHiddenLayers)
		set("num_attention_heads", c.NumAttentionHeads)
		set("num_key_value_heads", a.NumKeyValueHeads)
		set("hidden_act", c.HiddenAct)
		set("rms_norm_eps", c.LayerNormEps)
		set("attention_dropout", c.AttentionProbsDropout)
		if _, ok := c.Raw["rope_parameters"]; !ok {
			set("rope_theta", a.RopeTheta)
		}
		if c.ModelType == "llama" {
			set("attention_bias", a.AttentionBias)
			set("mlp_bias", a.MLPBias)
		}
		if a.HeadDim > 0 {
			set("head_dim", a.HeadDim)
		}
	case "modernbert":
		set("hidden_size", c.HiddenSize)
		set("intermediate_size", c.IntermediateSize)
		set("num_hidden_layers", c.NumHiddenLayers)
		set("num_attention_heads", c.NumAttentionHeads)
		set("hidden_activation", c.HiddenAct)
		set("norm_eps", c.LayerNormEps)
		set("norm_bias", a.NormBias)
		set("attention_bias", a.AttentionBias)
		set("attention_dropout", c.AttentionProbsDropout)
		set("mlp_bias", a.MLPBias)
		set("mlp_dropout", a.MLPDropout)
		set("embedding_dropout", a.EmbeddingDropout)
		set("local_attention", a.LocalAttention)
		set("global_attn_every_n_layers", a.GlobalAttnEveryNLayers)
		if _, ok := c.Raw["rope_parameters"]; !ok {
			set("global_rope_theta", a.RopeTheta)
			set("local_rope_theta", a.LocalRopeTheta)
		}
		set("classifier_pooling", a.ClassifierPooling)
		set("classifier_activation", a.ClassifierActivation)
		set("classifier_bias", a.ClassifierBias)
		set("classifier_dropout", c.ClassifierDropout)
		set("initializer_cutoff_factor", a.InitializerCutoffFactor)
	}
	return true
}
