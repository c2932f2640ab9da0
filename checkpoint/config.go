package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// Config is a transformers config.json for BERT, RoBERTa, XLM-RoBERTa and
// DistilBERT (and, with ArchFields, GPT-2, Llama, Qwen2, Mistral and
// ModernBERT), normalised to BERT's field names. DistilBERT's own names map as
// dim→HiddenSize, n_layers→NumHiddenLayers, n_heads→NumAttentionHeads,
// hidden_dim→IntermediateSize, activation→HiddenAct, dropout→HiddenDropoutProb,
// attention_dropout→AttentionProbsDropoutProb, seq_classif_dropout→ClassifierDropout.
// Fields absent from the file take the defaults of the model type's
// transformers config class. Raw keeps every key of the file so that saving
// round-trips fields textclf does not know.
type Config struct {
	ModelType     string
	Architectures []string

	VocabSize             int
	HiddenSize            int
	NumHiddenLayers       int
	NumAttentionHeads     int
	IntermediateSize      int
	MaxPositionEmbeddings int
	// TypeVocabSize is 0 for DistilBERT, which has no token type embeddings.
	TypeVocabSize         int
	HiddenAct             string
	HiddenDropoutProb     float64
	AttentionProbsDropout float64
	// ClassifierDropout is nil when the head uses HiddenDropoutProb (BERT, RoBERTa).
	ClassifierDropout     *float64
	LayerNormEps          float64
	InitializerRange      float64
	PositionEmbeddingType string
	// SinusoidalPosEmbds is DistilBERT's sinusoidal_pos_embds.
	SinusoidalPosEmbds bool

	PadTokenID *int
	BosTokenID *int
	EosTokenID *int

	// ArchFields holds the fields of GPT-2, Llama, Qwen2, Mistral and ModernBERT.
	ArchFields

	// Labels lists the label names by id (from id2label); its length is num_labels.
	Labels []string
	// ProblemType is "", "regression", "single_label_classification" or
	// "multi_label_classification".
	ProblemType string

	// Raw holds every key of the parsed file.
	Raw map[string]json.RawMessage
}

// NumLabels returns the number of labels (len(Labels)).
func (c *Config) NumLabels() int { return len(c.Labels) }

// Label2ID returns the label → id map.
func (c *Config) Label2ID() map[string]int {
	m := make(map[string]int, len(c.Labels))
	for i, l := range c.Labels {
		m[l] = i
	}
	return m
}

// IsDistilBERT reports whether the config uses DistilBERT's field names.
func (c *Config) IsDistilBERT() bool { return c.ModelType == "distilbert" }

// BasePrefix returns transformers' base_model_prefix for the model type: the
// name under which a task model holds its encoder ("bert", "roberta", "distilbert").
func (c *Config) BasePrefix() string { return BasePrefix(c.ModelType) }

// BasePrefix returns base_model_prefix for a model_type.
func BasePrefix(modelType string) string {
	switch modelType {
	case "roberta", "xlm-roberta", "camembert":
		return "roberta"
	case "distilbert":
		return "distilbert"
	case "":
		return "bert"
	case "gpt2":
		return "transformer"
	case "llama", "qwen2", "mistral", "modernbert":
		return "model"
	}
	return modelType
}

// LoadConfig reads dir/config.json (or the file itself when path is a file).
func LoadConfig(path string) (*Config, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = path + string(os.PathSeparator) + ConfigName
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func intPtr(v int) *int { return &v }

// ParseConfig parses the bytes of a config.json.
func ParseConfig(b []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("config.json: not a JSON object")
	}
	c := &Config{Raw: raw}
	var err error
	get := func(key string, dst any) {
		if err != nil {
			return
		}
		v, ok := raw[key]
		if !ok {
			return
		}
		if string(v) == "null" {
			// An explicit null clears an optional field (None in Python).
			switch p := dst.(type) {
			case **int:
				*p = nil
			case **float64:
				*p = nil
			}
			return
		}
		if e := json.Unmarshal(v, dst); e != nil {
			err = fmt.Errorf("config.json: field %q: %w", key, e)
		}
	}
	get("model_type", &c.ModelType)
	if err != nil {
		return nil, err
	}
	// Defaults of the transformers config classes.
	c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads = 30522, 768, 12, 12
	c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize = 3072, 512, 2
	c.HiddenAct, c.HiddenDropoutProb, c.AttentionProbsDropout = "gelu", 0.1, 0.1
	c.LayerNormEps, c.InitializerRange, c.PositionEmbeddingType = 1e-12, 0.02, "absolute"
	c.PadTokenID = intPtr(0)
	switch c.ModelType {
	case "roberta", "xlm-roberta", "camembert":
		if c.ModelType == "roberta" {
			c.VocabSize = 50265
		}
		c.PadTokenID, c.BosTokenID, c.EosTokenID = intPtr(1), intPtr(0), intPtr(2)
	case "distilbert":
		c.NumHiddenLayers, c.TypeVocabSize = 6, 0
		c.ClassifierDropout = new(float64)
		*c.ClassifierDropout = 0.2
	}
	get("architectures", &c.Architectures)
	get("vocab_size", &c.VocabSize)
	get("max_position_embeddings", &c.MaxPositionEmbeddings)
	get("initializer_range", &c.InitializerRange)
	get("pad_token_id", &c.PadTokenID)
	get("bos_token_id", &c.BosTokenID)
	get("eos_token_id", &c.EosTokenID)
	get("problem_type", &c.ProblemType)
	arch, aerr := c.parseArch(get)
	if aerr != nil {
		return nil, aerr
	}
	if arch {
		// the keys of the model type's own config class (config_arch.go)
	} else if c.IsDistilBERT() {
		get("dim", &c.HiddenSize)
		get("n_layers", &c.NumHiddenLayers)
		get("n_heads", &c.NumAttentionHeads)
		get("hidden_dim", &c.IntermediateSize)
		get("activation", &c.HiddenAct)
		get("dropout", &c.HiddenDropoutProb)
		get("attention_dropout", &c.AttentionProbsDropout)
		get("seq_classif_dropout", &c.ClassifierDropout)
		get("sinusoidal_pos_embds", &c.SinusoidalPosEmbds)
	} else {
		get("hidden_size", &c.HiddenSize)
		get("num_hidden_layers", &c.NumHiddenLayers)
		get("num_attention_heads", &c.NumAttentionHeads)
		get("intermediate_size", &c.IntermediateSize)
		get("hidden_act", &c.HiddenAct)
		get("hidden_dropout_prob", &c.HiddenDropoutProb)
		get("attention_probs_dropout_prob", &c.AttentionProbsDropout)
		get("classifier_dropout", &c.ClassifierDropout)
		get("type_vocab_size", &c.TypeVocabSize)
		get("layer_norm_eps", &c.LayerNormEps)
		get("position_embedding_type", &c.PositionEmbeddingType)
	}
	if err != nil {
		return nil, err
	}
	if err := c.parseLabels(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// maxLabels bounds num_labels so that a lying config cannot force a huge allocation.
const maxLabels = 1 << 20

func (c *Config) parseLabels() error {
	var id2label map[string]string
	given := false
	if v, ok := c.Raw["id2label"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &id2label); err != nil {
			return fmt.Errorf("config.json: field \"id2label\": %w", err)
		}
		// An empty id2label is no labels (num_labels 0), as a config saved
		// with num_labels 0 writes it.
		given = len(id2label) == 0
	}
	if given {
		c.Labels = []string{}
		return nil
	}
	if len(id2label) > 0 {
		if len(id2label) > maxLabels {
			return fmt.Errorf("config.json: id2label has %d entries", len(id2label))
		}
		c.Labels = make([]string, len(id2label))
		seen := make([]bool, len(id2label))
		for k, v := range id2label {
			id, err := strconv.Atoi(k)
			if err != nil || id < 0 || id >= len(id2label) {
				return fmt.Errorf("config.json: id2label key %q is not an id in [0, %d)", k, len(id2label))
			}
			if seen[id] {
				return fmt.Errorf("config.json: id2label id %d given twice", id)
			}
			seen[id] = true
			c.Labels[id] = v
		}
		return nil
	}
	n := 2 // PretrainedConfig's default num_labels
	if v, ok := c.Raw["num_labels"]; ok {
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("config.json: field \"num_labels\": %w", err)
		}
		if n < 0 || n > maxLabels {
			return fmt.Errorf("config.json: num_labels %d out of range", n)
		}
	}
	c.Labels = DefaultLabels(n)
	return nil
}

// DefaultLabels returns transformers' default label names LABEL_0 … LABEL_{n-1}.
func DefaultLabels(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = "LABEL_" + strconv.Itoa(i)
	}
	return l
}

// Limits of the sizes in a config.json, far beyond any published encoder
// (the largest vocabularies hold some 250,000 tokens, the widest models
// 12,288 hidden units and 96 layers), so that a config that lies about its
// sizes is refused before anything is allocated for it. The weights are
// checked against the sizes when a model is loaded.
const (
	MaxVocabSize        = 1 << 24
	MaxHiddenSize       = 1 << 16
	MaxLayers           = 1 << 10
	MaxIntermediateSize = 1 << 18
	MaxPositions        = 1 << 20
	MaxTypeVocabSize    = 1 << 16
)

// Validate checks that the dimensions are positive, within the limits
// above, and consistent.
func (c *Config) Validate() error {
	for _, f := range []struct {
		name  string
		v     int
		limit int
	}{{"vocab_size", c.VocabSize, MaxVocabSize}, {"hidden_size", c.HiddenSize, MaxHiddenSize},
		{"num_hidden_layers", c.NumHiddenLayers, MaxLayers}, {"num_attention_heads", c.NumAttentionHeads, MaxHiddenSize},
		{"intermediate_size", c.IntermediateSize, MaxIntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings, MaxPositions}} {
		if f.v <= 0 {
			return fmt.Errorf("config.json: %s must be positive, is %d", f.name, f.v)
		}
		if f.v > f.limit {
			return fmt.Errorf("config.json: %s %d exceeds textclf's limit of %d", f.name, f.v, f.limit)
		}
	}
	if c.TypeVocabSize < 0 || c.TypeVocabSize > MaxTypeVocabSize {
		return fmt.Errorf("config.json: type_vocab_size %d is outside [0, %d]", c.TypeVocabSize, MaxTypeVocabSize)
	}
	if err := c.validateArch(); err != nil {
		return err
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 && c.HeadDim == 0 {
		return fmt.Errorf("config.json: hidden size %d is not a multiple of the number of attention heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	switch c.ProblemType {
	case "", "regression", "single_label_classification", "multi_label_classification":
	default:
		return fmt.Errorf("config.json: unknown problem_type %q", c.ProblemType)
	}
	return nil
}

// MarshalJSON writes the config as save_pretrained does: every key of Raw,
// updated with the normalised fields under the model type's own names,
// id2label with string keys and label2id, sorted keys, two-space indent.
func (c *Config) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(c.Raw)+24)
	for k, v := range c.Raw {
		out[k] = v
	}
	set := func(k string, v any) { out[k] = v }
	if c.ModelType != "" {
		set("model_type", c.ModelType)
	}
	if len(c.Architectures) > 0 {
		set("architectures", c.Architectures)
	}
	set("vocab_size", c.VocabSize)
	if c.ModelType != "gpt2" { // GPT-2 names it n_positions
		set("max_position_embeddings", c.MaxPositionEmbeddings)
	}
	set("initializer_range", c.InitializerRange)
	set("pad_token_id", c.PadTokenID)
	if c.BosTokenID != nil {
		set("bos_token_id", c.BosTokenID)
	}
	if c.EosTokenID != nil {
		set("eos_token_id", c.EosTokenID)
	}
	if c.marshalArch(set) {
		// the keys of the model type's own config class (config_arch.go)
	} else if c.IsDistilBERT() {
		set("dim", c.HiddenSize)
		set("n_layers", c.NumHiddenLayers)
		set("n_heads", c.NumAttentionHeads)
		set("hidden_dim", c.IntermediateSize)
		set("activation", c.HiddenAct)
		set("dropout", c.HiddenDropoutProb)
		set("attention_dropout", c.AttentionProbsDropout)
		set("seq_classif_dropout", c.ClassifierDropout)
		set("sinusoidal_pos_embds", c.SinusoidalPosEmbds)
	} else {
		set("hidden_size", c.HiddenSize)
		set("num_hidden_layers", c.NumHiddenLayers)
		set("num_attention_heads", c.NumAttentionHeads)
		set("intermediate_size", c.IntermediateSize)
		set("hidden_act", c.HiddenAct)
		set("hidden_dropout_prob", c.HiddenDropoutProb)
		set("attention_probs_dropout_prob", c.AttentionProbsDropout)
		set("classifier_dropout", c.ClassifierDropout)
		set("type_vocab_size", c.TypeVocabSize)
		set("layer_norm_eps", c.LayerNormEps)
		set("position_embedding_type", c.PositionEmbeddingType)
	}
	id2label := make(map[string]string, len(c.Labels))
	for i, l := range c.Labels {
		id2label[strconv.Itoa(i)] = l
	}
	set("id2label", id2label)
	set("label2id", c.Label2ID())
	delete(out, "num_labels") // implied by id2label, as save_pretrained writes it
	if c.ProblemType != "" {
		set("problem_type", c.ProblemType)
	}
	// encoding/json sorts map keys; id2label's keys sort as strings, as Python's sort_keys does.
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
