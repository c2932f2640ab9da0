package tokenizer

import (
	"sort"
	"unicode"
)

// unicodeScriptsPreTokenizer splits words where the Unicode script changes,
// as HF's UnicodeScripts: Hiragana, Katakana and U+30FC count as Han, a
// space and a rune of no script (unassigned, private use) belong to any
// script, and (as in HF) text before the first rune of a script, that is
// leading spaces, is dropped.
type unicodeScriptsPreTokenizer struct{}

func (unicodeScriptsPreTokenizer) preTokenize(p *preTokenizedString) error {
	return p.splitWith(func(_ int, ns *normalizedString, out []split) ([]split, error) {
		s := ns.normalized
		var cuts []int
		last := ""
		for i, r := range s {
			script := fixedScript(r)
			if script != "Any" && last != "Any" && last != script {
				cuts = append(cuts, i)
			}
			if script != "Any" {
				last = script
			}
		}
		cuts = append(cuts, len(s))
		for k := 0; k+1 < len(cuts); k++ {
			out = appendNonEmpty(out, ns.slice(cuts[k], cuts[k+1]))
		}
		return out, nil
	})
}

// fixedScript is the script HF's UnicodeScripts assigns a rune.
func fixedScript(r rune) string {
	switch {
	case r == ' ':
		return "Any"
	case r == 0x30FC:
		return "Han"
	}
	s := scriptOf(r)
	if s == "Hiragana" || s == "Katakana" {
		return "Han"
	}
	return s
}

// scriptNames lists the scripts of package unicode in a fixed order.
var scriptNames = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for n := range unicode.Scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// scriptOf is the Unicode Script property of r ("Any" when it has none).
func scriptOf(r rune) string {
	if r < 0x80 {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return "Latin"
		}
		return "Common"
	}
	for _, n := range scriptNames {
		if unicode.Is(unicode.Scripts[n], r) {
			return n
		}
	}
	return "Any"
}
