package tokenizer

import (
	"context"
	"sort"
	"unicode/utf8"
)

// AddedToken is a token added on top of the model's vocabulary, with how it
// matches in text (HF's AddedToken).
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedVocabulary finds added tokens in text before the model sees it, on the
// raw text for non-normalized tokens and on the normalized text for the others.
type addedVocabulary struct {
	tokens  []AddedToken // in the order they were added
	byID    map[int]*AddedToken
	byText  map[string]int
	special map[string]bool
	// decodeAs is how a token decodes: the normalized form of a normalized
	// token (so the decoder can invert byte-level mapping), else its content.
	decodeAs map[int]string
	raw      matcher // non-normalized tokens, matched on the input
	normForm matcher // normalized tokens, matched on the normalized text
}

// matcher finds the leftmost-longest occurrences of a set of strings, as an
// Aho-Corasick automaton with MatchKind::LeftmostLongest.
type matcher struct {
	byFirst map[byte][]matcherEntry // candidates by first byte, longest first
}

type matcherEntry struct {
	text string
	id   int
}

func newMatcher(entries []matcherEntry) matcher {
	m := matcher{byFirst: map[byte][]matcherEntry{}}
	for _, e := range entries {
		if e.text == "" {
			continue
		}
		m.byFirst[e.text[0]] = append(m.byFirst[e.text[0]], e)
	}
	for _, list := range m.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].text) > len(list[j].text) })
	}
	return m
}

// next finds the leftmost-longest match at or after byte from.
func (m matcher) next(s string, from int) (start, end, id int, ok bool) {
	if len(m.byFirst) == 0 {
		return 0, 0, 0, false
	}
	for i := from; i < len(s); i++ {
		for _, e := range m.byFirst[s[i]] {
			if len(s)-i >= len(e.text) && s[i:i+len(e.text)] == e.text {
				return i, i + len(e.text), e.id, true
			}
		}
	}
	return 0, 0, 0, false
}

func newAddedVocabulary(tokens []AddedToken, norm normalizer) (*addedVocabulary, error) {
	av := &addedVocabulary{byID: map[int]*AddedToken{}, byText: map[string]int{}, special: map[string]bool{}, decodeAs: map[int]string{}}
	var raw, normalized []matcherEntry
	for _, t := range tokens {
		if t.Content == "" {
			continue
		}
		if _, dup := av.byText[t.Content]; dup {
			continue
		}
		av.tokens = append(av.tokens, t)
		av.byText[t.Content] = t.ID
		if t.Special {
			av.special[t.Content] = true
		}
	}
	for i := range av.tokens {
		t := &av.tokens[i]
		av.byID[t.ID] = t
		av.decodeAs[t.ID] = t.Content
		if !t.Normalized {
			raw = append(raw, matcherEntry{t.Content, t.ID})
			continue
		}
		ns := newNormalizedString(t.Content)
		if norm != nil {
			if err := norm.normalize(context.Background(), &ns); err != nil {
				return nil, err
			}
		}
		normalized = append(normalized, matcherEntry{ns.normalized, t.ID})
		av.decodeAs[t.ID] = ns.normalized
	}
	av.raw = newMatcher(raw)
	av.normForm = newMatcher(normalized)
	return av, nil
}

// findSplits cuts s into pieces that are added tokens (id >= 0) or text
// between them (id -1), honouring single_word, lstrip and rstrip.
func (av *addedVocabulary) findSplits(s string, m matcher) []addedSplit {
	if s == "" {
		return []addedSplit{{0, 0, -1}}
	}
	var out []addedSplit
	startOffset := 0
	for from := 0; ; {
		start, stop, id, ok := m.next(s, from)
		if !ok {
			break
		}
		from = stop
		tok := av.byID[id]
		if tok.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.LStrip {
			start = max(spaceLeftmostAtEnd(s[:start]), startOffset)
		}
		if tok.RStrip {
			stop += spaceRightmostAtStart(s[stop:])
		}
		if startOffset < start {
			out = append(out, addedSplit{startOffset, start, -1})
		}
		out = append(out, addedSplit{start, stop, id})
		startOffset = stop
	}
	if startOffset != len(s) {
		out = append(out, addedSplit{startOffset, len(s), -1})
	}
	return out
}

type addedSplit struct{ start, end, id int }

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}

// spaceLeftmostAtEnd is where the trailing whitespace of s starts.
func spaceLeftmostAtEnd(s string) int {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !isWhitespace(r) {
			break
		}
		i -= n
	}
	return i
}

// spaceRightmostAtStart is the length of the leading whitespace of s.
func spaceRightmostAtStart(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWhitespace(r) {
			break
		}
		i += n
	}
	return i
}

// appendSplitsOnAdded cuts ns at the matches of m, tokenizing the added
// tokens, and appends the non-empty pieces to out.
func (av *addedVocabulary) appendSplitsOnAdded(out []split, ns *normalizedString, m matcher) []split {
	if len(m.byFirst) == 0 {
		return appendNonEmpty(out, ns.slice(0, len(ns.normalized)))
	}
	for _, pc := range av.findSplits(ns.normalized, m) {
		if pc.end == pc.start {
			continue
		}
		sub := ns.slice(pc.start, pc.end)
		if pc.id >= 0 {
			out = append(out, split{ns: sub, tokens: []Token{{ID: pc.id, Value: sub.normalized, Offsets: [2]int{0, len(sub.normalized)}}}})
		} else {
			out = append(out, split{ns: sub})
		}
	}
	return out
}

// extractAndNormalize splits the input on added tokens and normalizes the
// rest, as AddedVocabulary::extract_and_normalize.
func (av *addedVocabulary) extractAndNormalize(ctx context.Context, norm normalizer, s string) (*preTokenizedString, error) {
	p := newPreTokenizedString(ctx, s)
	err := p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		return av.appendSplitsOnAdded(out, ns, av.raw), nil
	})
	if err != nil {
		return nil, err
	}
	err = p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		if norm != nil {
			if err := norm.normalize(p.ctx, ns); err != nil {
				return nil, err
			}
		}
		return av.appendSplitsOnAdded(out, ns, av.normForm), nil
	})
	return p, err
}
