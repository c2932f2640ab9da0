package classic

import (
	"bufio"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readLines returns the whitespace-split fields of each line of a file.
func readLines(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, strings.Fields(sc.Text()))
	}
	return out
}

func parseFloats(t *testing.T, fs []string) []float64 {
	t.Helper()
	x := make([]float64, len(fs))
	for i, s := range fs {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		x[i] = v
	}
	return x
}

// closeTo5 compares with values fastText printed with 5 significant
// digits.
func closeTo5(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-7+6e-5*math.Abs(want)
}

func checkVector(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, fastText %d", what, len(got), len(want))
	}
	for i := range got {
		if !closeTo5(got[i], want[i]) {
			t.Fatalf("%s: value %d is %.6g, fastText %.5g\n got %v\nwant %v", what, i, got[i], want[i], got, want)
		}
	}
}

// checkNeighbors compares neighbours with fastText's "word similarity"
// lines.
func checkNeighbors(t *testing.T, what string, got []Neighbor, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d neighbours, fastText %d", what, len(got), len(want))
	}
	for i, n := range got {
		s, _ := strconv.ParseFloat(want[i][1], 64)
		if n.Word != want[i][0] || math.Abs(float64(n.Similarity)-s) > 2e-6 {
			t.Errorf("%s: neighbour %d is %s %.6g, fastText %s %s", what, i+1, n.Word, n.Similarity, want[i][0], want[i][1])
		}
	}
}

// TestVectorToolsMatchFastText reads skip-gram and CBOW models trained by
// fastText (scripts/classic/gen_fasttext_quant_golden.sh) and checks the
// word vectors (unseen words from their char n-grams), sentence vectors,
// nearest neighbours and analogies against what fastText printed.
func TestVectorToolsMatchFastText(t *testing.T) {
	test := readLines(t, filepath.Join(ftDir, "test.txt"))
	for _, name := range []string{"sg", "cbow"} {
		t.Run(name, func(t *testing.T) {
			v, err := ReadWordVectors(filepath.Join(ftDir, name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			if !v.HasSubwords() {
				t.Fatal("no char n-grams")
			}
			for _, l := range readLines(t, filepath.Join(ftDir, name+".words")) {
				checkVector(t, "word "+l[0], v.WordVector(l[0]), parseFloats(t, l[1:]))
			}
			sents := readLines(t, filepath.Join(ftDir, name+".sentences"))
			if len(sents) != len(test) {
				t.Fatalf("%d sentence vectors for %d lines", len(sents), len(test))
			}
			for i, l := range sents {
				checkVector(t, "sentence "+strconv.Itoa(i+1), v.SentenceVector(test[i]), parseFloats(t, l))
			}
			nn := readLines(t, filepath.Join(ftDir, name+".nn"))
			for i, q := range []string{"goal", "recipe", "芯片", "robots"} {
				checkNeighbors(t, "nn "+q, v.NearestWords(q, 5), nn[i*5:(i+1)*5])
			}
			an := readLines(t, filepath.Join(ftDir, name+".analogies"))
			for i, q := range [][3]string{{"match", "team", "recipe"}, {"code", "chip", "noodle"}} {
				checkNeighbors(t, "analogy "+strings.Join(q[:], " "), v.Analogies(q[0], q[1], q[2], 4), an[i*4:(i+1)*4])
			}
		})
	}
}

// TestSupervisedSentenceVectorsMatchFastText checks the sentence vectors of
// a supervised model: the mean of the input rows its classifier sees.
func TestSupervisedSentenceVectorsMatchFastText(t *testing.T) {
	test := readLines(t, filepath.Join(ftDir, "test.txt"))
	v, err := ReadWordVectors(filepath.Join(ftDir, "softmax.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := readLines(t, filepath.Join(ftDir, "softmax.sentences"))
	if len(want) != len(test) {
		t.Fatalf("%d sentence vectors for %d lines", len(want), len(test))
	}
	for i, l := range want {
		checkVector(t, "sentence "+strconv.Itoa(i+1), v.SentenceVector(test[i]), parseFloats(t, l))
	}
}

// TestWord2VecBinReadByFastText trains subword skip-gram and CBOW vectors
// with textclf, writes them as fastText .bin files, and checks that
// fastText's print-word-vectors gives the vectors textclf gives, unseen
// words included.
func TestWord2VecBinReadByFastText(t *testing.T) {
	ft := fastTextBinary(t)
	var sents [][]string
	for _, l := range readLines(t, filepath.Join(ftDir, "corpus.txt")) {
		sents = append(sents, l)
	}
	for _, model := range []string{ModelSkipgram, ModelCBOW} {
		t.Run(model, func(t *testing.T) {
			cfg := DefaultWord2VecConfig()
			cfg.Model, cfg.Dim, cfg.Minn, cfg.Maxn, cfg.Bucket, cfg.MinCount, cfg.Epochs, cfg.Threads = model, 8, 2, 4, 500, 2, 2, 2
			v, err := TrainWord2Vec(sents, cfg)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "v.bin")
			if err := v.WriteFastText(path); err != nil {
				t.Fatal(err)
			}
			queries := []string{"match", "比赛", "matchs", "unseenword", "新面条"}
			cmd := exec.Command(ft, "print-word-vectors", path)
			cmd.Stdin = strings.NewReader(strings.Join(queries, "\n") + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("fasttext print-word-vectors: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != len(queries) {
				t.Fatalf("fastText printed %d lines for %d words", len(lines), len(queries))
			}
			back, err := ReadWordVectors(path)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range lines {
				fs := strings.Fields(l)
				if fs[0] != queries[i] {
					t.Fatalf("line %d is for %q, want %q", i+1, fs[0], queries[i])
				}
				checkVector(t, "fastText on textclf's "+queries[i], v.WordVector(queries[i]), parseFloats(t, fs[1:]))
				checkVector(t, "read back "+queries[i], back.WordVector(queries[i]), parseFloats(t, fs[1:]))
			}
		})
	}
}
