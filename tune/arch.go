package tune

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/train"
)

// ArchTransformer is the arch of fine-tuning a transformer (the others are
// classic's: fasttext, textcnn, bilstm).
const ArchTransformer = "transformer"

// setting is one tunable training setting of an arch, named after its
// train flag: the values it takes and how to read and set it.
type setting[C any] struct {
	kind             Kind // Int or Float (numbers) or Categorical (strings)
	min, max         float64
	openMin, openMax bool
	words            []string // the strings a Categorical setting takes
	get              func(*C) any
	set              func(*C, any)
}

func num(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func intSetting[C any](lo float64, field func(*C) *int) setting[C] {
	return setting[C]{kind: Int, min: lo, max: math.Inf(1),
		get: func(c *C) any { return *field(c) }, set: func(c *C, v any) { *field(c) = int(num(v)) }}
}

func floatSetting[C any](lo, hi float64, openLo, openHi bool, field func(*C) *float64) setting[C] {
	return setting[C]{kind: Float, min: lo, max: hi, openMin: openLo, openMax: openHi,
		get: func(c *C) any { return *field(c) }, set: func(c *C, v any) { *field(c) = num(v) }}
}

func stringSetting[C any](words []string, field func(*C) *string) setting[C] {
	return setting[C]{kind: Categorical, words: words,
		get: func(c *C) any { return *field(c) }, set: func(c *C, v any) { *field(c) = v.(string) }}
}

var inf = math.Inf(1)

// transformerSettings are the Trainer's tunable settings (train.Config).
var transformerSettings = map[string]setting[train.Config]{
	"lr":           floatSetting(0, inf, true, false, func(c *train.Config) *float64 { return &c.LR }),
	"epochs":       floatSetting(0, inf, true, false, func(c *train.Config) *float64 { return &c.Epochs }),
	"batch-size":   intSetting(1, func(c *train.Config) *int { return &c.BatchSize }),
	"weight-decay": floatSetting(0, inf, false, false, func(c *train.Config) *float64 { return &c.WeightDecay }),
	"warmup-ratio": floatSetting(0, 1, false, false, func(c *train.Config) *float64 { return &c.WarmupRatio }),
	"warmup-steps": intSetting(0, func(c *train.Config) *int { return &c.WarmupSteps }),
	"max-length":   intSetting(1, func(c *train.Config) *int { return &c.MaxLength }),
	"grad-accum":   intSetting(1, func(c *train.Config) *int { return &c.GradAccum }),
	"lr-scheduler": stringSetting([]string{"linear", "cosine", "constant"}, func(c *train.Config) *string { return &c.Scheduler }),
	"seed": {kind: Int, min: 1, max: math.MaxInt64,
		get: func(c *train.Config) any { return int(c.Seed) }, set: func(c *train.Config, v any) { c.Seed = uint64(num(v)) }},
	"max-grad-norm": {kind: Float, min: 0, max: inf,
		get: func(c *train.Config) any { return max(c.MaxGradNorm, 0) },
		set: func(c *train.Config, v any) {
			if c.MaxGradNorm = num(v); c.MaxGradNorm == 0 {
				c.MaxGradNorm = train.NoClipping // as --max-grad-norm 0
			}
		}},
	"dropout": {kind: Float, min: 0, max: 1, openMax: true,
		get: func(c *train.Config) any {
			if c.Dropout == nil {
				return nil // the model config's
			}
			return *c.Dropout
		},
		set: func(c *train.Config, v any) { d := num(v); c.Dropout = &d }},
}

// classicSettings are the tunable settings of each classic arch
// (classic.TrainConfig).
var classicSettings = func() map[string]map[string]setting[classic.TrainConfig] {
	type C = classic.TrainConfig
	common := map[string]setting[C]{
		"lr":     floatSetting(0, inf, true, false, func(c *C) *float64 { return &c.Train.LR }),
		"epochs": intSetting(1, func(c *C) *int { return &c.Train.Epochs }),
		"seed": {kind: Int, min: 0, max: math.MaxInt64,
			get: func(c *C) any { return int(c.Train.Seed) }, set: func(c *C, v any) { c.Train.Seed = uint64(num(v)) }},
	}
	ft := maps.Clone(common)
	ft["dim"] = intSetting(1, func(c *C) *int { return &c.FastText.Dim })
	ft["word-ngrams"] = intSetting(1, func(c *C) *int { return &c.FastText.WordNgrams })
	ft["minn"] = intSetting(0, func(c *C) *int { return &c.FastText.Minn })
	ft["maxn"] = intSetting(0, func(c *C) *int { return &c.FastText.Maxn })
	ft["bucket"] = intSetting(0, func(c *C) *int { return &c.FastText.Bucket })
	ft["min-count"] = intSetting(1, func(c *C) *int { return &c.FastText.MinCount })
	ft["lr-update-rate"] = intSetting(1, func(c *C) *int { return &c.FastText.LRUpdateRate })
	ft["loss"] = stringSetting([]string{classic.LossSoftmax, classic.LossHS, classic.LossOVA}, func(c *C) *string { return &c.FastText.Loss })
	nn := maps.Clone(common)
	nn["batch-size"] = intSetting(1, func(c *C) *int { return &c.BatchSize })
	nn["dropout"] = floatSetting(0, 1, false, true, func(c *C) *float64 { return &c.NN.Dropout })
	nn["dim"] = intSetting(1, func(c *C) *int { return &c.NN.Dim })
	nn["min-count"] = intSetting(1, func(c *C) *int { return &c.NN.MinCount })
	nn["max-length"] = intSetting(1, func(c *C) *int { return &c.NN.MaxLen })
	cnn, lstm := maps.Clone(nn), maps.Clone(nn)
	cnn["filters"] = intSetting(1, func(c *C) *int { return &c.NN.Filters })
	lstm["hidden"] = intSetting(1, func(c *C) *int { return &c.NN.Hidden })
	lstm["pool"] = stringSetting([]string{classic.PoolMax, classic.PoolMean}, func(c *C) *string { return &c.NN.Pool })
	return map[string]map[string]setting[C]{classic.ArchFastText: ft, classic.ArchTextCNN: cnn, classic.ArchBiLSTM: lstm}
}()

// Parameters lists the names of the parameters an arch can tune (its
// train flags), sorted.
func Parameters(arch string) ([]string, error) {
	var names []string
	if arch == ArchTransformer {
		names = slices.Collect(maps.Keys(transformerSettings))
	} else if s, ok := classicSettings[arch]; ok {
		names = slices.Collect(maps.Keys(s))
	} else {
		return nil, fmt.Errorf("unknown arch %q (want transformer, fasttext, textcnn or bilstm)", arch)
	}
	sort.Strings(names)
	return names, nil
}

// DefaultSpace is the search space of an arch when none is given:
//
//   - transformer: transformers' default_hp_space_optuna: lr log-uniform
//     in [1e-6, 1e-4], epochs 1–5, seed 1–40, batch size 4, 8, 16, 32 or 64;
//   - fasttext: what fastText's autotune searches (src/autotune.cc): lr
//     in [0.01, 5], epochs in [1, 100], dim in [1, 1000] and bucket in
//     [10k, 10M], all in log scale, word n-grams 1–5, minn 0, 2 or 3 (with
//     maxn = minn + 3, or 0);
//   - textcnn: lr in [1e-4, 1e-2] (log), epochs 1–20, batch size 16–128,
//     dropout in [0, 0.7], filters per width in [32, 512] and dim in
//     [50, 300] (log);
//   - bilstm: as textcnn, with hidden units in [32, 512] (log) for the
//     filters, and max or mean pooling.
func DefaultSpace(arch string) (Space, error) {
	nnSpace := func(extra ...Param) Space {
		return append(Space{
			{Name: "lr", Kind: Float, Low: 1e-4, High: 1e-2, Log: true},
			{Name: "epochs", Kind: Int, Low: 1, High: 20},
			{Name: "batch-size", Kind: Categorical, Choices: []any{16.0, 32.0, 64.0, 128.0}},
			{Name: "dropout", Kind: Float, Low: 0, High: 0.7},
			{Name: "dim", Kind: Int, Low: 50, High: 300, Log: true},
		}, extra...)
	}
	switch arch {
	case ArchTransformer:
		return Space{
			{Name: "lr", Kind: Float, Low: 1e-6, High: 1e-4, Log: true},
			{Name: "epochs", Kind: Int, Low: 1, High: 5},
			{Name: "seed", Kind: Int, Low: 1, High: 40},
			{Name: "batch-size", Kind: Categorical, Choices: []any{4.0, 8.0, 16.0, 32.0, 64.0}},
		}, nil
	case classic.ArchFastText:
		return Space{
			{Name: "lr", Kind: Float, Low: 0.01, High: 5, Log: true},
			{Name: "epochs", Kind: Int, Low: 1, High: 100, Log: true},
			{Name: "dim", Kind: Int, Low: 1, High: 1000, Log: true},
			{Name: "word-ngrams", Kind: Int, Low: 1, High: 5},
			{Name: "minn", Kind: Categorical, Choices: []any{0.0, 2.0, 3.0}},
			{Name: "bucket", Kind: Int, Low: 10000, High: 10000000, Log: true},
		}, nil
	case classic.ArchTextCNN:
		return nnSpace(Param{Name: "filters", Kind: Int, Low: 32, High: 512, Log: true}), nil
	case classic.ArchBiLSTM:
		return nnSpace(Param{Name: "hidden", Kind: Int, Low: 32, High: 512, Log: true},
			Param{Name: "pool", Kind: Categorical, Choices: []any{classic.PoolMax, classic.PoolMean}}), nil
	}
	return nil, fmt.Errorf("unknown arch %q (want transformer, fasttext, textcnn or bilstm)", arch)
}

// CheckSpace validates a search space for an arch before any training:
// the space itself (see Space.Check), parameter names the arch knows, and
// values its training accepts.
func CheckSpace(arch string, space Space) error {
	if err := space.Check(); err != nil {
		return err
	}
	names, err := Parameters(arch)
	if err != nil {
		return err
	}
	for i := range space {
		p := &space[i]
		var err error
		if arch == ArchTransformer {
			err = checkParam(p, transformerSettings, names, arch)
		} else {
			err = checkParam(p, classicSettings[arch], names, arch)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkParam[C any](p *Param, settings map[string]setting[C], names []string, arch string) error {
	s, ok := settings[p.Name]
	if !ok {
		return fmt.Errorf("unknown parameter %q for --arch %s (it tunes %s)", p.Name, arch, strings.Join(names, ", "))
	}
	inRange := func(v float64) bool {
		return (v > s.min || (!s.openMin && v == s.min)) && (v < s.max || (!s.openMax && v == s.max))
	}
	rangeText := func() string {
		lo, hi := "[", "]"
		if s.openMin {
			lo = "("
		}
		if s.openMax {
			hi = ")"
		}
		return fmt.Sprintf("%s%g, %g%s", lo, s.min, s.max, hi)
	}
	switch s.kind {
	case Categorical:
		if p.Kind != Categorical {
			return fmt.Errorf("parameter %q takes one of %s: give it as categorical", p.Name, strings.Join(s.words, ", "))
		}
		for _, c := range p.Choices {
			if w, ok := c.(string); !ok || !slices.Contains(s.words, w) {
				return fmt.Errorf("parameter %q: choice %v is not one of %s", p.Name, c, strings.Join(s.words, ", "))
			}
		}
		return nil
	case Int:
		if p.Kind == Float {
			return fmt.Errorf("parameter %q takes whole numbers: give it as int or categorical", p.Name)
		}
	}
	values := []float64{p.Low, p.High}
	if p.Kind == Categorical {
		values = values[:0]
		for _, c := range p.Choices {
			v, ok := c.(float64)
			if !ok {
				return fmt.Errorf("parameter %q takes numbers, not %q", p.Name, c)
			}
			if s.kind == Int && v != math.Trunc(v) {
				return fmt.Errorf("parameter %q takes whole numbers, not %g", p.Name, v)
			}
			values = append(values, v)
		}
	}
	for _, v := range values {
		if !inRange(v) {
			return fmt.Errorf("parameter %q: bad range: %g is outside %s", p.Name, v, rangeText())
		}
	}
	return nil
}

// apply sets params on cfg with settings.
func apply[C any](cfg *C, params map[string]any, settings map[string]setting[C]) error {
	for name, v := range params {
		s, ok := settings[name]
		if !ok {
			return fmt.Errorf("unknown parameter %q", name)
		}
		s.set(cfg, v)
	}
	return nil
}

// values reads the current value of each of space's parameters from cfg
// (a parameter without one, as a transformer's dropout left to its
// config, is left out).
func values[C any](cfg *C, space Space, settings map[string]setting[C]) map[string]any {
	out := map[string]any{}
	for _, p := range space {
		if s, ok := settings[p.Name]; ok {
			if v := s.get(cfg); v != nil {
				out[p.Name] = v
			}
		}
	}
	return out
}

// ClassicObjective trains a fasttext, textcnn or bilstm model per trial
// with classic.Train and evaluates it on Eval with textclf.Classifier's
// Evaluate: the metrics are accuracy and (macro) f1. TextCNN and BiLSTM
// report an evaluation after each epoch (the pruner's intermediate
// values); fastText-style training has no epochs to report.
type ClassicObjective struct {
	// Base is the configuration every trial starts from (its Arch is the
	// arch); the trial's parameters are set on a copy.
	Base classic.TrainConfig
	// Train is the training data, Eval the evaluation data.
	Train, Eval *data.Dataset
	// MaxMemory, when positive, fails at once a fasttext trial whose
	// input matrix (bucket × dim floats) would take more bytes (fastText's
	// autotune skips trials that cannot allocate).
	MaxMemory int64
	// FixedMaxn keeps Base's maxn when minn is tuned; otherwise maxn
	// follows minn as in fastText's autotune (minn + 3, or 0 for minn 0)
	// unless maxn is tuned itself.
	FixedMaxn bool
}

// Config is the training configuration of a trial's parameters.
func (o *ClassicObjective) Config(params map[string]any) (classic.TrainConfig, error) {
	cfg := o.Base
	cfg.NN.Widths = slices.Clone(cfg.NN.Widths)
	settings, ok := classicSettings[cfg.Arch]
	if !ok {
		return cfg, fmt.Errorf("unknown classic arch %q", cfg.Arch)
	}
	if err := apply(&cfg, params, settings); err != nil {
		return cfg, err
	}
	_, tunesMinn := params["minn"]
	_, tunesMaxn := params["maxn"]
	if cfg.Arch == classic.ArchFastText && tunesMinn && !tunesMaxn && !o.FixedMaxn {
		cfg.FastText.Maxn = 0
		if cfg.FastText.Minn > 0 {
			cfg.FastText.Maxn = cfg.FastText.Minn + 3
		}
	}
	return cfg, nil
}

// Defaults are Base's values of the space's parameters (as Study.Enqueue
// takes them: fastText's autotune starts from the defaults too).
func (o *ClassicObjective) Defaults(space Space) map[string]any {
	return values(&o.Base, space, classicSettings[o.Base.Arch])
}

// Check refuses a space the objective cannot train before any trial:
// parameters the arch does not know or values it does not take, and dim
// tuned for TextCNN/BiLSTM over pretrained vectors (their dimension is
// the vectors').
func (o *ClassicObjective) Check(space Space) error {
	if err := CheckSpace(o.Base.Arch, space); err != nil {
		return err
	}
	if o.Base.Vectors != "" && space.Lookup("dim") != nil {
		return errors.New("parameter \"dim\" cannot be tuned with pretrained vectors: their file sets it")
	}
	if o.Eval == nil || len(o.Eval.Examples) == 0 {
		return errors.New("tuning needs evaluation data")
	}
	return nil
}

// Run is the Objective of a trial.
func (o *ClassicObjective) Run(ctx context.Context, h *Handle) (map[string]float64, error) {
	cfg, err := o.Config(h.Params)
	if err != nil {
		return nil, err
	}
	if ft := cfg.FastText; cfg.Arch == classic.ArchFastText && o.MaxMemory > 0 {
		bucket := ft.Bucket
		if ft.WordNgrams <= 1 && ft.Maxn == 0 {
			bucket = 0
		}
		if need := int64(bucket) * int64(ft.Dim) * 4; need > o.MaxMemory {
			return nil, fmt.Errorf("the input matrix (%d buckets × dim %d) would take %.1f GB, over the memory limit of %.1f GB", bucket, ft.Dim, float64(need)/1e9, float64(o.MaxMemory)/1e9)
		}
	}
	cfg.Train.Context, cfg.Train.Log, cfg.Valid = ctx, nil, nil
	var last map[string]float64
	lastEpoch := 0
	if cfg.Arch != classic.ArchFastText {
		cfg.EpochEnd = func(epoch int, c *classic.Classifier) error {
			m, err := o.evaluate(ctx, c)
			if err != nil {
				return err
			}
			last, lastEpoch = m, epoch
			return h.Report(epoch, m)
		}
	}
	c, err := classic.Train(o.Train, cfg)
	if err != nil {
		return nil, err
	}
	if last != nil && lastEpoch == cfg.Train.Epochs {
		return last, nil
	}
	return o.evaluate(ctx, c)
}

// evaluate scores a classic model on Eval: accuracy and macro F1.
func (o *ClassicObjective) evaluate(ctx context.Context, c *classic.Classifier) (map[string]float64, error) {
	clf := textclf.NewClassifier(textclf.NewClassic(c, 0, ""), textclf.Options{})
	rep, err := clf.Evaluate(ctx, o.Eval, textclf.ClassifyOptions{})
	if err != nil {
		return nil, err
	}
	return map[string]float64{"accuracy": rep.Accuracy, "f1": rep.Macro.F1}, nil
}

// TransformerObjective fine-tunes a transformer per trial with
// train.TrainData, each trial into its own directory, and takes the
// metrics of its last evaluation (loss, accuracy and f1; loss alone for
// regression), as transformers' hyperparameter_search does; each
// evaluation is reported to the pruner, numbered from 1 (with the
// default evaluation each epoch: the epoch).
type TransformerObjective struct {
	// Base is the configuration every trial starts from; its Output is
	// replaced by TrialDir.
	Base train.Config
	// Train is the training data, Eval the evaluation data.
	Train, Eval *data.Dataset
	// Dir holds the trials' directories.
	Dir string
	// Warning, when not nil, receives the runs' notices.
	Warning func(msg string)
}

// TrialDir is where trial n trains: Dir/trial-n.
func (o *TransformerObjective) TrialDir(n int) string {
	return filepath.Join(o.Dir, fmt.Sprintf("trial-%d", n))
}

// Config is the training configuration of a trial's parameters.
func (o *TransformerObjective) Config(params map[string]any) (train.Config, error) {
	cfg := o.Base
	if o.Base.Dropout != nil {
		d := *o.Base.Dropout
		cfg.Dropout = &d
	}
	err := apply(&cfg, params, transformerSettings)
	return cfg, err
}

// Defaults are Base's values of the space's parameters (with the
// Trainer's defaults for those Base leaves zero).
func (o *TransformerObjective) Defaults(space Space) map[string]any {
	cfg := o.Base
	cfg.Defaults()
	return values(&cfg, space, transformerSettings)
}

// Check refuses a space the objective cannot train (see CheckSpace) and a
// missing evaluation set.
func (o *TransformerObjective) Check(space Space) error {
	if err := CheckSpace(ArchTransformer, space); err != nil {
		return err
	}
	if o.Eval == nil || len(o.Eval.Examples) == 0 {
		return errors.New("tuning needs evaluation data")
	}
	return nil
}

// Run is the Objective of a trial.
func (o *TransformerObjective) Run(ctx context.Context, h *Handle) (map[string]float64, error) {
	cfg, err := o.Config(h.Params)
	if err != nil {
		return nil, err
	}
	// A trial starts afresh, even where an interrupted run of it left files.
	cfg.Output = o.TrialDir(h.Number)
	if err := os.RemoveAll(cfg.Output); err != nil {
		return nil, err
	}
	cfg.ValidationSplit, cfg.Resume = 0, ""
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last map[string]float64
	var stop error
	evals := 0
	cfg.Progress = &trialProgress{warning: o.Warning, evaluated: func(e train.EvalInfo) {
		evals++
		last = maps.Clone(e.Scores)
		if err := h.Report(evals, last); err != nil && stop == nil {
			stop = err
			cancel()
		}
	}}
	_, err = train.TrainData(tctx, cfg, o.Train, o.Eval)
	if stop != nil {
		return nil, stop
	}
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, errors.New("the run made no evaluation")
	}
	return last, nil
}

// trialProgress passes a run's evaluations and notices on.
type trialProgress struct {
	warning   func(string)
	evaluated func(train.EvalInfo)
}

func (p *trialProgress) Warning(msg string) {
	if p.warning != nil {
		p.warning(msg)
	}
}
func (p *trialProgress) Step(train.StepInfo)        {}
func (p *trialProgress) Evaluated(e train.EvalInfo) { p.evaluated(e) }
func (p *trialProgress) Saved(string)               {}
