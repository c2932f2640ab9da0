package model

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"unsafe"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/safetensors"
	"github.com/textclf/textclf/tensor"
	"golang.org/x/sys/cpu"
)

// The data types a model can run in (--dtype).
const (
	DtypeF32  = "f32"
	DtypeInt8 = "int8"
	DtypeBF16 = "bf16"
)

// QuantMethodInt8 is the quant_method of the quantization_config that
// config.json of an int8 checkpoint carries.
const QuantMethodInt8 = "textclf_int8"

// ScaleSuffix ends the name of the per-channel scales of an int8 weight:
// "X.weight" (I8 [out, in]) has its scales in "X.weight_scale" (F32 [out]).
const ScaleSuffix = "_scale"

// quantizationKey is config.json's key of the quantization_config.
const quantizationKey = "quantization_config"

// quantizationConfig is what an int8 checkpoint's config.json says of it.
type quantizationConfig struct {
	QuantMethod string `json:"quant_method"`
	Weights     string `json:"weights,omitempty"`
	Activations string `json:"activations,omitempty"`
}

// CheckDtype checks a --dtype value ("" is f32): f32 and int8 run here;
// bf16 is refused, saying whether the CPU has AVX512_BF16 (textclf has no
// bf16 kernels and does not emulate them).
func CheckDtype(dtype string) error {
	switch dtype {
	case "", DtypeF32, DtypeInt8:
		return nil
	case DtypeBF16:
		if !cpu.X86.HasAVX512BF16 {
			return fmt.Errorf("dtype bf16 needs AVX512_BF16, which this CPU lacks, and textclf does not emulate it: use f32 or int8")
		}
		return fmt.Errorf("dtype bf16: textclf has no bf16 kernels yet: use f32 or int8")
	default:
		return fmt.Errorf("unknown dtype %q: use f32 or int8", dtype)
	}
}

// quantMethod returns config.json's quantization_config.quant_method, ""
// when there is none, or an error for a method textclf cannot run (the
// checkpoints of bitsandbytes, GPTQ, …).
func quantMethod(cfg *checkpoint.Config) (string, error) {
	raw, ok := cfg.Raw[quantizationKey]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var q quantizationConfig
	if err := json.Unmarshal(raw, &q); err != nil {
		return "", fmt.Errorf("field %q: %w", quantizationKey, err)
	}
	if q.QuantMethod != QuantMethodInt8 {
		return "", fmt.Errorf("%s.quant_method %q is not supported (textclf reads only its own %q checkpoints)", quantizationKey, q.QuantMethod, QuantMethodInt8)
	}
	return q.QuantMethod, nil
}

// Dtype is the data type the model's Linear layers run in: DtypeF32, or
// DtypeInt8 once quantized (Quantize, or loaded from an int8 checkpoint).
func (m *Model) Dtype() string {
	if m.int8 {
		return DtypeInt8
	}
	return DtypeF32
}

// errQuantized refuses what an int8 model cannot do.
func (m *Model) errQuantized(what string) error {
	if m.int8 {
		return fmt.Errorf("%s: the model is int8-quantized, for inference only: use the float32 model", what)
	}
	return nil
}

// Quantize makes every Linear layer int8 (dynamic quantization, as
// PyTorch's quantize_dynamic and ONNX Runtime's quantize_dynamic do): the
// weights per output channel, symmetric, 7-bit (nn.Linear.Quantize), the
// activations per row at run time; embeddings, layer norms, softmax and the
// attention products stay float32, and so do the biases. The float32
// weights of the Linear layers are dropped. The model is then for inference
// only (Forward, Save writes an int8 checkpoint). It must not run
// concurrently with Forward.
func (m *Model) Quantize() error {
	for _, l := range m.linears() {
		if err := l.Quantize(); err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
	}
	m.int8 = true
	m.WeightsChanged() // drop the float32 q, k, v joined for inference
	return nil
}

// savedInt8 rewrites the tensors and config of an int8 model as its
// checkpoint stores them: each quantized Linear's weight as I8 [out, in]
// with its scales, F32 [out], beside it, and quantization_config in the
// config.
func (m *Model) savedInt8(cfg *checkpoint.Config, tensors []*checkpoint.Tensor) []*checkpoint.Tensor {
	q := map[string]*nn.Linear{}
	for _, l := range m.linears() {
		if l.Int8() != nil {
			q[l.Weight.Name] = l
		}
	}
	out := make([]*checkpoint.Tensor, 0, len(tensors)+len(q))
	for _, t := range tensors {
		l, ok := q[t.Name]
		if !ok {
			out = append(out, t)
			continue
		}
		w := l.Int8()
		out = append(out,
			&checkpoint.Tensor{Name: t.Name, DType: "I8", Shape: []int{l.Out, l.In}, Int8: w.Int8()},
			&checkpoint.Tensor{Name: t.Name + ScaleSuffix, DType: "F32", Shape: []int{l.Out}, Data: w.Scales()})
	}
	raw := make(map[string]json.RawMessage, len(cfg.Raw)+1)
	for k, v := range cfg.Raw {
		raw[k] = v
	}
	b, _ := json.Marshal(quantizationConfig{QuantMethod: QuantMethodInt8,
		Weights:     fmt.Sprintf("int8 per output channel, symmetric, |q| <= %d (7-bit, reduce_range): weight = scale * q", tensor.Int8Max),
		Activations: "uint8 per row at run time (DynamicQuantizeLinear)"})
	raw[quantizationKey] = b
	cfg.Raw = raw
	return out
}

// int8Tensors lists the I8 tensors of a checkpoint: the weights of an
// int8 checkpoint's quantized Linear layers.
func int8Tensors(infos []checkpoint.TensorInfo) map[string]checkpoint.TensorInfo {
	out := map[string]checkpoint.TensorInfo{}
	for _, in := range infos {
		if in.DType == string(safetensors.I8) {
			out[in.Name] = in
		}
	}
	return out
}

// int8Names is the set of the names of q.
func int8Names(q map[string]checkpoint.TensorInfo) map[string]bool {
	out := make(map[string]bool, len(q))
	for name := range q {
		out[name] = true
	}
	return out
}

// loadInt8 gives the model's Linear layers the int8 weights of the
// checkpoint in dir (the I8 tensors q, read from their safetensors files
// as they are, and their scales, by name), checking every shape; an I8
// tensor that is not the weight of one of the model's Linear layers is an
// error.
func (m *Model) loadInt8(dir string, q map[string]checkpoint.TensorInfo, scales map[string]*checkpoint.Tensor) error {
	files := map[string]*safetensors.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	used := map[string]bool{}
	for _, l := range m.linears() {
		name := l.Weight.Name
		info, ok := q[name]
		if !ok {
			continue
		}
		used[name] = true
		if len(info.Shape) != 2 || info.Shape[0] != l.Out || info.Shape[1] != l.In {
			return fmt.Errorf("%s: tensor %q: int8 shape %v, the model expects [%d, %d] ([out, in])", dir, name, info.Shape, l.Out, l.In)
		}
		st := scales[name+ScaleSuffix]
		switch {
		case st == nil:
			return fmt.Errorf("%s: tensor %q is missing: the per-channel scales of the int8 weight %q", dir, name+ScaleSuffix, name)
		case len(st.Shape) != 1 || st.Shape[0] != l.Out:
			return fmt.Errorf("%s: tensor %q: shape %v, the model expects [%d] (one scale per output channel of %q)", dir, name+ScaleSuffix, st.Shape, l.Out, name)
		}
		f := files[info.File]
		if f == nil {
			var err error
			if f, err = safetensors.Open(filepath.Join(dir, info.File)); err != nil {
				return err
			}
			files[info.File] = f
		}
		t, err := f.Tensor(name)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if len(t.Data) != l.Out*l.In {
			return fmt.Errorf("%s: tensor %q: %d bytes for shape [%d, %d]", dir, name, len(t.Data), l.Out, l.In)
		}
		var vals []int8
		if len(t.Data) > 0 {
			vals = unsafe.Slice((*int8)(unsafe.Pointer(&t.Data[0])), len(t.Data))
		}
		iw, err := tensor.NewInt8Weights(l.Out, l.In, vals, st.Data)
		if err != nil {
			return fmt.Errorf("%s: tensor %q: %w", dir, name, err)
		}
		if err := l.SetInt8(iw); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	for name := range q {
		if !used[name] {
			return fmt.Errorf("%s: tensor %q: int8, but not the weight of a Linear layer of %s", dir, name, m.Architecture())
		}
	}
	return nil
}
