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
	// Tensors holds every stored tensor, sorted by name.
	Tensors []*Tensor
	// Format says where the weights came from: "safetensors", "safetensors (sharded)",
	// "pytorch_model.bin" or "pytorch_model.bin (sharded)".
	Format string
	// Files lists the weight files that were read.
	Files  []string
	byName map[string]*Tensor
	closer []func() error
}

// Get returns the named tensor, or nil.
func (w *Weights) Get(name string) *Tensor { return w.byName[name] }

// Map returns the tensors by name.
func (w *Weights) Map() map[string]*Tensor { return w.byName }

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

// LoadWeights reads the weights of a checkpoint directory as from_pretrained
// does, preferring safetensors over pytorch_model.bin, and following sharded
// indexes. Every tensor is converted to float32; F32 data is used in place
// from a private memory mapping (call Close when done).
func LoadWeights(dir string) (*Weights, error) {
	format, files, err := WeightFiles(dir)
	if err != nil {
		return nil, err
	}
	w := &Weights{Format: format, byName: map[string]*Tensor{}}
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
	add := func(t *Tensor, file string) error {
		if _, dup := w.byName[t.Name]; dup {
			return fmt.Errorf("%s: tensor %q is stored twice", file, t.Name)
		}
		if indexMap != nil {
			if want, ok := indexMap[t.Name]; ok && want != filepath.Base(file) {
				return fmt.Errorf("%s: tensor %q: the index places it in %s", file, t.Name, want)
			}
		}
		w.byName[t.Name] = t
		w.Tensors = append(w.Tensors, t)
		return nil
	}
	for _, p := range w.Files {
		if strings.HasPrefix(format, "safetensors") {
			err = w.loadSafetensors(p, add)
		} else {
			var ts []*Tensor
			var unmap func() error
			ts, unmap, err = openTorchFile(p, true)
			if unmap != nil {
				w.closer = append(w.closer, unmap)
			}
			for _, t := range ts {
				if err == nil {
					err = add(t, p)
				}
			}
		}
		if err != nil {
			w.Close()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("load %s: shard missing: %w", dir, err)
			}
			return nil, err
		}
	}
	for name, f := range indexMap {
		if _, ok := w.byName[name]; !ok {
			w.Close()
			return nil, fmt.Errorf("load %s: tensor %q listed in the index is not in %s", dir, name, f)
		}
	}
	sort.Slice(w.Tensors, func(i, j int) bool { return w.Tensors[i].Name < w.Tensors[j].Name })
	return w, nil
}

func (w *Weights) loadSafetensors(p string, add func(*Tensor, string) error) error {
	f, err := safetensors.Open(p)
	if err != nil {
		return err
	}
	w.closer = append(w.closer, f.Close)
	// As transformers does: metadata, when present, must name a framework it knows.
	if md := f.Metadata(); md != nil {
		switch md["format"] {
		case "pt", "tf", "flax", "mlx":
		default:
			return fmt.Errorf("%s: metadata format %q is not pt, tf, flax or mlx", p, md["format"])
		}
	}
	for _, name := range f.Names() {
		st, err := f.Tensor(name)
		if err != nil {
			return err
		}
		data, err := st.Float32()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := add(&Tensor{Name: name, DType: string(st.DType), Shape: st.Shape, Data: data}, p); err != nil {
			return err
		}
	}
	return nil
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
