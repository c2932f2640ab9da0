package model

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"unsafe"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/safetensors"
	"github.com/textclf/textclf/tensor"
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

// CheckDtype checks a --dtype value ("" is f32): f32, int8 and bf16 run
// here. bf16 runs the VDPBF16PS arithmetic (bfloat16 inputs, exact products,
// float32 sums), emulated with FMA on every CPU: textclf has no AVX512_BF16
// kernel yet, and the results are the same up to the order of the sums.
func CheckDtype(dtype string) error {
	switch dtype {
	case "", DtypeF32, DtypeInt8, DtypeBF16:
		return nil
	default:
		return fmt.Errorf("unknown dtype %q: use f32, int8 or bf16", dtype)
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

// Dtype is the data type the model's Linear layers run in: DtypeF32,
// DtypeInt8 once quantized (Quantize, or loaded from an int8 checkpoint) or
// DtypeBF16 (ToBF16).
func (m *Model) Dtype() string {
	if m.dtype == "" {
		return DtypeF32
	}
	return m.dtype
}

// errQuantized refuses what an int8 or bf16 model cannot do.
func (m *Model) errQuantized(what string) error {
	if m.dtype != "" {
		return fmt.Errorf("%s: the model's weights are %s, for inference only: use the float32 model", what, m.dtype)
	}
	return nil
}

// SetDtype makes the Linear layers run in dtype (CheckDtype's values):
// Quantize for int8, ToBF16 for bf16, nothing for f32 ("" or "f32") on a
// float32 model. A model's dtype changes once: an int8 or bf16 model cannot
// be made anything else. To honour a --dtype, call RunIn, which leaves a
// model loaded from an int8 checkpoint int8.
func (m *Model) SetDtype(dtype string) error {
	if err := CheckDtype(dtype); err != nil {
		return err
	}
	switch {
	case dtype == "" || dtype == DtypeF32:
		if m.dtype != "" {
			return fmt.Errorf("dtype f32: the model's weights are %s already", m.dtype)
		}
		return nil
	case m.dtype != "" && m.dtype != dtype:
		return fmt.Errorf("dtype %s: the model's weights are %s already", dtype, m.dtype)
	case dtype == DtypeInt8:
		return m.Quantize()
	}
	return m.ToBF16()
}

// RunIn makes the model run in dtype (CheckDtype's values) for inference,
// as --dtype asks: SetDtype, except that a model loaded from an int8
// checkpoint runs in int8 whatever dtype says (it has no float32 weights to
// run otherwise). It is the one place of that rule: callers that honour
// --dtype call RunIn, or LoadInference.
func (m *Model) RunIn(dtype string) error {
	if err := CheckDtype(dtype); err != nil {
		return err
	}
	if m.dtype == DtypeInt8 {
		return nil
	}
	return m.SetDtype(dtype)
}

// LoadInference loads the checkpoint in dir (Load) to run in dtype
// (RunIn: an int8 checkpoint runs in int8 whatever dtype says), without
// holding the float32 weights of its Linear layers twice. A bf16
// checkpoint (textclf quantize --dtype bf16, or any safetensors checkpoint
// with BF16 weights) loaded for dtype bf16 has the BF16 weights of its
// Linear layers packed straight from the file's mapping, never converted to
// float32; F32 Linear weights loaded for int8 or bf16 are reduced from the
// mapping, without a copy of their own. Tensors that must be converted
// (embeddings in BF16, or any BF16 tensor when dtype is f32) are converted
// once, into the model's own memory, not copied again. The model computes
// exactly what Load followed by RunIn(dtype) computes.
func LoadInference(dir, dtype string, seed uint64) (*Model, *LoadReport, error) {
	if err := CheckDtype(dtype); err != nil {
		return nil, nil, err
	}
	m, rep, err := load(dir, nil, false, false, seed, dtype)
	if err != nil {
		return nil, nil, err
	}
	if err := m.RunIn(dtype); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, rep, nil
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
	return m.reduce(DtypeInt8, (*nn.Linear).Quantize)
}

// ToBF16 makes every Linear layer bf16 (nn.Linear.ToBF16): weights rounded
// to bfloat16, inputs rounded at run time, exact products summed in
// float32, as PyTorch's CPU bf16 autocast computes a Linear before it rounds
// the output (here the output stays float32). Embeddings, layer norms,
// softmax, the attention products and the biases stay float32. The float32
// weights of the Linear layers are dropped; the model is then for inference
// only (Save writes the Linear weights as BF16 tensors, which load as
// float32 again, exactly). It must not run concurrently with Forward.
func (m *Model) ToBF16() error {
	return m.reduce(DtypeBF16, (*nn.Linear).ToBF16)
}

// reduce turns every Linear layer into dtype with convert.
func (m *Model) reduce(dtype string, convert func(*nn.Linear) error) error {
	if m.dtype != "" && m.dtype != dtype {
		return fmt.Errorf("%s: the model's weights are %s already", dtype, m.dtype)
	}
	for _, l := range m.linears() {
		if err := convert(l); err != nil {
			return fmt.Errorf("%s: %w", dtype, err)
		}
	}
	m.dtype = dtype
	m.WeightsChanged() // drop the float32 q, k, v joined for inference
	return nil
}

// SetMixedBF16 turns mixed-precision training on or off for a float32
// model: every Linear layer's products, forward and backward, read their
// operands rounded to bfloat16 and sum the exact products in float32
// (nn.Linear.SetMixedBF16), while the weights, the optimizer state, the
// embeddings, layer norms, softmax and the attention products stay float32,
// as PyTorch's CPU autocast to bfloat16 does for linear layers. Inference
// on the model (evaluation during training) runs the same bf16 products.
// The saved checkpoint holds the float32 weights. An int8 or bf16 model is
// refused: it has no float32 weights to train.
func (m *Model) SetMixedBF16(on bool) error {
	if err := m.errQuantized("mixed precision"); err != nil {
		return err
	}
	for _, l := range m.linears() {
		l.SetMixedBF16(on)
	}
	m.mixedBF16 = on
	m.WeightsChanged()
	return nil
}

// MixedBF16 reports whether mixed-precision training is on (SetMixedBF16).
func (m *Model) MixedBF16() bool { return m.mixedBF16 }

// savedBF16 rewrites the tensors of a bf16 model as its checkpoint stores
// them: each Linear's weight as a BF16 tensor (in its float32 layout, a
// Conv1D's [in, out]), and torch_dtype "bfloat16" in the config.
func (m *Model) savedBF16(cfg *checkpoint.Config, tensors []*checkpoint.Tensor) []*checkpoint.Tensor {
	h := map[string]*nn.Linear{}
	for _, l := range m.linears() {
		if l.BF16() != nil {
			h[l.Weight.Name] = l
		}
	}
	for i, t := range tensors {
		if l, ok := h[t.Name]; ok {
			tensors[i] = &checkpoint.Tensor{Name: t.Name, DType: "BF16", Shape: t.Shape, Data: l.WeightValues()}
		}
	}
	raw := maps.Clone(cfg.Raw)
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	raw["torch_dtype"] = json.RawMessage(`"bfloat16"`)
	cfg.Raw = raw
	return tensors
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

// without names the parameters of m that build leaves without values
// (W nil), once the load is planned: the int8 weights q (loadInt8 packs
// them); the parameters whose tensors are converted to float32 on reading
// (not F32 in the file), which take the converted values as they are
// instead of a copy; with reduce (int8 or bf16) the weights of Linear layers
// that are F32 tensors, which it records in plan.reduced (reduced from the
// file's mapping); and with packBF16 those that are BF16 tensors, which it
// records in plan.bf16 (loadBF16 packs them).
func (plan *loadPlan) without(m *Model, q map[string]checkpoint.TensorInfo, infos []checkpoint.TensorInfo, reduce string, packBF16 bool) map[string]bool {
	out := int8Names(q)
	for _, p := range m.params {
		if t := plan.res.Tensors[p.Name]; t != nil && t.DType != string(safetensors.F32) {
			out[p.Name] = true
		}
	}
	if reduce == "" {
		return out
	}
	byName := make(map[string]checkpoint.TensorInfo, len(infos))
	for _, in := range infos {
		byName[in.Name] = in
	}
	plan.bf16, plan.reduced = map[string]checkpoint.TensorInfo{}, map[string]*nn.Linear{}
	for _, l := range m.linears() {
		switch t := plan.res.Tensors[l.Weight.Name]; {
		case t == nil:
		case t.DType == string(safetensors.F32):
			plan.reduced[l.Weight.Name] = l
			out[l.Weight.Name] = true
		case t.DType == string(safetensors.BF16) && packBF16:
			plan.bf16[l.Weight.Name] = byName[t.Name]
		}
	}
	return out
}

// tensorFiles opens the safetensors files of a checkpoint directory, each
// once, to read tensors as the file holds them.
type tensorFiles struct {
	dir   string
	files map[string]*safetensors.File
}

// tensor returns the tensor in.Name of the file in.File, as the file holds it.
func (f *tensorFiles) tensor(in checkpoint.TensorInfo) (safetensors.Tensor, error) {
	st := f.files[in.File]
	if st == nil {
		var err error
		if st, err = safetensors.Open(filepath.Join(f.dir, in.File)); err != nil {
			return safetensors.Tensor{}, err
		}
		if f.files == nil {
			f.files = map[string]*safetensors.File{}
		}
		f.files[in.File] = st
	}
	t, err := st.Tensor(in.Name)
	if err != nil {
		return safetensors.Tensor{}, fmt.Errorf("%s: %w", f.dir, err)
	}
	return t, nil
}

// release gives back the memory of the file pages of a tensor read with
// tensor, once it is packed (safetensors.File.Release).
func (f *tensorFiles) release(in checkpoint.TensorInfo) error {
	if st := f.files[in.File]; st != nil {
		return st.Release(in.Name)
	}
	return nil
}

// close unmaps the files.
func (f *tensorFiles) close() {
	for _, st := range f.files {
		st.Close()
	}
	f.files = nil
}

// loadBF16 gives the model's Linear layers the BF16 tensors of the
// checkpoint, packed from the file's mapping as they are (nn.Linear.
// SetBF16Bits): their float32 values are never made. tensors maps the
// layers' weight names to the tensors, whose shapes the plan checked; a
// NaN or infinite value is an error naming the tensor, as it is for a
// float32 load.
func (m *Model) loadBF16(files *tensorFiles, tensors map[string]checkpoint.TensorInfo) error {
	if len(tensors) == 0 {
		return nil
	}
	for _, l := range m.linears() {
		info, ok := tensors[l.Weight.Name]
		if !ok {
			continue
		}
		t, err := files.tensor(info)
		if err != nil {
			return err
		}
		bits, err := t.BFloat16Bits()
		if err != nil {
			return fmt.Errorf("%s: %w", files.dir, err)
		}
		for i, h := range bits {
			if h&0x7f80 == 0x7f80 { // exponent all ones: infinite or NaN
				return fmt.Errorf("%s: tensor %q: value %d is %v: the weights are corrupt (or overflowed in training)",
					files.dir, info.Name, i, safetensors.BFloat16ToFloat32(h))
			}
		}
		if err := l.SetBF16Bits(bits); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", files.dir, info.Name, err)
		}
		if err := files.release(info); err != nil {
			return err
		}
	}
	return nil
}

// loadInt8 gives the model's Linear layers the int8 weights of the
// checkpoint (the I8 tensors q, read from their safetensors files as they
// are, and their scales, by name), checking every shape; an I8 tensor that
// is not the weight of one of the model's Linear layers is an error.
func (m *Model) loadInt8(files *tensorFiles, q map[string]checkpoint.TensorInfo, scales map[string]*checkpoint.Tensor) error {
	dir := files.dir
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
		t, err := files.tensor(info)
		if err != nil {
			return err
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
		if err := files.release(info); err != nil {
			return err
		}
	}
	for name := range q {
		if !used[name] {
			return fmt.Errorf("%s: tensor %q: int8, but not the weight of a Linear layer of %s", dir, name, m.Architecture())
		}
	}
	return nil
}
