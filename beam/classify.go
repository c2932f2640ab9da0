package textclfbeam

import (
	"context"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/textclf/textclf"
)

// Long-text policies of Config.LongText.
const (
	// Truncate cuts an input to the model's max length (as textclf
	// predict does by default).
	Truncate = "truncate"
	// Window reads a long input in overlapping windows and averages their
	// scores (textclf predict --long-text window).
	Window = "window"
	// Reject sends an input longer than the max length to the dead-letter
	// output.
	Reject = "reject"
)

// DefaultMetricsNamespace is the namespace of Classify's metrics, as
// RunInference's ModelHandler names it.
const DefaultMetricsNamespace = "RunInference"

// Config says which model Classify loads and how it batches and scores.
// It is JSON-encoded into the pipeline (Beam serialises a DoFn's exported
// fields), so it holds only names and numbers.
type Config struct {
	// Model is a model directory or fastText .bin file, a hub id (found in
	// the HF cache, else downloaded) or a builtin: name: anything
	// textclf.Open reads. On a distributed runner the path must exist on
	// every worker (a volume, or a hub id with the cache or network).
	Model string `json:"model"`
	// Revision is the hub revision of a hub id (default main).
	Revision string `json:"revision,omitempty"`
	// ModelID names the model in PredictionResult.ModelID (default Model).
	ModelID string `json:"model_id,omitempty"`
	// MaxLength is the most tokens of an input (default: the model's).
	MaxLength int `json:"max_length,omitempty"`
	// BatchSize is the most inputs of one forward pass (default
	// textclf.DefaultBatchSize); a batch is sorted by length and cut into
	// passes, as textclf predict does.
	BatchSize int `json:"batch_size,omitempty"`
	// MinBatchSize and MaxBatchSize bound the elements a DoFn instance
	// gathers from a bundle before it classifies them, as the arguments of
	// Beam's BatchElements: the first batch of an instance has
	// MinBatchSize elements, each next one twice as many up to
	// MaxBatchSize, and the end of a bundle classifies what is left
	// (default 512, and MinBatchSize = MaxBatchSize: a bundle's texts, up
	// to the max, in one batch that the classifier sorts by length; on
	// 20,000 lines with a MiniLM-sized model this cost 156 CPU-s against
	// 162–195 s when starting at 16).
	MinBatchSize int `json:"min_batch_size,omitempty"`
	MaxBatchSize int `json:"max_batch_size,omitempty"`
	// Threads limits the compute threads of the worker process (default:
	// all cores).
	Threads int `json:"threads,omitempty"`
	// LongText is what happens to an input longer than the max length:
	// Truncate (default), Window, or Reject (to the dead-letter output).
	LongText string `json:"long_text,omitempty"`
	// Stride is the tokens shared by consecutive windows (Window; default
	// a eighth of the max length).
	Stride int `json:"stride,omitempty"`
	// Function turns outputs into scores: "softmax", "sigmoid", "none", or
	// "" for the model's (as textclf predict --function).
	Function string `json:"function,omitempty"`
	// MetricsNamespace is the namespace of the metrics (default
	// DefaultMetricsNamespace).
	MetricsNamespace string `json:"metrics_namespace,omitempty"`
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Model == "" {
		return c, fmt.Errorf("textclfbeam: Config.Model is empty")
	}
	if c.ModelID == "" {
		c.ModelID = c.Model
	}
	if c.BatchSize <= 0 {
		c.BatchSize = textclf.DefaultBatchSize
	}
	if c.MaxBatchSize <= 0 {
		c.MaxBatchSize = max(512, c.MinBatchSize)
	}
	if c.MinBatchSize <= 0 {
		c.MinBatchSize = c.MaxBatchSize
	}
	if c.MinBatchSize > c.MaxBatchSize {
		return c, fmt.Errorf("textclfbeam: min batch size %d > max batch size %d", c.MinBatchSize, c.MaxBatchSize)
	}
	switch c.LongText {
	case "":
		c.LongText = Truncate
	case Truncate, Window, Reject:
	default:
		return c, fmt.Errorf("textclfbeam: long text must be %s, %s or %s, got %q", Truncate, Window, Reject, c.LongText)
	}
	if _, err := textclf.ParseFunction(c.Function, ""); err != nil {
		return c, fmt.Errorf("textclfbeam: %w", err)
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = DefaultMetricsNamespace
	}
	return c, nil
}

// PredictionResult is the classification of one input, as RunInference's
// PredictionResult pairs an example with its inference and the model id.
type PredictionResult struct {
	// Input is the text classified (RunInference's example).
	Input string `json:"input"`
	// Prediction holds the best label and score, every label's score best
	// first, the chosen labels of a multi-label model and the logits: what
	// textclf predict --all writes.
	Prediction textclf.Prediction `json:"prediction"`
	// ModelID is Config.ModelID.
	ModelID string `json:"model_id"`
}

// DeadLetter is an input that could not be classified, with the reason; a
// bad input goes here instead of failing the pipeline, as with
// RunInference's with_exception_handling.
type DeadLetter struct {
	// Input is the input as it came (for a text that is not valid UTF-8,
	// its bytes as they are).
	Input string `json:"input"`
	// Error says what is wrong.
	Error string `json:"error"`
}

func init() {
	beam.RegisterType(reflect.TypeOf((*PredictionResult)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*DeadLetter)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*textclf.LabelScore)(nil)).Elem())
	register.DoFn4x1[context.Context, string, func(PredictionResult), func(DeadLetter), error](&classifyFn{})
	register.DoFn5x1[context.Context, beam.T, string, func(beam.T, PredictionResult), func(beam.T, DeadLetter), error](&classifyKeyedFn{})
	register.Emitter1[PredictionResult]()
	register.Emitter1[DeadLetter]()
	register.Emitter2[beam.T, PredictionResult]()
	register.Emitter2[beam.T, DeadLetter]()
}

// Classify classifies a PCollection<string> of texts with cfg's model and
// returns a PCollection<PredictionResult> and the dead letters, a
// PCollection<DeadLetter> of the inputs that could not be classified (not
// valid UTF-8, too long with LongText Reject, or failing in the model).
// Its metrics are RunInference's, in cfg.MetricsNamespace:
// num_inferences, inference_request_batch_size,
// inference_request_batch_byte_size, inference_batch_latency_micro_secs,
// failed_batches_counter and load_model_latency_milli_secs. A bad cfg
// panics, as beam.ParDo does with a bad DoFn; TryClassify returns the error.
func Classify(s beam.Scope, cfg Config, texts beam.PCollection) (predictions, deadLetters beam.PCollection) {
	p, d, err := TryClassify(s, cfg, texts)
	if err != nil {
		panic(err)
	}
	return p, d
}

// TryClassify is Classify returning an error for a bad cfg.
func TryClassify(s beam.Scope, cfg Config, texts beam.PCollection) (predictions, deadLetters beam.PCollection, err error) {
	return apply(s.Scope("textclf.Classify"), cfg, texts, func(c core) any { return &classifyFn{core: c} })
}

// ClassifyKeyed is Classify over a PCollection<KV<K, string>>, keeping each
// key with its prediction and its dead letter, as RunInference's
// KeyedModelHandler does: it returns PCollection<KV<K, PredictionResult>>
// and PCollection<KV<K, DeadLetter>>.
func ClassifyKeyed(s beam.Scope, cfg Config, keyed beam.PCollection) (predictions, deadLetters beam.PCollection) {
	p, d, err := TryClassifyKeyed(s, cfg, keyed)
	if err != nil {
		panic(err)
	}
	return p, d
}

// TryClassifyKeyed is ClassifyKeyed returning an error for a bad cfg.
func TryClassifyKeyed(s beam.Scope, cfg Config, keyed beam.PCollection) (predictions, deadLetters beam.PCollection, err error) {
	return apply(s.Scope("textclf.ClassifyKeyed"), cfg, keyed, func(c core) any { return &classifyKeyedFn{core: c} })
}

// apply checks cfg and applies the DoFn that newFn makes.
func apply(s beam.Scope, cfg Config, col beam.PCollection, newFn func(core) any) (beam.PCollection, beam.PCollection, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return beam.PCollection{}, beam.PCollection{}, err
	}
	outs, err := beam.TryParDo(s, newFn(core{Config: c}), col)
	if err != nil {
		return beam.PCollection{}, beam.PCollection{}, err
	}
	return outs[0], outs[1], nil
}

// metricSet holds Classify's metrics, under RunInference's names.
type metricSet struct {
	inferences   beam.Counter      // num_inferences: inputs classified
	failed       beam.Counter      // failed_batches_counter: batches the model failed on
	batchSize    beam.Distribution // inference_request_batch_size: inputs per batch
	batchBytes   beam.Distribution // inference_request_batch_byte_size: bytes of text per batch
	batchLatency beam.Distribution // inference_batch_latency_micro_secs
	loadLatency  beam.Distribution // load_model_latency_milli_secs: once per process load
}

func newMetricSet(ns string) metricSet {
	return metricSet{
		inferences:   beam.NewCounter(ns, "num_inferences"),
		failed:       beam.NewCounter(ns, "failed_batches_counter"),
		batchSize:    beam.NewDistribution(ns, "inference_request_batch_size"),
		batchBytes:   beam.NewDistribution(ns, "inference_request_batch_byte_size"),
		batchLatency: beam.NewDistribution(ns, "inference_batch_latency_micro_secs"),
		loadLatency:  beam.NewDistribution(ns, "load_model_latency_milli_secs"),
	}
}

// item is an input waiting for its batch.
type item struct {
	key  any // ClassifyKeyed's key
	text string
}

// outcome is what became of an input: a prediction or a dead letter.
type outcome struct {
	item
	res  *PredictionResult
	dead *DeadLetter
}

// core is what the two DoFns share: the model, the batch being gathered,
// the metrics.
type core struct {
	Config Config `json:"config"`

	clf     *textclf.Classifier
	entry   *loaded
	opt     textclf.ClassifyOptions
	m       metricSet
	pending []item
	target  int // elements of the next batch
}

// setup takes the model from the process cache, loading it the first time.
func (c *core) setup(ctx context.Context) error {
	setups.Add(1)
	clf, e, err := load(ctx, c.Config)
	if err != nil {
		return err
	}
	info := clf.Info()
	opt := textclf.ClassifyOptions{Function: textclf.Function(c.Config.Function)}
	if opt.Function != "" && info.Function == textclf.None {
		return fmt.Errorf("function %s: %s models give probabilities; it applies to transformers only", opt.Function, info.Kind)
	}
	if c.Config.LongText == Window {
		opt.Windows, opt.Stride = true, c.Config.Stride
		if opt.Stride == 0 {
			opt.Stride = info.MaxLength / 8
		}
	}
	c.clf, c.entry, c.opt = clf, e, opt
	c.m = newMetricSet(c.Config.MetricsNamespace)
	c.target = c.Config.MinBatchSize
	return nil
}

// startBundle reports the model's load time once per load, in the first
// bundle of the process that can (metrics need a bundle's context).
func (c *core) startBundle(ctx context.Context) {
	bundles.Add(1)
	if c.entry.reported.CompareAndSwap(false, true) {
		c.m.loadLatency.Update(ctx, c.entry.took.Milliseconds())
	}
}

// add takes one input; when the batch is full it classifies it and returns
// the outcomes. A text that is not valid UTF-8, or too long under Reject,
// is an outcome at once (a dead letter).
func (c *core) add(ctx context.Context, it item) []outcome {
	if reason := c.check(it.text); reason != "" {
		return []outcome{{item: it, dead: &DeadLetter{Input: it.text, Error: reason}}}
	}
	c.pending = append(c.pending, it)
	if len(c.pending) < c.target {
		return nil
	}
	c.target = min(2*c.target, c.Config.MaxBatchSize)
	return c.flush(ctx)
}

// check says why a text cannot be classified, or "".
func (c *core) check(text string) string {
	if !utf8.ValidString(text) {
		return "text is not valid UTF-8"
	}
	if c.Config.LongText != Reject {
		return ""
	}
	maxLen := c.clf.MaxLength()
	if maxLen <= 0 {
		return ""
	}
	enc, err := c.clf.Model.Encode(textclf.Input{Text: text}, textclf.EncodeOptions{})
	if err != nil {
		return "tokenize: " + err.Error()
	}
	if enc.Len() > maxLen {
		return fmt.Sprintf("text has %d tokens, more than the max length %d (long text: %s)", enc.Len(), maxLen, Reject)
	}
	return ""
}

// flush classifies the pending inputs. When the model fails on the batch,
// it counts a failed batch and classifies the inputs one by one, so that
// only the inputs it fails on become dead letters.
func (c *core) flush(ctx context.Context) []outcome {
	batch := c.pending
	c.pending = nil
	if len(batch) == 0 {
		return nil
	}
	out := make([]outcome, len(batch))
	for i, it := range batch {
		out[i].item = it
	}
	if err := c.classify(ctx, out); err == nil {
		return out
	}
	c.m.failed.Inc(ctx, 1)
	for i := range out {
		if err := c.classify(ctx, out[i:i+1]); err != nil {
			out[i].dead = &DeadLetter{Input: out[i].text, Error: err.Error()}
		}
	}
	return out
}

// classify runs one batch and fills its outcomes, recording the metrics of
// a successful batch.
func (c *core) classify(ctx context.Context, out []outcome) error {
	inputs := make([]textclf.Input, len(out))
	bytes := 0
	for i, o := range out {
		inputs[i] = textclf.Input{Text: o.text}
		bytes += len(o.text)
	}
	preds, took, err := c.entry.batches.classify(ctx, c.clf, inputs, c.opt)
	if err != nil {
		return err
	}
	c.m.batchLatency.Update(ctx, took.Microseconds())
	c.m.inferences.Inc(ctx, int64(len(out)))
	c.m.batchSize.Update(ctx, int64(len(out)))
	c.m.batchBytes.Update(ctx, int64(bytes))
	for i := range out {
		out[i].res = &PredictionResult{Input: out[i].text, Prediction: preds[i], ModelID: c.Config.ModelID}
	}
	return nil
}

// classifyFn is Classify's DoFn.
type classifyFn struct {
	core
}

// Setup loads the model, or takes it from the process cache.
func (f *classifyFn) Setup(ctx context.Context) error { return f.setup(ctx) }

// StartBundle reports the model's load time once per load.
func (f *classifyFn) StartBundle(ctx context.Context, _ func(PredictionResult), _ func(DeadLetter)) {
	f.startBundle(ctx)
}

// ProcessElement gathers a text into the batch, classifying it when full.
func (f *classifyFn) ProcessElement(ctx context.Context, text string, emit func(PredictionResult), dead func(DeadLetter)) error {
	f.emit(f.add(ctx, item{text: text}), emit, dead)
	return nil
}

// FinishBundle classifies what is left of the bundle.
func (f *classifyFn) FinishBundle(ctx context.Context, emit func(PredictionResult), dead func(DeadLetter)) error {
	f.emit(f.flush(ctx), emit, dead)
	return nil
}

func (f *classifyFn) emit(out []outcome, emit func(PredictionResult), dead func(DeadLetter)) {
	for _, o := range out {
		if o.dead != nil {
			dead(*o.dead)
		} else {
			emit(*o.res)
		}
	}
}

// classifyKeyedFn is ClassifyKeyed's DoFn.
type classifyKeyedFn struct {
	core
}

// Setup loads the model, or takes it from the process cache.
func (f *classifyKeyedFn) Setup(ctx context.Context) error { return f.setup(ctx) }

// StartBundle reports the model's load time once per load.
func (f *classifyKeyedFn) StartBundle(ctx context.Context, _ func(beam.T, PredictionResult), _ func(beam.T, DeadLetter)) {
	f.startBundle(ctx)
}

// ProcessElement gathers a keyed text into the batch, classifying it when
// full.
func (f *classifyKeyedFn) ProcessElement(ctx context.Context, key beam.T, text string, emit func(beam.T, PredictionResult), dead func(beam.T, DeadLetter)) error {
	f.emit(f.add(ctx, item{key: key, text: text}), emit, dead)
	return nil
}

// FinishBundle classifies what is left of the bundle.
func (f *classifyKeyedFn) FinishBundle(ctx context.Context, emit func(beam.T, PredictionResult), dead func(beam.T, DeadLetter)) error {
	f.emit(f.flush(ctx), emit, dead)
	return nil
}

func (f *classifyKeyedFn) emit(out []outcome, emit func(beam.T, PredictionResult), dead func(beam.T, DeadLetter)) {
	for _, o := range out {
		if o.dead != nil {
			dead(o.key, *o.dead)
		} else {
			emit(o.key, *o.res)
		}
	}
}
