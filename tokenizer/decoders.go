package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// decodeTokens decodes tokens into text with d, joining the pieces its
// DecodeChain returns; with no decoder the tokens are joined with spaces, as
// HF's Tokenizer::decode does.
func decodeTokens(d Decoder, tokens []string) (string, error) {
	if d == nil {
		return strings.Join(tokens, " "), nil
	}
	pieces, err := d.DecodeChain(tokens)
	if err != nil {
		return "", err
	}
	return strings.Join(pieces, ""), nil
}

// WordPieceDecoder joins WordPiece tokens: a token starting with Prefix is
// glued to the previous one, others are preceded by a space; with Cleanup,
// spaces before punctuation and English contractions are removed.
type WordPieceDecoder struct {
	// Prefix marks tokens that continue a word, "##" in BERT.
	Prefix string
	// Cleanup removes spaces before punctuation and contractions.
	Cleanup bool
}

// wordPieceCleanup removes the spaces BERT's tokenization puts before
// punctuation and contractions, as HF's decoders::wordpiece::cleanup.
func wordPieceCleanup(s string) string {
	for _, r := range [...][2]string{
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"},
		{" 've", "'ve"}, {" 're", "'re"},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// DecodeChain implements Decoder.
func (d *WordPieceDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i != 0 {
			if strings.HasPrefix(t, d.Prefix) {
				t = t[len(d.Prefix):]
			} else {
				t = " " + t
			}
		}
		if d.Cleanup {
			t = wordPieceCleanup(t)
		}
		out[i] = t
	}
	return out, nil
}

// ByteLevelDecoder maps GPT-2's byte-level characters back to bytes and
// decodes them as UTF-8, replacing invalid sequences with U+FFFD. A token with
// a character outside the byte alphabet is kept as it is.
type ByteLevelDecoder struct{}

// DecodeChain implements Decoder. It returns a single piece.
func (d *ByteLevelDecoder) DecodeChain(tokens []string) ([]string, error) {
	var buf []byte
	for _, t := range tokens {
		start := len(buf)
		ok := true
		for _, r := range t {
			b, in := runeToByte[r]
			if !in {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return []string{ToValidUTF8(string(buf))}, nil
}

// PrependScheme says when the Metaspace pre-tokenizer adds a replacement
// character in front of a word: "always", "first" (first word only) or
// "never".
type PrependScheme string

// The prepend schemes of the Metaspace pre-tokenizer and decoder.
const (
	PrependAlways PrependScheme = "always"
	PrependFirst  PrependScheme = "first"
	PrependNever  PrependScheme = "never"
)

// MetaspaceDecoder turns SentencePiece's replacement character (usually
// '▁') back into spaces. Unless the scheme is "never", the replacement
// characters of the first token are dropped.
type MetaspaceDecoder struct {
	// Replacement is the character standing for a space, usually '▁'.
	Replacement rune
	// PrependScheme is the scheme of the matching pre-tokenizer.
	PrependScheme PrependScheme
}

// DecodeChain implements Decoder.
func (d *MetaspaceDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if !strings.ContainsRune(t, d.Replacement) {
			out[i] = t
			continue
		}
		if i == 0 && d.PrependScheme != PrependNever {
			out[i] = strings.ReplaceAll(t, string(d.Replacement), "")
		} else {
			out[i] = strings.ReplaceAll(t, string(d.Replacement), " ")
		}
	}
	return out, nil
}

// BPEDecoder replaces the end-of-word Suffix of BPE tokens by a space (by
// nothing in the last token).
type BPEDecoder struct {
	// Suffix ends the last token of a word, "</w>" by default.
	Suffix string
}

// DecodeChain implements Decoder.
func (d *BPEDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.Suffix, rep)
	}
	return out, nil
}

// ByteFallbackDecoder turns runs of <0xAB> byte tokens back into the text
// they encode, or into one U+FFFD per byte when the run is not valid UTF-8.
type ByteFallbackDecoder struct{}

// parseByteToken returns the byte of a "<0xAB>" token, parsed like Rust's
// u8::from_str_radix (which accepts a leading '+').
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	h := t[3:5]
	if h[0] == '+' {
		h = h[1:]
	}
	var v byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + c - '0'
		case c >= 'a' && c <= 'f':
			v = v*16 + c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = v*16 + c - 'A' + 10
		default:
			return 0, false
		}
	}
	return v, true
}

// DecodeChain implements Decoder.
func (d *ByteFallbackDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, 0, len(tokens))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out, nil
}

// FuseDecoder joins all tokens into one piece.
type FuseDecoder struct{}

// DecodeChain implements Decoder.
func (d *FuseDecoder) DecodeChain(tokens []string) ([]string, error) {
	return []string{strings.Join(tokens, "")}, nil
}

// StripDecoder removes up to Start leading and Stop trailing Content
// characters from each token.
type StripDecoder struct {
	// Content is the character to strip.
	Content rune
	// Start and Stop are how many characters to strip at most from the
	// start and the end of each token.
	Start, Stop int
}

// DecodeChain implements Decoder.
func (d *StripDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rs := []rune(t)
		a := 0
		for k := 0; k < d.Start && k < len(rs) && rs[k] == d.Content; k++ {
			a = k + 1
		}
		b := len(rs)
		for k := 0; k < d.Stop && k < len(rs); k++ {
			idx := len(rs) - k - 1
			if rs[idx] != d.Content {
				break
			}
			b = idx
		}
		if a >= b {
			out[i] = ""
		} else {
			out[i] = string(rs[a:b])
		}
	}
	return out, nil
}

// ReplaceDecoder replaces every match of a pattern (a literal string or a
// regular expression) in each token with Content.
type ReplaceDecoder struct {
	literal string
	re      *regexp.Regexp // nil for a literal pattern
	// Content replaces each match.
	Content string
}

// NewReplaceDecoder returns a decoder replacing the literal pattern with
// content.
func NewReplaceDecoder(pattern, content string) *ReplaceDecoder {
	return &ReplaceDecoder{literal: pattern, Content: content}
}

// NewReplaceRegexDecoder returns a decoder replacing matches of the regular
// expression pattern with content.
func NewReplaceRegexDecoder(pattern, content string) (*ReplaceDecoder, error) {
	if err := checkPatternSize(pattern); err != nil {
		return nil, fmt.Errorf("replace decoder: %w", err)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("replace decoder: regex %s: %w", shortPattern(pattern), err)
	}
	return &ReplaceDecoder{re: re, Content: content}, nil
}

// DecodeChain implements Decoder.
func (d *ReplaceDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		switch {
		case d.re != nil:
			out[i] = d.re.ReplaceAllLiteralString(t, d.Content)
		case d.literal == "":
			out[i] = t
		default:
			out[i] = strings.ReplaceAll(t, d.literal, d.Content)
		}
	}
	return out, nil
}

// CTCDecoder decodes the output of CTC speech models: repeated tokens are
// collapsed, PadToken removed, and with Cleanup the WordDelimiterToken
// becomes a space and WordPiece cleanup applies.
type CTCDecoder struct {
	// PadToken is CTC's blank token, removed from the output.
	PadToken string
	// WordDelimiterToken separates words; with Cleanup it becomes a space.
	WordDelimiterToken string
	// Cleanup applies WordPiece cleanup and turns delimiters into spaces.
	Cleanup bool
}

// DecodeChain implements Decoder.
func (d *CTCDecoder) DecodeChain(tokens []string) ([]string, error) {
	out := make([]string, 0, len(tokens))
	for i, t := range tokens {
		if i > 0 && t == tokens[i-1] {
			continue
		}
		if d.PadToken != "" {
			t = strings.ReplaceAll(t, d.PadToken, "")
		}
		if d.Cleanup {
			t = wordPieceCleanup(t)
			if d.WordDelimiterToken != "" {
				t = strings.ReplaceAll(t, d.WordDelimiterToken, " ")
			}
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// SequenceDecoder applies its decoders one after the other.
type SequenceDecoder struct {
	// Decoders are applied in order, each to the pieces of the previous.
	Decoders []Decoder
}

// DecodeChain implements Decoder.
func (d *SequenceDecoder) DecodeChain(tokens []string) ([]string, error) {
	var err error
	for _, dec := range d.Decoders {
		if tokens, err = dec.DecodeChain(tokens); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// maxDecoderDepth bounds the nesting of Sequence decoders in a file.
const maxDecoderDepth = 32

// decoderFromJSON builds the decoder described by the "decoder" object of a
// tokenizer.json. A JSON null gives a nil decoder.
func decoderFromJSON(raw json.RawMessage) (Decoder, error) {
	return decoderFromJSONDepth(raw, 0)
}

func decoderFromJSONDepth(raw json.RawMessage, depth int) (Decoder, error) {
	if depth > maxDecoderDepth {
		return nil, fmt.Errorf("decoder: sequences nested more than %d deep", maxDecoderDepth)
	}
	if isJSONNull(raw) {
		return nil, nil
	}
	obj, err := jsonObject(raw, "decoder")
	if err != nil {
		return nil, err
	}
	typ, err := obj.str("type", "")
	if err != nil {
		return nil, err
	}
	obj.where = "decoder " + typ
	switch typ {
	case "WordPiece":
		prefix, err := obj.str("prefix", "##")
		if err != nil {
			return nil, err
		}
		cleanup, err := obj.boolean("cleanup", true)
		if err != nil {
			return nil, err
		}
		return &WordPieceDecoder{Prefix: prefix, Cleanup: cleanup}, nil
	case "ByteLevel":
		return &ByteLevelDecoder{}, nil
	case "Metaspace":
		rep, err := obj.char("replacement", '▁')
		if err != nil {
			return nil, err
		}
		scheme, err := metaspaceScheme(obj)
		if err != nil {
			return nil, err
		}
		return &MetaspaceDecoder{Replacement: rep, PrependScheme: scheme}, nil
	case "BPEDecoder":
		suffix, err := obj.str("suffix", "</w>")
		if err != nil {
			return nil, err
		}
		return &BPEDecoder{Suffix: suffix}, nil
	case "ByteFallback":
		return &ByteFallbackDecoder{}, nil
	case "Fuse":
		return &FuseDecoder{}, nil
	case "Strip":
		c, err := obj.char("content", 0)
		if err != nil {
			return nil, err
		}
		start, err := obj.integer("start", 0)
		if err != nil {
			return nil, err
		}
		stop, err := obj.integer("stop", 0)
		if err != nil {
			return nil, err
		}
		if start < 0 || stop < 0 {
			return nil, fmt.Errorf("decoder Strip: start %d and stop %d must not be negative", start, stop)
		}
		return &StripDecoder{Content: c, Start: start, Stop: stop}, nil
	case "Replace":
		content, err := obj.str("content", "")
		if err != nil {
			return nil, err
		}
		lit, re, err := replacePattern(obj)
		if err != nil {
			return nil, err
		}
		if re != "" {
			return NewReplaceRegexDecoder(re, content)
		}
		return NewReplaceDecoder(lit, content), nil
	case "CTC":
		pad, err := obj.str("pad_token", "<pad>")
		if err != nil {
			return nil, err
		}
		delim, err := obj.str("word_delimiter_token", "|")
		if err != nil {
			return nil, err
		}
		cleanup, err := obj.boolean("cleanup", true)
		if err != nil {
			return nil, err
		}
		return &CTCDecoder{PadToken: pad, WordDelimiterToken: delim, Cleanup: cleanup}, nil
	case "Sequence":
		items, ok := obj.fields["decoders"]
		if !ok {
			return nil, fmt.Errorf("decoder Sequence: missing field \"decoders\"")
		}
		var list []json.RawMessage
		if err := json.Unmarshal(items, &list); err != nil {
			return nil, fmt.Errorf("decoder Sequence: field \"decoders\" is not a list: %w", err)
		}
		seq := &SequenceDecoder{}
		for i, item := range list {
			d, err := decoderFromJSONDepth(item, depth+1)
			if err != nil {
				return nil, fmt.Errorf("decoder Sequence: decoders[%d]: %w", i, err)
			}
			if d == nil {
				return nil, fmt.Errorf("decoder Sequence: decoders[%d] is null", i)
			}
			seq.Decoders = append(seq.Decoders, d)
		}
		return seq, nil
	case "":
		return nil, fmt.Errorf("decoder: missing field \"type\"")
	default:
		return nil, fmt.Errorf("decoder: unknown type %q", typ)
	}
}

// metaspaceScheme reads prepend_scheme (default "always") of a Metaspace
// object, and the legacy add_prefix_space: as in HF, add_prefix_space false
// is an error unless prepend_scheme is "never".
func metaspaceScheme(obj *jsonObj) (PrependScheme, error) {
	scheme, err := obj.str("prepend_scheme", string(PrependAlways))
	if err != nil {
		return "", err
	}
	switch PrependScheme(scheme) {
	case PrependAlways, PrependFirst, PrependNever:
	default:
		return "", fmt.Errorf("%s: unknown prepend_scheme %q", obj.where, scheme)
	}
	aps, err := obj.boolean("add_prefix_space", true)
	if err != nil {
		return "", err
	}
	if !aps && PrependScheme(scheme) != PrependNever {
		return "", fmt.Errorf("%s: add_prefix_space false does not match prepend_scheme %q", obj.where, scheme)
	}
	return PrependScheme(scheme), nil
}

// replacePattern reads the pattern of a Replace object: {"String": s} or
// {"Regex": r}.
func replacePattern(obj *jsonObj) (literal, regex string, err error) {
	raw, ok := obj.fields["pattern"]
	if !ok {
		return "", "", fmt.Errorf("%s: missing field \"pattern\"", obj.where)
	}
	var p map[string]string
	if err := json.Unmarshal(raw, &p); err != nil || len(p) != 1 {
		return "", "", fmt.Errorf("%s: field \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}", obj.where)
	}
	if s, ok := p["String"]; ok {
		return s, "", nil
	}
	if r, ok := p["Regex"]; ok {
		if r == "" {
			return "", "", fmt.Errorf("%s: empty regex pattern", obj.where)
		}
		return "", r, nil
	}
	return "", "", fmt.Errorf("%s: field \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}", obj.where)
}
