package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/textclf/textclf/safetensors"
)

// File names of transformers' checkpoints, in the order from_pretrained prefers them.
const (
	SafetensorsName      = "model.safetensors"
	SafetensorsIndexName = "model.safetensors.index.json"
	TorchName            = "pytorch_model.bin"
	TorchIndexName       = "pytorch_model.bin.index.json"
	ConfigName           = "config.json"
)

// Tensor is a named float32 tensor with an explicit shape, as stored in a
// checkpoint under its HF name.
type Tensor struct {
	// Name is the tensor's name in the checkpoint (for example
	// "bert.encoder.layer.0.attention.self.query.weight").
	Name string
	// DType is the element type in the file ("F32", "F16", "BF16", "I64", …);
	// Data always holds float32.
	DType string
	// Shape is the tensor's shape; Data has the product of Shape elements, row-major.
	Shape []int
	// Data holds the values. For F32 data in safetensors and in
	// pytorch_model.bin it aliases the file mapping (copy-on-write: writes never
	// reach the file) and is valid until Weights.Close.
	Data []float32
	// Int8, when not nil, holds the values of an I8 tensor to save (an int8
	// checkpoint's weights) in place of Data. Loading never sets it.
	Int8 []int8
}

// NumElements returns the number of elements of the tensor's shape.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Weights are the tensors of a checkpoint directory.
type Weights struct {
	// Tensors holds every stored tensor (or, with LoadWeightsWith, those
	// selected), sorted by name.
	Tensors []*Tensor
	// Format says where the weights came from: "safetensors", "safetensors (sharded)",
	// "pytorch_model.bin" or "pytorch_model.bin (sharded)".
	Format string
	// Files lists the weight files that were read.
	Files []string
	// Infos lists every stored tensor, sorted by name, as the file headers
	// declare them: with LoadWeightsWith, also those not read.
	Infos  []TensorInfo
	byName map[string]*Tensor
	closer []func() error
	// files maps the names of the tensors read from safetensors files to
	// their files, for Release.
	files map[string]*safetensors.File
}

// Get returns the named tensor, or nil.
func (w *Weights) Get(name string) *Tensor { return w.byName[name] }

// Map returns the tensors by name.
func (w *Weights) Map() map[string]*Tensor { return w.byName }

// Release gives back the memory of the named tensor's bytes in its
// safetensors file once its values have been copied or packed
// (safetensors.File.Release): its Data stays valid (F32 data that aliases
// the mapping is read from the file again if used), but changes made to it
// in place are lost. For a tensor of a pytorch_model.bin, or not read, it
// does nothing.
func (w *Weights) Release(name string) error {
	if f := w.files[name]; f != nil {
		return f.Release(name)
	}
	return nil
}

// Close releases the file mappings; tensors must not be used afterwards.
func (w *Weights) Close() error {
	var first error
	for _, c := range w.closer {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	w.closer = nil
	return first
}

// WeightFiles reports which weight files LoadWeights would read from dir, in
// from_pretrained's order of preference: model.safetensors, then the sharded
// safetensors index, then pytorch_model.bin, then its sharded index.
func WeightFiles(dir string) (format string, files []string, err error) {
	exists := func(name string) bool {
		st, err := os.Stat(filepath.Join(dir, name))
		return err == nil && !st.IsDir()
	}
	switch {
	case exists(SafetensorsName):
		return "safetensors", []string{SafetensorsName}, nil
	case exists(SafetensorsIndexName):
		files, err := indexFiles(filepath.Join(dir, SafetensorsIndexName))
		return "safetensors (sharded)", files, err
	case exists(TorchName):
		return "pytorch_model.bin", []string{TorchName}, nil
	case exists(TorchIndexName):
		files, err := indexFiles(filepath.Join(dir, TorchIndexName))
		return "pytorch_model.bin (sharded)", files, err
	}
	return "", nil, fmt.Errorf("%s: no %s, %s, %s or %s", dir, SafetensorsName, SafetensorsIndexName, TorchName, TorchIndexName)
}

// shardIndex is model.safetensors.index.json / pytorch_model.bin.index.json.
type shardIndex struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

func readIndex(p string) (*shardIndex, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var idx shardIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", p)
	}
	for name, f := range idx.WeightMap {
		if f == "" || f != filepath.Base(f) || f == "." || f == ".." || strings.ContainsAny(f, `/\`) {
			return nil, fmt.Errorf("%s: tensor %q: shard file %q must be a plain file name", p, name, f)
		}
	}
	return &idx, nil
}

func indexFiles(p string) ([]string, error) {
	idx, err := readIndex(p)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range idx.WeightMap {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files, nil
}

// TensorInfo is a stored tensor as the header of its file declares it
// (safetensors' JSON header, the pickle of pytorch_model.bin), known before
// any tensor data is read.
type TensorInfo struct {
	Name  string
	DType string
	Shape []int
	// File is the weight file holding it (a base name).
	File string
	// SharedWith names the tensor whose values this one shares (a tied
	// weight stored once in pytorch_model.bin), "" when it has its own.
	SharedWith string
}

// NumElements returns the number of elements of the tensor's shape.
func (t TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// LoadOptions tune LoadWeightsWith.
type LoadOptions struct {
	// Select, when not nil, is given every stored tensor of every weight
	// file (sorted by name) before any tensor data is read, converted or
	// inflated. It returns the names of the tensors to read, or an error
	// that refuses the checkpoint. A model loader checks the shapes against
	// its config here, so that a file lying about its sizes costs nothing.
	Select func(infos []TensorInfo) (read map[string]bool, err error)
}

// LoadWeights reads the weights of a checkpoint directory as from_pretrained
// does, preferring safetensors over pytorch_model.bin, and following sharded
// indexes. Every tensor is converted to float32; F32 data is used in place
// from a private memory mapping (call Close when done).
func LoadWeights(dir string) (*Weights, error) {
	return LoadWeightsWith(dir, LoadOptions{})
}

// weightSource is one open weight file.
type weightSource struct {
	path  string
	st    *safetensors.File
	torch *torchFile
}

// LoadWeightsWith is LoadWeights in two steps: the headers of every weight
// file are read and checked first (Weights.Infos), then only the tensors
// opts.Select chooses are read (Weights.Tensors). Of a pytorch_model.bin
// storage only the bytes the chosen views reach are read (inflated, in a
// re-zipped file).
func LoadWeightsWith(dir string, opts LoadOptions) (*Weights, error) {
	format, files, err := WeightFiles(dir)
	if err != nil {
		return nil, err
	}
	w := &Weights{Format: format, byName: map[string]*Tensor{}}
	done := false
	defer func() {
		if !done {
			w.Close()
		}
	}()
	for _, f := range files {
		w.Files = append(w.Files, filepath.Join(dir, f))
	}
	var indexMap map[string]string
	if strings.HasSuffix(format, "(sharded)") {
		name := SafetensorsIndexName
		if strings.HasPrefix(format, "pytorch") {
			name = TorchIndexName
		}
		idx, err := readIndex(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		indexMap = idx.WeightMap
	}
	seen := map[string]bool{}
	var sources []weightSource
	for _, p := range w.Files {
		src := weightSource{path: p}
		var infos []TensorInfo
		if strings.HasPrefix(format, "safetensors") {
			src.st, infos, err = openSafetensors(p)
			if src.st != nil {
				w.closer = append(w.closer, src.st.Close)
			}
		} else {
			src.torch, err = openTorchFile(p)
			if src.torch != nil {
				w.closer = append(w.closer, src.torch.release)
				infos = src.torch.infos()
			}
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("load %s: shard missing: %w", dir, err)
			}
			return nil, err
		}
		for _, t := range infos {
			if seen[t.Name] {
				return nil, fmt.Errorf("%s: tensor %q is stored twice", p, t.Name)
			}
			seen[t.Name] = true
			if indexMap != nil {
				if want, ok := indexMap[t.Name]; ok && want != filepath.Base(p) {
					return nil, fmt.Errorf("%s: tensor %q: the index places it in %s", p, t.Name, want)
				}
			}
		}
		w.Infos = append(w.Infos, infos...)
		sources = append(sources, src)
	}
	for name, f := range indexMap {
		if !seen[name] {
			return nil, fmt.Errorf("load %s: tensor %q listed in the index is not in %s", dir, name, f)
		}
	}
	sort.Slice(w.Infos, func(i, j int) bool { return w.Infos[i].Name < w.Infos[j].Name })
	var keep func(string) bool
	if opts.Select != nil {
		read, err := opts.Select(w.Infos)
		if err != nil {
			return nil, err
		}
		keep = func(name string) bool { return read[name] }
	}
	for _, src := range sources {
		var ts []*Tensor
		if src.st != nil {
			ts, err = readSafetensors(src.st, keep)
		} else {
			ts, err = src.torch.read(keep, true)
		}
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			w.byName[t.Name] = t
			w.Tensors = append(w.Tensors, t)
			if src.st != nil {
				if w.files == nil {
					w.files = map[string]*safetensors.File{}
				}
				w.files[t.Name] = src.st
			}
		}
	}
	sort.Slice(w.Tensors, func(i, j int) bool { return w.Tensors[i].Name < w.Tensors[j].Name })
	done = true
	return w, nil
}

// openSafetensors opens a safetensors weight file and lists its tensors.
func openSafetensors(p string) (*safetensors.File, []TensorInfo, error) {
	f, err := safetensors.Open(p)
	if err != nil {
		return nil, nil, err
	}
	// As transformers does: metadata, when present, must name a framework it knows.
	if md := f.Metadata(); md != nil {
		switch md["format"] {
		case "pt", "tf", "flax", "mlx":
		default:
			return f, nil, fmt.Errorf("%s: metadata format %q is not pt, tf, flax or mlx", p, md["format"])
		}
	}
	infos := make([]TensorInfo, 0, len(f.Names()))
	for _, name := range f.Names() {
		h := f.Header.Tensors[name]
		infos = append(infos, TensorInfo{Name: name, DType: string(h.DType), Shape: h.Shape, File: filepath.Base(p)})
	}
	return f, infos, nil
}

// readSafetensors converts the tensors keep accepts (all when nil) to float32.
func readSafetensors(f *safetensors.File, keep func(string) bool) ([]*Tensor, error) {
	var out []*Tensor
	for _, name := range f.Names() {
		if keep != nil && !keep(name) {
			continue
		}
		st, err := f.Tensor(name)
		if err != nil {
			return nil, err
		}
		data, err := st.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		out = append(out, &Tensor{Name: name, DType: string(st.DType), Shape: st.Shape, Data: data})
	}
	return out, nil
}

// Load reads a checkpoint directory's config.json and weights.
func Load(dir string) (*Config, *Weights, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	w, err := LoadWeights(dir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, w, nil
}
