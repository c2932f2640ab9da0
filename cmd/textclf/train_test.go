package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/metrics"
)

// writeSeparable writes a CSV dataset whose classes have their own words.
func writeSeparable(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	words := map[string][]string{"pos": {"good", "great", "fine"}, "neg": {"bad", "awful", "poor"}}
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := 0; i < n; i++ {
		l := []string{"neg", "pos"}[rng.IntN(2)]
		fmt.Fprintf(&b, "\"the %s, it was %s\",%s\n", words[l][rng.IntN(3)], words[l][rng.IntN(3)], l)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrainEvalPredictClassic(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeSeparable(t, train, 300, 1)
	writeSeparable(t, test, 100, 2)
	for _, arch := range []string{"fasttext", "textcnn", "bilstm"} {
		t.Run(arch, func(t *testing.T) {
			model := filepath.Join(dir, arch)
			args := []string{"train", "--arch", arch, "--train", train, "--eval", test, "--output", model, "--threads", "2", "--dim", "16"}
			epochs := 10
			if arch == "fasttext" {
				args = append(args, "--epochs", "10", "--lr", "0.5", "--word-ngrams", "2", "--bucket", "10000")
			} else {
				epochs = 3
				args = append(args, "--epochs", "3", "--lr", "0.01")
				args = append(args, map[string][]string{"textcnn": {"--filters", "8"}, "bilstm": {"--hidden", "8"}}[arch]...)
			}
			if _, err := runCLI(t, "", args...); err != nil {
				t.Fatal(err)
			}
			// metrics.jsonl: a record per epoch, the last with the eval scores.
			log, err := os.ReadFile(filepath.Join(model, "metrics.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			recs := strings.Split(strings.TrimSpace(string(log)), "\n")
			if len(recs) != epochs {
				t.Fatalf("metrics.jsonl has %d records for %d epochs", len(recs), epochs)
			}
			var last struct {
				Step  int                `json:"step"`
				Epoch float64            `json:"epoch"`
				Loss  *float64           `json:"loss"`
				Eval  map[string]float64 `json:"eval"`
			}
			if err := json.Unmarshal([]byte(recs[len(recs)-1]), &last); err != nil {
				t.Fatal(err)
			}
			if last.Epoch != float64(epochs) || last.Step < 300*epochs*9/10 || last.Loss == nil || last.Eval["accuracy"] < 0.95 || last.Eval["loss"] <= 0 {
				t.Errorf("last metrics.jsonl record %s", recs[len(recs)-1])
			}
			if png, err := os.ReadFile(filepath.Join(model, "training_curves.png")); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
				t.Errorf("training_curves.png missing or not a PNG (%v)", err)
			}
			cfg, err := classic.ReadConfig(model)
			if err != nil || cfg.Arch != arch {
				t.Fatalf("config.json arch %v (%v)", cfg, err)
			}
			out, err := runCLI(t, "", "eval", "--model", model, "--data", test, "--format", "json", "--report", filepath.Join(dir, arch+"-report"))
			if err != nil {
				t.Fatal(err)
			}
			var rep metrics.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.N != 100 || rep.Accuracy < 0.95 || len(rep.Confusion) != 2 {
				t.Errorf("eval: n %d accuracy %.3f confusion %v", rep.N, rep.Accuracy, rep.Confusion)
			}
			if html, err := os.ReadFile(filepath.Join(dir, arch+"-report", "report.html")); err != nil || !strings.Contains(string(html), "Confusion matrix") {
				t.Errorf("HTML report missing or without a confusion matrix (%v)", err)
			}
			out, err = runCLI(t, "", "predict", "--model", model, "--data", test, "--all")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 100 {
				t.Fatalf("%d prediction lines, want 100", len(lines))
			}
			var p struct {
				Text   string
				Label  string
				Score  float64
				Scores []struct {
					Label string
					Score float64
				}
			}
			if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
				t.Fatal(err)
			}
			if p.Text == "" || len(p.Scores) != 2 || p.Scores[0].Label != p.Label || p.Scores[0].Score != p.Score || p.Scores[0].Score < p.Scores[1].Score {
				t.Errorf("prediction line %s", lines[0])
			}
			wantLabel := "neg"
			if strings.Contains(p.Text, "good") || strings.Contains(p.Text, "great") || strings.Contains(p.Text, "fine") {
				wantLabel = "pos"
			}
			if p.Label != wantLabel {
				t.Errorf("predicted %q for %q", p.Label, p.Text)
			}
		})
	}
}

func TestEvalFastTextBin(t *testing.T) {
	// Accuracy of a model trained by fastText, from fastText's own predictions.
	dir := "../../testdata/classic/fasttext"
	probs, err := os.Open(filepath.Join(dir, "softmax.probs"))
	if err != nil {
		t.Fatal(err)
	}
	defer probs.Close()
	testLines, err := os.ReadFile(filepath.Join(dir, "test.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gold := strings.Split(strings.TrimSpace(string(testLines)), "\n")
	sc := bufio.NewScanner(probs)
	right := 0
	for i := 0; sc.Scan(); i++ {
		if strings.Fields(sc.Text())[0] == strings.Fields(gold[i])[0] {
			right++
		}
	}
	want := float64(right) / float64(len(gold))
	out, err := runCLI(t, "", "eval", "--model", filepath.Join(dir, "softmax.bin"), "--data", filepath.Join(dir, "test.txt"), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep metrics.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy != want {
		t.Errorf("accuracy %.4f, fastText's predictions give %.4f", rep.Accuracy, want)
	}
}

func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "t.csv")
	writeSeparable(t, train, 10, 1)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--train", train, "--output", dir + "/m"}, "--model (or --config), --train and --output are required"},
		{[]string{"train", "--arch", "svm", "--train", train, "--output", dir + "/m"}, "unknown --arch"},
		{[]string{"train", "--arch", "fasttext", "--output", dir + "/m"}, "--train and --output are required"},
		{[]string{"train", "--arch", "fasttext", "--train", train, "--output", dir + "/m", "--loss", "ns"}, "unknown --loss"},
		{[]string{"eval", "--model", dir + "/none", "--data", train}, "no such directory"},
		{[]string{"eval", "--model", dir, "--data", train, "--format", "xml"}, "--format must be text or json"},
	}
	for _, c := range cases {
		_, err := runCLI(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n"), 0o644)
	if _, err := runCLI(t, "", "train", "--arch", "fasttext", "--train", bad, "--output", dir+"/m"); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("bad row error %v, want file and line", err)
	}
}

func TestWord2VecCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.txt")
	var b strings.Builder
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 2000; i++ {
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "the %s eats grass on the farm\n", []string{"cow", "horse"}[rng.IntN(2)])
		} else {
			fmt.Fprintf(&b, "the %s drives on the road with fuel\n", []string{"car", "bus"}[rng.IntN(2)])
		}
	}
	os.WriteFile(corpus, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "v.vec")
	if _, err := runCLI(t, "", "word2vec", "--corpus", corpus, "--output", out, "--dim", "16", "--threads", "2", "--sample", "0"); err != nil {
		t.Fatal(err)
	}
	v, err := classic.ReadVectors(out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Dim != 16 || v.Vector("cow") == nil {
		t.Fatalf("vectors: dim %d, cow %v", v.Dim, v.Vector("cow"))
	}
	if v.Cosine("cow", "horse") <= v.Cosine("cow", "car") {
		t.Errorf("cos(cow, horse) %.3f not above cos(cow, car) %.3f", v.Cosine("cow", "horse"), v.Cosine("cow", "car"))
	}
}
