package classic

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/go-ego/gse"
)

// Segmentation modes for classic models.
const (
	// SegmentWords splits on whitespace, splits punctuation off as tokens
	// and makes every CJK ideograph (and kana) its own token: the default,
	// good for spaced languages and character-level Chinese.
	SegmentWords = "words"
	// SegmentWhitespace splits on whitespace only, like fastText.
	SegmentWhitespace = "whitespace"
	// SegmentChineseWords cuts runs of Chinese into words with the gse
	// segmenter's embedded simplified-Chinese dictionary, other text as
	// SegmentWords does.
	SegmentChineseWords = "zh-words"
	// SegmentEnglishWords is SegmentWords with English clitics split off
	// as the Penn Treebank tokenizer splits them, the tokenization of
	// SST-2, GloVe and most English corpora: "isn't" → "is" "n't",
	// "can't" → "ca" "n't", "it's" → "it" "'s" (also 're 've 'll 'd 'm),
	// and a clitic already split off by a space ("it 's") stays one token.
	// The typographic apostrophe ’ counts as '. Raw text then meets a model
	// trained on such corpora with the same tokens.
	SegmentEnglishWords = "en-words"
)

// Segmenter splits text into the tokens that classic models see.
type Segmenter struct {
	// Mode is one of SegmentWords, SegmentWhitespace, SegmentChineseWords.
	Mode string `json:"mode"`
	// Lower lower-cases the text first.
	Lower bool `json:"lower"`
}

// Check reports an unknown mode.
func (s Segmenter) Check() error {
	switch s.Mode {
	case "", SegmentWords, SegmentWhitespace, SegmentChineseWords, SegmentEnglishWords:
		return nil
	}
	return fmt.Errorf("unknown segmentation %q (want %s, %s, %s or %s)", s.Mode, SegmentWords, SegmentWhitespace, SegmentChineseWords, SegmentEnglishWords)
}

var (
	gseOnce sync.Once
	gseSeg  gse.Segmenter
	gseErr  error
)

func chineseSegmenter() (*gse.Segmenter, error) {
	gseOnce.Do(func() {
		gseSeg.SkipLog = true
		// Case is the Segmenter's Lower option's business, not gse's.
		gse.ToLower = false
		gseErr = gseSeg.LoadDictEmbed("zh_s")
	})
	return &gseSeg, gseErr
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// Segment returns the tokens of text.
func (s Segmenter) Segment(text string) ([]string, error) {
	if s.Lower {
		text = strings.ToLower(text)
	}
	switch s.Mode {
	case SegmentWhitespace:
		return strings.Fields(text), nil
	case SegmentChineseWords:
		seg, err := chineseSegmenter()
		if err != nil {
			return nil, fmt.Errorf("load the Chinese dictionary: %w", err)
		}
		var out []string
		for _, piece := range seg.Cut(text, true) {
			out = appendWords(out, piece, false, false)
		}
		return out, nil
	case "", SegmentWords:
		return appendWords(nil, text, true, false), nil
	case SegmentEnglishWords:
		return splitClitics(appendWords(nil, strings.ReplaceAll(text, "’", "'"), true, true)), nil
	}
	return nil, s.Check()
}

// appendWords splits text on whitespace and punctuation; with cjkChars every
// CJK character is a token, otherwise a run of CJK stays one token; with
// clitics an apostrophe that starts a clitic ("it 's") starts a word.
func appendWords(out []string, text string, cjkChars, clitics bool) []string {
	start := -1
	flush := func(i int) {
		if start >= 0 {
			out = append(out, text[start:i])
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case unicode.IsSpace(r) || r == 0:
			flush(i)
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || (cjkChars && isCJK(r)):
			// Keep apostrophes and hyphens inside words ("don't", "e-mail"),
			// and an apostrophe that starts a clitic ("it 's").
			if (r == '\'' || r == '-') && start >= 0 && i+1 < len(text) && isWordByte(text[i+1]) {
				continue
			}
			if clitics && r == '\'' && start < 0 && clitic(text[i:]) != "" {
				start = i
				continue
			}
			flush(i)
			out = append(out, string(r))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(text))
	return out
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

// clitics are the English clitics that begin with an apostrophe, which the
// Penn Treebank tokenizer splits off the word before them.
var clitics = []string{"'s", "'re", "'ve", "'ll", "'d", "'m"}

// clitic returns the clitic that text starts with when the clitic is a
// whole word there (followed by the end or a byte that is not a letter or
// digit), or "". Case is ignored ("'S"); the text's own spelling is
// returned.
func clitic(text string) string {
	for _, c := range clitics {
		if len(text) >= len(c) && strings.EqualFold(text[:len(c)], c) && (len(text) == len(c) || !isWordByte(text[len(c)])) {
			return text[:len(c)]
		}
	}
	return ""
}

// splitClitics splits "n't" and the clitics off the words that end in them
// ("isn't" → "is" "n't", "they're" → "they" "'re", "we'd've" → "we" "'d"
// "'ve"), as the Penn Treebank tokenizer does; words that are only a clitic
// stay as they are.
func splitClitics(words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		var tail []string // the clitics split off w, last first
		for {
			if n := len(w); n > 3 && strings.EqualFold(w[n-3:], "n't") {
				tail, w = append(tail, w[n-3:]), w[:n-3]
				continue
			}
			if i := strings.LastIndexByte(w, '\''); i > 0 && clitic(w[i:]) == w[i:] {
				tail, w = append(tail, w[i:]), w[:i]
				continue
			}
			break
		}
		out = append(out, w)
		for i := len(tail) - 1; i >= 0; i-- {
			out = append(out, tail[i])
		}
	}
	return out
}
