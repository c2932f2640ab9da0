package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/tune"
)

// writeNoisy writes a TSV set whose classes share most words, with 15%
// of labels flipped, so that hyper-parameters change the accuracy.
func writeNoisy(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	cue := map[string][]string{"pos": {"good", "great", "fine", "nice"}, "neg": {"bad", "awful", "poor", "dull"}}
	common := []string{"the", "film", "was", "a", "plot", "it", "and", "story", "actor", "scene", "not", "very"}
	var b strings.Builder
	b.WriteString("sentence\tlabel\n")
	for i := 0; i < n; i++ {
		l := []string{"neg", "pos"}[rng.IntN(2)]
		var ws []string
		for j := 0; j < 4+rng.IntN(6); j++ {
			ws = append(ws, common[rng.IntN(len(common))])
		}
		ws = append(ws, cue[l][rng.IntN(4)])
		if rng.IntN(3) == 0 {
			other := map[string]string{"pos": "neg", "neg": "pos"}[l]
			ws = append(ws, cue[other][rng.IntN(4)])
		}
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		if rng.Float64() < 0.15 {
			l = map[string]string{"pos": "neg", "neg": "pos"}[l]
		}
		fmt.Fprintf(&b, "%s\t%s\n", strings.Join(ws, " "), l)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tuneData(t *testing.T) (dir, train, dev string) {
	dir = t.TempDir()
	train, dev = filepath.Join(dir, "train.tsv"), filepath.Join(dir, "dev.tsv")
	writeNoisy(t, train, 400, 1)
	writeNoisy(t, dev, 150, 2)
	return dir, train, dev
}

func readBest(t *testing.T, out string) bestFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "best.json"))
	if err != nil {
		t.Fatal(err)
	}
	var best bestFile
	if err := json.Unmarshal(b, &best); err != nil {
		t.Fatal(err)
	}
	return best
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
	}
	return n
}

// The end-to-end search on tiny data: a table, trials.jsonl, trials.png,
// best.json; the command in best.json retrains a model that scores what
// the best trial scored; running again continues the search.
func TestTuneFastTextEndToEnd(t *testing.T) {
	dir, train, dev := tuneData(t)
	out := filepath.Join(dir, "study")
	args := []string{"tune", "--arch", "fasttext", "--train", train, "--eval", dev, "--output", out, "--threads", "1",
		"--bucket", "20000", "--sampler-seed", "3", "--startup-trials", "4", "--metric", "accuracy",
		"--param", "lr=float:0.02:2:log", "--param", "epochs=int:1:30:log", "--param", "dim=int:2:40:log",
		"--param", "word-ngrams=int:1:3", "--param", "minn=categorical:0,2,3"}
	stdout, stderr, err := runCLIOutErr(t, append(args, "--trials", "7")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[0], "trial  state     accuracy  seconds  lr") || !strings.HasPrefix(lines[8], "best: trial") || !strings.HasPrefix(lines[9], "retrain: textclf train --arch fasttext") {
		t.Fatalf("stdout:\n%s", stdout)
	}
	if n := countLines(t, filepath.Join(out, "trials.jsonl")); n != 7 {
		t.Fatalf("trials.jsonl has %d lines, want 7", n)
	}
	sf, trials := readStudy(t, out)
	if sf.Seed != 3 || len(sf.Space) != 5 {
		t.Fatalf("study.json: seed %d, %d parameters", sf.Seed, len(sf.Space))
	}
	space := sf.Space
	// Trial 0 trains fastText's defaults (those inside the space).
	if trials[0].Sampler != "enqueued" || trials[0].Params["lr"] != 0.1 || trials[0].Params["epochs"] != 5 || trials[0].Params["word-ngrams"] != 1 {
		t.Errorf("trial 0: %+v", trials[0])
	}
	best := readBest(t, out)
	bt := tune.BestTrial(trials, tune.Maximize)
	if best.Trial != bt.Number || best.Value != *bt.Value || best.Metric != "accuracy" {
		t.Fatalf("best.json %+v, best trial %+v", best, bt)
	}
	if !strings.Contains(lines[8], fmt.Sprintf("best: trial %d, accuracy %.4f", bt.Number, *bt.Value)) {
		t.Errorf("best line %q", lines[8])
	}
	f, err := os.Open(filepath.Join(out, "trials.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("trials.png: %v", err)
	}
	f.Close()

	// The retrain command gives the best trial's model (one thread: the
	// same training).
	cmdArgs := best.Command
	if cmdArgs[0] != "textclf" || cmdArgs[1] != "train" || cmdArgs[len(cmdArgs)-1] != filepath.Join(out, "best-model") {
		t.Fatalf("command %v", cmdArgs)
	}
	if _, err := runCLI(t, "", cmdArgs[1:]...); err != nil {
		t.Fatalf("retrain %v: %v", cmdArgs, err)
	}
	evalOut, err := runCLI(t, "", "eval", "--model", filepath.Join(out, "best-model"), "--data", dev, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep metrics.Report
	if err := json.Unmarshal([]byte(evalOut), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy != best.Metrics["accuracy"] {
		t.Errorf("the retrained model scores %.4f, the best trial %.4f (command %s)", rep.Accuracy, best.Metrics["accuracy"], best.Shell)
	}
	// A trial with minn searched retrains with the maxn it had.
	if bt.Params["minn"] != 0.0 && !strings.Contains(best.Shell, "--maxn") {
		t.Errorf("command without --maxn: %s", best.Shell)
	}

	// Running again with a larger --trials continues the search.
	stdout, stderr, err = runCLIOutErr(t, append(args, "--trials", "9")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "continuing the search") || strings.Count(stderr, "(enqueued)") != 0 {
		t.Errorf("stderr of the resumed run:\n%s", stderr)
	}
	again, err := tune.ReadTrials(filepath.Join(out, "trials.jsonl"), space)
	if err != nil || len(again) != 9 {
		t.Fatalf("%d trials after resuming (%v)", len(again), err)
	}
	for i := range trials {
		if *again[i].Value != *trials[i].Value {
			t.Errorf("trial %d changed on resuming", i)
		}
	}
	if again[8].Sampler != "tpe" {
		t.Errorf("trial 8 sampled by %s, want tpe", again[8].Sampler)
	}
	// Another space in the same directory is refused.
	_, _, err = runCLIOutErr(t, append(args[:len(args)-2], "--trials", "10")...)
	if err == nil || !strings.Contains(err.Error(), "another space") {
		t.Errorf("another space: %v", err)
	}
}

// Bad input is refused before any training, with nothing written.
func TestTuneBadInput(t *testing.T) {
	dir, train, dev := tuneData(t)
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte("{}"), 0o644)
	badRange := filepath.Join(dir, "range.json")
	os.WriteFile(badRange, []byte("{\n  \"lr\": {\"type\": \"float\", \"low\": 0.5, \"high\": 0.1}\n}"), 0o644)
	out := filepath.Join(dir, "never")
	base := []string{"tune", "--arch", "fasttext", "--train", train, "--eval", dev, "--output", out, "--threads", "1", "--trials", "1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--space", empty}, "empty search space"},
		{[]string{"--space", badRange}, "range.json:2: parameter \"lr\": bad range: low 0.5 is above high 0.1"},
		{[]string{"--param", "learning_rate=float:0.1:1"}, `unknown parameter "learning_rate" for --arch fasttext`},
		{[]string{"--param", "dim=int:0:10"}, `parameter "dim": bad range: 0 is outside [1, +Inf]`},
		{[]string{"--param", "lr=float:1:0.1"}, "bad range"},
		{[]string{"--time-budget", "0s"}, "--time-budget must be positive"},
		{[]string{"--time-budget", "-1m"}, "--time-budget must be positive"},
		{[]string{"--trials=-2"}, "--trials must not be negative"},
		{[]string{"--metric", "loss"}, "--metric loss: --arch fasttext evaluations give accuracy and f1"},
		{[]string{"--metric", "precision"}, "--metric must be accuracy, f1 or loss"},
		{[]string{"--sampler", "grid"}, "--sampler must be tpe, random or autotune"},
		{[]string{"--lr", "0.5", "--param", "lr=float:0.1:1"}, "--lr is given as a flag and searched"},
		{[]string{"--lr", "0.5", "--epochs", "5", "--dim", "10", "--word-ngrams", "2", "--minn", "0", "--bucket", "100"}, "empty search space: every parameter"},
		{[]string{"--hidden", "10"}, "--hidden does not apply to --arch fasttext"},
		{[]string{"--pruner-startup-trials", "-1"}, "startup trials -1 is negative"},
	} {
		_, _, err := runCLIOutErr(t, append(append([]string{}, base...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: %s was created", c.args, out)
		}
	}
	_, _, err := runCLIOutErr(t, "tune", "--arch", "fasttext", "--train", train, "--output", out)
	if err == nil || !strings.Contains(err.Error(), "give evaluation data") {
		t.Errorf("no evaluation data: %v", err)
	}
	_, _, err = runCLIOutErr(t, "tune", "--arch", "bilstm", "--train", train, "--validation-split", "0.2", "--param", "seed=int:1:5", "--output", out)
	if err == nil || !strings.Contains(err.Error(), "--validation-split splits with --seed") {
		t.Errorf("validation split with a searched seed: %v", err)
	}
}

// TextCNN trials report each epoch (pruning's intermediate values); flags
// given leave the default space, as fastText's autotune does.
func TestTuneTextCNNDefaultSpace(t *testing.T) {
	dir, train, dev := tuneData(t)
	out := filepath.Join(dir, "cnn")
	_, stderr, err := runCLIOutErr(t, "tune", "--arch", "textcnn", "--train", train, "--eval", dev, "--output", out, "--threads", "2",
		"--dim", "8", "--filters", "4", "--batch-size", "32", "--dropout", "0.2", "--trials", "3", "--sampler-seed", "1",
		"--param", "epochs=int:1:3", "--param", "lr=float:0.003:0.03:log")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	_, trials := readStudy(t, out)
	if len(trials) != 3 {
		t.Fatalf("%d trials, want 3", len(trials))
	}
	for _, tr := range trials {
		if tr.State == tune.Complete && len(tr.Intermediate) != tr.Params["epochs"].(int) {
			t.Errorf("trial %d: %d epochs, %d intermediate values", tr.Number, tr.Params["epochs"], len(tr.Intermediate))
		}
	}
	// Without --param, the flags given are fixed and left out of the space.
	out2 := filepath.Join(dir, "cnn2")
	_, stderr, err = runCLIOutErr(t, "tune", "--arch", "textcnn", "--train", train, "--eval", dev, "--output", out2, "--threads", "2",
		"--dim", "8", "--filters", "4", "--batch-size", "32", "--dropout", "0.2", "--epochs", "1", "--trials", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "not searched, given on the command line: --epochs, --batch-size, --dropout, --dim, --filters") {
		t.Errorf("stderr:\n%s", stderr)
	}
	sf, _ := readStudy(t, out2)
	if got := sf.Space.Names(); len(got) != 1 || got[0] != "lr" {
		t.Errorf("space %v, want [lr]", got)
	}
}

// Transformer trials fine-tune into OUTPUT/trials/trial-N; only the best
// keeps its model, named in best.json.
func TestTuneTransformer(t *testing.T) {
	dir, train, dev := tuneData(t)
	out := filepath.Join(dir, "bert")
	_, stderr, err := runCLIOutErr(t, "tune", "--model", "../../testdata/tiny-bert", "--train", train, "--eval", dev, "--output", out,
		"--max-train-samples", "40", "--batch-size", "8", "--trials", "2", "--sampler-seed", "1",
		"--param", "lr=float:1e-4:1e-2:log", "--param", "epochs=int:1:2")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	best := readBest(t, out)
	if best.Metric != "objective" || best.Model != filepath.Join(out, "trials", fmt.Sprintf("trial-%d", best.Trial)) {
		t.Fatalf("best.json %+v", best)
	}
	if _, err := os.Stat(filepath.Join(best.Model, "model.safetensors")); err != nil {
		t.Errorf("best model: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(out, "trials"))
	if len(entries) != 1 {
		t.Errorf("%d trial directories kept, want the best one", len(entries))
	}
	if got := best.Metrics["accuracy"] + best.Metrics["f1"]; got != best.Value {
		t.Errorf("objective %v, accuracy + f1 = %v", best.Value, got)
	}
	if !strings.Contains(best.Shell, "--model ../../testdata/tiny-bert") || !strings.Contains(best.Shell, "--max-train-samples 40") {
		t.Errorf("command %s", best.Shell)
	}
}

// Every flag of tune's own is in README's table with its default.
func TestREADMETuneFlagTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `--") {
			name := strings.Trim(strings.Fields(strings.TrimPrefix(line, "| "))[0], "`")
			rows[strings.TrimPrefix(name, "--")] = line
		}
	}
	cmd := newTuneCmd()
	for name := range tuneOwnFlags {
		if name == "help" || name == "metric" {
			continue
		}
		f := cmd.Flags().Lookup(name)
		row, ok := rows[name]
		if !ok {
			t.Errorf("README has no table row for tune's --%s", name)
			continue
		}
		def := f.DefValue
		if f.Value.Type() == "duration" {
			def = strings.TrimSuffix(strings.TrimSuffix(def, "0s"), "0m") // 5m0s → 5m
		}
		if def == "" && strings.Contains(row, "| none |") {
			continue
		}
		if f.Value.Type() != "stringArray" && !strings.Contains(row, "`"+def+"`") {
			t.Errorf("README's row of --%s does not give its default %q: %s", name, def, row)
		}
	}
}

// --sampler autotune starts from the defaults and perturbs the best trial.
func TestTuneAutotuneSampler(t *testing.T) {
	dir, train, dev := tuneData(t)
	out := filepath.Join(dir, "auto")
	_, stderr, err := runCLIOutErr(t, "tune", "--arch", "fasttext", "--train", train, "--eval", dev, "--output", out, "--threads", "1",
		"--sampler", "autotune", "--trials", "5", "--sampler-seed", "2", "--param", "lr=float:0.01:5:log", "--param", "epochs=int:1:20:log")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	_, trials := readStudy(t, out)
	if len(trials) != 5 {
		t.Fatalf("%d trials, want 5", len(trials))
	}
	for i, tr := range trials {
		want := "autotune"
		if i == 0 {
			want = "enqueued"
		}
		if tr.Sampler != want || tr.State != tune.Complete {
			t.Errorf("trial %d: %s by %s, want complete by %s", i, tr.State, tr.Sampler, want)
		}
	}
}

// readStudy reads a tune output directory's study.json and its trials.
func readStudy(t *testing.T, dir string) (studyFile, []tune.Trial) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "study.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sf studyFile
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatalf("study.json %s: %v", b, err)
	}
	trials, err := tune.ReadTrials(filepath.Join(dir, "trials.jsonl"), sf.Space)
	if err != nil {
		t.Fatal(err)
	}
	return sf, trials
}
