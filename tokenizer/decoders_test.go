package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodersGolden decodes token lists with decoders parsed from the JSON
// HF tokenizers wrote them from, and compares with HF's decoded text.
func TestDecodersGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "models", "decoders.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Decoder json.RawMessage `json:"decoder"`
		Tokens  []string        `json:"tokens"`
		Text    string          `json:"text"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		d, err := decoderFromJSON(c.Decoder)
		if err != nil {
			t.Errorf("%s: %v", c.Decoder, err)
			continue
		}
		got, err := decodeTokens(d, c.Tokens)
		if err != nil {
			t.Errorf("%s %q: %v", c.Decoder, c.Tokens, err)
			continue
		}
		if got != c.Text {
			t.Errorf("%s %q: %q, HF %q", c.Decoder, c.Tokens, got, c.Text)
		}
	}
}

func TestDecodeTokensNil(t *testing.T) {
	got, err := decodeTokens(nil, []string{"a", "##b", "c"})
	if err != nil || got != "a ##b c" {
		t.Fatalf("%q %v", got, err)
	}
	d, err := decoderFromJSON(json.RawMessage("null"))
	if err != nil || d != nil {
		t.Fatalf("null decoder: %v %v", d, err)
	}
}

func TestDecoderChains(t *testing.T) {
	// Pieces, not only the joined text, follow HF's decode_chain.
	pieces, _ := (&WordPieceDecoder{Prefix: "##", Cleanup: true}).DecodeChain([]string{"a", "##b", "c", "."})
	if strings.Join(pieces, "|") != "a|b| c|." {
		t.Errorf("wordpiece pieces %q", pieces)
	}
	pieces, _ = (&CTCDecoder{PadToken: "<pad>", WordDelimiterToken: "|", Cleanup: true}).DecodeChain([]string{"a", "a", "<pad>", "a", "|"})
	if strings.Join(pieces, ",") != "a,a, " {
		t.Errorf("ctc pieces %q", pieces)
	}
	pieces, _ = (&ByteFallbackDecoder{}).DecodeChain([]string{"<0xE4>", "<0xB8>", "x"})
	if strings.Join(pieces, ",") != "\uFFFD,\uFFFD,x" {
		t.Errorf("byte fallback pieces %q", pieces)
	}
	pieces, _ = (&StripDecoder{Content: 'x', Start: 5, Stop: 5}).DecodeChain([]string{"xx", "xax", ""})
	if strings.Join(pieces, ",") != ",a," {
		t.Errorf("strip pieces %q", pieces)
	}
}

func TestLossyUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"abc":                  "abc",
		"a\xffb":               "a\uFFFDb",
		"\xe2\x82a":            "\uFFFDa",            // one maximal subpart
		"\xe2\x82\xe2\x82":     "\uFFFD\uFFFD",       // two
		"\xed\xa0\x80":         "\uFFFD\uFFFD\uFFFD", // surrogate: ED then two lone continuations
		"\xf0\x9f\x98":         "\uFFFD",
		"\xf0\x9f\x98\x80\x80": "😀\uFFFD",
		"\xc0\xaf":             "\uFFFD\uFFFD",
	} {
		if got := ToValidUTF8(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestDecoderFromJSONErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"prefix":"##"}`, `missing field "type"`},
		{`{"type":"Nope"}`, `unknown type "Nope"`},
		{`{"type":"Metaspace","replacement":"ab"}`, "single character"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes"}`, "unknown prepend_scheme"},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":false}`, "does not match prepend_scheme"},
		{`{"type":"Strip","content":" ","start":-1,"stop":0}`, "negative"},
		{`{"type":"Strip","start":1,"stop":0}`, `missing field "content"`},
		{`{"type":"Replace","pattern":{"Foo":"x"},"content":""}`, `"pattern" must be`},
		{`{"type":"Replace","pattern":{"Regex":"("},"content":""}`, "regex"},
		{`{"type":"Sequence"}`, `missing field "decoders"`},
		{`{"type":"Sequence","decoders":[null]}`, "decoders[0] is null"},
		{`{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"X"}]}`, "decoders[1]"},
		{`{"type":"WordPiece","cleanup":"yes"}`, `"cleanup" is not a boolean`},
		{`[]`, "not a JSON object"},
		{strings.Repeat(`{"type":"Sequence","decoders":[`, 40) + strings.Repeat(`]}`, 40), "nested"},
	} {
		if _, err := decoderFromJSON(json.RawMessage(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.json, err, tc.want)
		}
	}
}

func FuzzDecoderFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}`,
		`{"type":"WordPiece","prefix":"##","cleanup":true}`,
		`{"type":"ByteLevel"}`,
		`{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"}`,
		`{"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true}`,
		`{"type":"BPEDecoder","suffix":"</w>"}`,
		`{"type":"Strip","content":"x","start":3,"stop":9}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decoderFromJSON(json.RawMessage(s))
		if err != nil || d == nil {
			return
		}
		if _, err := decodeTokens(d, []string{"▁a", "<0xC3>", "<0xA9>", "##b", "Ġc", "x", "", "</w>", "|"}); err != nil {
			t.Fatal(err)
		}
	})
}
