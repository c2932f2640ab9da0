package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFromJSON loads arbitrary tokenizer.json contents: an error or a
// working tokenizer, never a panic.
func FuzzFromJSON(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(goldenDir, "variants", "*.json"))
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1},"unk_token":"[UNK]"},"pre_tokenizer":{"type":"Whitespace"}}`))
	f.Add([]byte(`{"model":{"vocab":[["<unk>",0],["a",-1]],"unk_id":0},"normalizer":{"type":"Replace","pattern":{"Regex":"(a"},"content":""}}`))
	f.Add([]byte(`{"added_tokens":[{"id":-3,"content":"x"}],"model":{"vocab":{"a":0},"merges":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		timer := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("hang on %q", data)) })
		defer timer.Stop()
		tk, err := FromJSON(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "Hello, world!", "héllo  wörld 你好 🤗", "[CLS] a b"} {
			e, err := tk.Encode(s, true)
			if err != nil {
				continue
			}
			checkEncoding(t, s, e)
			_, _ = tk.Decode(e.IDs, true)
		}
	})
}

// FuzzEncode encodes arbitrary bytes with each kind of real tokenizer.
func FuzzEncode(f *testing.F) {
	var tks []*Tokenizer
	for _, name := range []string{"bert-base-uncased", "roberta-style", "unigram"} {
		tk, err := Load(filepath.Join(goldenDir, name))
		if err != nil {
			f.Fatal(err)
		}
		tks = append(tks, tk)
	}
	for _, s := range []string{"", "Hello, world!", "\xff\xfe a\x00b", "<s>x</s><mask> y", "ﬁ ǅ é̂ 가", "  \t\u3000 end "} {
		f.Add(s, "pair")
	}
	f.Fuzz(func(t *testing.T, text, pair string) {
		for _, tk := range tks {
			e, err := tk.Encode(text, true)
			if err != nil {
				t.Fatalf("encode %q: %v", text, err)
			}
			checkEncoding(t, ToValidUTF8(text), e)
			if _, err := tk.EncodePair(text, pair, true); err != nil {
				t.Fatalf("encode pair %q %q: %v", text, pair, err)
			}
			if _, err := tk.Decode(e.IDs, false); err != nil {
				t.Fatalf("decode %v: %v", e.IDs, err)
			}
		}
	})
}

// checkEncoding asserts the invariants every encoding of text must hold.
func checkEncoding(t *testing.T, text string, e Encoding) {
	t.Helper()
	n := len(e.IDs)
	if len(e.TypeIDs) != n || len(e.Tokens) != n || len(e.Offsets) != n || len(e.AttentionMask) != n ||
		len(e.SpecialTokensMask) != n || len(e.WordIDs) != n {
		t.Fatalf("%q: fields of different lengths: %d ids, %d type ids, %d tokens, %d offsets", text, n, len(e.TypeIDs), len(e.Tokens), len(e.Offsets))
	}
	runes := utf8.RuneCountInString(text)
	for i, o := range e.Offsets {
		if o[0] < 0 || o[0] > o[1] || o[1] > max(runes, len(text)) {
			t.Fatalf("%q: token %d %q has offsets %v outside the %d code points", text, i, e.Tokens[i], o, runes)
		}
	}
}
