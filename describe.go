package textclf

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/textclf/textclf/builtin"
	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/model"
)

// Description is what `textclf info` shows of a model: its ModelInfo and
// where its weights come from. A transformer is described from its
// checkpoint alone (config.json and weights; no tokenizer needed), so an
// architecture textclf cannot run is described too.
type Description struct {
	ModelInfo
	// ModelType is config.json's model_type, or the classic arch.
	ModelType string `json:"model_type"`
	// Unsupported is empty when textclf can run the model, else the reason
	// it cannot.
	Unsupported string `json:"unsupported,omitempty"`
	// Hub is "ORG/NAME@REVISION" for a model from the hub.
	Hub string `json:"hub,omitempty"`
	// Format says how the weights are stored ("safetensors", "pytorch_model.bin",
	// "fasttext-bin", … as checkpoint.Weights.Format) and Files lists them.
	Format string   `json:"format"`
	Files  []string `json:"files"`
	// Tensors lists every stored tensor (DescribeOptions.Tensors).
	Tensors []TensorSummary `json:"tensors,omitempty"`
}

// TensorSummary is one stored tensor: its HF name, its dtype in the file,
// its shape and the float64 sum of its values after conversion to float32.
type TensorSummary struct {
	Name  string  `json:"name"`
	DType string  `json:"dtype"`
	Shape []int   `json:"shape"`
	Sum   float64 `json:"sum"`
}

// Describe describes the model pathOrID names (as Open finds it) at
// revision; withTensors lists the stored tensors of a transformer.
func Describe(ctx context.Context, pathOrID, revision string, withTensors bool) (*Description, error) {
	loc, err := Locate(ctx, pathOrID, revision)
	if err != nil {
		return nil, err
	}
	if loc.Kind != SourceTransformer {
		src := loc.Path
		if loc.Kind == SourceBuiltin {
			src = pathOrID
		}
		clf, err := Open(ctx, src, Options{})
		if err != nil {
			return nil, err
		}
		info := clf.Info()
		d := &Description{ModelInfo: info, ModelType: info.Kind, Format: loc.Kind, Files: []string{filepath.Base(loc.Path)}}
		switch {
		case loc.Kind == SourceClassic || (loc.Kind == SourceBuiltin && loc.Path != ""):
			d.Format, d.Files = "safetensors", []string{"config.json", "vocab.txt", "model.safetensors"}
		case loc.Kind == SourceBuiltin:
			m, err := builtin.Lookup(loc.Builtin)
			if err != nil {
				return nil, err
			}
			d.Files = nil
			for _, p := range m.Parts {
				d.Files = append(d.Files, BuiltinPrefix+p)
			}
		}
		return d, nil
	}
	cfg, err := checkpoint.LoadConfig(loc.Path)
	if err != nil {
		return nil, err
	}
	// The file headers give names, dtypes and shapes: the tensors themselves
	// are read only to sum them.
	w, err := checkpoint.LoadWeightsWith(loc.Path, checkpoint.LoadOptions{Select: func(infos []checkpoint.TensorInfo) (map[string]bool, error) {
		read := map[string]bool{}
		for _, t := range infos {
			read[t.Name] = withTensors
		}
		return read, nil
	}})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	d := &Description{
		ModelInfo: ModelInfo{
			Kind: cfg.ModelType, Architecture: strings.Join(cfg.Architectures, ","), Labels: cfg.Labels,
			ProblemType: cfg.ProblemType, HiddenSize: cfg.HiddenSize, Layers: cfg.NumHiddenLayers,
			Heads: cfg.NumAttentionHeads, VocabSize: cfg.VocabSize, MaxPositions: cfg.MaxPositionEmbeddings,
			Source: loc.Path,
		},
		ModelType: cfg.ModelType, Hub: loc.Hub, Format: w.Format,
	}
	if err := model.CheckSupported(cfg); err != nil {
		d.Unsupported = err.Error()
	}
	for _, f := range w.Files {
		d.Files = append(d.Files, filepath.Base(f))
	}
	// Parameters: elements of floating-point tensors, tied tensors counted
	// once (as model.num_parameters() does); integer buffers such as
	// position_ids are not parameters.
	for _, t := range w.Infos {
		if t.SharedWith != "" || (t.DType != "F32" && t.DType != "F16" && t.DType != "BF16" && t.DType != "F64") {
			continue
		}
		d.Parameters += t.NumElements()
	}
	if withTensors {
		for _, t := range w.Tensors {
			var sum float64
			for _, v := range t.Data {
				sum += float64(v)
			}
			d.Tensors = append(d.Tensors, TensorSummary{Name: t.Name, DType: t.DType, Shape: t.Shape, Sum: sum})
		}
	}
	return d, nil
}
