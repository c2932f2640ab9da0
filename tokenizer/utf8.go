package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// ToValidUTF8 replaces each maximal invalid subsequence of s by U+FFFD, as
// the WHATWG decoder (Node's and Python's "replace") does; valid text is
// returned as it is.
func ToValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += invalidPrefixLen(s[i:])
	}
	return b.String()
}

// invalidPrefixLen is the length of the maximal subpart at the start of s: the
// longest prefix that could begin a valid sequence (at least one byte).
func invalidPrefixLen(s string) int {
	lead := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(s) {
		c := s[n]
		if n == 1 && (c < lo || c > hi) {
			break
		}
		if n > 1 && (c < 0x80 || c > 0xBF) {
			break
		}
		n++
	}
	return n
}
