package tokenizer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer cuts a pre-tokenized string into smaller splits (words).
type preTokenizer interface {
	preTokenize(p *preTokenizedString) error
}

// splitAll cuts every untokenized split by pattern with behavior.
func splitAll(p *preTokenizedString, pat pattern, behavior splitBehavior) error {
	return p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		return ns.appendSplits(p.ctx, out, pat, behavior)
	})
}

// bertPreTokenizer splits on whitespace (removed) and punctuation (isolated).
type bertPreTokenizer struct{}

func (bertPreTokenizer) preTokenize(p *preTokenizedString) error {
	if err := splitAll(p, runePattern(isWhitespace), splitRemoved); err != nil {
		return err
	}
	return splitAll(p, runePattern(isPunctuation), splitIsolated)
}

// whitespacePreTokenizer keeps the matches of \w+|[^\w\s]+.
type whitespacePreTokenizer struct{}

func (whitespacePreTokenizer) preTokenize(p *preTokenizedString) error {
	return splitAll(p, wordsOrSymbols{}, splitRemoved)
}

// wordsOrSymbols is the pattern \w+|[^\w\s]+ with the matches inverted: the
// whitespace between them is what matches.
type wordsOrSymbols struct{}

func (wordsOrSymbols) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	if s == "" {
		return []patternMatch{{0, 0, false}}, nil
	}
	var out []patternMatch
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		j := i + n
		switch {
		case isWordChar(r):
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if !isWordChar(r2) {
					break
				}
				j += n2
			}
			out = append(out, patternMatch{i, j, false})
		case !isWhitespace(r):
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if isWordChar(r2) || isWhitespace(r2) {
					break
				}
				j += n2
			}
			out = append(out, patternMatch{i, j, false})
		default:
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if isWordChar(r2) || !isWhitespace(r2) {
					break
				}
				j += n2
			}
			out = append(out, patternMatch{i, j, true})
		}
		i = j
	}
	return out, nil
}

type whitespaceSplitPreTokenizer struct{}

func (whitespaceSplitPreTokenizer) preTokenize(p *preTokenizedString) error {
	return splitAll(p, runePattern(isWhitespace), splitRemoved)
}

type charDelimiterPreTokenizer struct{ delimiter rune }

func (c charDelimiterPreTokenizer) preTokenize(p *preTokenizedString) error {
	return splitAll(p, runePattern(func(r rune) bool { return r == c.delimiter }), splitRemoved)
}

type punctuationPreTokenizer struct{ behavior splitBehavior }

func (c punctuationPreTokenizer) preTokenize(p *preTokenizedString) error {
	return splitAll(p, runePattern(isPunctuation), c.behavior)
}

type digitsPreTokenizer struct{ individual bool }

func (d digitsPreTokenizer) preTokenize(p *preTokenizedString) error {
	behavior := splitContiguous
	if d.individual {
		behavior = splitIsolated
	}
	return splitAll(p, runePattern(unicode.IsNumber), behavior)
}

type splitPreTokenizer struct {
	pattern  pattern
	behavior splitBehavior
}

func (s splitPreTokenizer) preTokenize(p *preTokenizedString) error {
	return splitAll(p, s.pattern, s.behavior)
}

type metaspacePreTokenizer struct {
	replacement rune
	scheme      PrependScheme
	split       bool
}

func (m metaspacePreTokenizer) preTokenize(p *preTokenizedString) error {
	rep := string(m.replacement)
	return p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		if err := ns.replaceMatches(p.ctx, literalPattern(" "), rep); err != nil {
			return nil, err
		}
		switch m.scheme {
		case PrependAlways:
			if !strings.HasPrefix(ns.normalized, rep) {
				ns.prepend(rep)
			}
		case PrependFirst:
			if !strings.HasPrefix(ns.normalized, rep) && ns.originalShift == 0 {
				ns.prepend(rep)
			}
		}
		if m.split {
			return ns.appendSplits(p.ctx, out, runePattern(func(r rune) bool { return r == m.replacement }), splitMergedWithNext)
		}
		return appendNonEmpty(out, *ns), nil
	})
}

// byteLevelPreTokenizer is GPT-2's: optional prefix space, the GPT-2 regex,
// then every byte mapped to a printable rune.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	useRegex       bool
}

func (b byteLevelPreTokenizer) preTokenize(p *preTokenizedString) error {
	err := p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		if b.addPrefixSpace && !strings.HasPrefix(ns.normalized, " ") {
			ns.prepend(" ")
		}
		if b.useRegex {
			return ns.appendSplits(p.ctx, out, gpt2Pattern{}, splitIsolated)
		}
		return appendNonEmpty(out, *ns), nil
	})
	if err != nil {
		return err
	}
	for i := range p.splits {
		if p.splits[i].tokens == nil {
			byteLevelTransform(&p.splits[i].ns)
		}
	}
	return nil
}

type sequencePreTokenizer []preTokenizer

func (s sequencePreTokenizer) preTokenize(p *preTokenizedString) error {
	for _, pt := range s {
		if err := pt.preTokenize(p); err != nil {
			return err
		}
	}
	return nil
}

func preTokenizerFromJSON(raw json.RawMessage) (preTokenizer, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c struct {
		Type             string            `json:"type"`
		Behavior         string            `json:"behavior"`
		Pattern          *patternJSON      `json:"pattern"`
		Invert           bool              `json:"invert"`
		IndividualDigits bool              `json:"individual_digits"`
		AddPrefixSpace   *bool             `json:"add_prefix_space"`
		UseRegex         *bool             `json:"use_regex"`
		Delimiter        string            `json:"delimiter"`
		PreTokenizers    []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch c.Type {
	case "BertPreTokenizer":
		return bertPreTokenizer{}, nil
	case "Whitespace":
		return whitespacePreTokenizer{}, nil
	case "UnicodeScripts":
		return unicodeScriptsPreTokenizer{}, nil
	case "WhitespaceSplit":
		return whitespaceSplitPreTokenizer{}, nil
	case "CharDelimiterSplit":
		r, n := utf8.DecodeRuneInString(c.Delimiter)
		if n == 0 || n != len(c.Delimiter) {
			return nil, fmt.Errorf("CharDelimiterSplit: delimiter %q is not one character", c.Delimiter)
		}
		return charDelimiterPreTokenizer{r}, nil
	case "Punctuation":
		b := splitIsolated
		if c.Behavior != "" {
			var err error
			if b, err = parseSplitBehavior(c.Behavior); err != nil {
				return nil, fmt.Errorf("Punctuation: %w", err)
			}
		}
		return punctuationPreTokenizer{b}, nil
	case "Digits":
		return digitsPreTokenizer{c.IndividualDigits}, nil
	case "Split":
		if c.Pattern == nil {
			return nil, fmt.Errorf("Split: missing pattern")
		}
		pat, err := c.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		if c.Invert {
			pat = invertPattern{pat}
		}
		b, err := parseSplitBehavior(c.Behavior)
		if err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		return splitPreTokenizer{pat, b}, nil
	case "Metaspace":
		obj, err := jsonObject(raw, "Metaspace pre_tokenizer")
		if err != nil {
			return nil, err
		}
		m := metaspacePreTokenizer{replacement: '▁', split: true}
		if m.replacement, err = obj.char("replacement", '▁'); err != nil {
			return nil, err
		}
		if m.scheme, err = metaspaceScheme(obj); err != nil {
			return nil, err
		}
		if m.split, err = obj.boolean("split", true); err != nil {
			return nil, err
		}
		return m, nil
	case "ByteLevel":
		return byteLevelPreTokenizer{addPrefixSpace: orTrue(c.AddPrefixSpace), useRegex: orTrue(c.UseRegex)}, nil
	case "Sequence":
		seq := make(sequencePreTokenizer, 0, len(c.PreTokenizers))
		for i, r := range c.PreTokenizers {
			pt, err := preTokenizerFromJSON(r)
			if err != nil {
				return nil, fmt.Errorf("Sequence pre_tokenizer %d: %w", i, err)
			}
			if pt != nil {
				seq = append(seq, pt)
			}
		}
		return seq, nil
	case "":
		return nil, fmt.Errorf("pre_tokenizer without a type")
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer type %q", c.Type)
}
