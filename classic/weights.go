package classic

import (
	"fmt"
	"io"
	"slices"

	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/safetensors"
)

// A saved model's weights file (WeightsFile) is a safetensors file with one
// F32 tensor per parameter, named as the parameter: fastText's "input" and
// "output", PyTorch's names for TextCNN and BiLSTM. Other tools read it as
// they read any safetensors file.

// writeWeights writes the parameters to path through a temporary file.
func writeWeights(path string, ps []*nn.Param) error {
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		ts[i] = safetensors.ViewFloat32(p.Name, p.Shape, p.W)
	}
	if err := safetensors.WriteFile(path, ts, nil); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readWeights sets each parameter's W to the tensor of its name in path,
// which must have the parameter's shape and a float dtype (F32 as written;
// F16, BF16 and F64 convert). The shapes are checked against the file,
// itself checked by package safetensors, before anything is allocated, so a
// config.json that does not match its weights is an error, not a huge
// allocation.
func readWeights(path string, ps []*nn.Param) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		t, err := f.Tensor(p.Name)
		if err != nil {
			return err
		}
		if !t.DType.IsFloat() {
			return fmt.Errorf("%s: tensor %q has dtype %s, want F32", path, p.Name, t.DType)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s: tensor %q has shape %v, want %v", path, p.Name, t.Shape, p.Shape)
		}
		ts[i] = t
	}
	for i, p := range ps {
		w, err := ts[i].Float32()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		p.W = slices.Clone(w) // w may alias the file mapping, released by Close
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in its directory
// renamed into place, so a failure leaves no half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
