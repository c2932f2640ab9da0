package model

import (
	"fmt"
	"maps"
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
// the classifier) initialised with seed. A shape mismatch is an error naming
// the tensor.
func Load(dir string, seed uint64) (*Model, *LoadReport, error) {
	cfg, w, err := loadCheckpoint(dir)
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	m, err := New(cfg, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	rep, err := m.loadTensors(w.Tensors)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	rep.Format = w.Format
	rep.Warnings = rep.mapResult.Warnings(dir, m.Architecture())
	return m, &rep.LoadReport, nil
}

// loadCheckpoint reads a checkpoint's config.json, refuses an architecture
// this package does not build before reading any weights, then reads them.
func loadCheckpoint(dir string) (*checkpoint.Config, *checkpoint.Weights, error) {
	cfg, err := checkpoint.LoadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSupported(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, checkpoint.ConfigName), err)
	}
	w, err := checkpoint.LoadWeights(dir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, w, nil
}

type loadResult struct {
	LoadReport
	mapResult *checkpoint.MapResult
}

// loadTensors copies checkpoint tensors into the model's parameters.
func (m *Model) loadTensors(tensors []*checkpoint.Tensor) (*loadResult, error) {
	expected := make([]checkpoint.Param, len(m.params))
	for i, p := range m.params {
		expected[i] = checkpoint.Param{Name: p.Name, Shape: p.Shape}
	}
	opts := checkpoint.MapOptions{BasePrefix: m.prefix, Buffers: []string{m.name("embeddings.position_ids")}}
	if m.net != nil {
		opts = checkpoint.MapOptions{BasePrefix: m.prefix, IgnoreUnexpected: m.net.ignoreUnexpected()}
	}
	res, err := checkpoint.MapWeights(expected, tensors, opts)
	if err != nil {
		return nil, err
	}
	for _, p := range m.params {
		if t, ok := res.Tensors[p.Name]; ok {
			copy(p.W, t.Data)
		}
	}
	m.WeightsChanged()
	return &loadResult{LoadReport: LoadReport{Missing: res.Missing, Unexpected: res.Unexpected}, mapResult: res}, nil
}

// Architecture is the transformers class the model saves itself as
// ("BertForSequenceClassification", ...).
func (m *Model) Architecture() string {
	if m.net != nil {
		return m.net.architecture()
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
	cfg := *m.Config
	cfg.Architectures = []string{m.Architecture()}
	cfg.ProblemType = m.ProblemType
	if len(cfg.Labels) != m.NumLabels {
		cfg.Labels = checkpoint.DefaultLabels(m.NumLabels)
	}
	tensors := make([]*checkpoint.Tensor, len(m.params))
	for i, p := range m.params {
		tensors[i] = &checkpoint.Tensor{Name: p.Name, DType: "F32", Shape: p.Shape, Data: p.W}
	}
	return checkpoint.Save(dir, &cfg, tensors, tokenizerFiles)
}

// LoadForTraining loads a checkpoint for fine-tuning on the given labels:
// when they differ from the checkpoint's (count or names), the config takes
// them and a classifier output layer of the old shape is dropped and
// initialised anew, as from_pretrained(..., num_labels=N,
// ignore_mismatched_sizes=True). problemType, when not empty, overrides the
// config's.
func LoadForTraining(dir string, labels []string, problemType string, seed uint64) (*Model, *LoadReport, error) {
	cfg, w, err := loadCheckpoint(dir)
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	if len(labels) > 0 && !slices.Equal(cfg.Labels, labels) {
		cfg.Labels = append([]string(nil), labels...)
	}
	if problemType != "" {
		cfg.ProblemType = problemType
	}
	m, err := New(cfg, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	out := m.outputLayer()
	tensors := w.Tensors[:0:0]
	reinit := map[string]bool{}
	var mismatched []string
	for _, t := range w.Tensors {
		name := t.Name
		if p := m.paramByName(name); (name == out.Weight.Name || out.Bias != nil && name == out.Bias.Name) && t.NumElements() != len(p.W) {
			reinit[name] = true
			mismatched = append(mismatched, fmt.Sprintf("- %s: found shape %v in the checkpoint and %v in the model instantiated", name, t.Shape, p.Shape))
			continue
		}
		tensors = append(tensors, t)
	}
	res, err := m.loadTensors(tensors)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	res.Format = w.Format
	// The output layer of another shape is reported once, as mismatched (as
	// from_pretrained's mismatched_keys), not also as missing.
	res.mapResult.Missing = slices.DeleteFunc(res.mapResult.Missing, func(n string) bool { return reinit[n] })
	res.Missing = res.mapResult.Missing
	res.Mismatched = slices.Sorted(maps.Keys(reinit))
	res.Warnings = res.mapResult.Warnings(dir, m.Architecture())
	if len(mismatched) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("Some weights of %s were not initialized from the model checkpoint at %s and are newly initialized because the shapes did not match:\n%s\n"+
			"You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.",
			m.Architecture(), dir, strings.Join(mismatched, "\n")))
	}
	return m, &res.LoadReport, nil
}

func (m *Model) paramByName(name string) *nn.Param {
	for _, p := range m.params {
		if p.Name == name {
			return p
		}
	}
	return &nn.Param{}
}

// outputLayer is the classifier's last layer, re-initialised for new labels.
func (m *Model) outputLayer() *nn.Linear {
	if m.net != nil {
		return m.net.output()
	}
	return m.head.out
}
