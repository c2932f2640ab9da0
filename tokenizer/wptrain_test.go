package tokenizer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// hfWordPieceGolden is a tokenizer/testdata/wptrain/hf-*.json file written by
// scripts/tokenizer/wordpiece/gen.js: the vocabularies of several runs of HF's
// default WordPieceTrainer on one corpus.
type hfWordPieceGolden struct {
	Corpus     string `json:"corpus"`
	Normalizer struct {
		CleanText          bool  `json:"clean_text"`
		HandleChineseChars bool  `json:"handle_chinese_chars"`
		StripAccents       *bool `json:"strip_accents"`
		Lowercase          bool  `json:"lowercase"`
	} `json:"normalizer"`
	Runs [][]string `json:"runs"`
}

func loadWordPieceGoldens(t *testing.T) map[string]hfWordPieceGolden {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "wptrain", "hf-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	out := map[string]hfWordPieceGolden{}
	for _, f := range files {
		if strings.HasSuffix(f, "hf-encodings.json") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g hfWordPieceGolden
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(g.Runs) == 0 {
			t.Fatalf("%s: no runs", f)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "hf-"), ".json")] = g
	}
	return out
}

// hfConfig is the configuration of HF's default WordPieceTrainer (what the
// golden runs used) with g's normalizer.
func (g hfWordPieceGolden) config() WordPieceTrainerConfig {
	return WordPieceTrainerConfig{VocabSize: 30000, ContinuingSubwordPrefix: "##", UnkToken: "[UNK]",
		CleanText: g.Normalizer.CleanText, HandleChineseChars: g.Normalizer.HandleChineseChars,
		StripAccents: g.Normalizer.StripAccents, Lowercase: g.Normalizer.Lowercase}
}

// continuingBlock returns the one-character continuing tokens of an HF
// vocabulary in id order, and the id of the first of them: they follow the
// special tokens and the alphabet, and precede every merged token.
func continuingBlock(vocab []string, start int) ([]string, int) {
	i := start
	for i < len(vocab) && utf8.RuneCountInString(vocab[i]) == 1 {
		i++
	}
	first := i
	for i < len(vocab) && strings.HasPrefix(vocab[i], "##") && utf8.RuneCountInString(vocab[i]) == 3 {
		i++
	}
	return vocab[first:i], first
}

func trainOn(t *testing.T, cfg WordPieceTrainerConfig, contOrder []string, corpora ...string) (*TrainedWordPiece, *WordPieceTrainer) {
	t.Helper()
	tr, err := NewWordPieceTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.contOrder = contOrder
	for _, c := range corpora {
		if err := tr.FeedFile(context.Background(), filepath.Join("testdata", "wptrain", c)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res, tr
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "id " + itoa(i) + ": " + a[i] + " vs " + b[i]
		}
	}
	return "lengths " + itoa(len(a)) + " vs " + itoa(len(b))
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestWordPieceTrainerMatchesHF replays every golden HF run (its "##c" id
// order) and requires the identical vocabulary: same tokens, same ids.
func TestWordPieceTrainerMatchesHF(t *testing.T) {
	for name, g := range loadWordPieceGoldens(t) {
		for r, want := range g.Runs {
			cont, _ := continuingBlock(want, 0)
			got, _ := trainOn(t, g.config(), cont, g.Corpus)
			t.Logf("%s run %d: %d tokens, %d merges", name, r, len(got.Vocab), got.Merges)
			if !slices.Equal(got.Vocab, want) {
				t.Errorf("%s run %d: vocabulary differs from HF's (%d vs %d tokens), first at %s", name, r, len(got.Vocab), len(want), firstDiff(got.Vocab, want))
			}
		}
	}
}

var bertSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// TestWordPieceTrainerVocabSizeAndSpecials checks vocabulary sizes and
// special tokens against the golden HF runs. The node binding trains with
// the default trainer only, so the expected vocabularies are derived from
// HF's full runs by two rules of bpe/trainer.rs: special tokens are
// inserted first and shift every other id by the same amount (ties between
// pairs, broken by ids, keep their order), and the merge loop stops as soon
// as the vocabulary holds vocab_size tokens, so a smaller vocabulary is the
// prefix of a larger one.
func TestWordPieceTrainerVocabSizeAndSpecials(t *testing.T) {
	for name, g := range loadWordPieceGoldens(t) {
		run := g.Runs[0]
		cont, first := continuingBlock(run, 0)
		initial := first + len(cont)
		for _, n := range []int{initial, initial + 1, initial + 37, (initial + len(run)) / 2, len(run) - 1, len(run), len(run) + 100} {
			cfg := g.config()
			cfg.SpecialTokens = bertSpecials
			cfg.VocabSize = n + len(bertSpecials)
			got, _ := trainOn(t, cfg, cont, g.Corpus)
			want := append(slices.Clone(bertSpecials), run[:min(n, len(run))]...)
			if !slices.Equal(got.Vocab, want) {
				t.Errorf("%s, vocab size %d: differs from HF's, first at %s", name, cfg.VocabSize, firstDiff(got.Vocab, want))
			}
		}
	}
}

// TestWordPieceTrainerMinFrequency: the loop stops at the first merge whose
// count is below min_frequency, so the vocabulary is a prefix of HF's full
// run; the first merge's count is checked against a brute-force count of
// the most frequent adjacent pair of characters.
func TestWordPieceTrainerMinFrequency(t *testing.T) {
	g := loadWordPieceGoldens(t)
	for _, name := range []string{"en-uncased", "zh"} {
		run := g[name].Runs[0]
		cont, _ := continuingBlock(run, 0)
		full, tr := trainOn(t, g[name].config(), cont, g[name].Corpus)
		counts := slices.Clone(tr.mergeCounts)
		// Brute force: the most frequent pair of adjacent characters (a pair
		// at a word's start is another pair than the same characters later).
		pairs := map[[3]rune]int64{}
		for w, c := range tr.counts {
			rs := []rune(w)
			for i := 0; i+1 < len(rs); i++ {
				pairs[[3]rune{rs[i], rs[i+1], rune(min(i, 1))}] += int64(c)
			}
		}
		var best int64
		for _, c := range pairs {
			best = max(best, c)
		}
		if len(counts) == 0 || counts[0] != best {
			t.Fatalf("%s: first merge count %v, brute force %d", name, counts[:min(1, len(counts))], best)
		}
		for _, m := range []int{2, 3, 5, 20} {
			k := slices.IndexFunc(counts, func(c int64) bool { return c < int64(m) })
			if k < 0 {
				k = len(counts)
			}
			cfg := g[name].config()
			cfg.MinFrequency = m
			got, tr2 := trainOn(t, cfg, cont, g[name].Corpus)
			if got.Merges != k || !slices.Equal(tr2.mergeCounts, counts[:k]) {
				t.Errorf("%s min_frequency %d: %d merges, want %d", name, m, got.Merges, k)
			}
			if len(got.Vocab) >= len(full.Vocab) || !slices.Equal(got.Vocab, run[:len(got.Vocab)]) {
				t.Errorf("%s min_frequency %d: %d tokens, not a proper prefix of HF's %d", name, m, len(got.Vocab), len(run))
			}
			if m == 2 && len(got.Vocab) == len(full.Vocab) {
				t.Errorf("%s: min_frequency 2 merged as much as 0", name)
			}
		}
	}
}

// TestWordPieceTrainerDeterministic: without a replayed order the result
// does not depend on the order of the corpus lines, and holds the same
// alphabet and continuing characters as HF's runs.
func TestWordPieceTrainerDeterministic(t *testing.T) {
	g := loadWordPieceGoldens(t)["en-uncased"]
	data, err := os.ReadFile(filepath.Join("testdata", "wptrain", g.Corpus))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	train := func(lines []string) []string {
		tr, err := NewWordPieceTrainer(g.config())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if err := tr.FeedText(l); err != nil {
				t.Fatal(err)
			}
		}
		res, err := tr.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res.Vocab
	}
	a := train(lines)
	rev := slices.Clone(lines)
	slices.Reverse(rev)
	if b := train(rev); !slices.Equal(a, b) {
		t.Fatalf("vocabulary depends on line order: %s", firstDiff(a, b))
	}
	hfCont, first := continuingBlock(g.Runs[0], 0)
	cont, first2 := continuingBlock(a, 0)
	if first != first2 || !slices.Equal(a[:first], g.Runs[0][:first]) {
		t.Fatalf("alphabet differs from HF's")
	}
	sc, sh := slices.Clone(cont), slices.Clone(hfCont)
	slices.Sort(sc)
	slices.Sort(sh)
	if !slices.Equal(sc, sh) {
		t.Fatalf("continuing characters differ from HF's: %q vs %q", sc, sh)
	}
	// How far apart HF's own runs and this order are (informative).
	set := func(v []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range v {
			m[s] = true
		}
		return m
	}
	diff := func(x, y []string) int {
		mx, my, n := set(x), set(y), 0
		for s := range mx {
			if !my[s] {
				n++
			}
		}
		for s := range my {
			if !mx[s] {
				n++
			}
		}
		return n
	}
	t.Logf("tokens in one vocabulary only: HF run 0 vs 1: %d, HF run 0 vs textclf: %d (of %d)", diff(g.Runs[0], g.Runs[1]), diff(g.Runs[0], a), len(a))
}

// TestWordPieceTrainerLimitAlphabet: the alphabet keeps the most frequent
// characters plus the initial alphabet, and no token uses another one.
func TestWordPieceTrainerLimitAlphabet(t *testing.T) {
	g := loadWordPieceGoldens(t)["zh"]
	cfg := g.config()
	cfg.LimitAlphabet = 60
	cfg.InitialAlphabet = []rune{'☃', 'q'}
	cfg.SpecialTokens = bertSpecials
	res, tr := trainOn(t, cfg, nil, g.Corpus)
	freq := map[rune]uint64{}
	for w, c := range tr.counts {
		for _, r := range w {
			freq[r] += c
		}
	}
	alpha := res.Vocab[len(bertSpecials) : len(bertSpecials)+cfg.LimitAlphabet]
	in := map[rune]bool{}
	var minKept uint64 = 1 << 62
	for i, s := range alpha {
		r, _ := utf8.DecodeRuneInString(s)
		if utf8.RuneCountInString(s) != 1 || (i > 0 && alpha[i-1] >= s) {
			t.Fatalf("alphabet %q is not single characters by code point", alpha)
		}
		in[r] = true
		if r != '☃' && r != 'q' {
			minKept = min(minKept, freq[r])
		}
	}
	if !in['☃'] || !in['q'] {
		t.Fatalf("initial alphabet missing from %q", alpha)
	}
	for r, c := range freq {
		if !in[r] && c > minKept {
			t.Errorf("%q (count %d) dropped while a character of count %d is kept", r, c, minKept)
		}
	}
	for _, tok := range res.Vocab[len(bertSpecials):] {
		for _, r := range strings.TrimPrefix(tok, "##") {
			if !in[r] {
				t.Fatalf("token %q uses %q, outside the alphabet", tok, r)
			}
		}
	}
}

func TestWordPieceTrainerErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := DefaultWordPieceTrainerConfig()
	train := func(cfg WordPieceTrainerConfig, files ...string) error {
		tr, err := NewWordPieceTrainer(cfg)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := tr.FeedFile(context.Background(), f); err != nil {
				return err
			}
		}
		_, err = tr.Train(context.Background())
		return err
	}
	small := cfg
	small.VocabSize = 20
	for _, c := range []struct {
		cfg   WordPieceTrainerConfig
		files []string
		want  string
	}{
		{cfg, []string{write("empty.txt", " \n\t\n\u0001\n")}, "no words"},
		{small, []string{write("abc.txt", "abcdefghij klmnop\n")}, "vocabulary size 20 is smaller than the 5 special tokens + 16 characters + 14 continuing characters (##c) the corpus needs (35)"},
		{cfg, []string{write("bad.txt", "fine\nbad \xff byte\n")}, "bad.txt:2: not valid UTF-8"},
		{cfg, []string{filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{WordPieceTrainerConfig{VocabSize: 0}, nil, "must be positive"},
		{WordPieceTrainerConfig{VocabSize: 10, ContinuingSubwordPrefix: "##", SpecialTokens: []string{"[UNK]", "[UNK]"}}, nil, "given twice"},
		{WordPieceTrainerConfig{VocabSize: 10, ContinuingSubwordPrefix: "##", MinFrequency: -1}, nil, "must not be negative"},
	} {
		err := train(c.cfg, c.files...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error with %q", err, c.want)
		}
	}
}

// TestWordPieceTrainedTokenizer: the trained tokenizer loads, covers every
// word of its corpus without [UNK] (every character is in the alphabet and
// has its continuing token), adds [CLS] ... [SEP], and Save writes what
// TokenizerJSON returns plus vocab.txt.
func TestWordPieceTrainedTokenizer(t *testing.T) {
	cfg := DefaultWordPieceTrainerConfig()
	cfg.LimitAlphabet = 0
	cfg.MinFrequency = 0
	cfg.VocabSize = 1500
	res, _ := trainOn(t, cfg, nil, "corpus-mixed.txt")
	tk, err := res.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "wptrain", "corpus-mixed.txt"))
	unk, cls, sep := 1, 2, 3
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		e, err := tk.Encode(line, true)
		if err != nil {
			t.Fatal(err)
		}
		if e.IDs[0] != cls || e.IDs[len(e.IDs)-1] != sep || slices.Contains(e.IDs, unk) {
			t.Fatalf("%q: ids %v", line, e.IDs)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := res.Save(dir); err != nil {
		t.Fatal(err)
	}
	vt, _ := os.ReadFile(filepath.Join(dir, "vocab.txt"))
	if string(vt) != strings.Join(res.Vocab, "\n")+"\n" {
		t.Fatal("vocab.txt is not the vocabulary, one token a line")
	}
	tj, _ := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	want, _ := res.TokenizerJSON()
	if string(tj) != string(want) {
		t.Fatal("tokenizer.json differs from TokenizerJSON")
	}
	loaded, err := Load(dir)
	if err != nil || loaded.VocabSize() != len(res.Vocab) {
		t.Fatalf("Load: %v, %d tokens", err, len(res.Vocab))
	}
	// Without tokenizer.json the directory is vocab.txt + tokenizer_config.json,
	// which Load builds as transformers' BertTokenizerFast does: it must
	// encode as the trained tokenizer.json.
	for _, lower := range []bool{true, false} {
		cfg.Lowercase = lower
		cfg.HandleChineseChars = lower
		cfg.VocabSize = 3000
		res, _ := trainOn(t, cfg, nil, "corpus-mixed.txt")
		dir := filepath.Join(t.TempDir(), "out")
		if err := res.Save(dir); err != nil {
			t.Fatal(err)
		}
		fromJSON, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, "tokenizer.json")); err != nil {
			t.Fatal(err)
		}
		fromVocab, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Café DÉJÀ vu 中文English混合", "a great film [MASK]", "ＦＵＬＬ width", string(data[:200])} {
			a, err1 := fromJSON.EncodePair(s, "Second ONE", true)
			b, err2 := fromVocab.EncodePair(s, "Second ONE", true)
			if err1 != nil || err2 != nil || !slices.Equal(a.IDs, b.IDs) || !slices.Equal(a.TypeIDs, b.TypeIDs) {
				t.Fatalf("lowercase %v, %q: tokenizer.json gives %v, vocab.txt + tokenizer_config.json %v (%v %v)", lower, s, a.IDs, b.IDs, err1, err2)
			}
		}
	}
}

// feedBothWays counts the words of text line by line with FeedText (the
// whole pipeline on each line) and with Feed (pieces between spaces counted
// first, each normalized once); the counts must be equal.
func feedBothWays(t *testing.T, cfg WordPieceTrainerConfig, text string) {
	t.Helper()
	direct, err := NewWordPieceTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			if err := direct.FeedText(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	pieces, _ := NewWordPieceTrainer(cfg)
	if err := pieces.Feed(context.Background(), strings.NewReader(text), "text"); err != nil {
		t.Fatal(err)
	}
	if len(direct.counts) != len(pieces.counts) {
		t.Fatalf("%q: %d words line by line, %d by pieces", text, len(direct.counts), len(pieces.counts))
	}
	for w, c := range direct.counts {
		if pieces.counts[w] != c {
			t.Fatalf("%q: word %q counted %d times line by line, %d by pieces", text, w, c, pieces.counts[w])
		}
	}
}

func TestWordPieceTrainerPiecesCountAsLines(t *testing.T) {
	var text strings.Builder
	for _, c := range []string{"corpus-en.txt", "corpus-zh.txt", "corpus-mixed.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "wptrain", c))
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
	}
	text.WriteString("a \u0301b e\u0301 \u0301 İstanbul ΣΑΣ ΟΔΟΣ x\u2028y \v z\u00a0w \u3000 \u0001 \t\r\n")
	text.WriteString(strings.Repeat("long", 20) + " " + strings.Repeat("中文", 40) + "  double  spaces \n")
	text.WriteString("no final newline Ǆ ǅ")
	for _, lower := range []bool{true, false} {
		cfg := DefaultWordPieceTrainerConfig()
		cfg.Lowercase = lower
		cfg.HandleChineseChars = lower
		cfg.CleanText = lower
		feedBothWays(t, cfg, text.String())
	}
}

func FuzzWordPieceTrainer(f *testing.F) {
	for _, s := range []string{"hello world", "中文English混合", "a a a a aaaa", "Café ÉCOLE", "##x ## #", "\u0001\t\u3000x", "😀😀 👍"} {
		f.Add(s, uint16(50))
	}
	f.Fuzz(func(t *testing.T, text string, size uint16) {
		if !utf8.ValidString(text) || strings.Contains(text, "[UNK]") || utf8.RuneCountInString(text) > 50 {
			return
		}
		cfg := DefaultWordPieceTrainerConfig()
		cfg.SpecialTokens = []string{"[UNK]", "[CLS]", "[SEP]"}
		cfg.LimitAlphabet, cfg.MinFrequency, cfg.VocabSize = 0, 0, int(size)+1
		cfg.CleanText = size%2 == 0
		feedBothWays(t, cfg, text)
		tr, err := NewWordPieceTrainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(text, "\n") {
			if err := tr.FeedText(l); err != nil {
				t.Fatal(err)
			}
		}
		res, err := tr.Train(context.Background())
		if err != nil {
			if tr.Words() == 0 || strings.Contains(err.Error(), "is smaller than") {
				return
			}
			t.Fatal(err)
		}
		if len(res.Vocab) > cfg.VocabSize {
			t.Fatalf("%d tokens for vocabulary size %d", len(res.Vocab), cfg.VocabSize)
		}
		tk, err := res.Tokenizer()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(text, "\n") {
			e, err := tk.Encode(l, false)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(e.IDs, 0) {
				t.Fatalf("%q: [UNK] in %v (%q)", l, e.IDs, e.Tokens)
			}
		}
	})
}

// TestWordPieceTrainerMatchesHFLarge replays a vocabulary that HF's default
// WordPieceTrainer learnt on a large corpus (lower-cased BertNormalizer),
// given by TEXTCLF_WPTRAIN_CORPUS and TEXTCLF_WPTRAIN_HF_VOCAB (one token a
// line, as scripts/tokenizer/wordpiece/gen.js big writes it); skipped
// without them.
func TestWordPieceTrainerMatchesHFLarge(t *testing.T) {
	corpus, vocabFile := os.Getenv("TEXTCLF_WPTRAIN_CORPUS"), os.Getenv("TEXTCLF_WPTRAIN_HF_VOCAB")
	if corpus == "" || vocabFile == "" {
		t.Skip("TEXTCLF_WPTRAIN_CORPUS and TEXTCLF_WPTRAIN_HF_VOCAB not set")
	}
	data, err := os.ReadFile(vocabFile)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	cont, _ := continuingBlock(want, 0)
	cfg := WordPieceTrainerConfig{VocabSize: 30000, ContinuingSubwordPrefix: "##", CleanText: true, HandleChineseChars: true, Lowercase: true}
	tr, err := NewWordPieceTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.contOrder = cont
	if err := tr.FeedFile(context.Background(), corpus); err != nil {
		t.Fatal(err)
	}
	got, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Vocab, want) {
		t.Fatalf("vocabulary differs from HF's (%d vs %d tokens), first at %s", len(got.Vocab), len(want), firstDiff(got.Vocab, want))
	}
	t.Logf("identical: %d tokens, %d merges, %d words", len(got.Vocab), got.Merges, tr.Words())
}

// BenchmarkWordPieceTrainer trains on TEXTCLF_WPTRAIN_CORPUS (a large text
// file, one text per line) with HF's default trainer settings (vocabulary
// 30000, min_frequency 0, no alphabet limit; [UNK] as the one special
// token); skipped without it. bench/wptrain/run.sh runs it beside HF.
func BenchmarkWordPieceTrainer(b *testing.B) {
	corpus := os.Getenv("TEXTCLF_WPTRAIN_CORPUS")
	if corpus == "" {
		b.Skip("TEXTCLF_WPTRAIN_CORPUS not set")
	}
	st, err := os.Stat(corpus)
	if err != nil {
		b.Fatal(err)
	}
	cfg := WordPieceTrainerConfig{VocabSize: 30000, ContinuingSubwordPrefix: "##", SpecialTokens: []string{"[UNK]"},
		CleanText: true, HandleChineseChars: true, Lowercase: true}
	b.SetBytes(st.Size())
	for b.Loop() {
		tr, err := NewWordPieceTrainer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.FeedFile(context.Background(), corpus); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Train(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
