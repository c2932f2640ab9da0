package tokenizer

import (
	"context"
	"unicode"
	"unicode/utf8"
)

// gpt2Pattern matches GPT-2's pre-tokenization regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// by hand: Go's regexp has no look-ahead, and this is the hot path of every
// byte-level BPE tokenizer.
type gpt2Pattern struct{}

func (gpt2Pattern) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	if s == "" {
		return []patternMatch{{0, 0, false}}, nil
	}
	out := make([]patternMatch, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		n := gpt2MatchAt(s, i)
		out = append(out, patternMatch{i, i + n, true})
		i += n
	}
	return out, nil
}

type runeClass int

const (
	classLetter runeClass = iota
	classNumber
	classSpace
	classOther
)

func classify(r rune) runeClass {
	if r < 0x80 {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			return classLetter
		case r >= '0' && r <= '9':
			return classNumber
		case r == ' ' || (r >= '\t' && r <= '\r'):
			return classSpace
		}
		return classOther
	}
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case isWhitespace(r):
		return classSpace
	}
	return classOther
}

// runOf returns the end of the run of runes of class c starting at i.
func runOf(s string, i int, c runeClass) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if classify(r) != c {
			break
		}
		i += n
	}
	return i
}

// gpt2MatchAt returns the length of the match starting at i (always >= 1:
// every rune belongs to one of the alternatives).
func gpt2MatchAt(s string, i int) int {
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v', 'l':
			if i+2 < len(s) {
				next := s[i+2]
				if (s[i+1] == 'r' && next == 'e') || (s[i+1] == 'v' && next == 'e') || (s[i+1] == 'l' && next == 'l') {
					return 3
				}
			}
		}
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	start := i
	if r == ' ' && i+1 < len(s) {
		r2, n2 := utf8.DecodeRuneInString(s[i+1:])
		if c := classify(r2); c != classSpace {
			return runOf(s, i+1+n2, c) - start
		}
	}
	c := classify(r)
	if c != classSpace {
		return runOf(s, i+n, c) - start
	}
	// \s+(?!\S) then \s+
	end := runOf(s, i, classSpace)
	if end == len(s) {
		return end - start
	}
	_, lastN := utf8.DecodeLastRuneInString(s[:end])
	if end-lastN > start {
		return end - lastN - start
	}
	return end - start
}
