package checkpoint

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/safetensors"
)

// File is a file saved beside the weights (a tokenizer file): its base name
// and its contents.
type File struct {
	Name string
	Data []byte
}

// ReadFiles reads files into memory, each under its base name, so that they
// can be saved again after the originals are gone.
func ReadFiles(paths []string) ([]File, error) {
	out := make([]File, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: filepath.Base(p), Data: b})
	}
	return out, nil
}

// Save writes a save_pretrained-compatible checkpoint directory: config.json
// (with architectures, id2label, label2id, problem_type), model.safetensors
// (F32; BF16 for tensors whose DType is "BF16", rounded to nearest even; I8
// for tensors with Int8 set; sorted names, metadata {"format":"pt"}) and copies of the given
// tokenizer files (tokenizer.json, vocab.txt, …, kept under their base names).
//
// Every file is written to a temporary file in dir and renamed into place
// once complete, weights and tokenizer files first and config.json last, so an
// interrupted save never leaves a half-written file, and a directory with a new
// config.json has its new weights.
func Save(dir string, cfg *Config, tensors []*Tensor, tokenizerFiles []string) error {
	return save(dir, cfg, tensors, func() error {
		for _, src := range tokenizerFiles {
			dst := filepath.Join(dir, filepath.Base(src))
			if same, _ := sameFile(src, dst); same {
				continue
			}
			if err := copyFileAtomic(src, dst); err != nil {
				return fmt.Errorf("tokenizer file: %w", err)
			}
		}
		return nil
	})
}

// SaveFiles is Save with the tokenizer files given by their contents.
func SaveFiles(dir string, cfg *Config, tensors []*Tensor, files []File) error {
	return save(dir, cfg, tensors, func() error {
		for _, f := range files {
			if f.Name == "" || f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." {
				return fmt.Errorf("file name %q is not a plain file name", f.Name)
			}
			if err := atomicfile.WriteBytes(filepath.Join(dir, f.Name), f.Data); err != nil {
				return fmt.Errorf("tokenizer file: %w", err)
			}
		}
		return nil
	})
}

func save(dir string, cfg *Config, tensors []*Tensor, writeFiles func() error) error {
	if cfg == nil {
		return fmt.Errorf("save %s: nil config", dir)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	cfgJSON, err := cfg.MarshalJSON()
	if err != nil {
		return fmt.Errorf("save %s: config: %w", dir, err)
	}
	st := make([]safetensors.Tensor, len(tensors))
	for i, t := range tensors {
		if t.Int8 != nil {
			if t.NumElements() != len(t.Int8) {
				return fmt.Errorf("save %s: tensor %q: shape %v has %d elements, data %d", dir, t.Name, t.Shape, t.NumElements(), len(t.Int8))
			}
			st[i] = safetensors.FromInt8(t.Name, t.Shape, t.Int8)
			continue
		}
		if t.NumElements() != len(t.Data) {
			return fmt.Errorf("save %s: tensor %q: shape %v has %d elements, data %d", dir, t.Name, t.Shape, t.NumElements(), len(t.Data))
		}
		if t.DType == string(safetensors.BF16) {
			if st[i], err = safetensors.Convert(t.Name, t.Shape, t.Data, safetensors.BF16); err != nil {
				return fmt.Errorf("save %s: %w", dir, err)
			}
			continue
		}
		st[i] = safetensors.FromFloat32(t.Name, t.Shape, t.Data)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, SafetensorsName), st, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := writeFiles(); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	err = atomicfile.Write(filepath.Join(dir, ConfigName), func(w io.Writer) error {
		_, err := w.Write(cfgJSON)
		return err
	})
	if err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return nil
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

func copyFileAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
