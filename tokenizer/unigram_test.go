package tokenizer

import (
	"fmt"
	"testing"
)

func TestUnigramGolden(t *testing.T) { checkModelGolden(t, "unigram.json", "Unigram") }

func TestUnigramViterbi(t *testing.T) {
	m, err := NewUnigram(UnigramConfig{Vocab: []UnigramPiece{
		{"<unk>", 0}, {"a", -1}, {"b", -1}, {"ab", -1.5}, {"abc", -5}, {"c", -1},
	}, UnkID: 0})
	if err != nil {
		t.Fatal(err)
	}
	for word, want := range map[string]string{
		"ab":    "ab",     // -1.5 beats -2
		"abc":   "ab c",   // -2.5 beats -5
		"axyb":  "a xy b", // x and y are unknown (-15 each) and fused
		"xa":    "x a",
		"ab中ab": "ab 中 ab",
	} {
		toks, err := m.Tokenize(word)
		if err != nil {
			t.Fatal(err)
		}
		if got := joinTokenValues(toks); got != want {
			t.Errorf("%q: %q, want %q", word, got, want)
		}
		checkModelOffsets(t, word, toks)
	}
	toks, _ := m.Tokenize("axyb")
	if toks[1].ID != 0 || toks[1].Offsets != [2]int{1, 3} {
		t.Errorf("fused unknown token %+v, want id 0 over [1,3)", toks[1])
	}
	noUnk, _ := NewUnigram(UnigramConfig{Vocab: []UnigramPiece{{"a", -1}}, UnkID: -1})
	if _, err := noUnk.Tokenize("ax"); err == nil {
		t.Errorf("unknown character without unk_id: no error")
	}
	if _, err := NewUnigram(UnigramConfig{Vocab: []UnigramPiece{{"a", -1}}, UnkID: 1}); err == nil {
		t.Errorf("unk_id out of range: no error")
	}
}

func TestUnigramByteFallback(t *testing.T) {
	v := []UnigramPiece{{"<unk>", 0}, {"a", -1}}
	for b := 0; b < 256; b++ {
		v = append(v, UnigramPiece{fmt.Sprintf("<0x%02X>", b), -10})
	}
	m, err := NewUnigram(UnigramConfig{Vocab: v, UnkID: 0, ByteFallback: true})
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := m.Tokenize("aé")
	if got := joinTokenValues(toks); got != "a <0xC3> <0xA9>" {
		t.Fatalf("got %q", got)
	}
	// Both byte tokens carry the offsets of the character.
	if toks[1].Offsets != [2]int{1, 3} || toks[2].Offsets != [2]int{1, 3} {
		t.Errorf("offsets %v %v", toks[1].Offsets, toks[2].Offsets)
	}
}

func FuzzUnigramTokenize(f *testing.F) {
	m, err := NewUnigram(UnigramConfig{Vocab: []UnigramPiece{
		{"<unk>", 0}, {"a", -1}, {"b", -2}, {"ab", -2.5}, {"é", -1}, {"aé", -1.2}, {"<0x41>", -3},
	}, UnkID: 0, ByteFallback: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"abab", "aéx", "中ab", "\xff\xfe", "😀", "<unk>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := m.Tokenize(s)
		if err != nil {
			t.Fatal(err)
		}
		checkModelOffsets(t, s, toks)
	})
}

// BenchmarkUnigram tokenizes SentencePiece-style words of SST-2 dev
// sentences with a Unigram model trained on SST-2 (testdata), with the word
// cache on (as HF by default) and off.
func BenchmarkUnigram(b *testing.B) {
	for _, noCache := range []bool{false, true} {
		name := map[bool]string{false: "sst2-2.5k", true: "sst2-2.5k-nocache"}[noCache]
		b.Run(name, func(b *testing.B) {
			m, words := realisticGoldenModel(b, "realistic-unigram-sst2")
			benchModelWords(b, m, words, noCache)
		})
	}
}
