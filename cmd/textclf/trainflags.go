package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/plot"
	"github.com/textclf/textclf/privacy"
	"github.com/textclf/textclf/progress"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/train"
)

// archTransformer is the --arch of fine-tuning a transformer.
const archTransformer = "transformer"

// trainArchs are the values of --arch, in the order of help and README.
var trainArchs = []string{archTransformer, classic.ArchFastText, classic.ArchTextCNN, classic.ArchBiLSTM}

// dataFlags are the data-reading flags shared by train, eval and predict.
type dataFlags struct {
	format, textCol, pairCol, labelCol, labelSep, header, labelNames string
}

func (d *dataFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.format, "data-format", "auto", "data format: auto (from the extension), csv, tsv, jsonl or fasttext")
	fs.StringVar(&d.textCol, "text-column", "", "text column (default text, then sentence; a 0-based index in headerless files)")
	fs.StringVar(&d.pairCol, "text-pair-column", "", "second text column, for sentence pairs")
	fs.StringVar(&d.labelCol, "label-column", "", "label column (default label; a 0-based index in headerless files)")
	fs.StringVar(&d.labelSep, "label-sep", "", "separator of several labels in one CSV/TSV cell (multi-label)")
	fs.StringVar(&d.header, "header", "auto", "CSV/TSV header row: auto, yes or no")
	fs.StringVar(&d.labelNames, "label-names", "", "file of label names, one a line (as THUCNews' class.txt): line i names the integer label i")
}

func (d *dataFlags) options(unlabelled bool) (data.Options, error) {
	f, err := data.ParseFormat(d.format)
	if err != nil {
		return data.Options{}, err
	}
	var h data.Header
	switch d.header {
	case "auto", "":
	case "yes":
		h = data.HeaderYes
	case "no":
		h = data.HeaderNo
	default:
		return data.Options{}, fmt.Errorf("--header must be auto, yes or no, got %q", d.header)
	}
	opt := data.Options{Format: f, TextColumn: d.textCol, TextPairColumn: d.pairCol, LabelColumn: d.labelCol, LabelSep: d.labelSep, Header: h, Unlabelled: unlabelled}
	if d.labelNames != "" {
		if opt.LabelNames, err = data.ReadLabelNames(d.labelNames); err != nil {
			return data.Options{}, fmt.Errorf("--label-names: %w", err)
		}
	}
	return opt, nil
}

// trainFlags are the flags of `textclf train` (and the transformer ones of
// `textclf cv`), bound to their values. Which flags apply to an arch, and
// their defaults, come from archDefaults.
type trainFlags struct {
	data                      dataFlags
	arch, trainPath, evalPath string
	output                    string
	threads, maxTrainSamples  int
	validationSplit           float64

	epochs, lr           float64
	batchSize, maxLength int
	seed                 uint64
	noShuffle            bool
	dropout              optionalFloat

	// transformer
	model, modelConfig, tokenizer, scheduler, problemType string
	classWeights, metric, resume, loggingDir              string
	weightDecay, warmupRatio, maxGradNorm                 float64
	warmupSteps, gradAccum, evalSteps, saveSteps          int
	patience, logSteps, maxSteps, evalBatchSize           int
	saveTotalLimit                                        int
	bf16                                                  bool

	// classic
	segment, loss, pool, vectors        string
	lower, freeze                       bool
	threshold                           float64
	dim, minCount, wordNgrams, minn     int
	maxn, bucket, lrUpdateRate, filters int
	hidden, vectorsWords                int
	widths                              []int

	// differential privacy (transformer, textcnn, bilstm)
	dp privacy.Config
}

// commonTrainFlags apply to every arch, with one default.
var commonTrainFlags = map[string]bool{
	"arch": true, "train": true, "eval": true, "output": true, "threads": true, "max-train-samples": true, "validation-split": true,
	"data-format": true, "text-column": true, "text-pair-column": true, "label-column": true, "label-sep": true, "header": true, "label-names": true,
}

// registerCommon registers the flags of every arch; cv has no --arch and
// no --validation-split.
func (f *trainFlags) registerCommon(fs *pflag.FlagSet, cv bool) {
	f.data.register(fs)
	if !cv {
		fs.StringVar(&f.arch, "arch", archTransformer, "model: transformer, fasttext, textcnn or bilstm (the help lists the flags of the arch given)")
		fs.Float64Var(&f.validationSplit, "validation-split", 0, "without --eval, hold out this fraction of --train (stratified by label) as evaluation data")
	}
	fs.StringVar(&f.trainPath, "train", "", "training data file")
	fs.StringVar(&f.evalPath, "eval", "", "evaluation data file (transformer: evaluated during training, best model kept; classic: scored after training)")
	f.registerRun(fs)
	fs.Float64Var(&f.dp.NoiseMultiplier, "dp-noise-multiplier", 0, "DP-SGD: noise standard deviation over the clipping norm (turns differential privacy on)")
	fs.Float64Var(&f.dp.Epsilon, "dp-epsilon", 0, "DP-SGD: privacy budget ε; the noise multiplier is searched for the planned steps (turns differential privacy on)")
	fs.Float64Var(&f.dp.Delta, "dp-delta", 0, "DP-SGD: δ (0: 1 / training examples)")
	fs.Float64Var(&f.dp.MaxGradNorm, "dp-max-grad-norm", 0, "DP-SGD: each example's gradient is clipped to this norm")
}

// registerRun registers the flags of a training run that train and
// pretrain share (pretrain rewords some of their help).
func (f *trainFlags) registerRun(fs *pflag.FlagSet) {
	fs.StringVar(&f.output, "output", "", "directory to save the model into")
	fs.IntVar(&f.threads, "threads", 0, "compute threads (0: all cores)")
	fs.IntVar(&f.maxTrainSamples, "max-train-samples", 0, "train on the first N training examples only (0: all)")
	fs.Float64Var(&f.epochs, "epochs", 0, "passes over the training data")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate (fasttext: initial SGD rate; textcnn, bilstm: Adam; transformer: AdamW peak)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "examples per training batch")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed")
	fs.BoolVar(&f.noShuffle, "no-shuffle", false, "keep the file's order in consecutive batches, no length bucketing")
	fs.IntVar(&f.maxLength, "max-length", 0, "truncate texts to this many tokens")
	fs.Var(&f.dropout, "dropout", "dropout (transformer: overrides the config's hidden and attention dropout; textcnn, bilstm: before the output layer)")
}

// privacy returns the DP-SGD configuration the flags ask for, or nil.
func (f *trainFlags) privacy(fs *pflag.FlagSet) (*privacy.Config, error) {
	on := f.dp.NoiseMultiplier != 0 || f.dp.Epsilon != 0
	switch {
	case !on && (fs.Changed("dp-delta") || fs.Changed("dp-max-grad-norm")):
		return nil, errors.New("--dp-delta and --dp-max-grad-norm go with --dp-noise-multiplier or --dp-epsilon")
	case !on:
		return nil, nil
	case fs.Lookup("max-grad-norm") != nil && fs.Changed("max-grad-norm"):
		return nil, errors.New("with DP-SGD each example's gradient is clipped to --dp-max-grad-norm: --max-grad-norm does not apply")
	}
	dp := f.dp
	return &dp, nil
}

// registerTransformer registers the Trainer's flags; cv has no --resume.
func (f *trainFlags) registerTransformer(fs *pflag.FlagSet, cv bool) {
	fs.StringVar(&f.model, "model", "", "pretrained model directory or hub id (with --config: its tokenizer only)")
	fs.StringVar(&f.modelConfig, "config", "", "train from random weights of a preset shape (bert-base, minilm, gpt2, qwen2-0.5b, modernbert-base, bert-tiny, bert-mini, bert-small, bert-medium) or a config.json; the tokenizer comes from --tokenizer or --model")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory or hub id (default: the model's)")
	fs.IntVar(&f.maxSteps, "max-steps", 0, "optimizer steps to take, overriding --epochs (0: from --epochs)")
	fs.IntVar(&f.evalBatchSize, "eval-batch-size", 0, "examples per evaluation batch")
	fs.Float64Var(&f.weightDecay, "weight-decay", 0, "AdamW weight decay, not applied to biases and LayerNorm weights")
	fs.IntVar(&f.warmupSteps, "warmup-steps", 0, "linear warmup steps")
	fs.Float64Var(&f.warmupRatio, "warmup-ratio", 0, "warmup as a fraction of the training steps")
	fs.StringVar(&f.scheduler, "lr-scheduler", "", "learning-rate schedule: linear, cosine or constant")
	fs.Float64Var(&f.maxGradNorm, "max-grad-norm", 0, "gradient clipping by global norm, 0 to disable")
	fs.IntVar(&f.gradAccum, "grad-accum", 0, "gradient accumulation steps")
	fs.StringVar(&f.problemType, "problem-type", "", "single_label_classification, multi_label_classification or regression (default: from the data)")
	fs.StringVar(&f.classWeights, "class-weights", "", "auto (balanced) or w1,w2,... for the cross-entropy")
	fs.IntVar(&f.logSteps, "logging-steps", 0, "log the training loss every N steps")
	fs.StringVar(&f.loggingDir, "logging-dir", "", "write TensorBoard event files of the logs into this directory")
	fs.IntVar(&f.evalSteps, "eval-steps", 0, "evaluate every N steps (0: each epoch)")
	fs.IntVar(&f.saveSteps, "save-steps", 0, "checkpoint every N steps (0: at each evaluation, or each epoch)")
	fs.IntVar(&f.saveTotalLimit, "save-total-limit", 0, "keep only the N most recent checkpoints, and the best (0: keep all)")
	fs.IntVar(&f.patience, "early-stopping-patience", 0, "stop after N evaluations without improvement (0: never)")
	fs.StringVar(&f.metric, "metric", "", "metric choosing the best model: accuracy, f1 or loss")
	fs.BoolVar(&f.bf16, "bf16", false, "mixed precision, as the Trainer's bf16: the Linear layers' products in bfloat16 with float32 sums and float32 master weights (emulated with FMA on CPUs without AVX512_BF16: the same arithmetic, not faster)")
	if !cv {
		fs.StringVar(&f.resume, "resume", "", "continue from a checkpoint directory, or \"latest\" for the newest complete checkpoint-N in --output")
	}
}

// registerClassic registers the flags of fasttext, textcnn and bilstm.
func (f *trainFlags) registerClassic(fs *pflag.FlagSet) {
	fs.StringVar(&f.segment, "segment", "", "word segmentation: words (punctuation split, CJK as characters), whitespace, zh-words (Chinese words with gse), or en-words (words, with English clitics split as the Penn Treebank and SST-2 split them: is n't, it 's)")
	fs.BoolVar(&f.lower, "lower", false, "lower-case texts before segmentation")
	fs.Float64Var(&f.threshold, "threshold", 0, "multi-label decision threshold")
	fs.IntVar(&f.dim, "dim", 0, "embedding size")
	fs.IntVar(&f.minCount, "min-count", 0, "minimal number of word occurrences")
	fs.IntVar(&f.wordNgrams, "word-ngrams", 0, "max length of word n-grams")
	fs.IntVar(&f.minn, "minn", 0, "min length of char n-grams")
	fs.IntVar(&f.maxn, "maxn", 0, "max length of char n-grams, 0 for none")
	fs.IntVar(&f.bucket, "bucket", 0, "number of hash buckets for n-grams")
	fs.StringVar(&f.loss, "loss", "", "loss: softmax, hs or ova (multi-label data switches softmax to ova)")
	fs.IntVar(&f.lrUpdateRate, "lr-update-rate", 0, "tokens between learning-rate updates")
	fs.StringVar(&f.vectors, "vectors", "", "word vectors (fastText .bin/.ftz/.vec, word2vec .bin/.txt, GloVe) initialising the embeddings (fasttext: fastText's -pretrainedVectors)")
	fs.BoolVar(&f.freeze, "freeze-vectors", false, "keep the pretrained embeddings fixed")
	fs.IntVar(&f.vectorsWords, "vectors-words", 0, "textcnn, bilstm: the first N words of --vectors join the vocabulary even when training never sees them, keeping their vectors for prediction (-1: all; 0: training words only)")
	fs.IntVar(&f.filters, "filters", 0, "filters per width")
	fs.IntSliceVar(&f.widths, "filter-widths", nil, "filter widths")
	fs.IntVar(&f.hidden, "hidden", 0, "LSTM hidden size per direction")
	fs.StringVar(&f.pool, "pool", "", "pooling over time: max or mean")
}

// archDefaults returns the default, as flag text, of each flag that
// applies to arch but not to every arch: a flag absent from it and from
// commonTrainFlags does not apply to arch. The values come from
// train.DefaultConfig and classic.DefaultTrainConfig, so that the command
// line, the Go API and the README table cannot disagree.
func archDefaults(arch string) (map[string]string, error) {
	ftoa := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	itoa := strconv.Itoa
	if arch == archTransformer {
		c := train.DefaultConfig()
		return map[string]string{
			"model": c.Model, "config": c.ModelConfig, "tokenizer": c.Tokenizer,
			"epochs": ftoa(c.Epochs), "max-steps": itoa(c.MaxSteps), "batch-size": itoa(c.BatchSize),
			"eval-batch-size": itoa(c.EvalBatchSize), "lr": ftoa(c.LR), "weight-decay": ftoa(c.WeightDecay),
			"warmup-steps": itoa(c.WarmupSteps), "warmup-ratio": ftoa(c.WarmupRatio), "lr-scheduler": c.Scheduler,
			"max-grad-norm": ftoa(c.MaxGradNorm), "grad-accum": itoa(c.GradAccum), "seed": strconv.FormatUint(c.Seed, 10),
			"max-length": itoa(c.MaxLength), "dropout": "", "no-shuffle": strconv.FormatBool(c.NoShuffle),
			"problem-type": c.ProblemType, "class-weights": c.ClassWeights, "logging-steps": itoa(c.LogSteps),
			"logging-dir": c.LoggingDir, "eval-steps": itoa(c.EvalSteps), "save-steps": itoa(c.SaveSteps),
			"save-total-limit": itoa(c.SaveTotalLimit), "early-stopping-patience": itoa(c.Patience),
			"metric": c.Metric, "resume": c.Resume, "bf16": strconv.FormatBool(c.BF16),
			"dp-noise-multiplier": "0", "dp-epsilon": "0", "dp-delta": "0", "dp-max-grad-norm": ftoa(privacy.DefaultMaxGradNorm),
		}, nil
	}
	c, err := classic.DefaultTrainConfig(arch)
	if err != nil {
		return nil, fmt.Errorf("unknown --arch %q (want transformer, fasttext, textcnn or bilstm)", arch)
	}
	d := map[string]string{
		"epochs": itoa(c.Train.Epochs), "lr": ftoa(c.Train.LR), "seed": strconv.FormatUint(c.Train.Seed, 10),
		"segment": c.Segmenter.Mode, "lower": strconv.FormatBool(c.Segmenter.Lower), "threshold": ftoa(c.Threshold),
	}
	if arch == classic.ArchFastText {
		ft := c.FastText
		d["dim"], d["min-count"], d["word-ngrams"] = itoa(ft.Dim), itoa(ft.MinCount), itoa(ft.WordNgrams)
		d["minn"], d["maxn"], d["bucket"] = itoa(ft.Minn), itoa(ft.Maxn), itoa(ft.Bucket)
		d["loss"], d["lr-update-rate"], d["vectors"] = ft.Loss, itoa(ft.LRUpdateRate), c.Vectors
		return d, nil
	}
	nn := c.NN
	d["batch-size"], d["no-shuffle"], d["max-length"] = itoa(c.BatchSize), strconv.FormatBool(c.NoShuffle), itoa(nn.MaxLen)
	d["dropout"], d["dim"], d["min-count"] = ftoa(nn.Dropout), itoa(nn.Dim), itoa(nn.MinCount)
	d["vectors"], d["freeze-vectors"], d["vectors-words"] = c.Vectors, strconv.FormatBool(nn.Freeze), itoa(c.VectorsWords)
	d["dp-noise-multiplier"], d["dp-epsilon"], d["dp-delta"], d["dp-max-grad-norm"] = "0", "0", "0", ftoa(privacy.DefaultMaxGradNorm)
	if arch == classic.ArchTextCNN {
		widths := make([]string, len(nn.Widths))
		for i, w := range nn.Widths {
			widths[i] = itoa(w)
		}
		d["filters"], d["filter-widths"] = itoa(nn.Filters), "["+strings.Join(widths, ",")+"]"
	} else {
		d["hidden"], d["pool"] = itoa(nn.Hidden), nn.Pool
	}
	return d, nil
}

// archsOf lists the archs a flag applies to (none: not a training flag).
func archsOf(name string) []string {
	var out []string
	for _, arch := range trainArchs {
		if d, _ := archDefaults(arch); commonTrainFlags[name] || hasKey(d, name) {
			out = append(out, arch)
		}
	}
	return out
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// applyArchDefaults gives the flags of fs that depend on the arch the
// defaults of arch (as their values when not given, and for --help), and
// hides from --help those that do not apply to it. Other flags are left
// alone.
func applyArchDefaults(fs *pflag.FlagSet, arch string) error {
	defs, err := archDefaults(arch)
	if err != nil {
		return err
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if commonTrainFlags[f.Name] || len(archsOf(f.Name)) == 0 {
			return
		}
		def, ok := defs[f.Name]
		f.Hidden = !ok
		if !ok {
			return
		}
		f.DefValue = def
		if f.Changed {
			return
		}
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			err = errors.Join(err, sv.Replace(strings.Split(strings.Trim(def, "[]"), ",")))
		} else {
			err = errors.Join(err, f.Value.Set(def))
		}
	})
	return err
}

// resolveArchFlags is checkArchFlags then applyArchDefaults on fs: the
// flags given must apply to arch, the others take its defaults.
func resolveArchFlags(fs *pflag.FlagSet, arch string) error {
	if err := checkArchFlags(fs, arch); err != nil {
		return err
	}
	return applyArchDefaults(fs, arch)
}

// checkArchFlags refuses a flag given that does not apply to arch; the
// flags named in own are a command's own, not training flags.
func checkArchFlags(fs *pflag.FlagSet, arch string, own ...string) error {
	defs, err := archDefaults(arch)
	if err != nil {
		return err
	}
	fs.Visit(func(f *pflag.Flag) {
		archs := archsOf(f.Name)
		if err != nil || commonTrainFlags[f.Name] || hasKey(defs, f.Name) || len(archs) == 0 || slices.Contains(own, f.Name) {
			return
		}
		err = fmt.Errorf("--%s does not apply to --arch %s (it is a flag of %s)", f.Name, arch, strings.Join(archs, ", "))
	})
	return err
}

// optionalFloat is a float flag that may be unset ("" is its default:
// the model config's dropout).
type optionalFloat struct {
	v   float64
	set bool
}

func (o *optionalFloat) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optionalFloat) Set(s string) error {
	if s == "" {
		*o = optionalFloat{}
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*o = optionalFloat{v: v, set: true}
	return nil
}

func (o *optionalFloat) Type() string { return "float" }

// transformerConfig builds the Trainer's configuration from the flags
// (whose values are the Trainer's defaults when not given).
func (f *trainFlags) transformerConfig(cmd *cobra.Command) (train.Config, error) {
	if (f.model == "" && f.modelConfig == "") || f.trainPath == "" || f.output == "" {
		return train.Config{}, errors.New("--model (or --config), --train and --output are required")
	}
	return f.trainerConfig(cmd)
}

// trainerConfig is transformerConfig without requiring a model (a
// distilled student may be made from its teacher).
func (f *trainFlags) trainerConfig(cmd *cobra.Command) (train.Config, error) {
	opt, err := f.data.options(false)
	if err != nil {
		return train.Config{}, err
	}
	ctx := commandContext(cmd)
	cfg := train.Config{
		ModelConfig: f.modelConfig, Train: f.trainPath, Eval: f.evalPath, Output: f.output, Data: opt,
		Epochs: f.epochs, MaxSteps: f.maxSteps, BatchSize: f.batchSize, EvalBatchSize: f.evalBatchSize, LR: f.lr,
		WeightDecay: f.weightDecay, WarmupSteps: f.warmupSteps, WarmupRatio: f.warmupRatio, Scheduler: f.scheduler,
		MaxGradNorm: f.maxGradNorm, GradAccum: f.gradAccum, Seed: f.seed, MaxLength: f.maxLength,
		NoShuffle: f.noShuffle, ProblemType: f.problemType, ClassWeights: f.classWeights, LogSteps: f.logSteps,
		EvalSteps: f.evalSteps, SaveSteps: f.saveSteps, SaveTotalLimit: f.saveTotalLimit, Patience: f.patience,
		Metric: f.metric, MaxTrainSamples: f.maxTrainSamples, ValidationSplit: f.validationSplit, LoggingDir: f.loggingDir,
		Resume: f.resume, BF16: f.bf16,
	}
	if f.maxGradNorm == 0 {
		cfg.MaxGradNorm = train.NoClipping // --max-grad-norm 0 disables clipping, as the Trainer's max_grad_norm=0
	}
	if cfg.DP, err = f.privacy(cmd.Flags()); err != nil {
		return train.Config{}, err
	}
	if f.dropout.set {
		cfg.Dropout = &f.dropout.v
	}
	if f.model != "" {
		if cfg.Model, err = resolveModelDir(ctx, f.model); err != nil {
			return train.Config{}, err
		}
	}
	if f.tokenizer != "" {
		if cfg.Tokenizer, err = resolveModelDir(ctx, f.tokenizer); err != nil {
			return train.Config{}, fmt.Errorf("--tokenizer: %w", err)
		}
	}
	if f.threads > 0 {
		tensor.SetThreads(f.threads)
	}
	return cfg, nil
}

// classicConfig builds a classic training configuration: the arch's
// defaults with the flags that apply to it.
func (f *trainFlags) classicConfig(arch string, fs *pflag.FlagSet) (classic.TrainConfig, error) {
	cfg, err := classic.DefaultTrainConfig(arch)
	if err != nil {
		return cfg, err
	}
	if cfg.DP, err = f.privacy(fs); err != nil {
		return cfg, err
	}
	if f.epochs < 1 || f.epochs != math.Trunc(f.epochs) {
		return cfg, fmt.Errorf("--epochs must be a whole number of at least 1 for --arch %s, got %g", arch, f.epochs)
	}
	cfg.Train.Epochs, cfg.Train.LR, cfg.Train.Seed = int(f.epochs), f.lr, f.seed
	if f.threads > 0 {
		cfg.Train.Threads = f.threads
	}
	cfg.Segmenter = classic.Segmenter{Mode: f.segment, Lower: f.lower}
	cfg.Threshold = f.threshold
	if arch == classic.ArchFastText {
		cfg.FastText = classic.FastTextConfig{Dim: f.dim, WordNgrams: f.wordNgrams, Minn: f.minn, Maxn: f.maxn,
			Bucket: f.bucket, MinCount: f.minCount, Loss: f.loss, LRUpdateRate: f.lrUpdateRate}
		cfg.Vectors = f.vectors
		return cfg, nil
	}
	cfg.BatchSize, cfg.NoShuffle, cfg.Vectors, cfg.VectorsWords = f.batchSize, f.noShuffle, f.vectors, f.vectorsWords
	nn := &cfg.NN
	nn.Dim, nn.MinCount, nn.Dropout, nn.MaxLen, nn.Freeze = f.dim, f.minCount, f.dropout.v, f.maxLength, f.freeze
	if arch == classic.ArchTextCNN {
		nn.Filters, nn.Widths = f.filters, slices.Clone(f.widths)
	} else {
		nn.Hidden, nn.Pool = f.hidden, f.pool
	}
	return cfg, nil
}

// runTransformerTrain fine-tunes a transformer, showing progress and
// evaluations on stderr; Ctrl-C stops it with the command that resumes it.
func runTransformerTrain(cmd *cobra.Command, f *trainFlags) error {
	cfg, err := f.transformerConfig(cmd)
	if err != nil {
		return err
	}
	return runTrainer(cmd, cfg, train.Train)
}

// runTrainer runs a Trainer (train.Train, train.Pretrain) with a progress
// bar, stops it at Ctrl-C saying how to resume, draws the training curves
// and reports the result.
func runTrainer(cmd *cobra.Command, cfg train.Config, run func(context.Context, train.Config) (*train.Result, error)) error {
	ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the program at once
	}()
	view := progress.NewTraining(cmd.ErrOrStderr())
	cfg.Progress = view
	res, err := run(ctx, cfg)
	view.Close()
	var stopped *train.Interrupted
	if errors.As(err, &stopped) {
		return errors.New(interruptMessage(cmd, stopped))
	}
	if err != nil {
		return err
	}
	st := res.State
	if err := plot.TrainingCurves(filepath.Join(cfg.Output, "training_curves.png"), st.LogHistory, cfg.Metric); err != nil {
		return err
	}
	msg := fmt.Sprintf("trained %d steps (%.2f epochs); model saved to %s", st.GlobalStep, st.Epoch, cfg.Output)
	if st.BestMetric != nil {
		metric := cfg.Metric
		if st.ProblemType == "regression" {
			metric = "loss"
		}
		msg += fmt.Sprintf(" (best eval %s %.4f at step %d)", metric, *st.BestMetric, st.BestStep)
	}
	if res.Privacy != nil {
		msg += fmt.Sprintf("; DP-SGD spent ε %.4g at δ %g (noise multiplier %.4g, sample rate %.4g)", res.Epsilon, res.Privacy.Delta, res.Privacy.NoiseMultiplier, res.Privacy.SampleRate)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), msg)
	return nil
}

// interruptMessage says where an interrupted run stopped and the command
// that continues it.
func interruptMessage(cmd *cobra.Command, in *train.Interrupted) string {
	if in.Checkpoint == "" {
		return fmt.Sprintf("interrupted at step %d, before any checkpoint was written (they are written at each evaluation, at each epoch without --eval, or every --save-steps N)", in.Step)
	}
	return fmt.Sprintf("interrupted at step %d; the last checkpoint is %s; continue with:\n  %s", in.Step, in.Checkpoint, resumeCommand(cmd, in.Checkpoint))
}

// resumeCommand is the command line of cmd with the flags given, and
// --resume checkpoint in place of any --resume.
func resumeCommand(cmd *cobra.Command, checkpoint string) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name != "resume" {
			parts = append(parts, flagArgs(f)...)
		}
	})
	for i, p := range parts[1:] {
		parts[i+1] = shellQuote(p)
	}
	return strings.Join(append(parts, "--resume", shellQuote(checkpoint)), " ")
}

// flagArgs are the command-line arguments that give flag f its value:
// --name=true|false for a bool, --name a,b,c for a slice, else --name value.
func flagArgs(f *pflag.Flag) []string {
	if f.Value.Type() == "bool" {
		return []string{"--" + f.Name + "=" + f.Value.String()}
	}
	v := f.Value.String()
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		v = strings.Join(sv.GetSlice(), ",")
	}
	return []string{"--" + f.Name, v}
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
