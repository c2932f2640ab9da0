package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// Config holds the options of a fine-tuning run; the zero values of the
// numeric fields take the Trainer's defaults (see Defaults).
type Config struct {
	// Model is the directory of the pretrained checkpoint (with its tokenizer).
	Model string
	// Train and Eval are the data files (Eval optional); Data says how to read them.
	Train, Eval string
	Data        data.Options
	// Output is the directory of the fine-tuned model, logs and checkpoints.
	Output string

	Epochs       float64
	BatchSize    int
	LR           float64
	WeightDecay  float64
	WarmupSteps  int
	WarmupRatio  float64
	Scheduler    string // linear, cosine or constant
	MaxGradNorm  float64
	GradAccum    int
	Seed         uint64
	MaxLength    int
	Dropout      *float64 // overrides hidden and attention dropout
	NoShuffle    bool
	ProblemType  string // empty: from the data
	ClassWeights string // "", "auto" or "w1,w2,..."
	LogSteps     int    // training loss log interval (default 50)
	EvalSteps    int    // 0: evaluate at the end of each epoch
	SaveSteps    int    // 0: checkpoint when evaluating (or each epoch)
	Patience     int    // early stopping after this many evaluations without improvement
	Metric       string // accuracy, f1 or loss
	// Resume is a checkpoint directory to continue from ("" starts afresh).
	Resume string
	// Progress, when not nil, receives a progress bar.
	Progress io.Writer
}

// Defaults fills the Trainer's default values into zero fields.
func (c *Config) Defaults() {
	if c.Epochs == 0 {
		c.Epochs = 3
	}
	if c.BatchSize == 0 {
		c.BatchSize = 8
	}
	if c.LR == 0 {
		c.LR = 5e-5
	}
	if c.Scheduler == "" {
		c.Scheduler = "linear"
	}
	if c.GradAccum == 0 {
		c.GradAccum = 1
	}
	if c.MaxLength == 0 {
		c.MaxLength = 128
	}
	if c.LogSteps == 0 {
		c.LogSteps = 50
	}
	if c.Metric == "" {
		c.Metric = "accuracy"
	}
}

// LogEntry is one line of metrics.jsonl and of trainer_state.json's log_history.
type LogEntry struct {
	Step     int                `json:"step"`
	Epoch    float64            `json:"epoch"`
	Loss     *float64           `json:"loss,omitempty"`
	LR       *float64           `json:"learning_rate,omitempty"`
	GradNorm *float64           `json:"grad_norm,omitempty"`
	Eval     map[string]float64 `json:"eval,omitempty"`
	Seconds  float64            `json:"elapsed_s"`
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
	// Warnings are the checkpoint loading messages (newly initialised weights, …).
	Warnings []string
}

// example is one encoded training or evaluation row.
type example struct {
	ids, typeIDs []int
	class        int
	values       []float32
	gold         []int // label ids (multi-label: all of them)
}

// run is the state of one Train call.
type run struct {
	cfg      Config
	m        *model.Model
	tk       *tokenizer.Tokenizer
	labels   []string
	problem  string
	train    []example
	eval     []example
	stepper  *Stepper
	state    *State
	stepsPer int // optimizer steps per epoch
	start    time.Time
	log      *os.File
}

// Train fine-tunes the model of cfg.Model on cfg.Train and writes the
// result to cfg.Output in HF format.
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
	var err error
	if err := r.chooseLabels(trainSet, evalSet); err != nil {
		return nil, err
	}
	modelDir := cfg.Model
	if cfg.Resume != "" {
		modelDir = cfg.Resume
	}
	m, rep, err := model.LoadForTraining(modelDir, r.labels, r.problem, cfg.Seed)
	if err != nil {
		return nil, err
	}
	r.m = m
	r.cfg.MaxLength = min(r.cfg.MaxLength, m.MaxTokens())
	if cfg.Dropout != nil {
		m.SetDropout(float32(*cfg.Dropout))
	}
	if r.tk, err = tokenizer.Load(modelDir); err != nil {
		return nil, fmt.Errorf("model %s: %w", modelDir, err)
	}
	r.tk.Padding = nil
	r.tk.Truncation = &tokenizer.Truncation{MaxLength: r.cfg.MaxLength, Strategy: tokenizer.LongestFirst, Direction: tokenizer.TruncateRight}
	if r.train, err = r.encode(trainSet); err != nil {
		return nil, err
	}
	if len(r.train) == 0 {
		return nil, fmt.Errorf("%s: no training examples", cfg.Train)
	}
	if evalSet != nil {
		if r.eval, err = r.encode(evalSet); err != nil {
			return nil, err
		}
	}
	if err := r.setClassWeights(); err != nil {
		return nil, err
	}
	if err := r.setup(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Output, 0o755); err != nil {
		return nil, err
	}
	if r.log, err = os.OpenFile(filepath.Join(cfg.Output, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, err
	}
	defer r.log.Close()
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	return &Result{State: r.state, Output: cfg.Output, Warnings: rep.Warnings}, nil
}

func (c *Config) check() error {
	switch {
	case c.Model == "":
		return fmt.Errorf("train: no model")
	case c.Train == "":
		return fmt.Errorf("train: no training data")
	case c.Output == "":
		return fmt.Errorf("train: no output directory")
	case c.Epochs <= 0 || c.BatchSize <= 0 || c.GradAccum <= 0 || c.MaxLength <= 0:
		return fmt.Errorf("train: epochs, batch size, gradient accumulation and max length must be positive")
	case c.LR < 0 || c.WeightDecay < 0 || c.MaxGradNorm < 0 || c.WarmupRatio < 0 || c.WarmupRatio > 1:
		return fmt.Errorf("train: negative learning rate, weight decay or max grad norm, or warmup ratio outside [0, 1]")
	case c.WarmupSteps > 0 && c.WarmupRatio > 0:
		return fmt.Errorf("train: give --warmup-steps or --warmup-ratio, not both")
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

// chooseLabels takes the label names from the data (integers in numeric
// order, names sorted) and the problem type from the flag or the data.
func (r *run) chooseLabels(train, eval *data.Dataset) error {
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
	warmup := c.WarmupSteps
	if c.WarmupRatio > 0 {
		warmup = WarmupFromRatio(c.WarmupRatio, total)
	}
	sched, err := NewSchedule(c.Scheduler, warmup, total)
	if err != nil {
		return err
	}
	opt := NewAdamW(r.m.Params(), AdamWConfig{LR: c.LR, WeightDecay: c.WeightDecay})
	r.stepper = &Stepper{Model: r.m, Optimizer: opt, Schedule: sched, BaseLR: c.LR, MaxGradNorm: c.MaxGradNorm}
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
		} else {
			labels.Values = append(labels.Values, exs[j].values...)
		}
	}
	return model.PadBatch(ids, types, padID), labels
}

// loop runs the optimizer steps.
func (r *run) loop(ctx context.Context) error {
	st := r.state
	bar := newProgress(r.cfg.Progress, st.MaxSteps, st.GlobalStep)
	var lossSum float64
	var lossSteps int
	for st.GlobalStep < st.MaxSteps {
		epoch := st.GlobalStep / r.stepsPer
		batches := r.batchesOfEpoch(epoch)
		first := (st.GlobalStep % r.stepsPer) * r.cfg.GradAccum
		for b := first; b < len(batches) && st.GlobalStep < st.MaxSteps; b += r.cfg.GradAccum {
			if err := ctx.Err(); err != nil {
				return err
			}
			var mbs []*model.Batch
			var lbs []*model.Labels
			for k := b; k < min(b+r.cfg.GradAccum, len(batches)); k++ {
				mb, lb := microBatch(r.train, batches[k], r.problem, r.m.PadID())
				mbs, lbs = append(mbs, mb), append(lbs, lb)
			}
			res, err := r.stepper.Step(mbs, lbs)
			if err != nil {
				return fmt.Errorf("step %d: %w", st.GlobalStep+1, err)
			}
			st.GlobalStep++
			st.Epoch = float64(st.GlobalStep) / float64(r.stepsPer)
			lossSum += res.Loss
			lossSteps++
			bar.update(st.GlobalStep, res.Loss, res.LR)
			endOfEpoch := st.GlobalStep%r.stepsPer == 0 || st.GlobalStep == st.MaxSteps
			if st.GlobalStep%r.cfg.LogSteps == 0 || endOfEpoch {
				loss, lr, norm := lossSum/float64(lossSteps), res.LR, res.GradNorm
				if err := r.record(LogEntry{Step: st.GlobalStep, Epoch: st.Epoch, Loss: &loss, LR: &lr, GradNorm: &norm}); err != nil {
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
				bar.finish()
				return nil
			}
		}
	}
	bar.finish()
	return nil
}

// record appends a log entry to metrics.jsonl and the state's history.
func (r *run) record(e LogEntry) error {
	e.Seconds = time.Since(r.start).Seconds()
	r.state.LogHistory = append(r.state.LogHistory, e)
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = r.log.Write(append(line, '\n'))
	return err
}

// finish writes the final model (without evaluation data) and the state,
// the plot of the curves, and removes intermediate checkpoints.
func (r *run) finish() error {
	if r.eval == nil || r.state.BestMetric == nil {
		if err := r.saveModel(r.cfg.Output); err != nil {
			return err
		}
	}
	if err := writeJSONAtomic(filepath.Join(r.cfg.Output, "trainer_state.json"), r.state); err != nil {
		return err
	}
	if err := PlotCurves(filepath.Join(r.cfg.Output, "training_curves.png"), r.state.LogHistory, r.cfg.Metric); err != nil {
		return err
	}
	return nil
}

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

func (r *run) saveModel(dir string) error {
	src := r.cfg.Model
	if r.cfg.Resume != "" {
		src = r.cfg.Resume
	}
	return r.m.Save(dir, tokenizerFiles(src))
}

// writeJSONAtomic writes v as indented JSON, atomically.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}
