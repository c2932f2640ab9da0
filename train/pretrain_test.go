package train

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// maskTestBatch is B rows of random words (ids 5..98) with [CLS] (2) first,
// [SEP] (3) last and padding (0) after, of random lengths.
func maskTestBatch(rng *rand.Rand, b, t int) (*model.Batch, []maskFlags) {
	var ids [][]int
	var flags []maskFlags
	for i := 0; i < b; i++ {
		n := 3 + rng.IntN(t-2)
		row := make([]int, n)
		f := maskFlags{special: make([]bool, n), cont: make([]bool, n)}
		for j := range row {
			row[j] = 5 + rng.IntN(94)
			f.cont[j] = j > 1 && rng.IntN(3) == 0
		}
		row[0], row[n-1] = 2, 3
		f.special[0], f.special[n-1] = true, true
		f.cont[n-1] = false
		ids, flags = append(ids, row), append(flags, f)
	}
	return model.PadBatch(ids, nil, 0), flags
}

// TestMaskProportions checks DataCollatorForLanguageModeling's proportions
// over many draws: 15 % of the maskable tokens chosen, of which 80 %
// [MASK], 10 % a random id (rarely the original), 10 % kept; special tokens
// and padding never chosen nor changed. The bounds are 5 standard
// deviations of the binomial counts.
func TestMaskProportions(t *testing.T) {
	mk := &masker{prob: 0.15, maskID: 4, vocab: 99}
	rng := rand.New(rand.NewPCG(1, 2))
	var maskable, chosen, toMask, changedRandom, kept int
	for iter := 0; iter < 600; iter++ {
		b, flags := maskTestBatch(rng, 8, 40)
		orig := slices.Clone(b.InputIDs)
		labels := mk.mask(b, flags, rng)
		for i, y := range labels {
			s, tpos := i/b.T, i%b.T
			special := tpos >= len(flags[s].special) || flags[s].special[tpos] || b.AttentionMask[i] == 0
			if special {
				if y != model.IgnoreIndex || b.InputIDs[i] != orig[i] {
					t.Fatalf("special or padding token %d (id %d) masked: label %d, now %d", i, orig[i], y, b.InputIDs[i])
				}
				continue
			}
			maskable++
			if y == model.IgnoreIndex {
				if b.InputIDs[i] != orig[i] {
					t.Fatalf("token %d changed without a label", i)
				}
				continue
			}
			if y != orig[i] {
				t.Fatalf("label %d of token %d is not its id %d", y, i, orig[i])
			}
			chosen++
			switch b.InputIDs[i] {
			case 4:
				toMask++
			case orig[i]:
				kept++
			default:
				changedRandom++
			}
		}
	}
	within := func(name string, count, n int, p float64) {
		t.Helper()
		mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(float64(count)-mean) > 5*sd {
			t.Errorf("%s: %d of %d, expected %.0f ± %.0f (p %.3f)", name, count, n, mean, 5*sd, p)
		}
	}
	within("chosen", chosen, maskable, 0.15)
	within("[MASK]", toMask, chosen, 0.8)
	// A random id equals the original (or [MASK]) with probability 2/99.
	within("random", changedRandom, chosen, 0.1*97/99)
	within("kept", kept, chosen, 0.1+0.1/99)
	if chosen < 10000 {
		t.Fatalf("only %d tokens chosen: the test has too little data", chosen)
	}
}

// TestWholeWordMask checks that whole words are chosen: a continuation is
// chosen exactly when the token starting its word is, and about 15 % of
// each sequence is covered (never more than round(0.15·len)).
func TestWholeWordMask(t *testing.T) {
	mk := &masker{prob: 0.15, maskID: 4, vocab: 99, wholeWord: true}
	rng := rand.New(rand.NewPCG(3, 4))
	var total, covered int
	for iter := 0; iter < 300; iter++ {
		b, flags := maskTestBatch(rng, 8, 40)
		labels := mk.mask(b, flags, rng)
		for s := 0; s < b.B; s++ {
			f := flags[s]
			n, c := len(f.special), 0
			for tpos := 0; tpos < n; tpos++ {
				chosen := labels[s*b.T+tpos] != model.IgnoreIndex
				if f.special[tpos] && chosen {
					t.Fatalf("special token chosen")
				}
				if chosen {
					c++
				}
				if f.cont[tpos] && !f.special[tpos-1] {
					prev := labels[s*b.T+tpos-1] != model.IgnoreIndex
					if prev != chosen {
						t.Fatalf("row %d: token %d continues token %d's word, chosen %v against %v", s, tpos, tpos-1, chosen, prev)
					}
				}
			}
			if target := max(1, int(math.RoundToEven(float64(n)*0.15))); c > target {
				t.Fatalf("row %d: %d tokens covered, more than %d", s, c, target)
			}
			for tpos := n; tpos < b.T; tpos++ {
				if labels[s*b.T+tpos] != model.IgnoreIndex {
					t.Fatalf("padding chosen")
				}
			}
			total, covered = total+n, covered+c
		}
	}
	if r := float64(covered) / float64(total); r < 0.12 || r > 0.16 {
		t.Errorf("whole-word masking covered %.3f of the tokens, want about 0.15", r)
	}
}

func writeCorpus(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyCorpus is text in the tiny-bert vocabulary, with a strong pattern to
// learn: five sentences of five words again and again (7 tokens each with
// [CLS] and [SEP], so that blocks of 7 or 14 tokens hold whole sentences).
func tinyCorpus(lines int) string {
	var b strings.Builder
	words := []string{"the movie was great .", "a film is good !", "i loved it so .", "this plot was bad .", "spam win a free prize"}
	for i := 0; i < lines; i++ {
		b.WriteString(words[i%len(words)] + "\n")
	}
	return b.String()
}

func tinyMLMConfig(t *testing.T) string {
	t.Helper()
	cfg, err := checkpoint.LoadConfig(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Architectures = []string{"BertForMaskedLM"}
	b, err := cfg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return writeCorpus(t, "config.json", string(b))
}

// TestPretrainLearnsAndSavesMaskedLM pretrains the tiny BERT shape from
// scratch on a repetitive corpus: the evaluation loss falls far below
// log(vocab), metrics.jsonl has loss, accuracy and perplexity, and the
// output is a BertForMaskedLM that loads back with every weight.
func TestPretrainLearnsAndSavesMaskedLM(t *testing.T) {
	corpus := writeCorpus(t, "corpus.txt", tinyCorpus(400))
	out := t.TempDir()
	res, err := Pretrain(context.Background(), Config{ModelConfig: tinyMLMConfig(t), Tokenizer: tinyBERT, Output: out,
		MLM: &MLMConfig{Corpus: []string{corpus}}, MaxLength: 14, Epochs: 30, BatchSize: 8, LR: 5e-3, WarmupSteps: 20, Seed: 1, LogSteps: 50, ValidationSplit: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var first, last map[string]float64
	for _, e := range res.State.LogHistory {
		if e.Eval != nil {
			if first == nil {
				first = e.Eval
			}
			last = e.Eval
		}
	}
	if last == nil {
		t.Fatal("no evaluation logged")
	}
	if math.Abs(last["perplexity"]-math.Exp(last["loss"])) > 1e-9*last["perplexity"] {
		t.Errorf("perplexity %g is not exp(loss %g)", last["perplexity"], last["loss"])
	}
	if last["loss"] > 1.5 || last["accuracy"] < 0.5 || last["loss"] >= first["loss"] {
		t.Errorf("evaluation went from %v to %v: the model did not learn the corpus", first, last)
	}
	m, rep, err := model.LoadMaskedLM(out, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing)+len(rep.Unexpected) != 0 || m.Architecture() != "BertForMaskedLM" {
		t.Errorf("saved model: %s, missing %v, unexpected %v", m.Architecture(), rep.Missing, rep.Unexpected)
	}
	b, err := os.ReadFile(filepath.Join(out, metricsName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"perplexity"`) {
		t.Errorf("metrics.jsonl lacks perplexity:\n%s", b)
	}
	// The model fills in the pattern it learnt, in a block laid out as in
	// training (two sentences of 7 tokens).
	tk, err := tokenizer.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, text := range []string{"the movie was [MASK] .", "a film is good !"} {
		enc, err := tk.Encode(text, true)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, enc.IDs...)
	}
	row := slices.Index(ids, 4)
	in := model.PadBatch([][]int{ids}, nil, 0)
	logits, err := m.MaskedLMLogits(in, []int{row})
	if err != nil {
		t.Fatal(err)
	}
	if top := model.TopK(logits, 1)[0]; top.ID != 25 { // "great"
		tok, _ := tk.IDToToken(top.ID)
		t.Errorf("the movie was [MASK] . → %q (%.3f), want great", tok, top.Score)
	}
}

// TestPretrainResumeIsExact stops a run at a checkpoint and resumes it: the
// weights equal those of the uninterrupted run (masks come from the seed
// and step).
func TestPretrainResumeIsExact(t *testing.T) {
	corpus := writeCorpus(t, "corpus.txt", tinyCorpus(120))
	cfgPath := tinyMLMConfig(t)
	base := Config{ModelConfig: cfgPath, Tokenizer: tinyBERT, MLM: &MLMConfig{Corpus: []string{corpus}, WholeWordMask: true},
		MaxLength: 12, Epochs: 2, BatchSize: 4, LR: 1e-3, Seed: 7, SaveSteps: 5, ValidationSplit: NoValidation}
	full := base
	full.Output = t.TempDir()
	if _, err := Pretrain(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	resumed := base
	resumed.Output = t.TempDir()
	resumed.Resume = filepath.Join(full.Output, "checkpoint-10")
	if _, err := Pretrain(context.Background(), resumed); err != nil {
		t.Fatal(err)
	}
	a, b := readWeights(t, full.Output), readWeights(t, resumed.Output)
	for name, w := range a {
		if !slices.Equal(w, b[name]) {
			t.Fatalf("%s differs between the full run and the resumed one", name)
		}
	}
}

// TestPretrainBadInput: an empty corpus, a corpus of nothing maskable, a
// tokenizer too large for the checkpoint and a tokenizer without a mask
// token are errors, and nothing is written.
func TestPretrainBadInput(t *testing.T) {
	ckpt := t.TempDir()
	m, err := model.NewMaskedLM(mustConfig(t, tinyMLMConfig(t)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(ckpt, []string{filepath.Join(tinyBERT, "tokenizer.json")}); err != nil {
		t.Fatal(err)
	}
	big := t.TempDir()
	writeBigTokenizer(t, big)
	noMask := t.TempDir()
	writeNoMaskTokenizer(t, noMask)
	good := writeCorpus(t, "good.txt", tinyCorpus(50))
	for _, c := range []struct {
		name, corpus, tokenizer, want string
	}{
		{"empty corpus", writeCorpus(t, "empty.txt", "\n\n  \n"), "", "no text"},
		{"nothing maskable", writeCorpus(t, "specials.txt", "[CLS]\n[SEP] [PAD]\n"), "", "nothing to mask"},
		{"tokenizer larger than the vocabulary", good, big, "more than the vocab_size"},
		{"no mask token", good, noMask, "no mask token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, err := Pretrain(context.Background(), Config{Model: ckpt, Tokenizer: c.tokenizer, Output: out,
				MLM: &MLMConfig{Corpus: []string{c.corpus}}, MaxLength: 16, ValidationSplit: NoValidation})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
}

func mustConfig(t *testing.T, path string) *checkpoint.Config {
	t.Helper()
	cfg, err := checkpoint.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeBigTokenizer writes tiny-bert's tokenizer with 10 more words.
func writeBigTokenizer(t *testing.T, dir string) {
	t.Helper()
	editTokenizer(t, dir, func(tk map[string]any) {
		vocab := tk["model"].(map[string]any)["vocab"].(map[string]any)
		for i := 0; i < 10; i++ {
			vocab["extra"+string(rune('a'+i))] = float64(99 + i)
		}
	})
}

// writeNoMaskTokenizer writes tiny-bert's tokenizer without [MASK].
func writeNoMaskTokenizer(t *testing.T, dir string) {
	t.Helper()
	editTokenizer(t, dir, func(tk map[string]any) {
		vocab := tk["model"].(map[string]any)["vocab"].(map[string]any)
		delete(vocab, "[MASK]")
		vocab["[MASKED]"] = float64(4)
		var added []any
		for _, a := range tk["added_tokens"].([]any) {
			if a.(map[string]any)["content"] != "[MASK]" {
				added = append(added, a)
			}
		}
		tk["added_tokens"] = added
	})
}

func editTokenizer(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tinyBERT, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tk map[string]any
	if err := json.Unmarshal(b, &tk); err != nil {
		t.Fatal(err)
	}
	edit(tk)
	if b, err = json.Marshal(tk); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChineseWholeWords marks the later characters of each Chinese word
// (the zh-words segmentation) as continuations, as run_mlm_wwm.py's
// reference ids do, and WordPiece ## pieces as continuations too.
func TestChineseWholeWords(t *testing.T) {
	tk, err := tokenizer.Load("../testdata/tokenizer/bert-base-chinese")
	if err != nil {
		t.Fatal(err)
	}
	r := &run{tk: tk, cfg: Config{MaxLength: 64}, mlm: &mlmRun{cfg: MLMConfig{WholeWordMask: true, ChineseWords: true}}}
	text := "我们喜欢这部电影 playing"
	bl, err := r.blocks([]string{text}, []string{"test"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := tk.Encode(text, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range bl[0].flags.cont {
		if c {
			got = append(got, enc.Tokens[i])
		}
	}
	want := []string{"们", "欢", "部", "影"}
	for _, tok := range enc.Tokens {
		if strings.HasPrefix(tok, "##") {
			want = append(want, tok)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("continuations %v, want %v (tokens %v)", got, want, enc.Tokens)
	}
}

// FuzzReadCorpus reads arbitrary bytes as a corpus, one document a line
// and in blank-line paragraphs: an error or documents that are non-empty,
// trimmed, valid UTF-8 and hold no line breaks — never a panic.
func FuzzReadCorpus(f *testing.F) {
	f.Add([]byte("one\ntwo\n\nthree\n"))
	f.Add([]byte("\n\n  \n"))
	f.Add([]byte("\xff\xfe bad\n"))
	f.Add([]byte("a\r\nb\r\n\r\nc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "corpus.txt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, blank := range []bool{false, true} {
			docs, err := readCorpus([]string{p}, blank)
			if err != nil {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the file", err)
				}
				continue
			}
			if len(docs) == 0 {
				t.Fatal("no documents and no error")
			}
			for _, d := range docs {
				if d == "" || d != strings.TrimSpace(d) || strings.ContainsAny(d, "\n") || !utf8.ValidString(d) {
					t.Fatalf("document %q", d)
				}
			}
		}
	})
}
