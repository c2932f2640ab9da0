// Command pack turns a classic model directory saved by `textclf train`
// into the archive textclf embeds as a built-in model: config.json,
// vocab.txt and model.safetensors with every tensor stored as F16 (half the
// bytes; classic.Load converts back to float32), in a gzip-compressed tar
// with fixed times, written through a temporary file.
//
//	go run ./scripts/builtin/pack MODEL_DIR OUT.tar.gz
package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/safetensors"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pack MODEL_DIR OUT.tar.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	cfg, err := classic.ReadConfig(src)
	if err != nil {
		return err
	}
	if cfg.Arch != classic.ArchTextCNN && cfg.Arch != classic.ArchBiLSTM && cfg.Arch != classic.ArchFastText {
		return fmt.Errorf("%s: arch %q is not a classic model", src, cfg.Arch)
	}
	tmp, err := os.MkdirTemp("", "textclf-pack-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{classic.ConfigFile, classic.VocabFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err
		}
	}
	f, err := safetensors.Open(filepath.Join(src, classic.WeightsFile))
	if err != nil {
		return err
	}
	defer f.Close()
	var ts []safetensors.Tensor
	for _, name := range f.Names() {
		t, err := f.Tensor(name)
		if err != nil {
			return err
		}
		w, err := t.Float32()
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		h, err := safetensors.Convert(name, t.Shape, w, safetensors.F16)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		ts = append(ts, h)
	}
	if err := safetensors.WriteFile(filepath.Join(tmp, classic.WeightsFile), ts, nil); err != nil {
		return err
	}
	if _, err := classic.Load(tmp); err != nil {
		return fmt.Errorf("the packed model does not load: %w", err)
	}
	return atomicfile.Write(out, func(w io.Writer) error {
		return packTar(w, tmp, []string{classic.ConfigFile, classic.VocabFile, classic.WeightsFile})
	})
}

// packTar writes the given files of dir into a .tar.gz archive, in the order
// given, with fixed times and modes, so that the same files give the same
// bytes.
func packTar(w io.Writer, dir string, files []string) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
