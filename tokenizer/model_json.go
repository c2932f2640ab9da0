package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// jsonObj is a JSON object being read field by field, with where naming it
// in errors.
type jsonObj struct {
	fields map[string]json.RawMessage
	where  string
}

func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func jsonObject(raw json.RawMessage, where string) (*jsonObj, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%s: not a JSON object", where)
	}
	return &jsonObj{fields: fields, where: where}, nil
}

// str reads a string field; a missing or null field gives def.
func (o *jsonObj) str(key, def string) (string, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		return def, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: field %q is not a string", o.where, key)
	}
	return s, nil
}

// optStr reads a string field that may be missing or null.
func (o *jsonObj) optStr(key string) (string, bool, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		return "", false, nil
	}
	s, err := o.str(key, "")
	return s, err == nil, err
}

// boolean reads a boolean field; a missing or null field gives def.
func (o *jsonObj) boolean(key string, def bool) (bool, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, fmt.Errorf("%s: field %q is not a boolean", o.where, key)
	}
	return b, nil
}

// integer reads an integer field; a missing or null field gives def.
func (o *jsonObj) integer(key string, def int) (int, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s: field %q is not an integer", o.where, key)
	}
	return int(f), nil
}

// number reads a numeric field; a missing or null field gives def.
func (o *jsonObj) number(key string, def float64) (float64, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("%s: field %q is not a number", o.where, key)
	}
	return f, nil
}

// char reads a field holding a single character; a missing or null field
// gives def.
func (o *jsonObj) char(key string, def rune) (rune, error) {
	raw, ok := o.fields[key]
	if !ok || isJSONNull(raw) {
		if def == 0 {
			return 0, fmt.Errorf("%s: missing field %q", o.where, key)
		}
		return def, nil
	}
	s, err := o.str(key, "")
	if err != nil {
		return 0, err
	}
	if utf8.RuneCountInString(s) != 1 {
		return 0, fmt.Errorf("%s: field %q must be a single character, got %q", o.where, key, s)
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r, nil
}

// modelFromJSON builds the model described by the "model" object of a
// tokenizer.json: BPE, WordPiece or Unigram. Files written by old versions of
// HF tokenizers have no "type" key; the type is then inferred from the fields
// as HF's untagged deserializer does: BPE has vocab and merges, WordPiece a
// vocab object with unk_token, continuing_subword_prefix and
// max_input_chars_per_word, Unigram a vocab list.
func modelFromJSON(raw json.RawMessage) (Model, error) {
	obj, err := jsonObject(raw, "model")
	if err != nil {
		return nil, err
	}
	typ, err := obj.str("type", "")
	if err != nil {
		return nil, err
	}
	if typ == "" {
		typ, err = inferModelType(obj)
		if err != nil {
			return nil, err
		}
	}
	obj.where = "model " + typ
	switch typ {
	case "BPE":
		return bpeFromJSON(obj)
	case "WordPiece":
		return wordPieceFromJSON(obj)
	case "Unigram":
		return unigramFromJSON(obj)
	case "WordLevel":
		vocab, err := obj.vocabMap()
		if err != nil {
			return nil, err
		}
		unk, err := obj.str("unk_token", "<unk>")
		if err != nil {
			return nil, err
		}
		return NewWordLevel(vocab, unk), nil
	default:
		return nil, fmt.Errorf("model: unknown type %q", typ)
	}
}

func inferModelType(obj *jsonObj) (string, error) {
	vocab, hasVocab := obj.fields["vocab"]
	if !hasVocab {
		return "", fmt.Errorf("model: no \"type\" and no \"vocab\" field")
	}
	v := bytes.TrimSpace(vocab)
	if len(v) > 0 && v[0] == '[' {
		return "Unigram", nil
	}
	if _, ok := obj.fields["merges"]; ok {
		return "BPE", nil
	}
	_, a := obj.fields["unk_token"]
	_, b := obj.fields["continuing_subword_prefix"]
	_, c := obj.fields["max_input_chars_per_word"]
	if a && b && c {
		return "WordPiece", nil
	}
	if a {
		return "WordLevel", nil
	}
	return "", fmt.Errorf("model: no \"type\" field and the fields match no known model")
}

// vocabMap reads a {"token": id, ...} vocabulary.
func (o *jsonObj) vocabMap() (map[string]int, error) {
	raw, ok := o.fields["vocab"]
	if !ok || isJSONNull(raw) {
		return nil, fmt.Errorf("%s: missing field \"vocab\"", o.where)
	}
	var m map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("%s: field \"vocab\" is not an object of token ids", o.where)
	}
	vocab := make(map[string]int, len(m))
	for tok, n := range m {
		id, err := n.Int64()
		if err != nil || id < 0 || id > math.MaxInt32 {
			return nil, fmt.Errorf("%s: vocab: token %q has invalid id %s", o.where, tok, n)
		}
		vocab[tok] = int(id)
	}
	return vocab, nil
}

func wordPieceFromJSON(obj *jsonObj) (*WordPiece, error) {
	vocab, err := obj.vocabMap()
	if err != nil {
		return nil, err
	}
	unk, err := obj.str("unk_token", "[UNK]")
	if err != nil {
		return nil, err
	}
	prefix, err := obj.str("continuing_subword_prefix", "##")
	if err != nil {
		return nil, err
	}
	maxChars, err := obj.integer("max_input_chars_per_word", 100)
	if err != nil {
		return nil, err
	}
	if maxChars < 0 {
		return nil, fmt.Errorf("%s: max_input_chars_per_word %d is negative", obj.where, maxChars)
	}
	// Explicit empty or zero values are kept, not replaced by the defaults.
	m, err := buildWordPiece(WordPieceConfig{Vocab: vocab, UnkToken: unk, ContinuingSubwordPrefix: prefix, MaxInputCharsPerWord: maxChars})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.where, err)
	}
	return m, nil
}

func bpeFromJSON(obj *jsonObj) (*BPE, error) {
	vocab, err := obj.vocabMap()
	if err != nil {
		return nil, err
	}
	merges, err := obj.merges()
	if err != nil {
		return nil, err
	}
	var cfg BPEConfig
	cfg.Vocab, cfg.Merges = vocab, merges
	if cfg.UnkToken, _, err = obj.optStr("unk_token"); err != nil {
		return nil, err
	}
	if cfg.ContinuingSubwordPrefix, _, err = obj.optStr("continuing_subword_prefix"); err != nil {
		return nil, err
	}
	if cfg.EndOfWordSuffix, _, err = obj.optStr("end_of_word_suffix"); err != nil {
		return nil, err
	}
	if cfg.FuseUnk, err = obj.boolean("fuse_unk", false); err != nil {
		return nil, err
	}
	if cfg.ByteFallback, err = obj.boolean("byte_fallback", false); err != nil {
		return nil, err
	}
	if cfg.IgnoreMerges, err = obj.boolean("ignore_merges", false); err != nil {
		return nil, err
	}
	dropout, err := obj.number("dropout", 0)
	if err != nil {
		return nil, err
	}
	if dropout < 0 || dropout > 1 {
		return nil, fmt.Errorf("%s: dropout %g must be between 0 and 1", obj.where, dropout)
	}
	cfg.Dropout = float32(dropout)
	m, err := NewBPE(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.where, err)
	}
	return m, nil
}

// merges reads BPE merges given as "a b" strings (older files) or as
// ["a", "b"] pairs.
func (o *jsonObj) merges() ([][2]string, error) {
	raw, ok := o.fields["merges"]
	if !ok || isJSONNull(raw) {
		return nil, fmt.Errorf("%s: missing field \"merges\"", o.where)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: field \"merges\" is not a list", o.where)
	}
	out := make([][2]string, len(items))
	for i, it := range items {
		t := bytes.TrimSpace(it)
		if len(t) > 0 && t[0] == '"' {
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, fmt.Errorf("%s: merges[%d] is not a string", o.where, i)
			}
			parts := strings.Split(s, " ")
			if len(parts) != 2 {
				return nil, fmt.Errorf("%s: merges[%d] %q is not two tokens separated by one space", o.where, i, s)
			}
			out[i] = [2]string{parts[0], parts[1]}
			continue
		}
		var pair []string
		if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%s: merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", o.where, i)
		}
		out[i] = [2]string{pair[0], pair[1]}
	}
	return out, nil
}

func unigramFromJSON(obj *jsonObj) (*Unigram, error) {
	raw, ok := obj.fields["vocab"]
	if !ok || isJSONNull(raw) {
		return nil, fmt.Errorf("%s: missing field \"vocab\"", obj.where)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: field \"vocab\" is not a list of [piece, score] pairs", obj.where)
	}
	cfg := UnigramConfig{Vocab: make([]UnigramPiece, len(items)), UnkID: -1}
	for i, it := range items {
		var pair []json.RawMessage
		if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%s: vocab[%d] is not a [piece, score] pair", obj.where, i)
		}
		if err := json.Unmarshal(pair[0], &cfg.Vocab[i].Piece); err != nil {
			return nil, fmt.Errorf("%s: vocab[%d]: piece is not a string", obj.where, i)
		}
		if err := json.Unmarshal(pair[1], &cfg.Vocab[i].Score); err != nil {
			return nil, fmt.Errorf("%s: vocab[%d]: score is not a number", obj.where, i)
		}
	}
	if _, ok := obj.fields["unk_id"]; ok && !isJSONNull(obj.fields["unk_id"]) {
		id, err := obj.integer("unk_id", -1)
		if err != nil {
			return nil, err
		}
		if id < 0 {
			return nil, fmt.Errorf("%s: unk_id %d is negative", obj.where, id)
		}
		cfg.UnkID = id
	}
	var err error
	if cfg.ByteFallback, err = obj.boolean("byte_fallback", false); err != nil {
		return nil, err
	}
	m, err := NewUnigram(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.where, err)
	}
	return m, nil
}
