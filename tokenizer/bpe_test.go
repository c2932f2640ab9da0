package tokenizer

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestBPEGolden(t *testing.T) { checkModelGolden(t, "bpe.json", "BPE") }

func joinTokenValues(toks []Token) string {
	var s []string
	for _, t := range toks {
		s = append(s, t.Value)
	}
	return strings.Join(s, " ")
}

func TestBPEMergeOrder(t *testing.T) {
	// Rank decides, not position: "b c" (rank 0) beats "a b" (rank 1) in
	// "abc"; then "a bc" (rank 2) applies.
	m, err := NewBPE(BPEConfig{
		Vocab:  map[string]int{"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "aa": 6},
		Merges: [][2]string{{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"a", "a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for word, want := range map[string]string{
		"abc":   "abc",
		"ab":    "ab",
		"aaa":   "aa a", // leftmost first among equal ranks
		"aaaaa": "aa aa a",
		"cab":   "c ab",
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
}

func TestBPEUnknownAndFallback(t *testing.T) {
	vocab := map[string]int{"<unk>": 0, "a": 1, "<0x7A>": 2}
	m, _ := NewBPE(BPEConfig{Vocab: vocab, UnkToken: "<unk>"})
	toks, _ := m.Tokenize("axya")
	if got := joinTokenValues(toks); got != "a <unk> <unk> a" {
		t.Errorf("unfused: %q", got)
	}
	m, _ = NewBPE(BPEConfig{Vocab: vocab, UnkToken: "<unk>", FuseUnk: true})
	toks, _ = m.Tokenize("axya")
	if got := joinTokenValues(toks); got != "a <unk> a" || toks[1].Offsets != [2]int{1, 3} {
		t.Errorf("fused: %q %v", got, toks)
	}
	m, _ = NewBPE(BPEConfig{Vocab: vocab})
	toks, _ = m.Tokenize("axya")
	if got := joinTokenValues(toks); got != "a a" {
		t.Errorf("no unk: %q", got)
	}
	m, _ = NewBPE(BPEConfig{Vocab: vocab, UnkToken: "<unk>", ByteFallback: true})
	toks, _ = m.Tokenize("az")
	if got := joinTokenValues(toks); got != "a <0x7A>" {
		t.Errorf("byte fallback: %q", got)
	}
	m, _ = NewBPE(BPEConfig{Vocab: vocab, UnkToken: "[UNK]"})
	if _, err := m.Tokenize("ax"); err == nil {
		t.Errorf("unk missing from vocab: no error")
	}
}

func TestBPEIgnoreMergesAndCache(t *testing.T) {
	m, _ := NewBPE(BPEConfig{
		Vocab:        map[string]int{"a": 0, "b": 1, "ab": 2, "ba": 3, "aba": 4},
		Merges:       [][2]string{{"a", "b"}},
		IgnoreMerges: true,
	})
	toks, _ := m.Tokenize("ba")
	if got := joinTokenValues(toks); got != "ba" {
		t.Errorf("ignore_merges: %q, want ba", got)
	}
	// Concurrent use of the cache gives the same tokens.
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				w := strings.Repeat("ab", i%7+1) + "b"
				toks, err := m.Tokenize(w)
				if err != nil {
					errs <- err.Error()
					return
				}
				if got, want := joinTokenValues(toks), strings.TrimSpace(strings.Repeat("ab ", i%7+1))+" b"; got != want {
					errs <- fmt.Sprintf("%q: %q, want %q", w, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestBPEErrors(t *testing.T) {
	for _, cfg := range []BPEConfig{
		{Vocab: map[string]int{"a": 0}, Merges: [][2]string{{"a", "b"}}},
		{Vocab: map[string]int{"a": 0, "b": 1}, Merges: [][2]string{{"a", "b"}}},
		{Vocab: map[string]int{"a": -1}},
		{Dropout: 2},
	} {
		if _, err := NewBPE(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func FuzzBPETokenize(f *testing.F) {
	vocab := map[string]int{"<unk>": 0, "a": 1, "b": 2, "ab": 3, "é": 4, "aé": 5, "abab": 6}
	for b := 0; b < 200; b++ {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 7 + b
	}
	merges := [][2]string{{"a", "b"}, {"a", "é"}, {"ab", "ab"}}
	models := []*BPE{}
	for _, cfg := range []BPEConfig{
		{Vocab: vocab, Merges: merges, UnkToken: "<unk>"},
		{Vocab: vocab, Merges: merges, UnkToken: "<unk>", FuseUnk: true, ByteFallback: true},
		{Vocab: vocab, Merges: merges},
	} {
		m, err := NewBPE(cfg)
		if err != nil {
			f.Fatal(err)
		}
		models = append(models, m)
	}
	for _, s := range []string{"abab", "aéx", "中ab", "\xff\xfe", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range models {
			toks, err := m.Tokenize(s)
			if err != nil {
				t.Fatal(err)
			}
			checkModelOffsets(t, s, toks)
		}
	})
}

// BenchmarkBPE tokenizes the words of SST-2 dev sentences with a byte-level
// BPE trained on SST-2 (testdata) and, when the shared folder is there, with
// GPT-2's 50k vocabulary, with the word cache on (as HF by default) and off.
func BenchmarkBPE(b *testing.B) {
	for _, noCache := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "-nocache"}[noCache]
		b.Run("sst2-3k"+suffix, func(b *testing.B) {
			m, words := realisticGoldenModel(b, "realistic-bpe-bytelevel-sst2")
			benchModelWords(b, m, words, noCache)
		})
		b.Run("gpt2"+suffix, func(b *testing.B) {
			dir := filepath.Join(sharedTokenizersDir, "tokenizers", "gpt2")
			vocab, merges, err := ReadBPEFiles(filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"))
			if err != nil {
				b.Skip("no GPT-2 files:", err)
			}
			m, err := NewBPE(BPEConfig{Vocab: vocab, Merges: merges})
			if err != nil {
				b.Fatal(err)
			}
			_, words := realisticGoldenModel(b, "realistic-bpe-bytelevel-sst2")
			benchModelWords(b, m, words, noCache)
		})
	}
}
