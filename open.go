package textclf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/textclf/textclf/builtin"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/tokenizer"
)

// BuiltinPrefix starts the names of models shipped inside textclf
// ("builtin:NAME").
const BuiltinPrefix = builtin.Prefix

// Source kinds, as Locate recognises them.
const (
	SourceTransformer = "transformer"  // an HF checkpoint directory (config.json, weights, tokenizer)
	SourceClassic     = "classic"      // a textclf classic model directory (config.json with "arch")
	SourceFastTextBin = "fasttext-bin" // a model file saved by fastText itself
	SourceBuiltin     = "builtin"      // a model shipped inside textclf
)

// Location is where a model is and what it holds.
type Location struct {
	// Kind is one of the Source… constants.
	Kind string
	// Path is the local directory or file (empty for a built-in model).
	Path string
	// Hub is "ORG/NAME@REVISION" when the model came from the hub.
	Hub string
	// Builtin is the name of a built-in model (after "builtin:"); Path is
	// then its unpacked directory, empty for a model routing to others.
	Builtin string
}

// Locate recognises what pathOrID names: a fastText .bin file, a classic
// model directory, a transformer directory, a built-in model
// ("builtin:NAME", unpacked on first use; see package builtin), or else a hub
// id, which is downloaded into the HF cache (or found there) at revision.
func Locate(ctx context.Context, pathOrID, revision string) (Location, error) {
	if pathOrID == "" {
		return Location{}, errors.New("no model given")
	}
	if name, ok := strings.CutPrefix(pathOrID, BuiltinPrefix); ok {
		m, err := builtin.Lookup(name)
		if err != nil {
			return Location{}, err
		}
		loc := Location{Kind: SourceBuiltin, Builtin: m.Name}
		if !m.Routed() {
			loc.Path, err = m.Dir()
		}
		return loc, err
	}
	st, err := os.Stat(pathOrID)
	switch {
	case err == nil && !st.IsDir():
		if classic.IsFastTextBin(pathOrID) {
			return Location{Kind: SourceFastTextBin, Path: pathOrID}, nil
		}
		return Location{}, fmt.Errorf("%s is a file but not a fastText model; give a model directory, a fastText .bin file or a hub id", pathOrID)
	case err == nil:
		kind, err := directoryKind(pathOrID)
		return Location{Kind: kind, Path: pathOrID}, err
	}
	if revision == "" {
		revision = "main"
	}
	dir, fromHub, err := hub.ResolveModel(ctx, pathOrID, revision, hub.FromEnv())
	if err != nil {
		return Location{}, err
	}
	loc := Location{Kind: SourceTransformer, Path: dir}
	if fromHub {
		loc.Hub = pathOrID + "@" + revision
	}
	return loc, nil
}

// directoryKind tells a classic model directory (config.json with a classic
// "arch") from a transformer one.
func directoryKind(dir string) (string, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s: no config.json: not a model directory", dir)
		}
		return "", err
	}
	var head struct {
		Arch string `json:"arch"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if head.Arch == "" {
		return SourceTransformer, nil
	}
	if !classic.IsClassic(head.Arch) {
		return "", fmt.Errorf("%s: arch %q is not a classic model (fasttext, textcnn, bilstm)", path, head.Arch)
	}
	return SourceClassic, nil
}

// Open loads a model for classification: a transformer checkpoint directory
// or hub id (with its tokenizer), a classic model directory, a fastText
// .bin file, or a built-in model ("builtin:sentiment-en"), recognised by
// Locate. The messages of loading (weights newly
// initialised, …) are in Classifier.Warnings.
func Open(ctx context.Context, pathOrID string, opts Options) (*Classifier, error) {
	loc, err := Locate(ctx, pathOrID, opts.Revision)
	if err != nil {
		return nil, err
	}
	if err := model.CheckDtype(opts.Dtype); err != nil {
		return nil, err
	}
	if opts.Threads > 0 {
		tensor.SetThreads(opts.Threads)
	}
	var m Model
	var warnings []string
	if (opts.Dtype == model.DtypeInt8 || opts.Dtype == model.DtypeBF16) && loc.Kind != SourceTransformer {
		return nil, fmt.Errorf("%s: dtype %s applies to transformer models, not to a %s model", pathOrID, opts.Dtype, loc.Kind)
	}
	switch loc.Kind {
	case SourceFastTextBin:
		c, err := classic.ReadFastTextBin(loc.Path)
		if err != nil {
			return nil, err
		}
		m = NewClassic(c, opts.MaxLength, loc.Path)
	case SourceClassic:
		c, err := classic.Load(loc.Path)
		if err != nil {
			return nil, err
		}
		m = NewClassic(c, opts.MaxLength, loc.Path)
	case SourceBuiltin:
		if m, err = openBuiltin(loc, opts.MaxLength); err != nil {
			return nil, err
		}
	default:
		net, rep, err := model.LoadInference(loc.Path, opts.Dtype, 42)
		if err != nil {
			return nil, err
		}
		tk, err := tokenizer.Load(loc.Path)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", loc.Path, err)
		}
		if m, err = NewTransformer(net, tk, opts.MaxLength, loc.Path); err != nil {
			return nil, fmt.Errorf("model %s: %w", loc.Path, err)
		}
		warnings = rep.Warnings
	}
	clf := NewClassifier(m, opts)
	clf.Warnings = warnings
	return clf, nil
}
