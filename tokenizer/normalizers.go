package tokenizer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer changes a normalizedString in place, keeping alignments.
type normalizer interface {
	normalize(ctx context.Context, ns *normalizedString) error
}

// bertNormalizer is HF's BertNormalizer.
type bertNormalizer struct {
	cleanText, handleChineseChars, stripAccents, lowercase bool
}

func (b bertNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	if b.cleanText {
		dropped := func(r rune) bool { return r == 0 || r == utf8.RuneError || isBertControl(r) }
		if containsRune(ns.normalized, dropped) {
			ns.filter(func(r rune) bool { return !dropped(r) })
		}
		if containsRune(ns.normalized, func(r rune) bool { return r != ' ' && isBertWhitespace(r) }) {
			ns.mapRunes(func(r rune) rune {
				if isBertWhitespace(r) {
					return ' '
				}
				return r
			})
		}
	}
	if b.handleChineseChars {
		padChineseChars(ns)
	}
	if b.stripAccents {
		unicodeNormalize(ns, norm.NFD)
		if containsRune(ns.normalized, isNonSpacingMark) {
			ns.filter(func(r rune) bool { return !isNonSpacingMark(r) })
		}
	}
	if b.lowercase {
		lowercase(ns)
	}
	return nil
}

// containsRune reports whether s has a rune for which f is true.
func containsRune(s string, f func(rune) bool) bool {
	for _, r := range s {
		if f(r) {
			return true
		}
	}
	return false
}

func isNonSpacingMark(r rune) bool { return r >= 0x300 && unicode.Is(unicode.Mn, r) }

// padChineseChars surrounds every CJK ideograph with spaces.
func padChineseChars(ns *normalizedString) {
	found := false
	for _, r := range ns.normalized {
		if isChineseChar(r) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	dest := make([]change, 0, len(ns.normalized)+8)
	for _, r := range ns.normalized {
		if isChineseChar(r) {
			dest = append(dest, change{' ', 0}, change{r, 1}, change{' ', 1})
		} else {
			dest = append(dest, change{r, 0})
		}
	}
	ns.transform(dest, 0)
}

// lowercase maps every rune to its full lowercase mapping, as Rust's
// char::to_lowercase (İ becomes i + combining dot above).
func lowercase(ns *normalizedString) {
	ascii := true
	for i := 0; i < len(ns.normalized); i++ {
		if ns.normalized[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		b := []byte(ns.normalized)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		ns.normalized = string(b)
		return
	}
	dest := make([]change, 0, len(ns.normalized))
	for _, r := range ns.normalized {
		if r == 0x130 {
			dest = append(dest, change{'i', 0}, change{0x307, 1})
			continue
		}
		dest = append(dest, change{unicode.ToLower(r), 0})
	}
	ns.transform(dest, 0)
}

// unicodeNormalize applies a Unicode normalization form segment by segment
// (a segment starts at each rune with a normalization boundary before it).
// Within a segment, each output rune is aligned with the input rune its
// decomposition starts in: a rune composed from several input runes replaces
// the first and removes the others, and the extra runes of a decomposition
// are inserted after the first, as HF's unicode-normalization-alignments does.
func unicodeNormalize(ns *normalizedString, form norm.Form) {
	s := ns.normalized
	if form.IsNormalString(s) {
		return
	}
	decomp := norm.NFD
	if form == norm.NFKC || form == norm.NFKD {
		decomp = norm.NFKD
	}
	dest := make([]change, 0, len(s)+8)
	var out, dec []byte
	var src []int // input rune index of each decomposed rune
	for start := 0; start < len(s); {
		end := start + 1
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		for end < len(s) && !form.PropertiesString(s[end:]).BoundaryBefore() {
			end++
			for end < len(s) && !utf8.RuneStart(s[end]) {
				end++
			}
		}
		seg := s[start:end]
		start = end
		out = form.AppendString(out[:0], seg)
		if string(out) == seg {
			for _, r := range seg {
				dest = append(dest, change{r, 0})
			}
			continue
		}
		src = src[:0]
		k := 0
		for _, r := range seg {
			dec = decomp.AppendString(dec[:0], string(r))
			for n := utf8.RuneCount(dec); n > 0; n-- {
				src = append(src, k)
			}
			k++
		}
		dest = alignSegment(dest, decomp, out, src, k)
	}
	ns.transform(dest, 0)
}

// alignSegment appends the changes for one normalized segment out, made of
// nIn input runes whose decomposed runes (by decomp) come from the input
// runes src.
func alignSegment(dest []change, decomp norm.Form, out []byte, src []int, nIn int) []change {
	mark := len(dest)
	p, claimed := 0, -1
	ok := true
	for b := out; len(b) > 0; {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		var d [64]byte
		l := utf8.RuneCount(decomp.AppendString(d[:0], string(r)))
		if l <= 0 || p+l > len(src) {
			ok = false
			break
		}
		first, last := src[p], src[p+l-1]
		p += l
		switch {
		case first > claimed+1:
			ok = false
		case first > claimed:
			dest = append(dest, change{r, -(last - first)})
			claimed = last
		default:
			dest = append(dest, change{r, 1})
			if last > claimed {
				ok = false
			}
		}
		if !ok {
			break
		}
	}
	if ok && p == len(src) && claimed == nIn-1 {
		return dest
	}
	// Fall back to aligning output runes with input runes in order.
	dest = dest[:mark]
	nOut := utf8.RuneCount(out)
	i := 0
	for b := out; len(b) > 0; i++ {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case i < nIn && (nOut >= nIn || i < nOut-1):
			dest = append(dest, change{r, 0})
		case i >= nIn:
			dest = append(dest, change{r, 1})
		default:
			dest = append(dest, change{r, -(nIn - nOut)})
		}
	}
	return dest
}

type unicodeNormalizer struct{ form norm.Form }

func (u unicodeNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	unicodeNormalize(ns, u.form)
	return nil
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	lowercase(ns)
	return nil
}

// stripAccentsNormalizer removes combining marks (General Category M).
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	ns.filter(func(r rune) bool { return !unicode.Is(unicode.M, r) })
	return nil
}

type replaceNormalizer struct {
	pattern pattern
	content string
}

func (r replaceNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	return ns.replaceMatches(ctx, r.pattern, r.content)
}

type prependNormalizer struct{ prefix string }

func (p prependNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	ns.prepend(p.prefix)
	return nil
}

type stripNormalizer struct{ left, right bool }

func (s stripNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	ns.stripSpaces(s.left, s.right)
	return nil
}

// byteLevelNormalizer maps every byte to its GPT-2 byte-level rune.
type byteLevelNormalizer struct{}

func (byteLevelNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	byteLevelTransform(ns)
	return nil
}

// byteLevelTransform replaces each byte of the normalized text by its GPT-2
// byte-level rune. Every output rune keeps the alignment of the rune its byte
// came from, as HF's transform gives it (the first byte replaces the rune,
// the others are inserted after it).
func byteLevelTransform(ns *normalizedString) {
	s := ns.normalized
	var sb strings.Builder
	sb.Grow(2 * len(s))
	al := make([]span, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		r := byteLevelUTF8[s[i]]
		sb.WriteString(r)
		for range len(r) {
			al = append(al, ns.alignments[i])
		}
	}
	ns.normalized = sb.String()
	ns.alignments = al
}

// byteLevelUTF8 is the UTF-8 encoding of byteToRune.
var byteLevelUTF8 = func() (t [256]string) {
	for b := range t {
		t[b] = string(byteToRune[b])
	}
	return t
}()

// nmtNormalizer is SentencePiece's NMT normalization (HF's Nmt): drop
// control characters, turn other separators into spaces.
type nmtNormalizer struct{}

func (nmtNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	ns.filter(func(r rune) bool {
		return !((r >= 0x1 && r <= 0x8) || r == 0xB || (r >= 0xE && r <= 0x1F) || r == 0x7F || r == 0x8F || r == 0x9F)
	})
	ns.mapRunes(func(r rune) rune {
		switch {
		case r == 0x9, r == 0xA, r == 0xC, r == 0xD, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	})
	return nil
}

type sequenceNormalizer []normalizer

func (s sequenceNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	for _, n := range s {
		if err := n.normalize(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// patternJSON is the {"String": ...} or {"Regex": ...} pattern of tokenizer.json.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func (p patternJSON) compile() (pattern, error) {
	switch {
	case p.String != nil:
		return literalPattern(*p.String), nil
	case p.Regex != nil:
		return compileRegex(*p.Regex)
	}
	return nil, fmt.Errorf("pattern has neither String nor Regex")
}

func normalizerFromJSON(raw json.RawMessage) (normalizer, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch head.Type {
	case "BertNormalizer":
		var c struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("BertNormalizer: %w", err)
		}
		b := bertNormalizer{cleanText: orTrue(c.CleanText), handleChineseChars: orTrue(c.HandleChineseChars), lowercase: orTrue(c.Lowercase)}
		b.stripAccents = b.lowercase
		if c.StripAccents != nil {
			b.stripAccents = *c.StripAccents
		}
		return b, nil
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "ByteLevel":
		return byteLevelNormalizer{}, nil
	case "Nmt":
		return nmtNormalizer{}, nil
	case "Precompiled":
		var c struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Precompiled normalizer: %w", err)
		}
		if c.Charsmap == nil {
			return nil, fmt.Errorf("Precompiled normalizer: no precompiled_charsmap")
		}
		return newPrecompiled(*c.Charsmap)
	case "Replace":
		var c struct {
			Pattern patternJSON `json:"pattern"`
			Content string      `json:"content"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Replace normalizer: %w", err)
		}
		p, err := c.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("Replace normalizer: %w", err)
		}
		return replaceNormalizer{p, c.Content}, nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Prepend normalizer: %w", err)
		}
		return prependNormalizer{c.Prepend}, nil
	case "Strip":
		var c struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Strip normalizer: %w", err)
		}
		return stripNormalizer{c.Left, c.Right}, nil
	case "Sequence":
		var c struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Sequence normalizer: %w", err)
		}
		seq := make(sequenceNormalizer, 0, len(c.Normalizers))
		for i, r := range c.Normalizers {
			n, err := normalizerFromJSON(r)
			if err != nil {
				return nil, fmt.Errorf("Sequence normalizer %d: %w", i, err)
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "":
		return nil, fmt.Errorf("normalizer without a type")
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", head.Type)
}

func orTrue(b *bool) bool { return b == nil || *b }
