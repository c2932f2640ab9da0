package nn

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/textclf/textclf/tensor"
)

// Linear is y = x·Wᵀ + b with W [out, in] as torch.nn.Linear stores it. A
// Linear made by NewConv1D stores W as [in, out] instead, as GPT-2's Conv1D
// does (y = x·W + b), so its weights load under their own shape. Bias is nil
// for a layer without one (bias=False).
type Linear struct {
	In, Out int
	Weight  *Param // [out, in], or [in, out] for a Conv1D
	Bias    *Param // [out], or nil
	// conv1D says Weight is stored [in, out] (transformers' Conv1D).
	conv1D bool
	// packed is the weight packed for the GEMM micro-kernel, for inference;
	// nil when the weights may have changed since it was made.
	packed atomic.Pointer[tensor.PackedB]
	// q holds the int8 weights of a quantized layer, h the bfloat16 weights
	// of a bf16 layer (Weight.W is then nil).
	q *tensor.Int8Weights
	h *tensor.BF16Weights
	// mixed makes a float32 layer compute its products in bf16, forward
	// and backward (SetMixedBF16); mixedW holds its weights rounded and
	// packed for the forward product, made again after Unpack.
	mixed  bool
	mixedW atomic.Pointer[tensor.BF16Weights]
}

// NewLinear makes a Linear whose parameters are named prefix.weight and prefix.bias.
func NewLinear(prefix string, in, out int) *Linear {
	return &Linear{In: in, Out: out, Weight: NewParam(prefix+".weight", out, in), Bias: NewParam(prefix+".bias", out)}
}

// NewLinearNoBias makes a Linear without bias (torch's bias=False), its
// weight named prefix.weight.
func NewLinearNoBias(prefix string, in, out int) *Linear {
	return &Linear{In: in, Out: out, Weight: NewParam(prefix+".weight", out, in)}
}

// NewConv1D makes the Linear of transformers' Conv1D(out, in), GPT-2's
// projection: weight [in, out] and bias [out], named prefix.weight and
// prefix.bias.
func NewConv1D(prefix string, in, out int) *Linear {
	return &Linear{In: in, Out: out, Weight: NewParam(prefix+".weight", in, out), Bias: NewParam(prefix+".bias", out), conv1D: true}
}

// Params lists the weight and the bias (when there is one).
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

// bias returns the bias values, or nil.
func (l *Linear) bias() []float32 {
	if l.Bias == nil {
		return nil
	}
	return l.Bias.W
}

// Forward computes y [n, out] from x [n, in].
func (l *Linear) Forward(y, x []float32, n int) {
	l.forward(y, x, n, &tensor.Epilogue{Bias: l.bias()})
}

// ForwardResidual computes y [n, out] = x·Wᵀ + b + residual (residual is
// [n, out]) in one pass over y.
func (l *Linear) ForwardResidual(y, x, residual []float32, n int) {
	l.forward(y, x, n, &tensor.Epilogue{Bias: l.bias(), Residual: residual})
}

// ForwardAct computes y [n, out] from x [n, in] and act(y) into actOut (which
// may be y), in one pass over y when the GEMM epilogue has the activation.
func (l *Linear) ForwardAct(y, actOut, x []float32, n int, act Activation) {
	if ep, ok := act.epilogue(); ok {
		l.forward(y, x, n, &tensor.Epilogue{Bias: l.bias(), Act: ep, ActOut: actOut})
		return
	}
	l.Forward(y, x, n)
	act.Forward(actOut, y)
}

// outInTrans is how Weight is stored relative to [Out, In]: as it is
// (NoTrans), or transposed, [In, Out], for a Conv1D (Trans).
func (l *Linear) outInTrans() tensor.Transpose {
	if l.conv1D {
		return tensor.Trans
	}
	return tensor.NoTrans
}

// weightTrans is how the products use Weight to compute x·Wᵀ.
func (l *Linear) weightTrans() tensor.Transpose {
	if l.conv1D {
		return tensor.NoTrans
	}
	return tensor.Trans
}

// ldw is the row stride of Weight.
func (l *Linear) ldw() int {
	if l.conv1D {
		return l.Out
	}
	return l.In
}

func (l *Linear) forward(y, x []float32, n int, ep *tensor.Epilogue) {
	switch {
	case l.q != nil:
		tensor.LinearInt8(n, x, l.In, l.q, y, l.Out, ep)
		return
	case l.h != nil:
		tensor.LinearBF16(tensor.NoTrans, n, x, l.In, l.h, y, l.Out, ep)
		return
	case l.mixed:
		tensor.LinearBF16(tensor.NoTrans, n, x, l.In, l.mixedWeights(), y, l.Out, ep)
		return
	}
	if pb := l.packed.Load(); pb != nil {
		tensor.SgemmPackedBEpilogue(tensor.NoTrans, n, 1, x, l.In, pb, 0, y, l.Out, ep)
	} else {
		tensor.SgemmEpilogue(tensor.NoTrans, l.weightTrans(), n, l.Out, l.In, 1, x, l.In, l.Weight.W, l.ldw(), 0, y, l.Out, ep)
	}
}

// Pack prepares the weights for fast repeated inference. Call Unpack before
// the weights change (training, loading).
func (l *Linear) Pack() {
	if l.dtype() == "f32" && !l.mixed && l.packed.Load() == nil {
		l.packed.Store(tensor.PackB(l.weightTrans(), l.In, l.Out, l.Weight.W, l.ldw()))
	}
}

// Quantized reports whether the layer holds int8 (Quantize) or bfloat16
// (ToBF16) weights, for inference only.
func (l *Linear) Quantized() bool { return l.dtype() != "f32" }

// dtype names what the layer's weights are: "f32", "int8" or "bf16".
func (l *Linear) dtype() string {
	switch {
	case l.q != nil:
		return "int8"
	case l.h != nil:
		return "bf16"
	}
	return "f32"
}

// Concat returns a Linear for inference that computes the outputs of ls side
// by side, y [n, Σ out], from their common input in one product (for
// instance Llama's q_proj, k_proj and v_proj): one wide product instead of
// several narrow ones, the input packed (or quantized) once. The ls must
// share In, all be float32, all int8-quantized or all bf16, and all have a
// bias or none. Float32 weights are joined and packed; int8 ones stack their
// rows and per-row scales (tensor.ConcatInt8, which reads their packed
// panels in place when they fill whole panels), bf16 ones their rows
// (tensor.ConcatBF16, in place likewise), so the result computes what they
// do and its outputs are theirs. The result holds its weights packed
// only (it has no backward pass, and must not be unpacked); it is a copy,
// so it must be made again after the weights of ls change.
func Concat(name string, ls ...*Linear) (*Linear, error) {
	if len(ls) == 0 {
		return nil, fmt.Errorf("nn.Concat %s: no layers", name)
	}
	in, out := ls[0].In, 0
	for _, l := range ls {
		switch {
		case l.dtype() != ls[0].dtype():
			return nil, fmt.Errorf("nn.Concat %s: %s is %s, %s %s", name, l.Weight.Name, l.dtype(), ls[0].Weight.Name, ls[0].dtype())
		case l.mixed != ls[0].mixed:
			return nil, fmt.Errorf("nn.Concat %s: %s and %s differ in mixed precision", name, l.Weight.Name, ls[0].Weight.Name)
		case l.In != in:
			return nil, fmt.Errorf("nn.Concat %s: %s has %d inputs, not %d", name, l.Weight.Name, l.In, in)
		case (l.Bias == nil) != (ls[0].Bias == nil):
			return nil, fmt.Errorf("nn.Concat %s: %s and %s differ in having a bias", name, l.Weight.Name, ls[0].Weight.Name)
		}
		out += l.Out
	}
	var b []float32
	for _, l := range ls {
		if l.Bias != nil {
			b = append(b, l.Bias.W...)
		}
	}
	c := &Linear{In: in, Out: out, Weight: &Param{Name: name + ".weight", Shape: []int{out, in}}}
	if b != nil {
		c.Bias = &Param{Name: name + ".bias", Shape: []int{out}, W: b}
	}
	var err error
	switch {
	case ls[0].q != nil:
		c.q, err = joinParts(ls, func(l *Linear) *tensor.Int8Weights { return l.q }, tensor.ConcatInt8)
	case ls[0].h != nil:
		c.h, err = joinParts(ls, func(l *Linear) *tensor.BF16Weights { return l.h }, tensor.ConcatBF16)
	}
	if err != nil {
		return nil, fmt.Errorf("nn.Concat %s: %w", name, err)
	}
	if c.q != nil || c.h != nil {
		return c, nil
	}
	w := make([]float32, 0, out*in) // [out, in]: the layers' rows one after another
	for _, l := range ls {
		w = append(w, l.outIn(l.Weight.W)[:l.Out*in]...)
	}
	if ls[0].mixed { // the joined weights of mixed-precision layers, rounded
		c.h = tensor.NewBF16Weights(tensor.NoTrans, out, in, w, in)
		return c, nil
	}
	c.packed.Store(tensor.PackB(tensor.Trans, in, out, w, in))
	return c, nil
}

// joinParts joins the reduced weights part(l) of the layers ls with join
// (tensor.ConcatInt8, tensor.ConcatBF16).
func joinParts[W any](ls []*Linear, part func(*Linear) W, join func(...W) (W, error)) (W, error) {
	ws := make([]W, len(ls))
	for i, l := range ls {
		ws[i] = part(l)
	}
	return join(ws...)
}

// Unpack drops the packed weights, so Forward reads Weight again.
func (l *Linear) Unpack() {
	l.packed.Store(nil)
	l.mixedW.Store(nil)
}

// SetMixedBF16 turns mixed-precision (bf16) products on or off for a
// float32 layer, as PyTorch's CPU autocast to bfloat16 runs a Linear: the
// float32 weights stay the master copy the optimizer updates, and each
// product — the forward x·Wᵀ, the backward dy·W and dyᵀ·x — rounds its two
// operands to bfloat16 and sums the exact products in float32
// (tensor.LinearBF16's arithmetic); results, the bias and its gradient stay
// float32. Call it before training, not concurrently with Forward.
func (l *Linear) SetMixedBF16(on bool) {
	l.mixed = on
	l.Unpack()
}

// mixedWeights returns the packed rounded weights of a mixed-precision layer,
// making them from Weight when Unpack or Backward dropped them: once per
// training step (the forward product makes them, Backward drops them after
// its products, before the optimizer changes Weight), and once for
// inference after that.
func (l *Linear) mixedWeights() *tensor.BF16Weights {
	if mw := l.mixedW.Load(); mw != nil {
		return mw
	}
	mw := tensor.NewBF16Weights(l.outInTrans(), l.Out, l.In, l.Weight.W, l.ldw()) // packing rounds
	l.mixedW.Store(mw)
	return mw
}

// roundPool holds the bfloat16-rounded operands of mixed-precision
// backward products.
var roundPool = sync.Pool{New: func() any { return new([]float32) }}

// roundedCopy returns x rounded to bfloat16 in a buffer from roundPool,
// which the caller puts back.
func roundedCopy(x []float32) *[]float32 {
	buf := pooled(len(x))
	tensor.RoundBF16(*buf, x)
	return buf
}

// pooled returns a buffer of n floats from roundPool, which the caller puts
// back.
func pooled(n int) *[]float32 {
	buf := roundPool.Get().(*[]float32)
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return buf
}

// Quantize replaces the weights by int8 weights for inference
// (tensor.QuantizeInt8: per output channel, symmetric, 7-bit) and drops the
// float32 weights (Weight.W becomes nil); the bias stays float32. Forward
// then quantizes its input per row and multiplies in int8
// (tensor.LinearInt8). A quantized layer has no backward pass. Quantize
// must not run concurrently with Forward.
func (l *Linear) Quantize() error {
	if err := l.reducible("int8"); err != nil || l.q != nil {
		return err
	}
	q, err := tensor.QuantizeInt8(l.Out, l.In, l.outIn(l.Weight.W), l.In)
	if err != nil {
		return fmt.Errorf("%s: %w", l.Weight.Name, err)
	}
	l.setInt8(q)
	return nil
}

// ToBF16 replaces the weights by their bfloat16 roundings for inference
// (tensor.NewBF16Weights) and drops the float32 weights (Weight.W becomes
// nil); the bias stays float32. Forward then rounds its input to bfloat16
// and sums the exact products in float32 (tensor.LinearBF16). A bf16 layer
// has no backward pass. ToBF16 must not run concurrently with Forward.
func (l *Linear) ToBF16() error {
	if err := l.reducible("bf16"); err != nil || l.h != nil {
		return err
	}
	l.setBF16(tensor.NewBF16Weights(l.outInTrans(), l.Out, l.In, l.Weight.W, l.ldw()))
	return nil
}

// SetBF16Bits gives the layer bfloat16 weights that come as their bits in
// Weight's layout ([out, in], a Conv1D's [in, out]): a bf16 checkpoint's
// tensor as the file holds it. They are packed as they are
// (tensor.NewBF16WeightsBits, the same weights ToBF16 makes of their
// float32 values, without that float32 copy), and the float32 weights are
// dropped, as ToBF16 does. bits may be reused afterwards.
func (l *Linear) SetBF16Bits(bits []uint16) error {
	if err := l.reducible("bf16"); err != nil {
		return err
	}
	if len(bits) != l.In*l.Out {
		return fmt.Errorf("%s: %d bf16 values, the layer has %d×%d", l.Weight.Name, len(bits), l.Out, l.In)
	}
	trans := tensor.NoTrans
	if l.conv1D {
		trans = tensor.Trans
	}
	l.setBF16(tensor.NewBF16WeightsBits(trans, l.Out, l.In, bits))
	return nil
}

// setBF16 makes the layer use the bfloat16 weights w [Out, In].
func (l *Linear) setBF16(w *tensor.BF16Weights) {
	l.h = w
	l.packed.Store(nil)
	l.Weight.W = nil
}

// BF16 returns the layer's bfloat16 weights, or nil when it has none.
func (l *Linear) BF16() *tensor.BF16Weights { return l.h }

// reducible refuses to turn a layer whose weights are already of another
// reduced type into dtype.
func (l *Linear) reducible(dtype string) error {
	if d := l.dtype(); d != "f32" && d != dtype {
		return fmt.Errorf("%s: the weights are %s already, not float32", l.Weight.Name, d)
	}
	return nil
}

// outIn returns w, values in Weight's layout, as [Out, In]: w itself, or a
// Conv1D's [In, Out] transposed.
func (l *Linear) outIn(w []float32) []float32 {
	if !l.conv1D {
		return w
	}
	return transposed(w, l.In, l.Out)
}

// transposed returns the transpose [cols, rows] of the row-major w [rows, cols].
func transposed(w []float32, rows, cols int) []float32 {
	t := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = w[r*cols+c]
		}
	}
	return t
}

// SetInt8 makes the layer use the given int8 weights (a quantized
// checkpoint's), [Out, In] whatever the layer's float32 layout, and drops
// the float32 weights, as Quantize does.
func (l *Linear) SetInt8(w *tensor.Int8Weights) error {
	if n, k := w.Dims(); n != l.Out || k != l.In {
		return fmt.Errorf("%s: int8 weights are [%d, %d], the layer's [%d, %d]", l.Weight.Name, n, k, l.Out, l.In)
	}
	l.setInt8(w)
	return nil
}

func (l *Linear) setInt8(w *tensor.Int8Weights) {
	l.q = w
	l.packed.Store(nil)
	l.Weight.W = nil
}

// Int8 returns the layer's int8 weights, or nil when it is not quantized.
func (l *Linear) Int8() *tensor.Int8Weights { return l.q }

// mustFloat panics on an int8 or bf16 layer, which has no float32 weights
// to differentiate through.
func (l *Linear) mustFloat() {
	if d := l.dtype(); d != "f32" {
		panic(fmt.Sprintf("nn: Linear %s is %s: inference only", l.Weight.Name, d))
	}
}

// Backward adds dL/dW = dyᵀ·x (xᵀ·dy for a Conv1D) and dL/db = Σ dy to the
// gradients and, when dx is not nil, dy·W (dy·Wᵀ for a Conv1D) to dx [n, in].
//
// In mixed precision (SetMixedBF16) the products read dy, x and W rounded
// to bfloat16; each product of two bfloat16s is exact in float32, so the
// float32 GEMM on the rounded operands computes what VDPBF16PS would, up to
// the order of the sums. On a CPU with VDPBF16PS (tensor.NativeBF16) they
// run on it instead (backwardBF16). The bias gradient sums dy unrounded.
func (l *Linear) Backward(dx, dy, x []float32, n int) {
	l.mustFloat()
	if l.Bias != nil {
		tensor.AddColSums(l.Bias.Grad, dy, n, l.Out)
	}
	if l.mixed && nativeBF16() {
		l.backwardBF16(dx, dy, x, n)
		return
	}
	w := l.Weight.W
	if l.mixed {
		// The optimizer changes the weights next: the forward product's
		// packed copy must not outlive this step.
		defer l.mixedW.Store(nil)
		dyR, xR := roundedCopy(dy[:n*l.Out]), roundedCopy(x[:n*l.In])
		defer roundPool.Put(dyR)
		defer roundPool.Put(xR)
		dy, x = *dyR, *xR
		if dx != nil {
			wR := roundedCopy(w)
			defer roundPool.Put(wR)
			w = *wR
		}
	}
	if l.conv1D {
		tensor.Sgemm(tensor.Trans, tensor.NoTrans, l.In, l.Out, n, 1, x, l.In, dy, l.Out, 1, l.Weight.Grad, l.Out)
	} else {
		tensor.Sgemm(tensor.Trans, tensor.NoTrans, l.Out, l.In, n, 1, dy, l.Out, x, l.In, 1, l.Weight.Grad, l.In)
	}
	if dx != nil {
		if l.conv1D {
			tensor.Sgemm(tensor.NoTrans, tensor.Trans, n, l.In, l.Out, 1, dy, l.Out, w, l.Out, 1, dx, l.In)
		} else {
			tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, n, l.In, l.Out, 1, dy, l.Out, w, l.In, 1, dx, l.In)
		}
	}
}

// nativeBF16 reports whether the mixed-precision backward products run on
// the bf16 kernels (a variable, so that tests run that path on any CPU).
var nativeBF16 = tensor.NativeBF16

// backwardBF16 adds Backward's two products in mixed precision on the bf16
// kernels (tensor.LinearBF16: rows times packed weights, bfloat16 operands,
// float32 sums), on a CPU where they are VDPBF16PS and beat the float32
// GEMM. Both products read their operands where they are: dW sums over the
// n rows of dy and x, so each is read transposed (the kernels' operands
// are packed from the columns), and dx packs W as [in, out], a Linear's
// transposed. Each product goes to a buffer, then is added in float32.
func (l *Linear) backwardBF16(dx, dy, x []float32, n int) {
	defer l.mixedW.Store(nil) // the optimizer changes the weights next
	in, out := l.In, l.Out
	grad := pooled(in * out)
	defer roundPool.Put(grad)
	if l.conv1D { // dW [in, out] = xᵀ·dy
		tensor.LinearBF16(tensor.Trans, in, x, in, tensor.NewBF16Weights(tensor.Trans, out, n, dy, out), *grad, out, nil)
	} else { // dW [out, in] = dyᵀ·x
		tensor.LinearBF16(tensor.Trans, out, dy, out, tensor.NewBF16Weights(tensor.Trans, in, n, x, in), *grad, in, nil)
	}
	tensor.Axpy(1, *grad, l.Weight.Grad)
	if dx == nil {
		return
	}
	// Packing rounds W to the bfloat16s of the forward product.
	wInOut := tensor.NewBF16Weights(l.weightTrans(), in, out, l.Weight.W, l.ldw())
	prod := pooled(n * in)
	defer roundPool.Put(prod)
	tensor.LinearBF16(tensor.NoTrans, n, dy, out, wInOut, *prod, in, nil)
	tensor.Axpy(1, *prod, dx[:n*in])
}

// BackwardInput adds dy·W to dx [n, in] given dy [n, out], and leaves the
// parameter gradients alone: the backward pass of an input gradient
// (integrated gradients), where the weights are constants.
func (l *Linear) BackwardInput(dx, dy []float32, n int) {
	l.mustFloat()
	tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, n, l.In, l.Out, 1, dy, l.Out, l.Weight.W, l.In, 1, dx, l.In)
}

// WeightValues returns the layer's weights as float32 values in Weight's
// layout ([out, in], a Conv1D's [in, out]): Weight.W itself for a float32
// layer, the bfloat16 weights converted (exactly) for a bf16 one, nil for
// an int8 one.
func (l *Linear) WeightValues() []float32 {
	if l.h == nil {
		return l.Weight.W
	}
	w := l.h.Float32() // [out, in]
	if !l.conv1D {
		return w
	}
	return transposed(w, l.Out, l.In)
}
