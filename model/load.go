package model

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
)

// LoadReport says what loading a checkpoint did, as from_pretrained reports
// it: the weights newly initialised and the checkpoint tensors not used.
type LoadReport struct {
	Format     string   // where the weights came from
	Missing    []string // model weights absent from the checkpoint (newly initialised)
	Unexpected []string // checkpoint tensors the model does not use
	Mismatched []string // checkpoint tensors of another shape, newly initialised (the output layer for other labels)
	// Warnings are from_pretrained's messages for Missing and Unexpected.
	Warnings []string
}

// Load reads a checkpoint directory (config.json and weights) into a model,
// as AutoModelForSequenceClassification.from_pretrained: weights found by
// their HF names (with or without the base model prefix), the rest (usually
// the classifier) initialised with seed. Before any weight is read or any
// memory taken for the model, the tensors' shapes in the file headers are
// checked against the config: a shape mismatch is an error naming the
// tensor, and so is a config that describes far more weights than the
// checkpoint holds. Weights that are NaN or infinite are an error naming
// the tensor. Each tensor's pages of a safetensors file are given back once
// its values are copied (checkpoint.Weights.Release), so that the file and
// the model are never resident in full at once.
func Load(dir string, seed uint64) (*Model, *LoadReport, error) {
	return load(dir, nil, false, false, seed, "")
}

// LoadForTraining loads a checkpoint for fine-tuning on the given labels:
// when they differ from the checkpoint's (count or names), the config takes
// them and a classifier output layer of the old shape is dropped and
// initialised anew, as from_pretrained(..., num_labels=N,
// ignore_mismatched_sizes=True). problemType, when not empty, overrides the
// config's.
func LoadForTraining(dir string, labels []string, problemType string, seed uint64) (*Model, *LoadReport, error) {
	return load(dir, func(cfg *checkpoint.Config) {
		if len(labels) > 0 && !slices.Equal(cfg.Labels, labels) {
			cfg.Labels = append([]string(nil), labels...)
		}
		if problemType != "" {
			cfg.ProblemType = problemType
		}
	}, true, false, seed, "")
}

// minNewWeights is the number of newly initialised weights a checkpoint may
// always leave to its config (a classification head, a pooler); beyond it,
// the new weights may not outnumber those the checkpoint holds.
const minNewWeights = 1 << 22

// loadPlan is what loading a checkpoint does, decided from its config and
// the names and shapes of its tensors before any weight is read.
type loadPlan struct {
	// res maps model names to checkpoint tensors whose data is not read yet.
	res *checkpoint.MapResult
	// bf16 maps the names of the Linear weights packed from BF16 tensors
	// (loadBF16) to those tensors, which are not read as float32.
	bf16 map[string]checkpoint.TensorInfo
	// reduced maps the names of the weights of the Linear layers made int8
	// or bf16 from their F32 tensors, read in place (in the file's
	// mapping), to those layers.
	reduced map[string]*nn.Linear
	// reinit holds the output-layer tensors of another shape, initialised
	// anew for training (as mismatched), and mismatched their warnings.
	reinit     map[string]bool
	mismatched []string
}

// load reads config.json, refuses an architecture this package does not
// build, lets adjust change the config (the labels of a training run),
// plans the load from the tensors' shapes, builds the model, and only then
// reads the weights the model uses and fills it. With dtype int8 or bf16 (a
// load for inference, LoadInference) the model is made dtype as it loads,
// unless the checkpoint is int8: the F32 weights of Linear layers are
// reduced from the file's mapping, without a float32 copy of their own, and
// the BF16 weights of a safetensors checkpoint are packed as they are
// (loadBF16), never converted to float32.
func load(dir string, adjust func(*checkpoint.Config), training, mlm bool, seed uint64, dtype string) (*Model, *LoadReport, error) {
	cfgPath := filepath.Join(dir, checkpoint.ConfigName)
	cfg, err := checkpoint.LoadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSupported(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	qm, err := quantMethod(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	if qm != "" && training {
		return nil, nil, fmt.Errorf("%s: an int8-quantized checkpoint (%s) is for inference only: fine-tune the float32 model", dir, qm)
	}
	if adjust != nil {
		adjust(cfg)
		if err := cfg.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
	}
	// reduce is the dtype the Linear layers are made as they load ("" for
	// float32, and for an int8 checkpoint, which is int8 already).
	reduce := ""
	if (dtype == DtypeInt8 || dtype == DtypeBF16) && qm == "" && !mlm && !training {
		reduce = dtype
	}
	packBF16 := false
	if reduce == DtypeBF16 {
		// The BF16 tensors are read from safetensors mappings only; those
		// of a pytorch_model.bin are converted, and ToBF16 packs them.
		format, _, err := checkpoint.WeightFiles(dir)
		packBF16 = err == nil && strings.HasPrefix(format, "safetensors")
	}
	// The BERT family's parameter shapes come from the config alone; the
	// other architectures' from the model, built once the checkpoint's size
	// shows that the config does not lie about it.
	var m *Model
	var expected []checkpoint.Param
	mapOpts := checkpoint.MapOptions{BasePrefix: cfg.BasePrefix(), Buffers: []string{cfg.BasePrefix() + ".embeddings.position_ids"}}
	if !cfg.IsDecoder() && cfg.ModelType != "modernbert" {
		expected = paramShapes(cfg, mlm)
	}
	if mlm {
		// BertForMaskedLM's _keys_to_ignore_on_load_unexpected, and the
		// decoder copies of the tied weights that older checkpoints hold.
		mapOpts.IgnoreUnexpected = []string{`pooler`, `predictions\.decoder\.`, `lm_head\.decoder\.`}
	}
	var plan *loadPlan
	// The I8 tensors of an int8 checkpoint and their scales are planned
	// apart (loadInt8), and the I8 data is not converted to float32.
	var q map[string]checkpoint.TensorInfo
	w, err := checkpoint.LoadWeightsWith(dir, checkpoint.LoadOptions{Select: func(infos []checkpoint.TensorInfo) (map[string]bool, error) {
		q = int8Tensors(infos)
		for name := range q {
			if qm == "" {
				return nil, fmt.Errorf("%s: tensor %q is int8 but %s has no %s", dir, name, cfgPath, quantizationKey)
			}
		}
		read := map[string]bool{}
		rest := infos
		if len(q) > 0 {
			rest = slices.DeleteFunc(slices.Clone(infos), func(in checkpoint.TensorInfo) bool {
				_, isInt8 := q[in.Name]
				_, isScale := q[strings.TrimSuffix(in.Name, ScaleSuffix)]
				if isScale && strings.HasSuffix(in.Name, ScaleSuffix) {
					read[in.Name] = true
					return true
				}
				return isInt8
			})
		}
		planFor := func(m *Model) error {
			planned := expected
			if len(q) > 0 {
				planned = slices.DeleteFunc(slices.Clone(expected), func(p checkpoint.Param) bool { _, ok := q[p.Name]; return ok })
			}
			var err error
			plan, err = planLoad(planned, outputParams(m, expected), rest, mapOpts, training)
			return err
		}
		var planErr error
		without := func(m *Model) map[string]bool {
			if plan == nil { // the other architectures: planned from the model
				for _, p := range m.params {
					expected = append(expected, checkpoint.Param{Name: p.Name, Shape: p.Shape})
				}
				mapOpts = checkpoint.MapOptions{BasePrefix: m.prefix, IgnoreUnexpected: m.net.ignoreUnexpected()}
				if planErr = planFor(m); planErr != nil {
					return int8Names(q)
				}
			}
			return plan.without(m, q, infos, reduce, packBF16)
		}
		if expected == nil {
			if err := checkConfigSize(cfg, infos); err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
		} else if err := planFor(nil); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		var err error
		if m, err = build(cfg, seed, mlm, without); err != nil {
			return nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
		if planErr != nil {
			return nil, fmt.Errorf("%s: %w", dir, planErr)
		}
		for name, t := range plan.res.Tensors {
			if _, packed := plan.bf16[name]; !packed {
				read[t.Name] = true
			}
		}
		return read, nil
	}})
	if err != nil {
		return nil, nil, err
	}
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
	}()
	// A parameter left without values takes the values converted to
	// float32 as they are (they alias no file mapping), once: a storage of
	// a pytorch_model.bin shared by two tensors is copied for the second.
	adopted := map[*float32]bool{}
	reduceLinear := (*nn.Linear).ToBF16
	if reduce == DtypeInt8 {
		reduceLinear = (*nn.Linear).Quantize
	}
	for _, p := range m.params {
		t, ok := plan.res.Tensors[p.Name]
		if _, packed := plan.bf16[p.Name]; !ok || packed {
			continue
		}
		data := w.Get(t.Name).Data
		if err := checkFinite(data); err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %w", dir, t.Name, err)
		}
		switch {
		case p.W != nil:
			copy(p.W, data)
		case plan.reduced[p.Name] != nil:
			// Read in place and reduced now, before the next tensor's
			// pages are read.
			p.W = data
			if err := reduceLinear(plan.reduced[p.Name]); err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", dir, reduce, err)
			}
		case len(data) > 0 && adopted[&data[0]]:
			p.W = slices.Clone(data)
		default:
			if len(data) > 0 {
				adopted[&data[0]] = true
			}
			p.W = data
		}
		// The values are the model's own now: the file's pages of this
		// tensor need not stay resident until the whole file is read.
		if err := w.Release(t.Name); err != nil {
			return nil, nil, err
		}
	}
	m.WeightsChanged()
	scales := map[string]*checkpoint.Tensor{}
	for name := range q {
		if t := w.Get(name + ScaleSuffix); t != nil {
			scales[t.Name] = &checkpoint.Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Data: slices.Clone(t.Data)}
		}
	}
	// The float32 tensors are copied or reduced: unmap them before the
	// int8 or bf16 ones are read and before the rest is reduced.
	w.Close()
	closed = true
	if len(q) > 0 || len(plan.bf16) > 0 {
		files := &tensorFiles{dir: dir}
		defer files.close()
		if err := m.loadInt8(files, q, scales); err != nil {
			return nil, nil, err
		}
		if err := m.loadBF16(files, plan.bf16); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case qm != "":
		m.dtype = DtypeInt8
	case reduce != "":
		// The Linear layers not reduced yet (new ones, BF16 tensors
		// converted to float32) are reduced now, and the model is dtype.
		if err := m.SetDtype(reduce); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	rep := &LoadReport{Format: w.Format, Missing: plan.res.Missing, Unexpected: plan.res.Unexpected}
	rep.Mismatched = slices.Sorted(maps.Keys(plan.reinit))
	rep.Warnings = plan.res.Warnings(dir, m.Architecture())
	if len(plan.mismatched) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("Some weights of %s were not initialized from the model checkpoint at %s and are newly initialized because the shapes did not match:\n%s\n"+
			"You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.",
			m.Architecture(), dir, strings.Join(plan.mismatched, "\n")))
	}
	return m, rep, nil
}

// outputParams names the classifier's output layer parameters (weight and,
// when it has one, bias), which training re-initialises for other labels:
// the last Linear of a BERT-family head (the last two expected
// parameters), or the other architectures' output layer.
func outputParams(m *Model, expected []checkpoint.Param) []checkpoint.Param {
	if m == nil || m.net == nil {
		return expected[len(expected)-2:]
	}
	out := m.net.output()
	params := []checkpoint.Param{{Name: out.Weight.Name, Shape: out.Weight.Shape}}
	if out.Bias != nil {
		params = append(params, checkpoint.Param{Name: out.Bias.Name, Shape: out.Bias.Shape})
	}
	return params
}

// checkConfigSize refuses, before the model is built, a config whose
// weights would far outnumber the checkpoint's (beyond minNewWeights): a
// config that lies about its sizes must not make the model allocate them.
// The count is an upper bound from the config's sizes.
func checkConfigSize(cfg *checkpoint.Config, infos []checkpoint.TensorInfo) error {
	var held int64
	for _, in := range infos {
		n := int64(1)
		for _, d := range in.Shape {
			n *= int64(d)
		}
		held += n
	}
	h, inter, layers := int64(cfg.HiddenSize), int64(cfg.IntermediateSize), int64(cfg.NumHiddenLayers)
	// Embeddings (input and output), positions, and per layer the four
	// attention projections, three feed-forward matrices and the norms.
	bound := 2*int64(cfg.VocabSize)*h + int64(cfg.MaxPositionEmbeddings)*h + layers*(4*h*h+3*h*inter+4*h+3*inter)
	if bound > 4*max(held, minNewWeights) {
		return fmt.Errorf("config.json describes a model of up to %d weights, the checkpoint holds %d: "+
			"config.json and the weights do not belong together", bound, held)
	}
	return nil
}

// planLoad maps the checkpoint's tensors (names and shapes only) to the
// expected parameters, and refuses a checkpoint whose shapes differ from
// them, or that leaves more new weights to initialise than it holds (beyond
// minNewWeights): a config that lies about its sizes. For training, output
// parameters of another shape are left to be initialised anew.
func planLoad(expected, output []checkpoint.Param, infos []checkpoint.TensorInfo, mapOpts checkpoint.MapOptions, training bool) (*loadPlan, error) {
	plan := &loadPlan{reinit: map[string]bool{}}
	tensors := make([]*checkpoint.Tensor, 0, len(infos))
	for _, in := range infos {
		if i := slices.IndexFunc(output, func(p checkpoint.Param) bool { return p.Name == in.Name }); training && i >= 0 {
			if p := output[i]; !slices.Equal(in.Shape, p.Shape) {
				plan.reinit[in.Name] = true
				plan.mismatched = append(plan.mismatched, fmt.Sprintf("- %s: found shape %v in the checkpoint and %v in the model instantiated", in.Name, in.Shape, p.Shape))
				continue
			}
		}
		tensors = append(tensors, &checkpoint.Tensor{Name: in.Name, DType: in.DType, Shape: in.Shape})
	}
	res, err := checkpoint.MapWeights(expected, tensors, mapOpts)
	if err != nil {
		return nil, err
	}
	// The output layer of another shape is reported once, as mismatched (as
	// from_pretrained's mismatched_keys), not also as missing.
	res.Missing = slices.DeleteFunc(res.Missing, func(n string) bool { return plan.reinit[n] })
	plan.res = res
	var held, fresh int64
	var freshNames []string
	for _, p := range expected {
		n := int64(1)
		for _, d := range p.Shape {
			n *= int64(d)
		}
		if _, ok := res.Tensors[p.Name]; ok {
			held += n
		} else {
			fresh += n
			freshNames = append(freshNames, p.Name)
		}
	}
	if fresh > max(held, minNewWeights) {
		if len(freshNames) > 3 {
			freshNames = append(freshNames[:3], "…")
		}
		return nil, fmt.Errorf("config.json describes a model of %d weights, of which the checkpoint holds %d: "+
			"refusing to initialise %d new ones (%s); config.json and the weights do not belong together",
			held+fresh, held, fresh, strings.Join(freshNames, ", "))
	}
	return plan, nil
}

// checkFinite reports the first NaN or infinite value.
func checkFinite(data []float32) error {
	for i, v := range data {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			return fmt.Errorf("value %d is %v: the weights are corrupt (or overflowed in training)", i, v)
		}
	}
	return nil
}

// Architecture is the transformers class the model saves itself as
// ("BertForSequenceClassification", ...).
func (m *Model) Architecture() string {
	if m.net != nil {
		return m.net.architecture()
	}
	if m.mlm != nil {
		switch {
		case m.Config.ModelType == "xlm-roberta":
			return "XLMRobertaForMaskedLM"
		case m.prefix == "roberta":
			return "RobertaForMaskedLM"
		}
		return "BertForMaskedLM"
	}
	return architectureName(m.prefix)
}

func architectureName(prefix string) string {
	switch prefix {
	case "roberta":
		return "RobertaForSequenceClassification"
	case "distilbert":
		return "DistilBertForSequenceClassification"
	}
	return "BertForSequenceClassification"
}

// Save writes the model as save_pretrained does: config.json (with
// architectures, id2label, label2id, problem_type) and model.safetensors,
// plus the given tokenizer files, each written atomically.
func (m *Model) Save(dir string, tokenizerFiles []string) error {
	cfg, tensors := m.saved()
	return checkpoint.Save(dir, cfg, tensors, tokenizerFiles)
}

// SaveFiles is Save with the tokenizer files given by their contents (read
// once with checkpoint.ReadFiles), so that a model keeps its tokenizer after
// the directory it came from is gone.
func (m *Model) SaveFiles(dir string, files []checkpoint.File) error {
	cfg, tensors := m.saved()
	return checkpoint.SaveFiles(dir, cfg, tensors, files)
}

// saved is the config and the tensors Save writes.
func (m *Model) saved() (*checkpoint.Config, []*checkpoint.Tensor) {
	cfg := *m.Config
	cfg.Architectures = []string{m.Architecture()}
	cfg.ProblemType = m.ProblemType
	if m.mlm != nil {
		cfg.ProblemType = ""
	}
	if len(cfg.Labels) != m.NumLabels {
		cfg.Labels = checkpoint.DefaultLabels(m.NumLabels)
	}
	tensors := make([]*checkpoint.Tensor, len(m.params))
	for i, p := range m.params {
		tensors[i] = &checkpoint.Tensor{Name: p.Name, DType: "F32", Shape: p.Shape, Data: p.W}
	}
	switch m.dtype {
	case DtypeInt8:
		tensors = m.savedInt8(&cfg, tensors)
	case DtypeBF16:
		tensors = m.savedBF16(&cfg, tensors)
	}
	return &cfg, tensors
}
