package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/privacy"
	"github.com/textclf/textclf/tokenizer"
	"github.com/textclf/textclf/train/tensorboard"
)

// Config holds the options of a fine-tuning run. A zero field takes the
// default of transformers' Trainer (see DefaultConfig): 3 epochs, batch 8,
// learning rate 5e-5, linear schedule, gradient clipping at norm 1, max
// length 128, seed 42, a log every 50 steps, the best model by accuracy.
// Where zero is a value of its own, "off" is spelled explicitly (a
// negative MaxGradNorm, a nil Dropout).
type Config struct {
	// Model is the directory of the pretrained checkpoint (with its
	// tokenizer). With ModelConfig it only supplies the tokenizer.
	Model string
	// ModelConfig, when not empty, trains a model of that shape from random
	// weights, as from_config does: a preset name (see model.PresetConfig:
	// bert-base, minilm) or the path of a config.json. Its tokenizer comes
	// from Tokenizer, else from Model; a preset's vocabulary size becomes
	// the tokenizer's.
	ModelConfig string
	// Tokenizer is the directory of the tokenizer files (default: those of
	// Model, or of the checkpoint resumed from); they are saved with the model.
	Tokenizer string
	// Train and Eval are the data files (Eval optional); Data says how to read them.
	Train, Eval string
	Data        data.Options
	// Output is the directory of the fine-tuned model, logs and checkpoints.
	Output string

	// Epochs is the number of passes over the training data (default 3;
	// fractions allowed). MaxSteps, when positive, overrides it.
	Epochs   float64
	MaxSteps int
	// BatchSize is the number of examples per training micro-batch (default 8).
	BatchSize int
	// EvalBatchSize is the number of examples per evaluation batch (default
	// 32; the Trainer's is 8, but length-sorted batches of 32 run faster here).
	EvalBatchSize int
	// LR is the peak learning rate of AdamW (default 5e-5).
	LR float64
	// WeightDecay is AdamW's decoupled weight decay (default 0).
	WeightDecay float64
	// WarmupSteps or WarmupRatio (a fraction of the steps) sets the linear
	// warmup (default none).
	WarmupSteps int
	WarmupRatio float64
	// Scheduler is the learning-rate schedule: linear (default), cosine or constant.
	Scheduler string
	// MaxGradNorm clips the gradients to this global norm (default 1; a
	// negative value, NoClipping, turns clipping off).
	MaxGradNorm float64
	// GradAccum is the number of micro-batches per optimizer step (default 1).
	GradAccum int
	// Seed seeds the classifier initialisation, dropout and batch order
	// (default 42; 0 takes the default).
	Seed uint64
	// MaxLength truncates inputs to this many tokens (default 128, at most
	// the model's maximum).
	MaxLength int
	// Dropout, when not nil, overrides the hidden and attention dropout of
	// the model's config.
	Dropout *float64
	// NoShuffle keeps the file's order in consecutive batches.
	NoShuffle bool
	// ProblemType is single_label_classification, multi_label_classification
	// or regression (default: from the data).
	ProblemType string
	// ClassWeights weighs the cross-entropy: "" (none), "auto" (balanced) or "w1,w2,...".
	ClassWeights string
	// LogSteps is the interval of training-loss logs (default 50).
	LogSteps int
	// EvalSteps evaluates every N steps (default 0: at the end of each epoch).
	EvalSteps int
	// SaveSteps writes a checkpoint every N steps (default 0: at each
	// evaluation, or at the end of each epoch without evaluation data).
	SaveSteps int
	// SaveTotalLimit, when positive, keeps only the N most recent
	// checkpoints, and the best one (default 0: keep all, as the Trainer).
	SaveTotalLimit int
	// Patience stops training after this many evaluations without
	// improvement (default 0: never).
	Patience int
	// Metric chooses the best model: accuracy (default), f1 or loss.
	Metric string
	// MaxTrainSamples, when positive, trains on the first N training
	// examples only (after ValidationSplit).
	MaxTrainSamples int
	// ValidationSplit, when positive, holds out this fraction of the
	// training data (stratified by label) as evaluation data; it and Eval
	// exclude each other.
	ValidationSplit float64
	// LoggingDir, when not empty, receives TensorBoard event files of the
	// logged losses, learning rates and evaluations.
	LoggingDir string
	// Resume is a checkpoint directory to continue from ("" starts afresh),
	// or ResumeLatest for the newest complete checkpoint-N of Output
	// (incomplete ones are skipped with a warning).
	Resume string
	// Progress, when not nil, is told what the run does as it does it.
	Progress Progress
	// DP, when not nil, trains with differential privacy: DP-SGD with
	// Opacus' semantics (package privacy), on BERT-family models. Batches
	// are then drawn by Poisson sampling (BatchSize is their expected
	// size), each example's gradient is clipped to DP.MaxGradNorm instead
	// of the global MaxGradNorm clipping, and noise is added.
	DP *privacy.Config
	// MLM holds the corpus and masking of masked-language-model
	// pretraining (Pretrain); Train ignores it.
	MLM *MLMConfig
	// Distill, when not nil, trains the model as a student on a teacher's
	// logits (knowledge distillation, single-label): its loss replaces the
	// cross-entropy of the training batches (evaluation keeps the
	// cross-entropy), and its labels are the model's.
	Distill *Distillation
	// EveryOtherLayer makes the model a student of Model, a BERT-family
	// classifier, initialised as DistilBERT was: half its layers, the
	// embeddings, every other layer and BERT's pooler copied, a new head
	// (model.EveryOtherLayer).
	EveryOtherLayer bool
	// BF16 trains in mixed precision, as the Trainer's bf16=True on the
	// CPU: the Linear layers' products, forward and backward, in bfloat16
	// with float32 sums (model.Model.SetMixedBF16), the master weights, the
	// optimizer, layer norms, softmax and the attention products in float32.
	// Without AVX512_BF16 (every CPU textclf has kernels for today) the
	// products are emulated with FMA: the same arithmetic, not faster.
	BF16 bool
}

// Distillation is what a student learns from its teacher.
type Distillation struct {
	// Loss is the soft-target loss: KL·T² or MSE on logits, mixed with the
	// hard labels' cross-entropy.
	Loss nn.SoftTargets
	// Labels are the teacher's labels, in the order of its logits; they
	// become the student's.
	Labels []string
	// Teacher holds the teacher's logits of each training example, in the
	// order of the training data given to TrainData (MaxTrainSamples then
	// keeps the first ones).
	Teacher [][]float32
}

// NoClipping is the MaxGradNorm that turns gradient clipping off.
const NoClipping = -1

// DefaultConfig returns the configuration whose fields are the defaults
// that zero fields take.
func DefaultConfig() Config {
	var c Config
	c.Defaults()
	return c
}

// Defaults fills the Trainer's default values into zero fields.
func (c *Config) Defaults() {
	orDefault(&c.Epochs, 3)
	orDefault(&c.BatchSize, 8)
	orDefault(&c.EvalBatchSize, 32)
	orDefault(&c.LR, 5e-5)
	orDefault(&c.Scheduler, "linear")
	orDefault(&c.MaxGradNorm, 1)
	orDefault(&c.GradAccum, 1)
	orDefault(&c.Seed, 42)
	orDefault(&c.MaxLength, 128)
	orDefault(&c.LogSteps, 50)
	orDefault(&c.Metric, "accuracy")
}

// orDefault sets *p to def when it is the zero value.
func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Progress is told what a training run does, as it does it (the command
// line draws a progress bar and prints evaluations with it). Its methods
// are called from the goroutine running Train.
type Progress interface {
	// Warning is a notice worth showing: newly initialised weights (when the
	// model is loaded, before the first step), labels with a single example.
	Warning(msg string)
	// Step follows each optimizer step.
	Step(s StepInfo)
	// Evaluated follows each evaluation.
	Evaluated(e EvalInfo)
	// Saved follows each checkpoint written.
	Saved(dir string)
}

// StepInfo is what one optimizer step did.
type StepInfo struct {
	Step, MaxSteps int
	Epoch          float64
	Loss, LR       float64
	GradNorm       float64
}

// EvalInfo is one evaluation's scores (loss, and accuracy and f1 for
// classification) at a step, and whether it is the best so far.
type EvalInfo struct {
	Step   int
	Epoch  float64
	Scores map[string]float64
	Best   bool
}

// Interrupted is the error of a run stopped by its context (Ctrl-C): it
// says where training stood and which checkpoint continues it.
type Interrupted struct {
	// Step is the last optimizer step taken.
	Step int
	// Checkpoint is the newest checkpoint directory to resume from ("" when
	// none was written).
	Checkpoint string
	// Err is the context's error.
	Err error
}

func (e *Interrupted) Error() string {
	if e.Checkpoint == "" {
		return fmt.Sprintf("training interrupted at step %d, before any checkpoint: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("training interrupted at step %d; the last checkpoint is %s: %v", e.Step, e.Checkpoint, e.Err)
}

// Unwrap returns the context's error.
func (e *Interrupted) Unwrap() error { return e.Err }

// LogEntry is one line of metrics.jsonl and of trainer_state.json's log_history.
type LogEntry struct {
	Step     int      `json:"step"`
	Epoch    float64  `json:"epoch"`
	Loss     *float64 `json:"loss,omitempty"`
	LR       *float64 `json:"learning_rate,omitempty"`
	GradNorm *float64 `json:"grad_norm,omitempty"`
	// Epsilon is the privacy budget spent so far (DP-SGD).
	Epsilon *float64           `json:"epsilon,omitempty"`
	Eval    map[string]float64 `json:"eval,omitempty"`
	// Saved records a save once it is complete: the checkpoint-N
	// directory, or "." for the model in the output directory.
	Saved   string  `json:"saved,omitempty"`
	Seconds float64 `json:"elapsed_s"`
}

// State is trainer_state.json: where training stands, as the HF Trainer
// writes it, plus what resuming needs.
type State struct {
	GlobalStep          int        `json:"global_step"`
	Epoch               float64    `json:"epoch"`
	MaxSteps            int        `json:"max_steps"`
	BestMetric          *float64   `json:"best_metric"`
	BestModelCheckpoint string     `json:"best_model_checkpoint,omitempty"`
	BestStep            int        `json:"best_step"`
	BadEvals            int        `json:"evaluations_without_improvement"`
	LogHistory          []LogEntry `json:"log_history"`
	RNG                 []byte     `json:"rng_state"`
	Labels              []string   `json:"labels"`
	ProblemType         string     `json:"problem_type"`
}

// Result summarises a run.
type Result struct {
	State  *State
	Output string
	// Privacy is the DP-SGD plan of a private run and Epsilon the ε it
	// spent (at Privacy.Delta); nil and 0 otherwise.
	Privacy *privacy.Plan
	Epsilon float64
	// Warnings are the notices of the run (newly initialised weights,
	// labels with a single example, …), also given to Config.Progress as
	// they happen.
	Warnings []string
}

// example is one encoded training or evaluation row.
type example struct {
	ids, typeIDs []int
	class        int
	values       []float32
	gold         []int     // label ids (multi-label: all of them)
	teacher      []float32 // a teacher's logits (distillation), or nil
	// Pretraining: what masking needs to know of each token, and the
	// labels of an evaluation block masked once (IgnoreIndex where not
	// masked).
	flags  maskFlags
	labels []int
}

// run is the state of one Train call.
type run struct {
	cfg      Config
	m        *model.Model
	tk       *tokenizer.Tokenizer
	tkDir    string            // where the tokenizer files come from
	tkFiles  []checkpoint.File // their contents, saved with every model and checkpoint
	labels   []string
	problem  string
	train    []example
	eval     []example
	stepper  *Stepper
	state    *State
	stepsPer int // optimizer steps per epoch
	start    time.Time
	log      *os.File
	events   *tensorboard.Writer // nil without Config.LoggingDir
	warnings []string
	lastSave string        // the newest checkpoint, to resume from
	dp       *privacy.Plan // DP-SGD, or nil
	mlm      *mlmRun       // masked-language-model pretraining, or nil
}

// Train fine-tunes the model of cfg.Model (or a new one of
// cfg.ModelConfig) on cfg.Train and writes the result to cfg.Output in HF
// format.
func Train(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Train == "" {
		return nil, fmt.Errorf("train: no training data")
	}
	trainSet, err := data.ReadFile(cfg.Train, cfg.Data)
	if err != nil {
		return nil, err
	}
	var evalSet *data.Dataset
	if cfg.Eval != "" {
		if evalSet, err = data.ReadFile(cfg.Eval, cfg.Data); err != nil {
			return nil, err
		}
	}
	return TrainData(ctx, cfg, trainSet, evalSet)
}

// TrainData is Train on data sets already read (evalSet may be nil);
// cfg.Train and cfg.Eval are not read.
func TrainData(ctx context.Context, cfg Config, trainSet, evalSet *data.Dataset) (*Result, error) {
	cfg.Defaults()
	if cfg.Train == "" {
		cfg.Train = trainSet.Path
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, start: time.Now()}
	for _, w := range trainSet.Warnings() {
		r.warn(w)
	}
	if err := r.resolveResume(); err != nil {
		return nil, err
	}
	cfg = r.cfg
	var err error
	if cfg.ValidationSplit > 0 {
		if evalSet != nil {
			return nil, fmt.Errorf("train: give evaluation data or a validation split, not both")
		}
		if trainSet, evalSet, err = data.StratifiedSplit(trainSet, cfg.ValidationSplit, cfg.Seed); err != nil {
			return nil, fmt.Errorf("train: validation split: %w", err)
		}
	}
	var teacher [][]float32
	if d := cfg.Distill; d != nil {
		if err := nn.CheckTeacherLogits(d.Teacher, len(trainSet.Examples), len(d.Labels)); err != nil {
			return nil, fmt.Errorf("train: %s: %w", trainSet.Path, err)
		}
		teacher = d.Teacher
	}
	trainSet = trainSet.Head(cfg.MaxTrainSamples)
	if err := r.chooseLabels(trainSet, evalSet); err != nil {
		return nil, err
	}
	if err := r.loadTokenizerAndModel(); err != nil {
		return nil, err
	}
	if cfg.Distill != nil {
		r.m.Distill = &cfg.Distill.Loss
	}
	r.tk.Padding = nil
	r.tk.Truncation = &tokenizer.Truncation{MaxLength: r.cfg.MaxLength, Strategy: tokenizer.LongestFirst, Direction: tokenizer.TruncateRight}
	if r.train, err = r.encode(trainSet); err != nil {
		return nil, err
	}
	if len(r.train) == 0 {
		return nil, fmt.Errorf("%s: no training examples", cfg.Train)
	}
	for i := range teacher[:min(len(teacher), len(r.train))] {
		r.train[i].teacher = teacher[i]
	}
	if evalSet != nil {
		if r.eval, err = r.encode(evalSet); err != nil {
			return nil, err
		}
		if len(r.eval) == 0 {
			return nil, fmt.Errorf("%s: no evaluation examples (the file is empty or holds only a header)", evalSet.Path)
		}
	}
	if err := r.setClassWeights(); err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// execute runs the prepared run: optimizer, output directory, log, the
// training loop and the final save.
func (r *run) execute(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	if err := r.setup(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Output, 0o755); err != nil {
		return nil, err
	}
	notes, err := removeLeftovers(cfg.Output)
	for _, n := range notes {
		r.warn(n)
	}
	if err != nil {
		return nil, err
	}
	if err := r.openLog(); err != nil {
		return nil, err
	}
	defer r.log.Close()
	if cfg.LoggingDir != "" {
		if r.events, err = tensorboard.Create(cfg.LoggingDir); err != nil {
			return nil, err
		}
		defer r.events.Close()
	}
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	res := &Result{State: r.state, Output: cfg.Output, Warnings: r.warnings, Privacy: r.dp}
	if r.dp != nil {
		res.Epsilon = r.dp.Epsilon(r.state.GlobalStep)
	}
	return res, nil
}

func (c *Config) check() error {
	switch {
	case c.Model == "" && c.ModelConfig == "":
		return fmt.Errorf("train: no model")
	case c.Train == "":
		return fmt.Errorf("train: no training data")
	case c.Output == "":
		return fmt.Errorf("train: no output directory")
	case c.Epochs <= 0 || c.BatchSize <= 0 || c.EvalBatchSize <= 0 || c.GradAccum <= 0 || c.MaxLength <= 0 || c.LogSteps <= 0:
		return fmt.Errorf("train: epochs, batch sizes, gradient accumulation, max length and logging steps must be positive")
	case c.MaxSteps < 0 || c.EvalSteps < 0 || c.SaveSteps < 0 || c.SaveTotalLimit < 0 || c.Patience < 0 || c.MaxTrainSamples < 0 || c.WarmupSteps < 0:
		return fmt.Errorf("train: negative max steps, eval steps, save steps, save total limit, patience, max train samples or warmup steps")
	case c.LR < 0 || c.WeightDecay < 0 || c.WarmupRatio < 0 || c.WarmupRatio > 1:
		return fmt.Errorf("train: negative learning rate or weight decay, or warmup ratio outside [0, 1]")
	case c.WarmupSteps > 0 && c.WarmupRatio > 0:
		return fmt.Errorf("train: give --warmup-steps or --warmup-ratio, not both")
	case c.ValidationSplit < 0 || c.ValidationSplit >= 1:
		return fmt.Errorf("train: validation split %g is not a fraction in [0, 1)", c.ValidationSplit)
	case c.DP != nil && c.GradAccum > 1:
		return fmt.Errorf("train: DP-SGD draws each step's batch by Poisson sampling: gradient accumulation does not apply")
	case c.DP != nil && c.ClassWeights != "":
		return fmt.Errorf("train: DP-SGD clips each example's own loss: class weights do not apply")
	case c.DP != nil && c.BF16:
		return fmt.Errorf("train: DP-SGD clips float32 per-example gradients: bf16 mixed precision does not apply")
	case c.EveryOtherLayer && (c.Model == "" || c.ModelConfig != ""):
		return fmt.Errorf("train: an every-other-layer student is made from a teacher checkpoint (Model), not from a config")
	}
	if d := c.Distill; d != nil {
		switch {
		case c.DP != nil:
			return fmt.Errorf("train: distillation and DP-SGD cannot be combined")
		case c.ClassWeights != "":
			return fmt.Errorf("train: distillation replaces the cross-entropy: class weights do not apply")
		case c.ValidationSplit > 0:
			return fmt.Errorf("train: distillation: split the data before computing the teacher's logits (give evaluation data), not with a validation split")
		case c.ProblemType != "" && c.ProblemType != model.SingleLabel:
			return fmt.Errorf("train: distillation trains single-label students, not %s", c.ProblemType)
		case len(d.Labels) < 2:
			return fmt.Errorf("train: distillation: the teacher has %d label(s); classification needs at least 2", len(d.Labels))
		}
		if err := d.Loss.Check(); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	switch c.Metric {
	case "accuracy", "f1", "loss":
	default:
		return fmt.Errorf("train: unknown metric %q (want accuracy, f1 or loss)", c.Metric)
	}
	switch c.ProblemType {
	case "", model.SingleLabel, model.MultiLabel, model.Regression:
	default:
		return fmt.Errorf("train: unknown problem type %q", c.ProblemType)
	}
	return nil
}

// warn records a notice and tells Progress at once.
func (r *run) warn(msg string) {
	r.warnings = append(r.warnings, msg)
	if r.cfg.Progress != nil {
		r.cfg.Progress.Warning(msg)
	}
}

// loadTokenizer reads the tokenizer of Tokenizer, of the checkpoint
// resumed from (else of Model when the checkpoint has no tokenizer files),
// or of Model, and keeps its files to save them with every model and
// checkpoint.
// loadTokenizerAndModel loads the tokenizer and the model, bounds the
// maximum length by the model's positions, and applies the dropout asked.
func (r *run) loadTokenizerAndModel() error {
	if err := r.loadTokenizer(); err != nil {
		return err
	}
	if err := r.loadModel(); err != nil {
		return err
	}
	r.cfg.MaxLength = min(r.cfg.MaxLength, r.m.MaxTokens())
	if r.cfg.Dropout != nil {
		r.m.SetDropout(float32(*r.cfg.Dropout))
	}
	if r.cfg.BF16 {
		return r.m.SetMixedBF16(true)
	}
	return nil
}

func (r *run) loadTokenizer() error {
	c := r.cfg
	switch {
	case c.Tokenizer != "":
		r.tkDir = c.Tokenizer
	case c.Resume != "" && (len(tokenizerFiles(c.Resume)) > 0 || c.Model == ""):
		r.tkDir = c.Resume
	case c.Model != "":
		r.tkDir = c.Model
	default:
		return fmt.Errorf("train: a model from config %s needs a tokenizer: give Tokenizer (--tokenizer DIR) or Model", c.ModelConfig)
	}
	if st, err := os.Stat(r.tkDir); err == nil && !st.IsDir() {
		return fmt.Errorf("tokenizer %s: give the directory of the tokenizer files, not a file", r.tkDir)
	}
	var err error
	if r.tk, err = tokenizer.Load(r.tkDir); err != nil {
		return fmt.Errorf("model %s: %w", r.tkDir, err)
	}
	if r.tkFiles, err = checkpoint.ReadFiles(tokenizerFiles(r.tkDir)); err != nil {
		return fmt.Errorf("tokenizer %s: %w", r.tkDir, err)
	}
	return nil
}

// loadModel loads the checkpoint to fine-tune (or resume), or makes a
// model of ModelConfig with random weights, and reports the weights that
// are newly initialised at once, before training starts.
func (r *run) loadModel() error {
	if r.mlm != nil {
		return r.loadMaskedLM()
	}
	c := r.cfg
	if c.ModelConfig != "" && c.Resume == "" {
		mc, err := modelConfigFor(c.ModelConfig, r.tk)
		if err != nil {
			return err
		}
		mc.Labels, mc.ProblemType = append([]string(nil), r.labels...), r.problem
		if r.m, err = model.New(mc, c.Seed); err != nil {
			return fmt.Errorf("config %s: %w", c.ModelConfig, err)
		}
		r.warn(fmt.Sprintf("config %s: every weight is newly initialized (no pretrained weights): you should train this model well before using it", c.ModelConfig))
		return nil
	}
	if c.EveryOtherLayer && c.Resume == "" {
		return r.loadEveryOtherLayer()
	}
	dir := c.Model
	if c.Resume != "" {
		dir = c.Resume
	}
	m, rep, err := model.LoadForTraining(dir, r.labels, r.problem, c.Seed)
	if err != nil {
		return err
	}
	r.m = m
	for _, w := range rep.Warnings {
		r.warn(w)
	}
	return nil
}

// CheckModel reads the tokenizer and the model config of a run of cfg
// (no weights, no data) and reports what would stop the run there: a
// tokenizer that cannot be read, an architecture not supported, a
// vocabulary that does not hold the tokenizer's tokens, an every-other-layer
// student of a teacher outside the BERT family. Distillation calls it before
// the teacher's (long) forward passes.
func CheckModel(cfg Config) error {
	cfg.Defaults()
	r := &run{cfg: cfg}
	if err := r.loadTokenizer(); err != nil {
		return err
	}
	var mc *checkpoint.Config
	var err error
	switch {
	case cfg.Resume != "":
		return nil // the checkpoint's own
	case cfg.ModelConfig != "":
		if mc, err = modelConfigFor(cfg.ModelConfig, r.tk); err != nil {
			return err
		}
	default:
		if mc, err = checkpoint.LoadConfig(cfg.Model); err != nil {
			return err
		}
		if n := r.tk.VocabSize(); n > mc.VocabSize {
			return fmt.Errorf("%s: vocab_size %d is smaller than the tokenizer's %d tokens (tokenizer %s)", cfg.Model, mc.VocabSize, n, r.tkDir)
		}
	}
	if err := model.CheckSupported(mc); err != nil {
		return err
	}
	if cfg.EveryOtherLayer {
		if mc.IsDecoder() || mc.ModelType == "modernbert" {
			return fmt.Errorf("%s: every-other-layer student: the teacher is a %s model; the initialisation takes a BERT-family classifier (bert, roberta, xlm-roberta, camembert, distilbert)", cfg.Model, mc.ModelType)
		}
		if mc.NumHiddenLayers < 2 {
			return fmt.Errorf("%s: every-other-layer student: the teacher has %d layer(s); a student of every other layer needs at least 2", cfg.Model, mc.NumHiddenLayers)
		}
	}
	return mc.Validate()
}

// loadEveryOtherLayer makes the model a student of the checkpoint of
// Model with every other of its layers (model.EveryOtherLayer).
func (r *run) loadEveryOtherLayer() error {
	c := r.cfg
	teacher, _, err := model.LoadForTraining(c.Model, r.labels, r.problem, c.Seed)
	if err != nil {
		return fmt.Errorf("every-other-layer student of %s: %w", c.Model, err)
	}
	m, copied, err := model.EveryOtherLayer(teacher, r.labels, r.problem, c.Seed)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Model, err)
	}
	r.m = m
	kept := make([]string, m.Config.NumHiddenLayers)
	for i := range kept {
		kept[i] = strconv.Itoa(2 * i)
	}
	r.warn(fmt.Sprintf("%s: a student of every other layer of the teacher (its layers %s of %d; %d weights copied); the classification head is newly initialized: you should train this model before using it",
		c.Model, strings.Join(kept, ", "), teacher.Config.NumHiddenLayers, len(copied)))
	return nil
}

// modelConfigFor is the config of a model trained from scratch: a preset
// of model.PresetConfig (bert-base, minilm, gpt2, …) whose vocabulary is made the
// tokenizer's, or a config.json file, whose vocabulary must hold the
// tokenizer's.
func modelConfigFor(spec string, tk *tokenizer.Tokenizer) (*checkpoint.Config, error) {
	if _, err := os.Stat(spec); err != nil {
		cfg, perr := model.PresetConfig(spec)
		if perr != nil {
			return nil, fmt.Errorf("--config %s is neither a config.json file nor a preset: %w", spec, perr)
		}
		cfg.VocabSize = tk.VocabSize()
		for _, pad := range []string{"[PAD]", "<pad>", "<|endoftext|>"} {
			if id, ok := tk.TokenToID(pad); ok {
				cfg.PadTokenID = &id
				break
			}
		}
		if cfg.PadTokenID != nil && *cfg.PadTokenID >= cfg.VocabSize {
			return nil, fmt.Errorf("--config %s: pad_token_id %d is outside the tokenizer's %d tokens, which have no [PAD], <pad> or <|endoftext|>", spec, *cfg.PadTokenID, cfg.VocabSize)
		}
		return cfg, nil
	}
	cfg, err := checkpoint.LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	if n := tk.VocabSize(); n > cfg.VocabSize {
		return nil, fmt.Errorf("%s: vocab_size %d is smaller than the tokenizer's %d tokens", spec, cfg.VocabSize, n)
	}
	return cfg, nil
}

// chooseLabels takes the label names from the data (integers in numeric
// order, names sorted) and the problem type from the flag or the data.
func (r *run) chooseLabels(train, eval *data.Dataset) error {
	if d := r.cfg.Distill; d != nil {
		// The teacher's labels, in the order of its logits; encode refuses
		// data labels outside them.
		r.problem, r.labels = model.SingleLabel, append([]string(nil), d.Labels...)
		return nil
	}
	r.problem = r.cfg.ProblemType
	if r.problem == "" {
		r.problem = model.SingleLabel
		if train.MultiLabel {
			r.problem = model.MultiLabel
		}
	}
	if r.problem == model.Regression {
		r.labels = []string{"LABEL_0"}
		return nil
	}
	sets := []*data.Dataset{train}
	if eval != nil {
		sets = append(sets, eval)
	}
	r.labels = data.BuildLabelMap(sets...).Names
	if len(r.labels) < 2 && r.problem == model.SingleLabel {
		return fmt.Errorf("%s: only %d distinct label(s); classification needs at least 2", train.Path, len(r.labels))
	}
	return nil
}

// encode tokenizes a data set and maps its labels.
func (r *run) encode(ds *data.Dataset) ([]example, error) {
	inputs := make([]tokenizer.Input, len(ds.Examples))
	for i, ex := range ds.Examples {
		inputs[i] = tokenizer.Input{Text: ex.Text}
		if ex.TextPair != "" {
			pair := ex.TextPair
			inputs[i].Pair = &pair
		}
	}
	encs, err := r.tk.EncodeBatch(inputs, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ds.Path, err)
	}
	index := map[string]int{}
	for i, l := range r.labels {
		index[l] = i
	}
	out := make([]example, len(encs))
	for i, e := range encs {
		ex := ds.Examples[i]
		out[i] = example{ids: e.IDs, typeIDs: e.TypeIDs}
		switch r.problem {
		case model.Regression:
			if len(ex.Labels) != 1 {
				return nil, fmt.Errorf("%s:%d: a regression row needs one numeric label", ds.Path, ex.Line)
			}
			v, err := strconv.ParseFloat(ex.Labels[0], 32)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: regression label %q is not a number", ds.Path, ex.Line, ex.Labels[0])
			}
			out[i].values = []float32{float32(v)}
		default:
			if len(ex.Labels) == 0 {
				return nil, fmt.Errorf("%s:%d: row has no label", ds.Path, ex.Line)
			}
			if r.problem == model.SingleLabel && len(ex.Labels) > 1 {
				return nil, fmt.Errorf("%s:%d: %d labels in a single-label task", ds.Path, ex.Line, len(ex.Labels))
			}
			out[i].values = make([]float32, len(r.labels))
			for _, l := range ex.Labels {
				id, ok := index[l]
				if !ok {
					return nil, fmt.Errorf("%s:%d: unknown label %q", ds.Path, ex.Line, l)
				}
				out[i].gold = append(out[i].gold, id)
				out[i].values[id] = 1
			}
			out[i].class = out[i].gold[0]
		}
	}
	return out, nil
}

// setClassWeights parses --class-weights: "auto" is scikit-learn's
// "balanced", n / (classes · count).
func (r *run) setClassWeights() error {
	spec := r.cfg.ClassWeights
	if spec == "" {
		return nil
	}
	if r.problem != model.SingleLabel {
		return fmt.Errorf("train: --class-weights applies to single-label classification only")
	}
	k := len(r.labels)
	w := make([]float32, k)
	if spec == "auto" {
		counts := make([]int, k)
		for _, ex := range r.train {
			counts[ex.class]++
		}
		for c := range w {
			if counts[c] > 0 {
				w[c] = float32(float64(len(r.train)) / float64(k*counts[c]))
			}
		}
	} else {
		parts := strings.Split(spec, ",")
		if len(parts) != k {
			return fmt.Errorf("train: %d class weights for %d labels %v", len(parts), k, r.labels)
		}
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
			if err != nil || v < 0 {
				return fmt.Errorf("train: class weight %q is not a non-negative number", p)
			}
			w[i] = float32(v)
		}
	}
	r.m.ClassWeights = w
	return nil
}

// setup builds the optimizer and schedule and restores a checkpoint's state.
func (r *run) setup() error {
	c := r.cfg
	batches := (len(r.train) + c.BatchSize - 1) / c.BatchSize
	r.stepsPer = max(1, (batches+c.GradAccum-1)/c.GradAccum)
	total := int(math.Ceil(c.Epochs * float64(r.stepsPer)))
	if c.MaxSteps > 0 {
		total = c.MaxSteps
	}
	warmup := c.WarmupSteps
	if c.WarmupRatio > 0 {
		warmup = WarmupFromRatio(c.WarmupRatio, total)
	}
	sched, err := NewSchedule(c.Scheduler, warmup, total)
	if err != nil {
		return err
	}
	opt := NewAdamW(r.m.Params(), AdamWConfig{LR: c.LR, WeightDecay: c.WeightDecay})
	r.stepper = &Stepper{Model: r.m, Optimizer: opt, Schedule: sched, BaseLR: c.LR, MaxGradNorm: max(c.MaxGradNorm, 0)}
	if c.DP != nil {
		if r.m.Config.IsDecoder() || r.m.Config.ModelType == "modernbert" {
			return fmt.Errorf("train: DP-SGD supports the BERT family (bert, roberta, xlm-roberta, distilbert), not %s", r.m.Config.ModelType)
		}
		if r.dp, err = privacy.NewPlan(*c.DP, len(r.train), c.BatchSize, total); err != nil {
			return err
		}
		r.stepper.MaxGradNorm = 0 // each example's gradient is clipped instead
	}
	r.state = &State{MaxSteps: total, Labels: r.labels, ProblemType: r.problem}
	if c.Resume != "" {
		return r.restore(c.Resume)
	}
	return nil
}

// batchesOfEpoch is the order of training examples in an epoch: length
// buckets shuffled with a generator seeded by (seed, epoch), or file order.
func (r *run) batchesOfEpoch(epoch int) [][]int {
	lengths := make([]int, len(r.train))
	for i, ex := range r.train {
		lengths[i] = len(ex.ids)
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(epoch)+1))
	return data.Batches(lengths, r.cfg.BatchSize, !r.cfg.NoShuffle, rng)
}

// microBatch makes the model batch and labels of some examples.
func microBatch(exs []example, idx []int, problem string, padID int) (*model.Batch, *model.Labels) {
	ids := make([][]int, len(idx))
	types := make([][]int, len(idx))
	labels := &model.Labels{}
	for i, j := range idx {
		ids[i], types[i] = exs[j].ids, exs[j].typeIDs
		if problem == model.SingleLabel {
			labels.Classes = append(labels.Classes, exs[j].class)
			labels.Teacher = append(labels.Teacher, exs[j].teacher...)
		} else {
			labels.Values = append(labels.Values, exs[j].values...)
		}
	}
	return model.PadBatch(ids, types, padID), labels
}

// step takes the optimizer step s of the epoch: on micro-batches
// s·GradAccum … of the epoch's batches, or with DP-SGD on the Poisson batch
// of the run's step.
func (r *run) step(batches [][]int, s int) (StepResult, error) {
	if r.mlm != nil {
		return r.mlmStep(batches, s)
	}
	if r.dp != nil {
		step := r.state.GlobalStep
		idx := r.dp.Batch(r.cfg.Seed, step, len(r.train))
		var mb *model.Batch
		var lb *model.Labels
		if len(idx) > 0 {
			mb, lb = microBatch(r.train, idx, r.problem, r.m.PadID())
		}
		return r.stepper.StepDP(mb, lb, r.dp, r.cfg.Seed, step)
	}
	var mbs []*model.Batch
	var lbs []*model.Labels
	for k := s * r.cfg.GradAccum; k < min((s+1)*r.cfg.GradAccum, len(batches)); k++ {
		mb, lb := microBatch(r.train, batches[k], r.problem, r.m.PadID())
		mbs, lbs = append(mbs, mb), append(lbs, lb)
	}
	return r.stepper.Step(mbs, lbs)
}

// loop runs the optimizer steps.
func (r *run) loop(ctx context.Context) error {
	st := r.state
	var lossSum float64
	var lossSteps int
	for st.GlobalStep < st.MaxSteps {
		epoch := st.GlobalStep / r.stepsPer
		var batches [][]int
		if r.dp == nil {
			batches = r.batchesOfEpoch(epoch)
		}
		for s := st.GlobalStep % r.stepsPer; s < r.stepsPer && st.GlobalStep < st.MaxSteps; s++ {
			if err := ctx.Err(); err != nil {
				return &Interrupted{Step: st.GlobalStep, Checkpoint: r.lastSave, Err: err}
			}
			res, err := r.step(batches, s)
			if err != nil {
				return fmt.Errorf("step %d: %w", st.GlobalStep+1, err)
			}
			st.GlobalStep++
			st.Epoch = float64(st.GlobalStep) / float64(r.stepsPer)
			lossSum += res.Loss
			lossSteps++
			if p := r.cfg.Progress; p != nil {
				p.Step(StepInfo{Step: st.GlobalStep, MaxSteps: st.MaxSteps, Epoch: st.Epoch, Loss: res.Loss, LR: res.LR, GradNorm: res.GradNorm})
			}
			endOfEpoch := st.GlobalStep%r.stepsPer == 0 || st.GlobalStep == st.MaxSteps
			if st.GlobalStep%r.cfg.LogSteps == 0 || endOfEpoch {
				loss, lr, norm := lossSum/float64(lossSteps), res.LR, res.GradNorm
				e := LogEntry{Step: st.GlobalStep, Epoch: st.Epoch, Loss: &loss, LR: &lr, GradNorm: &norm}
				if r.dp != nil {
					eps := r.dp.Epsilon(st.GlobalStep)
					e.Epsilon = &eps
				}
				if err := r.record(e); err != nil {
					return err
				}
				lossSum, lossSteps = 0, 0
			}
			evalNow := r.eval != nil && ((r.cfg.EvalSteps > 0 && st.GlobalStep%r.cfg.EvalSteps == 0) || (r.cfg.EvalSteps == 0 && endOfEpoch))
			stop := false
			if evalNow {
				if stop, err = r.evaluate(); err != nil {
					return err
				}
			}
			saveNow := (r.cfg.SaveSteps > 0 && st.GlobalStep%r.cfg.SaveSteps == 0) || (r.cfg.SaveSteps == 0 && (evalNow || (r.eval == nil && endOfEpoch)))
			if saveNow && st.GlobalStep < st.MaxSteps {
				if err := r.saveCheckpoint(); err != nil {
					return err
				}
			}
			if stop {
				return nil
			}
		}
	}
	return nil
}

// record appends a log entry to metrics.jsonl, the state's history and
// the TensorBoard events.
func (r *run) record(e LogEntry) error {
	e.Seconds = time.Since(r.start).Seconds()
	r.state.LogHistory = append(r.state.LogHistory, e)
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err = r.log.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%s: %w", r.log.Name(), err)
	}
	if r.events == nil || e.Saved != "" {
		return nil
	}
	return r.events.WriteScalars(int64(e.Step), time.Now(), tensorboardScalars(e))
}

// tensorboardScalars names a log entry's values as the Trainer's
// TensorBoard callback does (train/loss, eval/accuracy, …).
func tensorboardScalars(e LogEntry) []tensorboard.Scalar {
	var out []tensorboard.Scalar
	add := func(tag string, v *float64) {
		if v != nil {
			out = append(out, tensorboard.Scalar{Tag: tag, Value: *v})
		}
	}
	add("train/loss", e.Loss)
	add("train/learning_rate", e.LR)
	add("train/grad_norm", e.GradNorm)
	add("train/epsilon", e.Epsilon)
	if e.Loss != nil {
		add("train/epoch", &e.Epoch)
	}
	names := make([]string, 0, len(e.Eval))
	for name := range e.Eval {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := e.Eval[name]
		add("eval/"+name, &v)
	}
	return out
}

// finish writes the final model (without evaluation data) and the state.
func (r *run) finish() error {
	saved := false
	if r.eval == nil || r.state.BestMetric == nil {
		if err := r.saveModel(r.cfg.Output); err != nil {
			return err
		}
		saved = true
	}
	if err := hook("final"); err != nil {
		return err
	}
	if saved {
		if err := r.logSaved("."); err != nil {
			return err
		}
	}
	return writeJSONAtomic(filepath.Join(r.cfg.Output, trainerStateName), r.state)
}

// TokenizerFiles lists the tokenizer files of a model directory
// (tokenizer.json, vocab.txt, merges.txt, …), those that exist.
func TokenizerFiles(dir string) []string { return tokenizerFiles(dir) }

// tokenizerFiles lists the tokenizer files of the source model directory.
func tokenizerFiles(dir string) []string {
	var out []string
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			out = append(out, p)
		}
	}
	return out
}

// saveModel writes the model and the tokenizer files into dir.
func (r *run) saveModel(dir string) error {
	if r.dp != nil {
		// A private model's config.json says what it cost: the plan and the
		// ε spent by the steps it has taken.
		record := struct {
			*privacy.Plan
			Epsilon float64 `json:"epsilon"`
			Steps   int     `json:"steps_taken"`
		}{r.dp, r.dp.Epsilon(r.state.GlobalStep), r.state.GlobalStep}
		b, err := json.Marshal(record)
		if err != nil {
			return err
		}
		if r.m.Config.Raw == nil {
			r.m.Config.Raw = map[string]json.RawMessage{}
		}
		r.m.Config.Raw["textclf_differential_privacy"] = b
	}
	return r.m.SaveFiles(dir, r.tkFiles)
}

// writeJSONAtomic writes v as indented JSON, atomically.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}
