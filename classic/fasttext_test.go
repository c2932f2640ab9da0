package classic

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/textclf/textclf/data"
)

// TestFastTextBinMatchesFastText reads models trained by fastText itself
// (scripts/classic/gen_fasttext_golden.sh) and checks that the probabilities
// equal those of `fasttext predict-prob`: this pins the hashing (FNV-1a over
// sign-extended bytes), word and char n-grams, EOS, averaging, softmax, the
// hs tree and ova sigmoids to fastText's.
func TestFastTextBinMatchesFastText(t *testing.T) {
	dir := "../testdata/classic/fasttext"
	test, err := data.ReadFile(filepath.Join(dir, "test.txt"), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"softmax.bin", "hs.bin", "ova.bin", "nobucket.bin", "q_softmax.ftz", "q_hs_qnorm.ftz", "q_ova_cutoff.ftz"} {
		t.Run(file, func(t *testing.T) {
			c, err := ReadFastTextBin(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			checkFastTextProbs(t, c, test, filepath.Join(dir, strings.TrimSuffix(file, filepath.Ext(file))+".probs"))
		})
	}
}

// checkFastTextProbs checks that c gives the probabilities that `fasttext
// predict-prob` wrote into the file probs for the examples of test.
func checkFastTextProbs(t *testing.T, c *Classifier, test *data.Dataset, probs string) {
	t.Helper()
	loss := c.ft.Config.Loss
	f, err := os.Open(probs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for ; sc.Scan(); i++ {
		want := map[string]float64{}
		fs := strings.Fields(sc.Text())
		for j := 0; j+1 < len(fs); j += 2 {
			p, err := strconv.ParseFloat(fs[j+1], 64)
			if err != nil {
				t.Fatal(err)
			}
			want[strings.TrimPrefix(fs[j], "__label__")] = p
		}
		// fastText's hs search drops labels below ~1e-5.
		if len(want) != len(c.Config.Labels) && loss != "hs" {
			t.Fatalf("line %d: fastText gave %d labels, model has %d", i+1, len(want), len(c.Config.Labels))
		}
		got, err := c.Scores(test.Examples[i].Text, "")
		if err != nil {
			t.Fatal(err)
		}
		for k, l := range c.Config.Labels {
			// fastText prints exp(log(p + 1e-5)) with 6 significant digits.
			w, ok := want[l]
			if !ok {
				w = 1e-5
			}
			g := float64(got[k]) + 1e-5
			tol := 2e-6 + 1e-5*w
			if loss == "hs" {
				tol += 2e-5 // fastText multiplies (p + 1e-5) along the tree path
			}
			if math.Abs(g-w) > tol {
				t.Errorf("line %d label %s: %.7g, fastText %.7g", i+1, l, g, w)
			}
		}
	}
	if i != len(test.Examples) {
		t.Fatalf("%d probability lines for %d examples", i, len(test.Examples))
	}
}

func TestReadFastTextBinErrors(t *testing.T) {
	good, err := os.ReadFile("../testdata/classic/fasttext/softmax.bin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte{1, 2, 3, 4}, good[4:]...),
		"truncated": good[:len(good)-100],
		"header":    good[:30],
	} {
		p := filepath.Join(dir, name+".bin")
		os.WriteFile(p, b, 0o644)
		if _, err := ReadFastTextBin(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

// FuzzReadFastTextBin reads fastText model files (.bin, quantized .ftz,
// skip-gram) with random changes: an error or a usable model, never a panic.
func FuzzReadFastTextBin(f *testing.F) {
	good, err := os.ReadFile("../testdata/classic/fasttext/nobucket.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:200])
	for _, name := range []string{"q_hs_qnorm.ftz", "q_ova_cutoff.ftz", "sg.bin"} {
		b, err := os.ReadFile("../testdata/classic/fasttext/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := readFastTextFile(bufio.NewReader(bytes.NewReader(b)), int64(len(b)))
		if err != nil {
			return
		}
		if c, err := file.classifier(); err == nil {
			// A model that loads must predict a score per label.
			if s := c.ScoresTokens([]string{"a", "b"}); len(s) != len(c.Config.Labels) {
				t.Fatalf("%d scores for %d labels", len(s), len(c.Config.Labels))
			}
		}
		if m, err := file.wordModel(); err == nil && file.args.model != ftModelSup {
			// Word vectors, and those of an unseen word, have the model's dimension.
			if v := m.wordVectors(); len(v.WordVector("unseen")) != v.Dim || len(v.SentenceVector([]string{"a", "b"})) != v.Dim {
				t.Fatal("vectors of the wrong dimension")
			}
		}
	})
}

// separable makes a dataset where each class has its own words.
func separable(n int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	vocab := map[string][]string{
		"pos": {"good", "great", "fine", "lovely", "superb"},
		"neg": {"bad", "awful", "poor", "dreadful", "worst"},
		"neu": {"table", "chair", "window", "door", "floor"},
	}
	filler := []string{"the", "a", "it", "was", "is"}
	names := []string{"neg", "neu", "pos"}
	ds := &data.Dataset{Path: "separable"}
	for i := 0; i < n; i++ {
		l := names[rng.IntN(3)]
		var ws []string
		for j := 0; j < 3+rng.IntN(8); j++ {
			if rng.IntN(2) == 0 {
				ws = append(ws, vocab[l][rng.IntN(5)])
			} else {
				ws = append(ws, filler[rng.IntN(5)])
			}
		}
		ws = append(ws, vocab[l][rng.IntN(5)])
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		ds.Examples = append(ds.Examples, data.Example{Text: strings.Join(ws, " "), Labels: []string{l}, Line: i + 1})
	}
	return ds
}

// topLabel is the label c scores highest for text.
func topLabel(t *testing.T, c *Classifier, text string) string {
	t.Helper()
	s, err := c.Scores(text, "")
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for i := range s {
		if s[i] > s[best] {
			best = i
		}
	}
	return c.Config.Labels[best]
}

func accuracy(t *testing.T, c *Classifier, ds *data.Dataset) float64 {
	t.Helper()
	ok := 0
	for _, ex := range ds.Examples {
		if topLabel(t, c, ex.Text) == ex.Labels[0] {
			ok++
		}
	}
	return float64(ok) / float64(len(ds.Examples))
}

func TestFastTextTrainsSeparable(t *testing.T) {
	train, test := separable(600, 1), separable(200, 2)
	for _, loss := range []string{LossSoftmax, LossHS, LossOVA} {
		t.Run(loss, func(t *testing.T) {
			cfg := DefaultFastTextConfig()
			cfg.Dim, cfg.Loss, cfg.WordNgrams, cfg.Bucket, cfg.Minn, cfg.Maxn = 16, loss, 2, 5000, 2, 4
			c, err := Train(train, TrainConfig{Arch: ArchFastText, FastText: cfg, Train: TrainOptions{Epochs: 10, LR: 0.5, Threads: 2, Seed: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if acc := accuracy(t, c, test); acc < 0.98 {
				t.Errorf("held-out accuracy %.3f, want ≥ 0.98", acc)
			}
			// Saved and reloaded, the model predicts the same scores.
			dir := t.TempDir()
			if err := c.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, ex := range test.Examples[:20] {
				a, _ := c.Scores(ex.Text, "")
				b, _ := back.Scores(ex.Text, "")
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("reloaded model scores %v, want %v", b, a)
					}
				}
			}
		})
	}
}

func TestFastTextMultiLabel(t *testing.T) {
	ds := &data.Dataset{Path: "ml", MultiLabel: true}
	rng := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 800; i++ {
		var ws, ls []string
		if rng.IntN(2) == 0 {
			ws, ls = append(ws, "red", "crimson"), append(ls, "red")
		}
		if rng.IntN(2) == 0 {
			ws, ls = append(ws, "round", "ball"), append(ls, "round")
		}
		if len(ls) == 0 {
			ws, ls = append(ws, "plain"), append(ls, "none")
		}
		ws = append(ws, "thing")
		ds.Examples = append(ds.Examples, data.Example{Text: strings.Join(ws, " "), Labels: ls, Line: i + 1})
	}
	cfg := DefaultFastTextConfig()
	cfg.Dim = 10
	c, err := Train(ds, TrainConfig{Arch: ArchFastText, FastText: cfg, Train: TrainOptions{Epochs: 10, LR: 0.5, Threads: 1, Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Config.MultiLabel || c.ft.Config.Loss != LossOVA {
		t.Fatalf("multi-label data trained with loss %s, multi %v", c.ft.Config.Loss, c.Config.MultiLabel)
	}
	s, _ := c.Scores("crimson red round ball thing", "")
	got := map[string]bool{}
	for i, v := range s {
		got[c.Config.Labels[i]] = v >= 0.5
	}
	if !got["red"] || !got["round"] || got["none"] {
		t.Errorf("labels over 0.5: %v (scores %v for %v)", got, s, c.Config.Labels)
	}
}

func TestHashMatchesFastText(t *testing.T) {
	// fastText hashes bytes as signed chars: a byte ≥ 0x80 is sign-extended.
	// Values below follow the C++ definition by hand: FNV-1a offset basis
	// 2166136261, prime 16777619.
	h := uint32(2166136261)
	h ^= 0xFFFFFFC3 // int8(0xC3) sign-extended
	h *= 16777619
	h ^= 0xFFFFFFA9
	h *= 16777619
	if got := hashFNV("é"); got != h {
		t.Fatalf("hash(é) = %d, want %d", got, h)
	}
	if got := hashFNV(""); got != 2166136261 {
		t.Fatalf("hash of empty string %d", got)
	}
}

func TestCharNgrams(t *testing.T) {
	var got []uint32
	charNgrams("ab", 1, 3, func(h uint32) { got = append(got, h) })
	var want []uint32
	for _, g := range []string{"<a", "<ab", "a", "ab", "ab>", "b", "b>"} {
		want = append(want, hashFNV(g))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("char n-grams of <ab>: %v, want %v", got, want)
	}
	got = got[:0]
	charNgrams("é中", 2, 2, func(h uint32) { got = append(got, h) })
	want = []uint32{hashFNV("<é"), hashFNV("é中"), hashFNV("中>")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("multi-byte char n-grams: %v, want %v", got, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, mod := range []func(*FastTextConfig){
		func(c *FastTextConfig) { c.Dim = 0 },
		func(c *FastTextConfig) { c.Loss = "ns" },
		func(c *FastTextConfig) { c.Minn, c.Maxn = 5, 3 },
		func(c *FastTextConfig) { c.WordNgrams = 0 },
	} {
		c := DefaultFastTextConfig()
		mod(&c)
		if err := c.Check(); err == nil {
			t.Errorf("bad config %+v accepted", c)
		}
	}
}
