package tune

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/train"
)

// words makes a separable data set: each class has its own words.
func words(n int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	vocab := map[string][]string{"pos": {"good", "great", "fine", "lovely"}, "neg": {"bad", "awful", "poor", "dreadful"}}
	filler := []string{"the", "a", "it", "was", "film"}
	ds := &data.Dataset{Path: fmt.Sprintf("words-%d", seed)}
	for i := 0; i < n; i++ {
		l := []string{"neg", "pos"}[rng.IntN(2)]
		ws := []string{vocab[l][rng.IntN(4)]}
		for j := 0; j < 2+rng.IntN(4); j++ {
			ws = append(ws, filler[rng.IntN(5)])
		}
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		ds.Examples = append(ds.Examples, data.Example{Text: strings.Join(ws, " "), Labels: []string{l}, Line: i + 1})
	}
	return ds
}

func classicObjective(t *testing.T, arch string) *ClassicObjective {
	t.Helper()
	cfg, err := classic.DefaultTrainConfig(arch)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.Threads = 1
	return &ClassicObjective{Base: cfg, Train: words(300, 1), Eval: words(100, 2)}
}

// fasttext parameters reach the training configuration, maxn follows minn
// as in fastText's autotune, and a trial is scored on the evaluation data.
func TestClassicObjectiveFastText(t *testing.T) {
	o := classicObjective(t, "fasttext")
	space, _ := DefaultSpace("fasttext")
	if err := o.Check(space); err != nil {
		t.Fatal(err)
	}
	def := o.Defaults(space)
	want := map[string]any{"lr": 0.1, "epochs": 5, "dim": 100, "word-ngrams": 1, "minn": 0, "bucket": 2000000}
	for k, v := range want {
		if def[k] != v {
			t.Errorf("default %s = %v, want %v", k, def[k], v)
		}
	}
	cfg, err := o.Config(map[string]any{"lr": 0.7, "epochs": 12, "dim": 20, "word-ngrams": 2, "minn": 2.0, "bucket": 5000})
	if err != nil {
		t.Fatal(err)
	}
	ft := cfg.FastText
	if cfg.Train.LR != 0.7 || cfg.Train.Epochs != 12 || ft.Dim != 20 || ft.WordNgrams != 2 || ft.Minn != 2 || ft.Maxn != 5 || ft.Bucket != 5000 {
		t.Errorf("config %+v %+v", cfg.Train, ft)
	}
	if o.Base.FastText.Dim != 100 || o.Base.Train.LR != 0.1 {
		t.Error("Config changed the base configuration")
	}
	if cfg, _ := o.Config(map[string]any{"minn": 0.0}); cfg.FastText.Maxn != 0 {
		t.Errorf("minn 0 gives maxn %d, want 0", cfg.FastText.Maxn)
	}
	o.FixedMaxn, o.Base.FastText.Maxn = true, 6
	if cfg, _ := o.Config(map[string]any{"minn": 3.0}); cfg.FastText.Maxn != 6 {
		t.Errorf("a fixed maxn became %d", cfg.FastText.Maxn)
	}
	o.FixedMaxn, o.Base.FastText.Maxn = false, 0

	s := &Study{Space: space, Goal: GoalFor("", false), Seed: 1, TimeBudget: time.Minute, MaxTrials: 3,
		Enqueue: []map[string]any{def, {"lr": 0.5, "epochs": 20, "dim": 10, "word-ngrams": 1, "minn": 0.0, "bucket": 9000000}}}
	o.MaxMemory = 1 << 20
	if err := s.Optimize(context.Background(), o.Run); err != nil {
		t.Fatal(err)
	}
	// Defaults: no n-grams, so no buckets: within the memory limit.
	if tr := s.Trials[0]; tr.State != Complete || tr.Metrics["accuracy"] < 0.8 || *tr.Value != tr.Metrics["accuracy"]+tr.Metrics["f1"] {
		t.Errorf("defaults trial %+v", tr)
	}
	// Word n-grams 1 and no char n-grams need no buckets either.
	if tr := s.Trials[1]; tr.State != Complete {
		t.Errorf("trial 1 %+v", tr)
	}
	if tr := s.Trials[2]; tr.State == Complete && tr.Params["word-ngrams"].(int) > 1 && tr.Params["bucket"].(int)*tr.Params["dim"].(int)*4 > 1<<20 {
		t.Errorf("trial 2 over the memory limit completed: %+v", tr)
	}
	o.MaxMemory = 1000
	if _, err := o.Run(context.Background(), &Handle{Params: map[string]any{"word-ngrams": 2, "bucket": 10000, "dim": 10}, study: s, trial: &Trial{}}); err == nil || !strings.Contains(err.Error(), "over the memory limit") {
		t.Errorf("memory limit: %v", err)
	}
}

// alwaysPrune prunes at the first report.
type alwaysPrune struct{}

func (alwaysPrune) Prune([]Trial, *Trial, Direction) bool { return true }

// TextCNN and BiLSTM report an evaluation per epoch, and a pruned trial
// stops at once.
func TestClassicObjectiveReportsEpochs(t *testing.T) {
	for _, arch := range []string{"textcnn", "bilstm"} {
		o := classicObjective(t, arch)
		o.Base.NN.Dim, o.Base.NN.Filters, o.Base.NN.Hidden = 8, 4, 4
		space := Space{{Name: "lr", Kind: Float, Low: 0.03, High: 0.05, Log: true}, {Name: "epochs", Kind: Int, Low: 3, High: 3}}
		if err := o.Check(space); err != nil {
			t.Fatal(err)
		}
		s := &Study{Space: space, Goal: GoalFor("accuracy", false), Seed: 1, TimeBudget: time.Minute, MaxTrials: 1}
		if err := s.Optimize(context.Background(), o.Run); err != nil {
			t.Fatal(err)
		}
		tr := s.Trials[0]
		if tr.State != Complete || len(tr.Intermediate) != 3 || tr.Intermediate[2].Step != 3 || tr.Intermediate[2].Value != *tr.Value || *tr.Value < 0.8 {
			t.Errorf("%s: trial %+v", arch, tr)
		}
		s = &Study{Space: space, Goal: GoalFor("accuracy", false), Seed: 1, TimeBudget: time.Minute, MaxTrials: 1, Pruner: alwaysPrune{}}
		if err := s.Optimize(context.Background(), o.Run); err != nil {
			t.Fatal(err)
		}
		if tr := s.Trials[0]; tr.State != Pruned || len(tr.Intermediate) != 1 {
			t.Errorf("%s: pruned trial %+v", arch, tr)
		}
	}
	o := classicObjective(t, "textcnn")
	o.Base.Vectors = "vectors.txt"
	if err := o.Check(Space{{Name: "dim", Kind: Int, Low: 10, High: 20}}); err == nil || !strings.Contains(err.Error(), "pretrained vectors") {
		t.Errorf("dim with vectors: %v", err)
	}
	o.Eval = nil
	if err := o.Check(Space{{Name: "lr", Kind: Float, Low: 0.1, High: 0.2}}); err == nil || !strings.Contains(err.Error(), "evaluation data") {
		t.Errorf("no evaluation data: %v", err)
	}
}

// A transformer trial fine-tunes into its own directory, reports each
// epoch's evaluation and ends with the last one's metrics (transformers'
// hyperparameter_search); pruning stops the run.
func TestTransformerObjective(t *testing.T) {
	pos := []string{"great movie", "a good film", "i loved it", "the best story"}
	neg := []string{"bad movie", "an awful film", "i hated it", "the worst plot"}
	ds := &data.Dataset{Path: "tiny"}
	for i := 0; i < 8; i++ {
		ds.Examples = append(ds.Examples, data.Example{Text: pos[i%4], Labels: []string{"positive"}, Line: 2 * i}, data.Example{Text: neg[i%4], Labels: []string{"negative"}, Line: 2*i + 1})
	}
	dir := t.TempDir()
	o := &TransformerObjective{Base: train.Config{Model: "../testdata/tiny-bert", BatchSize: 4, LogSteps: 100}, Train: ds, Eval: ds, Dir: dir}
	space, _ := DefaultSpace(ArchTransformer)
	if err := o.Check(space); err != nil {
		t.Fatal(err)
	}
	def := o.Defaults(space)
	if def["lr"] != 5e-5 || def["epochs"] != 3.0 || def["seed"] != 42 || def["batch-size"] != 4 {
		t.Errorf("defaults %v", def)
	}
	cfg, err := o.Config(map[string]any{"lr": 1e-4, "epochs": 2, "seed": 7, "batch-size": 8.0, "dropout": 0.0, "max-grad-norm": 0.0})
	if err != nil || cfg.LR != 1e-4 || cfg.Epochs != 2 || cfg.Seed != 7 || cfg.BatchSize != 8 || *cfg.Dropout != 0 || cfg.MaxGradNorm != train.NoClipping {
		t.Fatalf("config %+v %v", cfg, err)
	}
	space = Space{{Name: "lr", Kind: Float, Low: 1e-3, High: 1e-2, Log: true}, {Name: "epochs", Kind: Int, Low: 2, High: 2}}
	s := &Study{Space: space, Goal: GoalFor("", false), Seed: 1, TimeBudget: time.Minute, MaxTrials: 1}
	if err := s.Optimize(context.Background(), o.Run); err != nil {
		t.Fatal(err)
	}
	tr := s.Trials[0]
	if tr.State != Complete || len(tr.Intermediate) != 2 || tr.Intermediate[1].Step != 2 || *tr.Value != tr.Intermediate[1].Value {
		t.Fatalf("trial %+v", tr)
	}
	if _, ok := tr.Metrics["loss"]; !ok || *tr.Value != tr.Metrics["accuracy"]+tr.Metrics["f1"] {
		t.Errorf("metrics %v, value %v", tr.Metrics, *tr.Value)
	}
	if _, err := os.Stat(o.TrialDir(0) + "/config.json"); err != nil {
		t.Errorf("trial directory: %v", err)
	}
	s = &Study{Space: space, Goal: GoalFor("", false), Seed: 1, TimeBudget: time.Minute, MaxTrials: 1, Pruner: alwaysPrune{}}
	if err := s.Optimize(context.Background(), o.Run); err != nil {
		t.Fatal(err)
	}
	if tr := s.Trials[0]; tr.State != Pruned || len(tr.Intermediate) != 1 {
		t.Errorf("pruned trial %+v", tr)
	}
	_, err = o.Run(context.Background(), &Handle{Number: 5, Params: map[string]any{"lr-scheduler": "none"}, study: s, trial: &Trial{}})
	if err == nil || errors.Is(err, ErrPruned) {
		t.Errorf("bad scheduler: %v", err)
	}
}
