package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWordPieceGolden(t *testing.T) { checkModelGolden(t, "wordpiece.json", "WordPiece") }

func TestWordPieceGreedyLongestMatch(t *testing.T) {
	m, err := NewWordPiece(WordPieceConfig{Vocab: map[string]int{
		"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "una": 4, "##ffa": 5, "##ble": 6, "##a": 7,
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		word string
		want string // tokens joined by space, with offsets checked below
	}{
		// "una" is longer than "un", then "##ffa", then "##ble".
		{"unaffable", "una ##ffa ##ble"},
		{"unaff", "[UNK]"}, // "una" then "ff" has no piece
		{"unable", "una ##ble"},
		{"", ""},
	} {
		toks, err := m.Tokenize(tc.word)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		end := 0
		for _, tk := range toks {
			got = append(got, tk.Value)
			end = tk.Offsets[1]
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %v, want %s", tc.word, got, tc.want)
		}
		if end != len(tc.word) {
			t.Errorf("%q: last offset %d, want %d", tc.word, end, len(tc.word))
		}
	}
}

func TestWordPieceTooLongAndMissingUnk(t *testing.T) {
	m, err := NewWordPiece(WordPieceConfig{Vocab: map[string]int{"[UNK]": 0, "a": 1, "##a": 2}, MaxInputCharsPerWord: 3})
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := m.Tokenize("aaa")
	if len(toks) != 3 {
		t.Fatalf("aaa: %v", toks)
	}
	toks, _ = m.Tokenize("aaaa")
	if len(toks) != 1 || toks[0].ID != 0 || toks[0].Offsets != [2]int{0, 4} {
		t.Fatalf("aaaa: %v, want one [UNK] over the word", toks)
	}
	m2, _ := NewWordPiece(WordPieceConfig{Vocab: map[string]int{"a": 1}})
	if _, err := m2.Tokenize("b"); err == nil || !strings.Contains(err.Error(), "[UNK]") {
		t.Fatalf("missing unk: err %v", err)
	}
	if id, ok := m.TokenToID("##a"); !ok || id != 2 {
		t.Errorf("TokenToID(##a) = %d %v", id, ok)
	}
	if tok, ok := m.IDToToken(2); !ok || tok != "##a" {
		t.Errorf("IDToToken(2) = %q %v", tok, ok)
	}
	if _, ok := m.IDToToken(9); ok {
		t.Errorf("IDToToken(9) found")
	}
	if m.VocabSize() != 3 {
		t.Errorf("VocabSize %d", m.VocabSize())
	}
}

func FuzzWordPieceTokenize(f *testing.F) {
	m, err := NewWordPiece(WordPieceConfig{Vocab: map[string]int{
		"[UNK]": 0, "a": 1, "##a": 2, "ab": 3, "##b": 4, "é": 5, "##é": 6, "##": 7, "##中": 8,
	}, MaxInputCharsPerWord: 20})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"aab", "éaé", "a中", "##a", "\xffa", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := m.Tokenize(s)
		if err != nil {
			t.Fatal(err)
		}
		checkModelOffsets(t, s, toks)
		if len(toks) > 0 && toks[len(toks)-1].Offsets[1] != len(s) {
			t.Fatalf("%q: tokens %v do not cover the word", s, toks)
		}
	})
}

// BenchmarkWordPiece tokenizes the words of SST-2 dev sentences with
// bert-base-uncased's vocabulary (trimmed to 6000 in testdata; full when the
// shared folder is there).
func BenchmarkWordPiece(b *testing.B) {
	b.Run("bert-6k", func(b *testing.B) {
		m, words := realisticGoldenModel(b, "realistic-wordpiece-bert")
		benchModelWords(b, m, words, false)
	})
	b.Run("bert-base-uncased", func(b *testing.B) {
		data, err := os.ReadFile(filepath.Join(sharedTokenizersDir, "tokenizers", "bert-base-uncased", "tokenizer.json"))
		if err != nil {
			b.Skip("no bert-base-uncased:", err)
		}
		var tj struct{ Model json.RawMessage }
		if err := json.Unmarshal(data, &tj); err != nil {
			b.Fatal(err)
		}
		m, err := modelFromJSON(tj.Model)
		if err != nil {
			b.Fatal(err)
		}
		_, words := realisticGoldenModel(b, "realistic-wordpiece-bert")
		benchModelWords(b, m, words, false)
	})
}
