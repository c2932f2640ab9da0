package serve

import (
	"github.com/textclf/textclf"
)

// Token is one token of /tokenize. Start and Stop are code point offsets
// into the text (nil for special tokens, and for classic models, whose
// words carry no offsets); ID is -1 for a classic model's word out of its
// vocabulary.
type Token struct {
	ID      int    `json:"id"`
	Text    string `json:"text"`
	Special bool   `json:"special"`
	Start   *int   `json:"start"`
	Stop    *int   `json:"stop"`
}

// tokensOf turns the encoding of text into /tokenize's tokens: a token's
// text is the span of text it covers, else the token itself.
func tokensOf(text string, e textclf.Encoding) []Token {
	runes := []rune(text)
	out := make([]Token, e.Len())
	for i, id := range e.IDs {
		tok := Token{ID: id}
		if i < len(e.Tokens) {
			tok.Text = e.Tokens[i]
		}
		switch {
		case i < len(e.SpecialTokensMask) && e.SpecialTokensMask[i] == 1:
			tok.Special = true
		case i < len(e.Offsets):
			start, stop := e.Offsets[i][0], e.Offsets[i][1]
			if start >= 0 && start <= stop && stop <= len(runes) {
				tok.Text = string(runes[start:stop])
			}
			tok.Start, tok.Stop = &start, &stop
		}
		out[i] = tok
	}
	return out
}

// multiLabel reports whether a model's scores are independent sigmoids
// rather than a softmax over the labels.
func multiLabel(info textclf.ModelInfo) bool {
	return info.Function == textclf.Sigmoid || (info.Function == textclf.None && info.MultiLabel())
}
