package classic

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
)

const ftDir = "../testdata/classic/fasttext"

// fastTextBinary returns the path of Debian's fasttext, skipping the test
// when it is not installed, unless TEXTCLF_REQUIRE_FASTTEXT=1 (CI).
func fastTextBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("fasttext")
	if err != nil {
		if os.Getenv("TEXTCLF_REQUIRE_FASTTEXT") == "1" {
			t.Fatal("fasttext is not installed and TEXTCLF_REQUIRE_FASTTEXT=1 (apt-get install -y fasttext)")
		}
		t.Skip("fasttext is not installed (apt-get install -y fasttext); set TEXTCLF_REQUIRE_FASTTEXT=1 to fail instead")
	}
	return p
}

// ftData reads the training and test data of the fastText golden models.
func ftData(t *testing.T) (train, test *data.Dataset) {
	t.Helper()
	var err error
	if train, err = data.ReadFile(filepath.Join(ftDir, "train.txt"), data.Options{}); err != nil {
		t.Fatal(err)
	}
	if test, err = data.ReadFile(filepath.Join(ftDir, "test.txt"), data.Options{}); err != nil {
		t.Fatal(err)
	}
	return train, test
}

// TestQuantizedByTextclfPredictsInFastText quantizes fastText's own models
// with textclf and checks that `fasttext predict-prob` reads the .ftz files
// textclf writes and gives the probabilities textclf gives.
func TestQuantizedByTextclfPredictsInFastText(t *testing.T) {
	ft := fastTextBinary(t)
	train, test := ftData(t)
	for name, tc := range map[string]struct {
		src string
		cfg QuantizeConfig
	}{
		"plain":                {"softmax.bin", QuantizeConfig{DSub: 2}},
		"qnorm-cutoff-retrain": {"hs.bin", QuantizeConfig{DSub: 4, QNorm: true, Cutoff: 300, Retrain: true, Data: train, Train: TrainOptions{Epochs: 5, LR: 0.1, Threads: 1, Seed: 1}}},
		"cutoff-ova":           {"ova.bin", QuantizeConfig{DSub: 8, Cutoff: 400, Train: TrainOptions{Threads: 2}}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ReadFastTextBin(filepath.Join(ftDir, tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Quantize(tc.cfg); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "model.ftz")
			if err := c.WriteFastText(path); err != nil {
				t.Fatal(err)
			}
			// textclf reads back what it wrote and predicts the same.
			back, err := ReadFastTextBin(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, ex := range test.Examples {
				a, _ := c.Scores(ex.Text, "")
				b, _ := back.Scores(ex.Text, "")
				for k := range a {
					if a[k] != b[k] {
						t.Fatalf("%q: read back %v, in memory %v", ex.Text, b, a)
					}
				}
			}
			if tc.cfg.Cutoff > 0 && len(back.ft.pruned)+len(back.ft.Words) != tc.cfg.Cutoff {
				t.Errorf("%d words + %d n-grams kept, want %d rows", len(back.ft.Words), len(back.ft.pruned), tc.cfg.Cutoff)
			}
			out, err := exec.Command(ft, "predict-prob", path, filepath.Join(ftDir, "test.txt"), "-1").Output()
			if err != nil {
				t.Fatalf("fasttext predict-prob: %v", err)
			}
			probs := filepath.Join(dir, "model.probs")
			os.WriteFile(probs, out, 0o644)
			checkFastTextProbs(t, back, test, probs)
		})
	}
}

// TestQuantizeKeepsPredictions checks that quantization (fastText's
// settings for a small file: cutoff, retraining, qnorm) changes few of the
// dense model's predictions.
func TestQuantizeKeepsPredictions(t *testing.T) {
	train, test := ftData(t)
	dense, err := ReadFastTextBin(filepath.Join(ftDir, "softmax.bin"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := ReadFastTextBin(filepath.Join(ftDir, "softmax.bin"))
	if err := q.Quantize(QuantizeConfig{DSub: 2, QNorm: true, Cutoff: 400, Retrain: true, Data: train, Train: TrainOptions{Epochs: 5, LR: 0.1, Threads: 1, Seed: 1}}); err != nil {
		t.Fatal(err)
	}
	var agree int
	for _, ex := range test.Examples {
		a, _ := dense.Scores(ex.Text, "")
		b, _ := q.Scores(ex.Text, "")
		if metrics.Argmax(a) == metrics.Argmax(b) {
			agree++
		}
	}
	if agree < len(test.Examples)*9/10 {
		t.Errorf("quantized model agrees with the dense one on %d of %d examples", agree, len(test.Examples))
	}
}

// TestProductQuantizerRecoversClusters checks the k-means: points drawn
// around 256 centres are coded to vectors within the noise of their centre.
func TestProductQuantizerRecoversClusters(t *testing.T) {
	const dim, n = 4, 4096
	rng := rand.New(rand.NewPCG(1, 2))
	centres := make([]float32, pqKsub*dim)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		c := rng.IntN(pqKsub)
		for j := 0; j < dim; j++ {
			x[i*dim+j] = centres[c*dim+j] + 0.001*float32(rng.NormFloat64())
		}
	}
	orig := append([]float32(nil), x...)
	q, err := quantizeMatrix(x, n, dim, dim, false, 2)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	rec := make([]float32, dim)
	for i := 0; i < n; i++ {
		clear(rec)
		q.addRow(rec, i, 1)
		worst = math.Max(worst, float64(distL2(rec, orig[i*dim:(i+1)*dim])))
	}
	// k-means from random starts finds most clusters, not all: compare the
	// mean error with the spread of the data (4: four unit-variance
	// coordinates), which a quantizer that learnt nothing would leave.
	var sum float64
	for i := 0; i < n; i++ {
		clear(rec)
		q.addRow(rec, i, 1)
		sum += float64(distL2(rec, orig[i*dim:(i+1)*dim]))
	}
	if mean := sum / n; mean > 0.2 {
		t.Errorf("mean squared error %.4g (worst %.4g), want under 5%% of the data's spread", mean, worst)
	}
}

func TestQuantizeErrors(t *testing.T) {
	q, err := ReadFastTextBin(filepath.Join(ftDir, "q_softmax.ftz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Quantize(QuantizeConfig{DSub: 2}); err == nil || !strings.Contains(err.Error(), "already quantized") {
		t.Errorf("quantizing a .ftz: %v", err)
	}
	for _, tc := range []struct {
		cfg  QuantizeConfig
		want string
	}{
		{QuantizeConfig{DSub: 3}, "--dsub 3 does not divide the dimension 8"},
		{QuantizeConfig{DSub: 0}, "does not divide"},
		{QuantizeConfig{DSub: 2, Cutoff: 100}, "fewer than the 256"},
		{QuantizeConfig{DSub: 2, Cutoff: 300, Retrain: true}, "needs the training data"},
		{QuantizeConfig{DSub: 2, QOut: true}, "--qout needs at least 256 output rows"},
	} {
		c, err := ReadFastTextBin(filepath.Join(ftDir, "softmax.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Quantize(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestQuantizedSaveLoad checks that a quantized model saves as a directory
// with config.json and model.ftz, and loads with its segmentation.
func TestQuantizedSaveLoad(t *testing.T) {
	c, err := ReadFastTextBin(filepath.Join(ftDir, "softmax.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Quantize(QuantizeConfig{DSub: 2, QNorm: true, Train: TrainOptions{Threads: 2}}); err != nil {
		t.Fatal(err)
	}
	c.Config.Segmenter = Segmenter{Mode: SegmentWords, Lower: true}
	dir := t.TempDir()
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FastTextFile)); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config.Segmenter != c.Config.Segmenter || !back.ft.Quantized() {
		t.Fatalf("loaded segmenter %+v quantized %v", back.Config.Segmenter, back.ft.Quantized())
	}
	a, _ := c.Scores("MATCH goal, team", "")
	b, _ := back.Scores("MATCH goal, team", "")
	for k := range a {
		if a[k] != b[k] {
			t.Fatalf("loaded %v, saved %v", b, a)
		}
	}
}

// TestFastTextPretrainedVectors checks fastText's -pretrainedVectors: the
// vectors' words join the vocabulary with their vectors as input rows (a
// word the training data lacks keeps its vector), and a dimension that
// differs from --dim is an error.
func TestFastTextPretrainedVectors(t *testing.T) {
	dir := t.TempDir()
	vec := filepath.Join(dir, "v.vec")
	os.WriteFile(vec, []byte("3 4\ngood 1 2 3 4\nzebra 0.5 -0.5 0.25 -0.25\nbad -1 -2 -3 -4\n"), 0o644)
	ds := separable(200, 1)
	cfg, _ := DefaultTrainConfig(ArchFastText)
	cfg.FastText.Dim, cfg.FastText.Bucket, cfg.Train.Threads, cfg.Vectors = 4, 100, 1, vec
	c, err := Train(ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := c.ft.wordIndex["zebra"]
	if !ok {
		t.Fatal("zebra, a word of the vectors only, is not in the vocabulary")
	}
	if got := c.ft.In.W[int(id)*4 : int(id+1)*4]; got[0] != 0.5 || got[1] != -0.5 || got[2] != 0.25 || got[3] != -0.25 {
		t.Errorf("zebra's input row is %v, want its pretrained vector", got)
	}
	cfg.FastText.Dim = 8
	if _, err := Train(ds, cfg); err == nil || !strings.Contains(err.Error(), "dimension 4") {
		t.Errorf("vectors of dim 4 for --dim 8: %v", err)
	}
}

// TestQuantizedOutputPredictsInFastText quantizes the output matrix too
// (--qout, which needs 256 labels) and checks fastText's predictions on the
// .ftz file textclf writes.
func TestQuantizedOutputPredictsInFastText(t *testing.T) {
	ft := fastTextBinary(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const nlabels = 260
	labels := make([]string, nlabels)
	for i := range labels {
		labels[i] = "l" + strconv.Itoa(i)
	}
	var docs [][]string
	var ids [][]int
	var text strings.Builder
	for i := 0; i < 2000; i++ {
		l := rng.IntN(nlabels)
		doc := []string{"w" + strconv.Itoa(l), "w" + strconv.Itoa(rng.IntN(500)), "common"}
		docs, ids = append(docs, doc), append(ids, []int{l})
		if i < 50 {
			text.WriteString("__label__" + labels[l] + " " + strings.Join(doc, " ") + "\n")
		}
	}
	m, err := NewFastText(FastTextConfig{Dim: 4, WordNgrams: 1, MinCount: 1, Loss: LossSoftmax, LRUpdateRate: 100}, labels, docs, ids, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Train(docs, ids, TrainOptions{Epochs: 2, LR: 0.5, Threads: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Config: Config{Arch: ArchFastText, Labels: labels, Threshold: 0.5, Segmenter: Segmenter{Mode: SegmentWhitespace}}, ft: m}
	if err := c.Quantize(QuantizeConfig{DSub: 2, QOut: true, QNorm: true, Train: TrainOptions{Threads: 2}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, testPath := filepath.Join(dir, "m.ftz"), filepath.Join(dir, "test.txt")
	if err := c.WriteFastText(path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(testPath, []byte(text.String()), 0o644)
	back, err := ReadFastTextBin(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.ft.qout == nil {
		t.Fatal("the output matrix was not quantized")
	}
	out, err := exec.Command(ft, "predict-prob", path, testPath, "3").Output()
	if err != nil {
		t.Fatalf("fasttext predict-prob: %v", err)
	}
	test, err := data.ReadFile(testPath, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fs := strings.Fields(line)
		got, _ := back.Scores(test.Examples[i].Text, "")
		for j := 0; j+1 < len(fs); j += 2 {
			k := slices.Index(labels, strings.TrimPrefix(fs[j], "__label__"))
			w, _ := strconv.ParseFloat(fs[j+1], 64)
			if k < 0 || math.Abs(float64(got[k])+1e-5-w) > 2e-6+1e-5*w {
				t.Fatalf("line %d: fastText %s %s, textclf %v", i+1, fs[j], fs[j+1], got[max(k, 0)])
			}
		}
	}
}
