package checkpoint

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Param names one tensor a model expects, with its shape.
type Param struct {
	Name  string
	Shape []int
}

// MapOptions tunes MapWeights.
type MapOptions struct {
	// BasePrefix is the model's base_model_prefix ("bert", "roberta",
	// "distilbert"); empty disables prefix handling.
	BasePrefix string
	// Buffers are model names of non-persistent buffers (for example
	// "bert.embeddings.position_ids"): checkpoint tensors that map onto them are
	// dropped silently, as from_pretrained drops them.
	Buffers []string
	// IgnoreUnexpected are regular expressions (searched, as transformers'
	// _keys_to_ignore_on_load_unexpected) for unused checkpoint tensors not to report.
	IgnoreUnexpected []string
	// IgnoreMissing are regular expressions for missing tensors not to report
	// (_keys_to_ignore_on_load_missing).
	IgnoreMissing []string
}

// Mismatch is a tensor whose checkpoint shape differs from the model's.
type Mismatch struct {
	Name            string // model name
	CheckpointName  string
	CheckpointShape []int
	ModelShape      []int
}

// MapResult is what from_pretrained reports after matching a checkpoint to a model.
type MapResult struct {
	// Tensors maps model names to the checkpoint tensors loaded into them.
	Tensors map[string]*Tensor
	// Missing lists model names absent from the checkpoint: weights that are
	// newly initialised (for example "classifier.weight").
	Missing []string
	// Unexpected lists checkpoint names the model does not use (for example
	// "cls.predictions.bias").
	Unexpected []string
	// Mismatched lists tensors whose shapes differ; MapWeights returns an error
	// naming them.
	Mismatched []Mismatch
}

// FixLegacyName renames TF-era LayerNorm parameters as from_pretrained does:
// a final ".gamma" becomes ".weight" and ".beta" becomes ".bias".
func FixLegacyName(name string) string {
	switch {
	case strings.HasSuffix(name, ".gamma"):
		return strings.TrimSuffix(name, ".gamma") + ".weight"
	case strings.HasSuffix(name, ".beta"):
		return strings.TrimSuffix(name, ".beta") + ".bias"
	}
	return name
}

// MapWeights matches the tensors of a checkpoint to the parameters a model
// expects, with transformers' rules:
//   - legacy names: LayerNorm gamma/beta load as weight/bias;
//   - a checkpoint without the base-model prefix (a bare BertModel) loads into a
//     model that has it (a classifier): "embeddings.…" fills "bert.embeddings.…";
//     then the model's head parameters are missing, and a checkpoint tensor named
//     like a head parameter means a corrupted checkpoint (an error, as in transformers);
//   - a checkpoint with the prefix (a classifier) loads into a model without it
//     (a bare encoder): "bert.embeddings.…" fills "embeddings.…" and the
//     checkpoint's head tensors are unexpected.
//
// It returns the mapped tensors and the missing, unexpected and mismatched
// lists (sorted). Shape mismatches are an error naming each tensor; the result
// is returned with it.
func MapWeights(expected []Param, ckpt []*Tensor, opts MapOptions) (*MapResult, error) {
	ignoreU, err := compileAll(opts.IgnoreUnexpected)
	if err != nil {
		return nil, err
	}
	ignoreM, err := compileAll(opts.IgnoreMissing)
	if err != nil {
		return nil, err
	}
	// Checkpoint names after the legacy rename; remember the original names.
	loaded := make(map[string]*Tensor, len(ckpt))
	for _, t := range ckpt {
		fixed := FixLegacyName(t.Name)
		if prev, dup := loaded[fixed]; dup {
			return nil, fmt.Errorf("checkpoint tensors %q and %q both load as %q", prev.Name, t.Name, fixed)
		}
		loaded[fixed] = t
	}
	prefix := ""
	if opts.BasePrefix != "" {
		prefix = opts.BasePrefix + "."
	}
	hasPrefix, expectsPrefix := false, false
	if prefix != "" {
		for k := range loaded {
			if strings.HasPrefix(k, prefix) {
				hasPrefix = true
				break
			}
		}
		for _, p := range expected {
			if strings.HasPrefix(p.Name, prefix) {
				expectsPrefix = true
				break
			}
		}
	}
	removePrefix := !hasPrefix && expectsPrefix // bare checkpoint → task model
	addPrefix := hasPrefix && !expectsPrefix    // task checkpoint → bare model

	// ckptName gives, for each model parameter, the checkpoint name that fills it.
	toCkpt := func(model string) (string, bool) {
		switch {
		case removePrefix:
			if !strings.HasPrefix(model, prefix) {
				return "", false // head parameter: only the base model is loaded
			}
			return strings.TrimPrefix(model, prefix), true
		case addPrefix:
			return prefix + model, true
		}
		return model, true
	}
	res := &MapResult{Tensors: map[string]*Tensor{}}
	used := map[string]bool{}
	for _, p := range expected {
		name, ok := toCkpt(p.Name)
		if !ok {
			if t, clash := loaded[p.Name]; clash {
				return nil, fmt.Errorf("checkpoint is corrupted: it has no %q prefix but holds head tensor %q", opts.BasePrefix, t.Name)
			}
			if !matchAny(ignoreM, p.Name) {
				res.Missing = append(res.Missing, p.Name)
			}
			continue
		}
		t, ok := loaded[name]
		if !ok {
			if !matchAny(ignoreM, p.Name) {
				res.Missing = append(res.Missing, p.Name)
			}
			continue
		}
		used[name] = true
		if !slices.Equal(t.Shape, p.Shape) {
			res.Mismatched = append(res.Mismatched, Mismatch{Name: p.Name, CheckpointName: t.Name, CheckpointShape: t.Shape, ModelShape: p.Shape})
			continue
		}
		res.Tensors[p.Name] = t
	}
	buffers := map[string]bool{}
	for _, b := range opts.Buffers {
		if name, ok := toCkpt(b); ok {
			buffers[name] = true
		}
	}
	for name, t := range loaded {
		if used[name] || buffers[name] || matchAny(ignoreU, name) {
			continue
		}
		res.Unexpected = append(res.Unexpected, t.Name)
	}
	sort.Strings(res.Missing)
	sort.Strings(res.Unexpected)
	sort.Slice(res.Mismatched, func(i, j int) bool { return res.Mismatched[i].Name < res.Mismatched[j].Name })
	if len(res.Mismatched) > 0 {
		var b strings.Builder
		b.WriteString("shape mismatch:")
		for _, m := range res.Mismatched {
			fmt.Fprintf(&b, " %s: checkpoint %v, model %v;", m.CheckpointName, m.CheckpointShape, m.ModelShape)
		}
		return res, fmt.Errorf("%s", strings.TrimSuffix(b.String(), ";"))
	}
	return res, nil
}

func compileAll(patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		out[i] = re
	}
	return out, nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Warnings phrases the result as from_pretrained's log does: one message for
// newly initialised weights and one for unused checkpoint weights (none when
// the lists are empty). model is the architecture name, for example
// "BertForSequenceClassification"; path is the checkpoint.
func (r *MapResult) Warnings(path, model string) []string {
	var out []string
	if len(r.Unexpected) > 0 {
		out = append(out, fmt.Sprintf("Some weights of the model checkpoint at %s were not used when initializing %s: %v",
			path, model, r.Unexpected))
	}
	if len(r.Missing) > 0 {
		out = append(out, fmt.Sprintf("Some weights of %s were not initialized from the model checkpoint at %s and are newly initialized: %v\n"+
			"You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.",
			model, path, r.Missing))
	}
	return out
}
