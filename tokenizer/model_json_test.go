package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// modelGoldenCase is one model of testdata/models/*.json, written by
// scripts/tokmodels/gen.js with HF tokenizers.
type modelGoldenCase struct {
	Name   string          `json:"name"`
	Model  json.RawMessage `json:"model"`
	Inputs []struct {
		Text    string   `json:"text"`
		IDs     []int    `json:"ids"`
		Tokens  []string `json:"tokens"`
		Offsets [][2]int `json:"offsets"` // code points
		Error   string   `json:"error"`
	} `json:"inputs"`
}

func loadModelGolden(t *testing.T, file string) []modelGoldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "models", file))
	if err != nil {
		t.Fatal(err)
	}
	var cases []modelGoldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return cases
}

// hfCharOffsets converts byte offsets into s to code point offsets as HF's
// bindings do: the start is the character holding the start byte, the end
// follows the character holding the last byte, so a byte token inside a
// character maps to that whole character.
func hfCharOffsets(s string, off [2]int) [2]int {
	charAt := func(b int) int {
		n := 0
		for i := range s {
			if i > b {
				return n - 1
			}
			n++
		}
		if b >= len(s) {
			return n
		}
		return n - 1
	}
	if off[1] <= off[0] {
		return [2]int{charAt(off[0]), charAt(off[0])}
	}
	return [2]int{charAt(off[0]), charAt(off[1]-1) + 1}
}

// checkModelGolden runs every case of file through modelFromJSON and Tokenize and
// compares ids, token strings and offsets with HF's.
func checkModelGolden(t *testing.T, file string, wantType string) {
	n := 0
	for _, c := range loadModelGolden(t, file) {
		t.Run(c.Name, func(t *testing.T) {
			m, err := modelFromJSON(c.Model)
			if err != nil {
				t.Fatalf("modelFromJSON: %v", err)
			}
			if got := modelTypeName(m); wantType != "" && got != wantType {
				t.Fatalf("model type %s, want %s", got, wantType)
			}
			for _, in := range c.Inputs {
				toks, err := m.Tokenize(in.Text)
				if in.Error != "" {
					if err == nil {
						t.Errorf("%q: no error, HF fails with %q", in.Text, in.Error)
					}
					continue
				}
				if err != nil {
					t.Errorf("%q: %v", in.Text, err)
					continue
				}
				n++
				if len(toks) != len(in.IDs) {
					t.Errorf("%q: got %d tokens %v, HF %v %v", in.Text, len(toks), toks, in.Tokens, in.IDs)
					continue
				}
				nChars := utf8.RuneCountInString(in.Text)
				for i, tk := range toks {
					off := hfCharOffsets(in.Text, tk.Offsets)
					// HF's offsets can overrun the word (byte fallback with a
					// prefix); ours are clamped to it.
					want := [2]int{min(in.Offsets[i][0], nChars), min(in.Offsets[i][1], nChars)}
					if tk.ID != in.IDs[i] || tk.Value != in.Tokens[i] || off != want {
						t.Errorf("%q: token %d = {%d %q %v}, HF {%d %q %v}", in.Text, i, tk.ID, tk.Value, off, in.IDs[i], in.Tokens[i], in.Offsets[i])
					}
				}
			}
		})
	}
	if n == 0 {
		t.Fatalf("%s: no input compared", file)
	}
}

func modelTypeName(m Model) string {
	switch m.(type) {
	case *BPE:
		return "BPE"
	case *WordPiece:
		return "WordPiece"
	case *Unigram:
		return "Unigram"
	}
	return "?"
}

func TestModelFromJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"not object", `[1]`, "not a JSON object"},
		{"unknown type", `{"type":"Foo","vocab":{}}`, `unknown type "Foo"`},
		{"wordlevel vocab not an object", `{"type":"WordLevel","vocab":[1,2],"unk_token":"x"}`, "vocab"},
		{"no vocab", `{"merges":[]}`, `no "vocab"`},
		{"bpe vocab list", `{"type":"BPE","vocab":[],"merges":[]}`, `field "vocab"`},
		{"bpe negative id", `{"type":"BPE","vocab":{"a":-1},"merges":[]}`, `token "a" has invalid id`},
		{"bpe fractional id", `{"type":"BPE","vocab":{"a":1.5},"merges":[]}`, `token "a" has invalid id`},
		{"bpe no merges", `{"type":"BPE","vocab":{"a":0}}`, `missing field "merges"`},
		{"bpe bad merge string", `{"type":"BPE","vocab":{"a":0},"merges":["a b c"]}`, `merges[0] "a b c"`},
		{"bpe bad merge pair", `{"type":"BPE","vocab":{"a":0},"merges":[["a"]]}`, `merges[0] is neither`},
		{"bpe merge out of vocab", `{"type":"BPE","vocab":{"a":0},"merges":["a b"]}`, `token "b" not in the vocabulary`},
		{"bpe merged out of vocab", `{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}`, `merged token "ab" not in the vocabulary`},
		{"bpe prefix longer than token", `{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"],"continuing_subword_prefix":"##"}`, `shorter than the continuing subword prefix`},
		{"bpe dropout", `{"type":"BPE","vocab":{},"merges":[],"dropout":1.5}`, "dropout"},
		{"bpe fuse_unk type", `{"type":"BPE","vocab":{},"merges":[],"fuse_unk":"yes"}`, `field "fuse_unk" is not a boolean`},
		{"wordpiece vocab", `{"type":"WordPiece","vocab":3}`, `field "vocab"`},
		{"wordpiece max chars", `{"type":"WordPiece","vocab":{},"max_input_chars_per_word":-1}`, "negative"},
		{"wordpiece max chars float", `{"type":"WordPiece","vocab":{},"max_input_chars_per_word":1.5}`, `"max_input_chars_per_word" is not an integer`},
		{"unigram vocab", `{"type":"Unigram","vocab":{"a":1}}`, "not a list of [piece, score] pairs"},
		{"unigram pair", `{"type":"Unigram","vocab":[["a"]]}`, "vocab[0] is not a [piece, score] pair"},
		{"unigram score", `{"type":"Unigram","vocab":[["a","x"]]}`, "vocab[0]: score is not a number"},
		{"unigram unk_id", `{"type":"Unigram","vocab":[["a",0]],"unk_id":3}`, "unk_id 3 is not in the vocabulary"},
		{"unigram unk_id empty", `{"type":"Unigram","vocab":[],"unk_id":0}`, "empty"},
		{"unigram unk_id negative", `{"type":"Unigram","vocab":[["a",0]],"unk_id":-2}`, "negative"},
		{"no type unknown fields", `{"vocab":{"a":0}}`, "match no known model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modelFromJSON(json.RawMessage(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestModelFromJSONInfersType(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}`, "BPE"},
		{`{"vocab":{"a":0},"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100}`, "WordPiece"},
		{`{"vocab":[["a",-1]],"unk_id":null}`, "Unigram"},
	} {
		m, err := modelFromJSON(json.RawMessage(tc.json))
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if got := modelTypeName(m); got != tc.want {
			t.Errorf("%s: type %s, want %s", tc.json, got, tc.want)
		}
	}
}

// FuzzModelFromJSON checks that parsing arbitrary model objects never panics
// and that a model that parses tokenizes a few words without panicking.
func FuzzModelFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"<unk>":3},"merges":["a b"],"unk_token":"<unk>","fuse_unk":true}`,
		`{"type":"BPE","vocab":{"a":0,"##b":1,"ab":2},"merges":[["a","##b"]],"continuing_subword_prefix":"##","byte_fallback":true}`,
		`{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"##b":2},"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":5}`,
		`{"type":"Unigram","vocab":[["<unk>",0],["a",-1],["ab",-1.5]],"unk_id":0,"byte_fallback":true}`,
		`{"vocab":[["a",-1]]}`,
		`{"vocab":{"a":0},"merges":[]}`,
		`{"type":"BPE","vocab":{"a":9999999},"merges":[]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := modelFromJSON(json.RawMessage(s))
		if err != nil {
			return
		}
		for _, w := range []string{"a", "ab", "abab", "xyz", "é中", "\xff"} {
			toks, err := m.Tokenize(w)
			if err != nil {
				continue
			}
			checkModelOffsets(t, w, toks)
		}
	})
}

// checkModelOffsets asserts offsets lie within the word and never go backwards.
func checkModelOffsets(t *testing.T, word string, toks []Token) {
	t.Helper()
	prev := 0
	for i, tk := range toks {
		a, b := tk.Offsets[0], tk.Offsets[1]
		if a < 0 || b > len(word) || a > b || a < prev {
			t.Fatalf("%q: token %d %+v has offsets out of order or bounds", word, i, tk)
		}
		prev = a
	}
}

// TestRealisticGolden runs models trained on SST-2 (Unigram, byte-level BPE)
// and a trimmed bert-base-uncased WordPiece on SST-2 dev words.
func TestRealisticGolden(t *testing.T) { checkModelGolden(t, "realistic.json", "") }

// realisticGoldenModel returns the model and words of a case of realistic.json.
func realisticGoldenModel(b *testing.B, name string) (Model, []string) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "models", "realistic.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cases []modelGoldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != name {
			continue
		}
		m, err := modelFromJSON(c.Model)
		if err != nil {
			b.Fatal(err)
		}
		var words []string
		for _, in := range c.Inputs {
			if in.Error == "" {
				words = append(words, in.Text)
			}
		}
		return m, words
	}
	b.Fatalf("no case %s", name)
	return nil, nil
}

// benchModelWords tokenizes words b.N times and reports the time per word. With
// noCache the model's word cache is disabled, so every word is merged.
func benchModelWords(b *testing.B, m Model, words []string, noCache bool) {
	switch mm := m.(type) {
	case *BPE:
		if noCache {
			mm.cache.capacity = 0
		}
	case *Unigram:
		if noCache {
			mm.cache.capacity = 0
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range words {
			if _, err := m.Tokenize(w); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(words)), "ns/word")
}

// sharedTokenizersDir is the team's shared folder next to the repository, used by
// benchmarks on full-size tokenizers when it exists.
const sharedTokenizersDir = "../../shared"
