package tokenizer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// patternMatch is one piece of a string cut by a pattern: a byte range and
// whether it is a match of the pattern or text between matches.
type patternMatch struct {
	start, end int
	isMatch    bool
}

// pattern finds the matches of something in a string, covering the whole
// string with matches and the pieces between them (HF's Pattern trait).
type pattern interface {
	findMatches(ctx context.Context, s string) ([]patternMatch, error)
}

// runePattern matches each rune for which the function is true, one match a rune.
type runePattern func(rune) bool

func (p runePattern) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	if s == "" {
		return []patternMatch{{0, 0, false}}, nil
	}
	var out []patternMatch
	last := 0
	for i, r := range s {
		if p(r) {
			n := utf8.RuneLen(r)
			if r == utf8.RuneError {
				_, n = utf8.DecodeRuneInString(s[i:])
			}
			if last < i {
				out = append(out, patternMatch{last, i, false})
			}
			out = append(out, patternMatch{i, i + n, true})
			last = i + n
		}
	}
	if last < len(s) {
		out = append(out, patternMatch{last, len(s), false})
	}
	return out, nil
}

// literalPattern matches a fixed string.
type literalPattern string

func (p literalPattern) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	if p == "" {
		return []patternMatch{{0, len(s), false}}, nil
	}
	if s == "" {
		return []patternMatch{{0, 0, false}}, nil
	}
	var out []patternMatch
	prev := 0
	for prev <= len(s) {
		i := strings.Index(s[prev:], string(p))
		if i < 0 {
			break
		}
		i += prev
		if prev != i {
			out = append(out, patternMatch{prev, i, false})
		}
		out = append(out, patternMatch{i, i + len(p), true})
		prev = i + len(p)
	}
	if prev != len(s) {
		out = append(out, patternMatch{prev, len(s), false})
	}
	return out, nil
}

// regexPattern matches a regular expression with Oniguruma-like semantics
// (Unicode classes, look-around), as HF's SysRegex does.
type regexPattern struct {
	re *regexp2.Regexp
}

// MaxPatternBytes bounds a regular expression of tokenizer.json (the
// pre-tokenizer patterns of published tokenizers take well under 1 kB):
// compiling a pattern takes memory in proportion to its size.
const MaxPatternBytes = 64 << 10

// MatchTimeout bounds each match of a regular expression of tokenizer.json.
// regexp2, like the Oniguruma engine of HF tokenizers, backtracks, and a
// pattern such as (a+)+$ takes exponential time on some inputs; HF would
// run on, textclf stops with an error. A match of a published tokenizer's
// pattern takes microseconds.
const MatchTimeout = time.Second

// matchTimeout is MatchTimeout, shortened by fuzz tests.
var matchTimeout = MatchTimeout

// checkPatternSize refuses a pattern over MaxPatternBytes.
func checkPatternSize(expr string) error {
	if len(expr) > MaxPatternBytes {
		return fmt.Errorf("regex of %d bytes: longer than the %d bytes textclf accepts", len(expr), MaxPatternBytes)
	}
	return nil
}

// shortPattern is a pattern for an error message, cut to 100 bytes.
func shortPattern(expr string) string {
	if len(expr) > 100 {
		expr = strings.ToValidUTF8(expr[:100], "") + "…"
	}
	return strconv.Quote(expr)
}

func compileRegex(expr string) (*regexPattern, error) {
	if err := checkPatternSize(expr); err != nil {
		return nil, err
	}
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("regex %s: %w", shortPattern(expr), err)
	}
	re.MatchTimeout = matchTimeout
	return &regexPattern{re: re}, nil
}

func (p *regexPattern) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	if s == "" {
		return []patternMatch{{0, 0, false}}, nil
	}
	// regexp2 works on runes: map rune indices back to byte offsets (an
	// invalid byte is one U+FFFD rune).
	runes := make([]rune, 0, len(s))
	byteAt := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		byteAt = append(byteAt, i)
		i += n
	}
	byteAt = append(byteAt, len(s))
	var out []patternMatch
	prev := 0
	m, err := p.re.FindRunesMatch(runes)
	for m != nil && err == nil {
		start, end := byteAt[m.Index], byteAt[m.Index+m.Length]
		if prev != start {
			out = append(out, patternMatch{prev, start, false})
		}
		out = append(out, patternMatch{start, end, true})
		prev = end
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err = p.re.FindNextMatch(m)
	}
	if err != nil {
		// regexp2's error quotes the whole input: say what happened instead.
		return nil, fmt.Errorf("regex %s: a match took longer than %v on this text (the pattern backtracks catastrophically)", shortPattern(p.re.String()), p.re.MatchTimeout)
	}
	if prev != len(s) {
		out = append(out, patternMatch{prev, len(s), false})
	}
	return out, nil
}

// invertPattern swaps matches and non-matches of another pattern.
type invertPattern struct{ p pattern }

func (p invertPattern) findMatches(ctx context.Context, s string) ([]patternMatch, error) {
	m, err := p.p.findMatches(ctx, s)
	for i := range m {
		m[i].isMatch = !m[i].isMatch
	}
	return m, err
}

// splitBehavior says what a split does with the matches of its pattern.
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseSplitBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "removed":
		return splitRemoved, nil
	case "isolated":
		return splitIsolated, nil
	case "merged_with_previous", "mergedwithprevious":
		return splitMergedWithPrevious, nil
	case "merged_with_next", "mergedwithnext":
		return splitMergedWithNext, nil
	case "contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// appendSplits cuts ns by the matches of p, as NormalizedString::split
// does, and appends the non-empty pieces to out.
func (ns *normalizedString) appendSplits(ctx context.Context, out []split, p pattern, behavior splitBehavior) ([]split, error) {
	if rp, ok := p.(runePattern); ok && (behavior == splitRemoved || behavior == splitIsolated) {
		return ns.appendRuneSplits(out, rp, behavior == splitIsolated), nil
	}
	matches, err := p.findMatches(ctx, ns.normalized)
	if err != nil {
		return nil, err
	}
	type piece struct {
		start, end int
		remove     bool
	}
	var pieces []piece
	switch behavior {
	case splitIsolated:
		for _, m := range matches {
			pieces = append(pieces, piece{m.start, m.end, false})
		}
	case splitRemoved:
		for _, m := range matches {
			pieces = append(pieces, piece{m.start, m.end, m.isMatch})
		}
	case splitContiguous:
		prevMatch := false
		for _, m := range matches {
			if m.isMatch == prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].end = m.end
			} else {
				pieces = append(pieces, piece{m.start, m.end, false})
			}
			prevMatch = m.isMatch
		}
	case splitMergedWithPrevious:
		prevMatch := false
		for _, m := range matches {
			if m.isMatch && !prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].end = m.end
			} else {
				pieces = append(pieces, piece{m.start, m.end, false})
			}
			prevMatch = m.isMatch
		}
	case splitMergedWithNext:
		prevMatch := false
		for i := len(matches) - 1; i >= 0; i-- {
			m := matches[i]
			if m.isMatch && !prevMatch && len(pieces) > 0 {
				pieces[len(pieces)-1].start = m.start
			} else {
				pieces = append(pieces, piece{m.start, m.end, false})
			}
			prevMatch = m.isMatch
		}
		for i, j := 0, len(pieces)-1; i < j; i, j = i+1, j-1 {
			pieces[i], pieces[j] = pieces[j], pieces[i]
		}
	}
	for _, pc := range pieces {
		if !pc.remove && pc.end > pc.start {
			out = append(out, split{ns: ns.slice(pc.start, pc.end)})
		}
	}
	return out, nil
}

// appendRuneSplits is appendSplits for a rune pattern that removes or
// isolates each matching rune, in one pass without intermediate matches.
func (ns *normalizedString) appendRuneSplits(out []split, p runePattern, isolate bool) []split {
	s := ns.normalized
	start := 0
	for i, r := range s {
		if !p(r) {
			continue
		}
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		if start < i {
			out = append(out, split{ns: ns.slice(start, i)})
		}
		if isolate {
			out = append(out, split{ns: ns.slice(i, i+n)})
		}
		start = i + n
	}
	if start < len(s) {
		out = append(out, split{ns: ns.slice(start, len(s))})
	}
	return out
}
