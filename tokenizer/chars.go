package tokenizer

import "unicode"

// isWhitespace is Rust's char::is_whitespace: the Unicode White_Space property.
func isWhitespace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

// isBertWhitespace is BERT's whitespace: \t, \n, \r and White_Space.
func isBertWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || isWhitespace(r)
}

// isBertControl is BERT's control test: the Other categories (Cc, Cf, Cn,
// Co, Cs) except \t, \n and \r, which count as whitespace.
func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return isOther(r)
}

// isOther reports whether r is in a General Category C* (control, format,
// private use, surrogate, or unassigned).
func isOther(r rune) bool {
	if r < 0x80 {
		return r < 0x20 || r == 0x7F
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Unassigned (Cn): in no category at all. HF's tables do not count the
	// noncharacters (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF) as other.
	if (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE {
		return false
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isPunctuation is HF's is_punc: ASCII punctuation or a Unicode P* category.
func isPunctuation(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

// isChineseChar reports whether r is in a CJK Unified Ideographs block, as
// BERT's _is_chinese_char defines it.
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// isWordChar is the Unicode \w class of Oniguruma and of Rust's regex crate
// (UTS #18): alphabetic, marks, decimal digits, connector punctuation and
// the join controls.
func isWordChar(r rune) bool {
	if r < 0x80 {
		return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.In(r, unicode.L, unicode.Nl, unicode.M, unicode.Nd, unicode.Pc, unicode.Other_Alphabetic) ||
		r == 0x200C || r == 0x200D
}
