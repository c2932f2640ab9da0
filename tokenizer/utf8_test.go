package tokenizer

import "testing"

func TestToValidUTF8(t *testing.T) {
	// Expected values follow the WHATWG decoder (one U+FFFD per maximal subpart).
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"\xff", "\uFFFD"},
		{"a\xffb", "a\uFFFDb"},
		{"\xff\xff", "\uFFFD\uFFFD"},
		{"\xe2\x82A", "\uFFFDA"},               // truncated 3-byte sequence: one replacement
		{"\xe2\x82\xac", "€"},                  // valid
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED then two lone continuation bytes
		{"\xf0\x9f\x98", "\uFFFD"},             // truncated emoji
		{"\xc0\xaf", "\uFFFD\uFFFD"},           // overlong
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	}
	for _, c := range cases {
		if got := ToValidUTF8(c.in); got != c.want {
			t.Errorf("ToValidUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
