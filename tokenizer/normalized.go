package tokenizer

import (
	"context"
	"strings"
	"unicode/utf8"
)

// span is a byte range [start, end) in the original text.
type span struct{ start, end int }

// normalizedString is a piece of text being normalized, with the alignment of
// every byte of the normalized text to a byte range of the original text, as
// HF tokenizers' NormalizedString. originalShift is where the piece of the
// input this string was made from starts in the whole input.
//
// Slices share their parent's alignments, which are never changed in place:
// a stored alignment a stands for [a.start-shift, a.end-shift) in the piece.
type normalizedString struct {
	normalized    string
	alignments    []span // one per byte of normalized
	shift         int
	originalShift int
}

func newNormalizedString(s string) normalizedString {
	al := make([]span, len(s))
	for i, r := range s {
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			// utf8.RuneLen reports -1 for the replacement rune of an invalid byte.
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		for j := 0; j < n; j++ {
			al[i+j] = span{i, i + n}
		}
	}
	return normalizedString{normalized: s, alignments: al}
}

// change is one rune of a transformation with how it relates to the text it
// replaces: 0 replaces one rune, 1 inserts a rune, -n replaces one rune and
// removes the n runes after it (HF's (char, isize) pairs).
type change struct {
	r rune
	n int
}

// transformRange replaces the normalized bytes [start, end) with dest,
// skipping the first initialOffset runes of the range (they are removed), and
// keeps alignments as HF's NormalizedString::transform_range does.
func (ns *normalizedString) transformRange(start, end int, dest []change, initialOffset int) {
	replaced := ns.normalized[start:end]
	pos := 0 // byte position in replaced
	for i := 0; i < initialOffset && pos < len(replaced); i++ {
		_, n := utf8.DecodeRuneInString(replaced[pos:])
		pos += n
	}
	offset := start + pos
	var sb strings.Builder
	sb.Grow(end - start)
	newAlign := make([]span, 0, end-start)
	for _, c := range dest {
		var align span
		if c.n > 0 {
			if offset >= 1 {
				align = ns.alignments[offset-1]
			} else {
				align = span{ns.shift, ns.shift}
			}
		} else {
			if offset < len(ns.alignments) {
				align = ns.alignments[offset]
			} else if offset > 0 {
				align = ns.alignments[offset-1]
			}
			// the rune replaced by c
			if pos < len(replaced) {
				_, n := utf8.DecodeRuneInString(replaced[pos:])
				pos += n
				offset += n
			}
		}
		for i := 0; i < -c.n && pos < len(replaced); i++ {
			_, n := utf8.DecodeRuneInString(replaced[pos:])
			pos += n
			offset += n
		}
		w := utf8.RuneLen(c.r)
		if w < 0 {
			c.r, w = utf8.RuneError, 3
		}
		sb.WriteRune(c.r)
		for i := 0; i < w; i++ {
			newAlign = append(newAlign, align)
		}
	}
	if start == 0 && end == len(ns.normalized) {
		ns.normalized = sb.String()
		ns.alignments = newAlign
		return
	}
	ns.normalized = ns.normalized[:start] + sb.String() + ns.normalized[end:]
	al := make([]span, 0, len(ns.alignments)-(end-start)+len(newAlign))
	al = append(al, ns.alignments[:start]...)
	al = append(al, newAlign...)
	al = append(al, ns.alignments[end:]...)
	ns.alignments = al
}

// transform replaces the whole normalized text.
func (ns *normalizedString) transform(dest []change, initialOffset int) {
	ns.transformRange(0, len(ns.normalized), dest, initialOffset)
}

// mapRunes replaces each rune by f(rune), one for one.
func (ns *normalizedString) mapRunes(f func(rune) rune) {
	dest := make([]change, 0, len(ns.normalized))
	for _, r := range ns.normalized {
		dest = append(dest, change{f(r), 0})
	}
	ns.transform(dest, 0)
}

// filter keeps the runes for which keep is true, attributing each removed
// rune to the kept rune before it, as HF's NormalizedString::filter.
func (ns *normalizedString) filter(keep func(rune) bool) {
	dest := make([]change, 0, len(ns.normalized))
	removed, removedStart := 0, 0
	var last rune
	haveLast := false
	for _, r := range ns.normalized {
		if keep(r) {
			if haveLast {
				dest = append(dest, change{last, -removed})
			} else {
				removedStart = removed
			}
			last, haveLast = r, true
			removed = 0
		} else {
			removed++
		}
	}
	if haveLast {
		dest = append(dest, change{last, -removed})
	} else {
		removedStart = removed
	}
	ns.transform(dest, removedStart)
}

// prepend puts s before the normalized text, aligned with its first rune.
func (ns *normalizedString) prepend(s string) {
	if ns.normalized == "" {
		return
	}
	first, n := utf8.DecodeRuneInString(ns.normalized)
	dest := make([]change, 0, len(s)+1)
	i := 0
	for _, r := range s {
		if i == 0 {
			dest = append(dest, change{r, 0})
		} else {
			dest = append(dest, change{r, 1})
		}
		i++
	}
	dest = append(dest, change{first, 1})
	ns.transformRange(0, n, dest, 0)
}

// replaceMatches replaces every match of p by content in one pass. The
// runes of content are aligned with the last byte of the match they
// replace, as NormalizedString::replace does.
func (ns *normalizedString) replaceMatches(ctx context.Context, p pattern, content string) error {
	matches, err := p.findMatches(ctx, ns.normalized)
	if err != nil {
		return err
	}
	found := false
	for _, m := range matches {
		if m.isMatch {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	var sb strings.Builder
	sb.Grow(len(ns.normalized) + len(content))
	al := make([]span, 0, len(ns.alignments)+len(content))
	last := 0
	for _, m := range matches {
		if !m.isMatch {
			continue
		}
		sb.WriteString(ns.normalized[last:m.start])
		al = append(al, ns.alignments[last:m.start]...)
		align := span{ns.shift, ns.shift}
		if m.end > 0 {
			align = ns.alignments[m.end-1]
		}
		sb.WriteString(content)
		for range len(content) {
			al = append(al, align)
		}
		last = m.end
	}
	sb.WriteString(ns.normalized[last:])
	al = append(al, ns.alignments[last:]...)
	ns.normalized = sb.String()
	ns.alignments = al
	return nil
}

// stripSpaces removes leading and/or trailing whitespace.
func (ns *normalizedString) stripSpaces(left, right bool) {
	s := ns.normalized
	lead, trail := 0, 0
	if left {
		for _, r := range s {
			if !isWhitespace(r) {
				break
			}
			lead++
		}
	}
	if right {
		for i := len(s); i > 0; {
			r, n := utf8.DecodeLastRuneInString(s[:i])
			if !isWhitespace(r) {
				break
			}
			trail++
			i -= n
		}
	}
	if lead == 0 && trail == 0 {
		return
	}
	count := utf8.RuneCountInString(s)
	dest := make([]change, 0, count)
	i := 0
	for _, r := range s {
		switch {
		case i < lead || i >= count-trail:
		case i == count-trail-1:
			dest = append(dest, change{r, -trail})
		default:
			dest = append(dest, change{r, 0})
		}
		i++
	}
	ns.transform(dest, lead)
}

// slice returns the part of ns whose normalized bytes are [start, end).
func (ns *normalizedString) slice(start, end int) normalizedString {
	if start == end {
		origStart := 0
		if start < len(ns.alignments) {
			origStart = ns.alignments[start].start - ns.shift
		} else if len(ns.alignments) > 0 {
			origStart = ns.alignments[len(ns.alignments)-1].end - ns.shift
		}
		return normalizedString{originalShift: ns.originalShift + origStart}
	}
	first := ns.alignments[start].start
	return normalizedString{
		normalized:    ns.normalized[start:end],
		alignments:    ns.alignments[start:end:end],
		shift:         first,
		originalShift: ns.originalShift + first - ns.shift,
	}
}

// originalRange converts the normalized byte range [start, end) into a byte
// range of the piece of the original text ns was made from, as
// NormalizedString::convert_offsets does.
func (ns *normalizedString) originalRange(start, end int) (int, int, bool) {
	if start == end {
		return start, end, true
	}
	if start > end || end > len(ns.alignments) {
		return 0, 0, false
	}
	s, e := ns.alignments[start].start-ns.shift, ns.alignments[end-1].end-ns.shift
	return max(s, 0), max(e, s, 0), true
}
