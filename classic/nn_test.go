package classic

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gradCheck compares every analytic gradient of one example's loss with
// central finite differences (float64 would be exact; float32 forward
// passes limit the agreement to ~1e-3).
func gradCheck(t *testing.T, m *NNModel, ids []int32, labels []int) {
	t.Helper()
	gradCheckSoft(t, m, ids, labels, nil, nil)
}

// gradCheckSoft is gradCheck of the distillation loss d with the teacher
// logits given (plain cross-entropy when d is nil).
func gradCheckSoft(t *testing.T, m *NNModel, ids []int32, labels []int, d *Distillation, teacher []float32) {
	t.Helper()
	g := m.newGrads()
	m.lossGradSoft(ids, labels, d, teacher, nil, g)
	loss := func() float64 { return m.lossGradSoft(ids, labels, d, teacher, nil, m.newGrads()) }
	const eps = 1e-2
	checked := 0
	for _, p := range m.params() {
		for i := range p.W {
			var analytic float32
			if p == m.Emb {
				row := int32(i / m.Config.Dim)
				r, ok := g.emb[row]
				if !ok {
					continue // a row the example does not use
				}
				analytic = r[i%m.Config.Dim]
			} else {
				analytic = g.dense[p][i]
			}
			w := p.W[i]
			p.W[i] = w + eps
			lp := loss()
			p.W[i] = w - eps
			lm := loss()
			p.W[i] = w
			numeric := (lp - lm) / (2 * eps)
			if d := math.Abs(numeric - float64(analytic)); d > 2e-3+2e-2*math.Abs(numeric) {
				t.Errorf("%s[%d]: analytic %.6f, numeric %.6f", p.Name, i, analytic, numeric)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d gradients checked", checked)
	}
}

func smallModel(t *testing.T, arch string, multi bool, pool string) *NNModel {
	cfg := NNConfig{Dim: 4, Filters: 3, Widths: []int{2, 3}, Hidden: 3, Pool: pool, MaxLen: 50, MultiLabel: multi}
	m, err := newNNModel(cfg, arch, []string{UNK, "a", "b", "c", "d", "e"}, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	// Larger random weights so that activations are not all near zero.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.params() {
		for i := range p.W {
			p.W[i] = float32(rng.NormFloat64() * 0.5)
		}
	}
	return m
}

func TestTextCNNBackward(t *testing.T) {
	gradCheck(t, smallModel(t, ArchTextCNN, false, ""), []int32{1, 2, 3, 1, 4, 5, 0}, []int{2})
	// Shorter than the widest filter: zero padding.
	gradCheck(t, smallModel(t, ArchTextCNN, false, ""), []int32{3, 1}, []int{0})
	gradCheck(t, smallModel(t, ArchTextCNN, true, ""), []int32{1, 2, 3, 4}, []int{0, 2})
}

func TestBiLSTMBackward(t *testing.T) {
	for _, pool := range []string{PoolMax, PoolMean} {
		gradCheck(t, smallModel(t, ArchBiLSTM, false, pool), []int32{1, 2, 3, 1, 4, 5}, []int{1})
	}
	gradCheck(t, smallModel(t, ArchBiLSTM, true, PoolMean), []int32{2, 5, 1}, []int{0, 1})
	gradCheck(t, smallModel(t, ArchBiLSTM, false, PoolMax), []int32{4}, []int{2})
}

func TestNNTrainsSeparable(t *testing.T) {
	train, test := separable(600, 3), separable(200, 4)
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		t.Run(arch, func(t *testing.T) {
			nc := DefaultNNConfig()
			nc.Dim, nc.Filters, nc.Hidden = 16, 8, 8
			c, err := Train(train, TrainConfig{Arch: arch, NN: nc, BatchSize: 16, Train: TrainOptions{Epochs: 4, LR: 0.01, Threads: 2, Seed: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if acc := accuracy(t, c, test); acc < 0.97 {
				t.Errorf("held-out accuracy %.3f, want ≥ 0.97", acc)
			}
			dir := t.TempDir()
			if err := c.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := c.Scores("good table bad", "")
			b, _ := back.Scores("good table bad", "")
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("reloaded scores %v, want %v", b, a)
				}
			}
		})
	}
}

func TestFrozenVectors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "v.txt")
	os.WriteFile(p, []byte("good 1 0 0 0\nbad 0 1 0 0\ntable 0 0 1 0\n"), 0o644)
	nc := DefaultNNConfig()
	nc.Filters, nc.Freeze = 4, true
	c, err := Train(separable(100, 5), TrainConfig{Arch: ArchTextCNN, NN: nc, Vectors: p, Train: TrainOptions{Epochs: 1, LR: 0.01, Threads: 1, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if c.nn.Config.Dim != 4 {
		t.Fatalf("dim %d, want the vectors' 4", c.nn.Config.Dim)
	}
	id := c.nn.wordIndex["bad"]
	if got := c.nn.Emb.W[int(id)*4 : int(id)*4+4]; got[0] != 0 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("frozen vector of 'bad' moved or was not loaded: %v", got)
	}
}

func TestReadVectors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// word2vec binary: header, then "word " + 3 float32 + "\n".
	bin := []byte("2 3\n")
	for _, wv := range []struct {
		w string
		v []float32
	}{{"hello", []float32{1, 2, 3}}, {"wörld", []float32{-1, 0.5, 4}}} {
		bin = append(bin, wv.w+" "...)
		for _, x := range wv.v {
			bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(x))
		}
		bin = append(bin, '\n')
	}
	files := map[string]string{
		"w2v.bin":   write("w2v.bin", bin),
		"w2v.txt":   write("w2v.txt", []byte("2 3\nhello 1 2 3\nwörld -1 0.5 4\n")),
		"glove.txt": write("glove.txt", []byte("hello 1 2 3\nwörld -1 0.5 4")),
		"ft.vec":    write("ft.vec", []byte("2 3\nhello 1 2 3 \nwörld -1 0.5 4 \n")),
	}
	for name, p := range files {
		v, err := ReadVectors(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.Dim != 3 || len(v.Words) != 2 {
			t.Fatalf("%s: %d words of dim %d", name, len(v.Words), v.Dim)
		}
		if got := v.Vector("wörld"); got == nil || got[0] != -1 || got[1] != 0.5 || got[2] != 4 {
			t.Errorf("%s: wörld = %v", name, got)
		}
		if v.Vector("absent") != nil {
			t.Errorf("%s: vector for an absent word", name)
		}
	}
	for name, content := range map[string]string{
		"short.txt": "2 3\nhello 1 2 3\nworld 1 2\n",
		"nan.txt":   "hello 1 x 3\n",
		"trunc.bin": string(bin[:len(bin)-6]),
		"empty.txt": "",
	} {
		p := write(name, []byte(content))
		if _, err := ReadVectors(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	// Written vectors read back.
	v, _ := ReadVectors(files["glove.txt"])
	out := filepath.Join(dir, "out.vec")
	if err := WriteVectorsText(out, v); err != nil {
		t.Fatal(err)
	}
	back, err := ReadVectors(out)
	if err != nil || back.Vector("hello")[2] != 3 {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

func FuzzReadVectors(f *testing.F) {
	f.Add([]byte("2 3\nhello 1 2 3\nworld 1 2 3\n"))
	f.Add([]byte("hello 1 2 3\n"))
	f.Add([]byte("1 2\nab \x00\x00\x80\x3f\x00\x00\x00\x40\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "v")
		os.WriteFile(p, b, 0o644)
		v, err := ReadVectors(p)
		if err == nil && len(v.Data) != len(v.Words)*v.Dim {
			t.Fatalf("%d values for %d words of dim %d", len(v.Data), len(v.Words), v.Dim)
		}
	})
}

func TestWord2VecLearnsContexts(t *testing.T) {
	// Two topics: words of a topic share their context words.
	rng := rand.New(rand.NewPCG(2, 3))
	groups := [][]string{{"cat", "dog", "horse", "cow"}, {"car", "bus", "train", "truck"}}
	contexts := [][]string{{"eats", "grass", "farm", "feeds", "pet"}, {"drives", "road", "fuel", "engine", "wheel"}}
	var sents [][]string
	for i := 0; i < 3000; i++ {
		g := rng.IntN(2)
		s := []string{contexts[g][rng.IntN(5)], groups[g][rng.IntN(4)], contexts[g][rng.IntN(5)], contexts[g][rng.IntN(5)]}
		sents = append(sents, s)
	}
	cfg := DefaultWord2VecConfig()
	cfg.Dim, cfg.Epochs, cfg.Threads, cfg.Sample = 20, 5, 2, 0
	v, err := TrainWord2Vec(sents, cfg)
	if err != nil {
		t.Fatal(err)
	}
	same := v.Cosine("cat", "dog") + v.Cosine("car", "bus") + v.Cosine("horse", "cow") + v.Cosine("train", "truck")
	cross := v.Cosine("cat", "car") + v.Cosine("dog", "bus") + v.Cosine("horse", "train") + v.Cosine("cow", "truck")
	if same/4 < 0.5 || same/4-cross/4 < 0.4 {
		t.Errorf("mean cosine within topics %.3f, across %.3f: want within ≥ 0.5 and well above across", same/4, cross/4)
	}
	if _, err := TrainWord2Vec([][]string{{"a"}}, cfg); err == nil {
		t.Error("a one-word corpus trained")
	}
}

func TestNNTrainingIsReproducible(t *testing.T) {
	train := separable(200, 6)
	nc := DefaultNNConfig()
	nc.Dim, nc.Filters = 8, 4
	run := func(noShuffle bool, seed uint64) []float32 {
		c, err := Train(train, TrainConfig{Arch: ArchTextCNN, NN: nc, BatchSize: 8, NoShuffle: noShuffle, Train: TrainOptions{Epochs: 1, LR: 0.01, Threads: 2, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := c.Scores("good table", "")
		return s
	}
	for _, ns := range []bool{false, true} {
		a, b := run(ns, 1), run(ns, 1)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("no-shuffle %v: two runs with one seed differ: %v vs %v", ns, a, b)
			}
		}
	}
	// A different seed shuffles differently (and initialises differently).
	if a, b := run(false, 1), run(false, 2); a[0] == b[0] {
		t.Errorf("seeds 1 and 2 gave the same scores %v", a)
	}
}

// TestVectorsWords checks that --vectors-words gives words that training
// never sees their pretrained rows, so that they count at prediction time.
func TestVectorsWords(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "v.txt")
	// "superlative" and "abysmal" are not in the training data; their
	// vectors are those of "good" and "bad".
	os.WriteFile(p, []byte("good 1 0 0 0\nsuperlative 1 0 0 0\nbad 0 1 0 0\nabysmal 0 1 0 0\ntable 0 0 1 0\n"), 0o644)
	train := func(words int) *Classifier {
		nc := DefaultNNConfig()
		nc.Filters, nc.Freeze = 4, true
		c, err := Train(separable(300, 5), TrainConfig{Arch: ArchTextCNN, NN: nc, Vectors: p, VectorsWords: words, Train: TrainOptions{Epochs: 2, LR: 0.01, Threads: 1, Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	all := train(-1)
	for _, w := range []string{"superlative", "abysmal"} {
		id, ok := all.nn.wordIndex[w]
		if !ok {
			t.Fatalf("VectorsWords -1: %q is not in the vocabulary", w)
		}
		want := []float32{1, 0, 0, 0}
		if w == "abysmal" {
			want = []float32{0, 1, 0, 0}
		}
		if got := all.nn.Emb.W[int(id)*4 : int(id)*4+4]; !reflect.DeepEqual(got, want) {
			t.Errorf("row of %q: %v, want its vector %v", w, got, want)
		}
	}
	if got := topLabel(t, all, "superlative"); got != "pos" {
		t.Errorf("VectorsWords -1: %q is %s, want pos (the label of good, whose vector it has)", "superlative", got)
	}
	if got := topLabel(t, all, "abysmal"); got != "neg" {
		t.Errorf("VectorsWords -1: %q is %s, want neg", "abysmal", got)
	}
	first := train(2) // good, superlative
	if _, ok := first.nn.wordIndex["superlative"]; !ok {
		t.Error("VectorsWords 2: superlative (the second vector) is not in the vocabulary")
	}
	if _, ok := first.nn.wordIndex["abysmal"]; ok {
		t.Error("VectorsWords 2: abysmal (the fourth vector) joined the vocabulary")
	}
	none := train(0)
	if _, ok := none.nn.wordIndex["superlative"]; ok {
		t.Error("VectorsWords 0: a word training never saw joined the vocabulary")
	}
	nc := DefaultNNConfig()
	if _, err := Train(separable(10, 5), TrainConfig{Arch: ArchTextCNN, NN: nc, VectorsWords: 5, Train: TrainOptions{Epochs: 1, Threads: 1}}); err == nil || !strings.Contains(err.Error(), "--vectors") {
		t.Errorf("VectorsWords without Vectors: err %v, want one naming --vectors", err)
	}
}
