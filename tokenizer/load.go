package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads a tokenizer from path: a tokenizer.json file, or a directory
// holding tokenizer.json, or (as transformers' slow tokenizers) vocab.txt
// with tokenizer_config.json for BERT, or vocab.json and merges.txt for
// GPT-2/RoBERTa byte-level BPE.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if !st.IsDir() {
		return FromFile(path)
	}
	if p := filepath.Join(path, "tokenizer.json"); fileExists(p) {
		return FromFile(p)
	}
	if p := filepath.Join(path, "vocab.txt"); fileExists(p) {
		return bertFromVocab(path)
	}
	if fileExists(filepath.Join(path, "vocab.json")) && fileExists(filepath.Join(path, "merges.txt")) {
		return byteLevelBPEFromFiles(path)
	}
	return nil, fmt.Errorf("load tokenizer: %s holds none of tokenizer.json, vocab.txt, vocab.json+merges.txt", path)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// FromFile reads a tokenizer.json file.
func FromFile(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

// FromJSON builds a tokenizer from the contents of a tokenizer.json file.
func FromJSON(data []byte) (*Tokenizer, error) {
	var f struct {
		Truncation    json.RawMessage `json:"truncation"`
		Padding       json.RawMessage `json:"padding"`
		AddedTokens   []AddedToken    `json:"added_tokens"`
		Normalizer    json.RawMessage `json:"normalizer"`
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Decoder       json.RawMessage `json:"decoder"`
		Model         json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if len(f.Model) == 0 || string(f.Model) == "null" {
		return nil, errors.New("tokenizer.json: no model")
	}
	t := &Tokenizer{}
	var err error
	if t.model, err = modelFromJSON(f.Model); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if t.normalizer, err = normalizerFromJSON(f.Normalizer); err != nil {
		return nil, err
	}
	if t.preTokenizer, err = preTokenizerFromJSON(f.PreTokenizer); err != nil {
		return nil, err
	}
	if t.postProcessor, err = postProcessorFromJSON(f.PostProcessor); err != nil {
		return nil, err
	}
	if len(f.Decoder) > 0 && string(f.Decoder) != "null" {
		if t.decoder, err = decoderFromJSON(f.Decoder); err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
	}
	if t.Truncation, err = truncationFromJSON(f.Truncation); err != nil {
		return nil, err
	}
	if t.Padding, err = paddingFromJSON(f.Padding); err != nil {
		return nil, err
	}
	for i, tok := range f.AddedTokens {
		if tok.ID < 0 {
			return nil, fmt.Errorf("added_tokens[%d] %q: negative id %d", i, tok.Content, tok.ID)
		}
		// A token the model knows keeps the model's id, as HF assigns it.
		if id, ok := t.model.TokenToID(tok.Content); ok {
			f.AddedTokens[i].ID = id
		}
	}
	if t.added, err = newAddedVocabulary(f.AddedTokens, t.normalizer); err != nil {
		return nil, err
	}
	return t, nil
}

func truncationFromJSON(raw json.RawMessage) (*Truncation, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c struct {
		Direction string `json:"direction"`
		MaxLength int    `json:"max_length"`
		Strategy  string `json:"strategy"`
		Stride    int    `json:"stride"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("truncation: %w", err)
	}
	t := &Truncation{MaxLength: c.MaxLength, Stride: c.Stride, Direction: TruncateRight, Strategy: LongestFirst}
	if c.MaxLength < 0 || c.Stride < 0 {
		return nil, fmt.Errorf("truncation: negative max_length or stride")
	}
	switch c.Strategy {
	case "LongestFirst", "":
	case "OnlyFirst":
		t.Strategy = OnlyFirst
	case "OnlySecond":
		t.Strategy = OnlySecond
	default:
		return nil, fmt.Errorf("truncation: unknown strategy %q", c.Strategy)
	}
	if c.Direction == "Left" {
		t.Direction = TruncateLeft
	}
	return t, nil
}

func paddingFromJSON(raw json.RawMessage) (*Padding, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c struct {
		Strategy        json.RawMessage `json:"strategy"`
		Direction       string          `json:"direction"`
		PadToMultipleOf *int            `json:"pad_to_multiple_of"`
		PadID           int             `json:"pad_id"`
		PadTypeID       int             `json:"pad_type_id"`
		PadToken        string          `json:"pad_token"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("padding: %w", err)
	}
	p := &Padding{Direction: PadRight, PadID: c.PadID, PadTypeID: c.PadTypeID, PadToken: c.PadToken}
	if c.Direction == "Left" {
		p.Direction = PadLeft
	}
	if c.PadToMultipleOf != nil {
		p.PadToMultipleOf = *c.PadToMultipleOf
	}
	var fixed struct {
		Fixed *int `json:"Fixed"`
	}
	if json.Unmarshal(c.Strategy, &fixed) == nil && fixed.Fixed != nil {
		p.Length = *fixed.Fixed
	}
	if p.Length < 0 || p.PadToMultipleOf < 0 || p.Length > maxSequenceLength || p.PadToMultipleOf > maxSequenceLength {
		return nil, fmt.Errorf("padding: length %d or pad_to_multiple_of %d out of range [0, %d]", p.Length, p.PadToMultipleOf, maxSequenceLength)
	}
	return p, nil
}

// maxSequenceLength bounds the padding lengths a tokenizer file may ask for,
// so that a lying file cannot make every encoding allocate gigabytes.
const maxSequenceLength = 1 << 20

// tokenizerConfig holds the fields of tokenizer_config.json (and the
// special tokens of special_tokens_map.json) used to rebuild a fast
// tokenizer from vocabulary files, as transformers' converters do.
type tokenizerConfig struct {
	DoLowerCase          *bool  `json:"do_lower_case"`
	TokenizeChineseChars *bool  `json:"tokenize_chinese_chars"`
	StripAccents         *bool  `json:"strip_accents"`
	AddPrefixSpace       *bool  `json:"add_prefix_space"`
	TokenizerClass       string `json:"tokenizer_class"`
	ModelType            string `json:"model_type"`
	specials             map[string]string
}

// readTokenizerConfig reads tokenizer_config.json, special_tokens_map.json
// and the model_type of config.json from dir, each optional.
func readTokenizerConfig(dir string) (tokenizerConfig, error) {
	var c tokenizerConfig
	c.specials = map[string]string{}
	for _, name := range []string{"config.json", "special_tokens_map.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, err
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			return c, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		if name == "config.json" {
			if mt, ok := fields["model_type"]; ok {
				_ = json.Unmarshal(mt, &c.ModelType)
			}
			continue
		}
		if err := json.Unmarshal(data, &c); err != nil {
			return c, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		for _, key := range []string{"unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token"} {
			raw, ok := fields[key]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				var obj struct {
					Content string `json:"content"`
				}
				if json.Unmarshal(raw, &obj) != nil {
					return c, fmt.Errorf("%s: %s is neither a string nor a token object", filepath.Join(dir, name), key)
				}
				s = obj.Content
			}
			c.specials[key] = s
		}
	}
	return c, nil
}

func (c tokenizerConfig) special(key, def string) string {
	if s, ok := c.specials[key]; ok && s != "" {
		return s
	}
	return def
}

// bertFromVocab builds the tokenizer BertTokenizerFast builds from vocab.txt.
func bertFromVocab(dir string) (*Tokenizer, error) {
	vocabPath := filepath.Join(dir, "vocab.txt")
	vocab, err := ReadWordPieceVocab(vocabPath)
	if err != nil {
		return nil, err
	}
	cfg, err := readTokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	lower := cfg.DoLowerCase == nil || *cfg.DoLowerCase
	strip := lower
	if cfg.StripAccents != nil {
		strip = *cfg.StripAccents
	}
	unk := cfg.special("unk_token", "[UNK]")
	model, err := NewWordPiece(WordPieceConfig{Vocab: vocab, UnkToken: unk, ContinuingSubwordPrefix: "##", MaxInputCharsPerWord: 100})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	t := &Tokenizer{
		model:        model,
		normalizer:   bertNormalizer{cleanText: true, handleChineseChars: orTrue(cfg.TokenizeChineseChars), stripAccents: strip, lowercase: lower},
		preTokenizer: bertPreTokenizer{},
	}
	if t.decoder, err = decoderFromJSON(json.RawMessage(`{"type":"WordPiece","prefix":"##","cleanup":true}`)); err != nil {
		return nil, err
	}
	cls, sep := cfg.special("cls_token", "[CLS]"), cfg.special("sep_token", "[SEP]")
	clsID, ok1 := vocab[cls]
	sepID, ok2 := vocab[sep]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: %q or %q is not in the vocabulary", vocabPath, cls, sep)
	}
	t.postProcessor = templateProcessing{
		single: []templatePiece{{special: cls}, {sequence: "A"}, {special: sep}},
		pair:   []templatePiece{{special: cls}, {sequence: "A"}, {special: sep}, {sequence: "B", typeID: 1}, {special: sep, typeID: 1}},
		specials: map[string]templateSpecial{
			cls: {ids: []int{clsID}, tokens: []string{cls}},
			sep: {ids: []int{sepID}, tokens: []string{sep}},
		},
	}
	var added []AddedToken
	for _, key := range []string{"pad_token", "unk_token", "cls_token", "sep_token", "mask_token"} {
		def := map[string]string{"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}[key]
		tok := cfg.special(key, def)
		if id, ok := vocab[tok]; ok {
			added = append(added, AddedToken{ID: id, Content: tok, Special: true})
		}
	}
	sort.SliceStable(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	if t.added, err = newAddedVocabulary(added, t.normalizer); err != nil {
		return nil, err
	}
	return t, nil
}

// byteLevelBPEFromFiles builds the tokenizer GPT2TokenizerFast (or, when the
// config says RoBERTa, RobertaTokenizerFast) builds from vocab.json and
// merges.txt.
func byteLevelBPEFromFiles(dir string) (*Tokenizer, error) {
	vocab, merges, err := ReadBPEFiles(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"))
	if err != nil {
		return nil, err
	}
	cfg, err := readTokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	model, err := NewBPE(BPEConfig{Vocab: vocab, Merges: merges})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	addPrefix := cfg.AddPrefixSpace != nil && *cfg.AddPrefixSpace
	t := &Tokenizer{model: model, preTokenizer: byteLevelPreTokenizer{addPrefixSpace: addPrefix, useRegex: true}}
	if t.decoder, err = decoderFromJSON(json.RawMessage(`{"type":"ByteLevel"}`)); err != nil {
		return nil, err
	}
	roberta := strings.HasPrefix(strings.ToLower(cfg.TokenizerClass), "roberta") ||
		strings.HasPrefix(strings.ToLower(cfg.TokenizerClass), "xlmroberta") || cfg.ModelType == "roberta"
	var added []AddedToken
	if roberta {
		get := func(key, def string) (tokenWithID, error) {
			tok := cfg.special(key, def)
			id, ok := vocab[tok]
			if !ok {
				return tokenWithID{}, fmt.Errorf("%s: %s %q is not in vocab.json", dir, key, tok)
			}
			return tokenWithID{tok, id}, nil
		}
		cls, err := get("cls_token", "<s>")
		if err != nil {
			return nil, err
		}
		sep, err := get("sep_token", "</s>")
		if err != nil {
			return nil, err
		}
		t.postProcessor = robertaProcessing{sep: sep, cls: cls, trimOffsets: true, addPrefixSpace: addPrefix}
		for _, key := range []string{"bos_token", "pad_token", "eos_token", "unk_token", "mask_token"} {
			def := map[string]string{"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>", "mask_token": "<mask>"}[key]
			tok := cfg.special(key, def)
			if id, ok := vocab[tok]; ok {
				added = append(added, AddedToken{ID: id, Content: tok, Special: true, LStrip: key == "mask_token"})
			}
		}
	} else {
		t.postProcessor = byteLevelProcessing{trimOffsets: false, addPrefixSpace: true}
		eos := cfg.special("eos_token", "<|endoftext|>")
		if id, ok := vocab[eos]; ok {
			added = append(added, AddedToken{ID: id, Content: eos, Special: true, Normalized: true})
		}
	}
	sort.SliceStable(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	if t.added, err = newAddedVocabulary(added, t.normalizer); err != nil {
		return nil, err
	}
	return t, nil
}
