package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/train"
)

// runCLIOutErr runs textclf with args, returning stdout, stderr and the error.
func runCLIOutErr(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runCLIIn(t, "", args...)
}

// parseTrainFlags parses args as `textclf train` does before running: the
// arch's defaults on the flags not given.
func parseTrainFlags(t *testing.T, args ...string) (*trainFlags, *pflag.FlagSet) {
	t.Helper()
	f := &trainFlags{}
	cmd := newTrainCommand(f)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := resolveArchFlags(cmd.Flags(), f.arch); err != nil {
		t.Fatal(err)
	}
	return f, cmd.Flags()
}

// The command line's defaults are the library's: train.DefaultConfig for
// transformers, classic.DefaultTrainConfig for the classic archs.
func TestTrainDefaultsAreTheLibrarys(t *testing.T) {
	f, _ := parseTrainFlags(t, "--model", tinyBERT, "--train", "t.tsv", "--output", "out")
	got, err := f.transformerConfig(newTrainCommand(&trainFlags{}))
	if err != nil {
		t.Fatal(err)
	}
	want := train.DefaultConfig()
	want.Model, want.Train, want.Output = tinyBERT, "t.tsv", "out"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the CLI's transformer config\n%+v\nthe library's defaults\n%+v", got, want)
	}
	for _, arch := range []string{classic.ArchFastText, classic.ArchTextCNN, classic.ArchBiLSTM} {
		f, fs := parseTrainFlags(t, "--arch", arch)
		got, err := f.classicConfig(arch, fs)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := classic.DefaultTrainConfig(arch)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the CLI's config\n%+v\nthe library's defaults\n%+v", arch, got, want)
		}
	}
}

// Every Trainer flag reaches train.Config; --max-grad-norm 0 turns
// clipping off, as the Trainer's max_grad_norm=0.
func TestTransformerFlagsReachConfig(t *testing.T) {
	f, _ := parseTrainFlags(t, "--model", tinyBERT, "--train", "t.tsv", "--output", "out", "--max-steps", "7", "--eval-batch-size", "5",
		"--save-total-limit", "2", "--max-train-samples", "100", "--validation-split", "0.1", "--logging-dir", "runs", "--max-grad-norm", "0",
		"--dropout", "0.2", "--epochs", "1.5", "--config", "minilm", "--tokenizer", tinyBERT, "--resume", "out/checkpoint-4", "--seed", "7")
	cfg, err := f.transformerConfig(newTrainCommand(&trainFlags{}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxSteps != 7 || cfg.EvalBatchSize != 5 || cfg.SaveTotalLimit != 2 || cfg.MaxTrainSamples != 100 || cfg.ValidationSplit != 0.1 ||
		cfg.LoggingDir != "runs" || cfg.MaxGradNorm != train.NoClipping || cfg.Dropout == nil || *cfg.Dropout != 0.2 || cfg.Epochs != 1.5 ||
		cfg.ModelConfig != "minilm" || cfg.Tokenizer != tinyBERT || cfg.Resume != "out/checkpoint-4" || cfg.Seed != 7 {
		t.Errorf("config %+v", cfg)
	}
}

func TestTrainHelpShowsTheArchsDefaults(t *testing.T) {
	flagLine := func(help, name string) string {
		return regexp.MustCompile(`(?m)^ +(-\w, )?--` + name + ` .*$`).FindString(help)
	}
	cases := []struct {
		args     []string
		defaults map[string]string
		absent   []string
	}{
		{[]string{"train", "--help"}, map[string]string{"lr": "5e-05", "epochs": "3", "batch-size": "8", "max-length": "128", "max-grad-norm": "1", "eval-batch-size": "32"},
			[]string{"word-ngrams", "hidden", "filters", "vectors", "threshold"}},
		{[]string{"train", "--arch", "fasttext", "--help"}, map[string]string{"lr": "0.1", "epochs": "5", "dim": "100", "bucket": "2000000"},
			[]string{"model", "batch-size", "max-length", "dropout", "warmup-steps", "freeze-vectors", "filters"}},
		{[]string{"train", "--arch", "textcnn", "--help"}, map[string]string{"lr": "0.001", "epochs": "10", "batch-size": "32", "dropout": "0.5", "max-length": "256", "filter-widths": "[3,4,5]"},
			[]string{"model", "word-ngrams", "hidden", "max-steps"}},
		{[]string{"cv", "--help"}, map[string]string{"lr": "5e-05", "epochs": "3", "batch-size": "8", "max-length": "128", "folds": "5"},
			[]string{"word-ngrams", "arch", "resume", "validation-split"}},
	}
	for _, c := range cases {
		out, _, err := runCLIOutErr(t, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		for name, def := range c.defaults {
			if l := flagLine(out, name); !strings.Contains(l, "(default "+def+")") {
				t.Errorf("%v: --%s shows %q, want the default %s", c.args, name, l, def)
			}
		}
		for _, name := range c.absent {
			if l := flagLine(out, name); l != "" {
				t.Errorf("%v: lists %q, which does not apply", c.args, l)
			}
		}
	}
}

func TestFlagOfAnotherArchIsAnError(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 2)
	out := filepath.Join(dir, "m")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", tinyBERT, "--word-ngrams", "2"}, "--word-ngrams does not apply to --arch transformer (it is a flag of fasttext)"},
		{[]string{"--model", tinyBERT, "--hidden", "64"}, "--hidden does not apply to --arch transformer (it is a flag of bilstm)"},
		{[]string{"--model", tinyBERT, "--filters", "64"}, "--filters does not apply to --arch transformer"},
		{[]string{"--arch", "fasttext", "--model", tinyBERT}, "--model does not apply to --arch fasttext (it is a flag of transformer)"},
		{[]string{"--arch", "fasttext", "--batch-size", "4"}, "--batch-size does not apply to --arch fasttext (it is a flag of transformer, textcnn, bilstm)"},
		{[]string{"--arch", "textcnn", "--warmup-steps", "10"}, "--warmup-steps does not apply to --arch textcnn"},
		{[]string{"--arch", "bilstm", "--word-ngrams", "2"}, "--word-ngrams does not apply to --arch bilstm"},
		{[]string{"--arch", "fasttext", "--freeze-vectors"}, "--freeze-vectors does not apply to --arch fasttext"},
		{[]string{"--arch", "fasttext", "--epochs", "2.5"}, "--epochs must be a whole number"},
	}
	for _, c := range cases {
		_, _, err := runCLIOutErr(t, append([]string{"train", "--train", data, "--output", out}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// The README's table of train flags lists every flag with the default of
// each arch that the command line has ("—" where it does not apply).
func TestREADMETrainFlagTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	header := "| flag | transformer | fasttext | textcnn | bilstm |"
	start := strings.Index(string(readme), header)
	if start < 0 {
		t.Fatalf("README has no table headed %q", header)
	}
	row := regexp.MustCompile("^\\| `--([a-z0-9-]+)` \\|(.*)\\|$")
	table := map[string][]string{}
	var order []string
	for _, line := range strings.Split(string(readme[start:]), "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("README table row %q is not | `--flag` | cells |", line)
		}
		cells := strings.Split(m[2], "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		table[m[1]] = cells
		order = append(order, m[1])
	}
	defaults := map[string]map[string]string{}
	var names []string
	for _, arch := range trainArchs {
		_, fs := parseTrainFlags(t, "--arch", arch)
		defaults[arch] = map[string]string{}
		fs.VisitAll(func(f *pflag.Flag) {
			if len(archsOf(f.Name)) > 0 && !f.Hidden {
				defaults[arch][f.Name] = f.DefValue
			}
			if arch == archTransformer && f.Name != "help" && f.Name != "arch" {
				names = append(names, f.Name)
			}
		})
	}
	if !slices.Equal(order, names) {
		t.Errorf("README table rows\n%q\nthe train flags, in order\n%q", order, names)
	}
	for _, name := range names {
		cells, ok := table[name]
		if !ok {
			continue
		}
		if len(cells) != len(trainArchs) {
			t.Errorf("--%s: %d cells", name, len(cells))
			continue
		}
		for i, arch := range trainArchs {
			def, applies := defaults[arch][name]
			cell := cells[i]
			switch {
			case !applies && cell != "—":
				t.Errorf("--%s with %s: README says %q, but the flag does not apply (want —)", name, arch, cell)
			case applies && def != "" && !strings.HasPrefix(cell, "`"+def+"`"):
				t.Errorf("--%s with %s: README says %q, the default is `%s`", name, arch, cell, def)
			case applies && def == "" && (cell == "—" || strings.HasPrefix(cell, "`")):
				t.Errorf("--%s with %s: README says %q, the flag has no default", name, arch, cell)
			}
		}
	}
}

// --resume takes a value: a checkpoint directory or "latest".
func TestResumeFlag(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 4)
	out := filepath.Join(dir, "model")
	args := []string{"train", "--model", tinyBERT, "--train", data, "--output", out, "--epochs", "2", "--batch-size", "4", "--save-steps", "1"}
	if _, _, err := runCLIOutErr(t, args...); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(out, "checkpoint-2")
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint-2 after 4 steps with --save-steps 1: %v", err)
	}
	// As the README writes it: --resume DIR, then another flag.
	_, stderr, err := runCLIOutErr(t, "train", "--resume", ckpt, "--model", tinyBERT, "--train", data, "--output", filepath.Join(dir, "resumed"), "--epochs", "2", "--batch-size", "4")
	if err != nil || !strings.Contains(stderr, "trained 4 steps") {
		t.Fatalf("--resume DIR: %v\n%s", err, stderr)
	}
	if _, _, err := runCLIOutErr(t, append(args, "--resume", "latest")...); err != nil {
		t.Fatalf("--resume latest: %v", err)
	}
	if _, _, err := runCLIOutErr(t, "train", "--model", tinyBERT, "--train", data, "--output", filepath.Join(dir, "fresh"), "--resume", "latest"); err == nil ||
		!strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("--resume latest without checkpoints: %v", err)
	}
	if _, _, err := runCLIOutErr(t, "train", "--model", tinyBERT, "--train", data, "--output", out, "--resume"); err == nil ||
		!strings.Contains(err.Error(), "needs an argument") {
		t.Fatalf("--resume without a value: %v", err)
	}
}

// Evaluations are printed as they happen, and the notice of newly
// initialised weights before training starts; the curves are plotted.
func TestTrainShowsProgress(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 4)
	out := filepath.Join(dir, "model")
	_, stderr, err := runCLIOutErr(t, "train", "--model", tinyBERT, "--train", data, "--validation-split", "0.25", "--output", out, "--epochs", "2", "--batch-size", "2")
	if err != nil {
		t.Fatal(err)
	}
	notice := strings.Index(stderr, "newly initialized")
	eval1 := strings.Index(stderr, "eval step 3 (epoch 1.00): accuracy ")
	eval2 := strings.Index(stderr, "eval step 6 (epoch 2.00): accuracy ")
	done := strings.Index(stderr, "trained 6 steps")
	if notice < 0 || eval1 < 0 || eval2 < 0 || done < 0 || !(notice < eval1 && eval1 < eval2 && eval2 < done) {
		t.Fatalf("stderr, want the notice, two evaluations and the summary in that order:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "training_curves.png")); err != nil {
		t.Error("no training_curves.png")
	}
}

// Ctrl-C stops training with the checkpoint to resume from and the exact
// command that does; that command finishes the run.
func TestInterruptPrintsResumeCommand(t *testing.T) {
	// While this channel is registered, SIGINT cannot end the test binary.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	dir := t.TempDir()
	data := writeSentiment(t, dir, 4)
	out := filepath.Join(dir, "model")
	go func() {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(out, "checkpoint-1", "trainer_state.json")); err == nil {
				p, _ := os.FindProcess(os.Getpid())
				p.Signal(os.Interrupt)
				return
			}
		}
	}()
	_, _, err := runCLIOutErr(t, "train", "--model", tinyBERT, "--train", data, "--output", out, "--epochs", "30", "--batch-size", "4", "--save-steps", "1", "--no-shuffle")
	if err == nil {
		t.Fatal("training was not interrupted")
	}
	m := regexp.MustCompile(`^interrupted at step (\d+); the last checkpoint is (\S+); continue with:\n  (textclf train .*)$`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("message %q", err)
	}
	want := fmt.Sprintf("textclf train --batch-size 4 --epochs 30 --model %s --no-shuffle=true --output %s --save-steps 1 --train %s --resume %s", tinyBERT, out, data, m[2])
	if m[3] != want || m[2] != filepath.Join(out, "checkpoint-"+m[1]) {
		t.Fatalf("resume command\n%s\nwant\n%s", m[3], want)
	}
	_, stderr, err := runCLIOutErr(t, strings.Fields(m[3])[1:]...)
	if err != nil || !strings.Contains(stderr, "trained 60 steps") {
		t.Fatalf("the printed command: %v\n%s", err, stderr)
	}
}

// A model trained from a config.json, with the tokenizer given apart.
func TestTrainFromConfigFlag(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 2)
	out := filepath.Join(dir, "m")
	_, stderr, err := runCLIOutErr(t, "train", "--config", filepath.Join(tinyBERT, "config.json"), "--tokenizer", tinyBERT, "--train", data, "--output", out, "--epochs", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "every weight is newly initialized") {
		t.Errorf("stderr %s", stderr)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("no %s", f)
		}
	}
}

// --label-names names index labels, in the file's order.
func TestLabelNamesFlag(t *testing.T) {
	dir := t.TempDir()
	class := filepath.Join(dir, "class.txt")
	os.WriteFile(class, []byte("finance\nsports\ngames\n"), 0o644)
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "%s news %d\t%d\n", []string{"money", "football", "console"}[i%3], i, i%3)
	}
	data := filepath.Join(dir, "train.txt")
	os.WriteFile(data, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "m")
	_, _, err := runCLIOutErr(t, "train", "--arch", "fasttext", "--train", data, "--output", out, "--label-names", class)
	if err == nil || !strings.Contains(err.Error(), "--data-format tsv") {
		t.Fatalf("a TSV .txt read as fastText: %v", err)
	}
	if _, _, err := runCLIOutErr(t, "train", "--arch", "fasttext", "--train", data, "--data-format", "tsv", "--output", out, "--label-names", class); err != nil {
		t.Fatal(err)
	}
	cfg, err := classic.ReadConfig(out)
	if err != nil || !slices.Equal(cfg.Labels, []string{"finance", "sports", "games"}) {
		t.Fatalf("labels %v (%v)", cfg.Labels, err)
	}
	out2 := filepath.Join(dir, "t")
	if _, _, err := runCLIOutErr(t, "train", "--model", tinyBERT, "--train", data, "--data-format", "tsv", "--output", out2, "--label-names", class, "--max-steps", "1"); err != nil {
		t.Fatal(err)
	}
	if c, err := checkpoint.LoadConfig(out2); err != nil || !slices.Equal(c.Labels, []string{"finance", "sports", "games"}) {
		t.Fatalf("transformer labels %v (%v)", c.Labels, err)
	}
}
