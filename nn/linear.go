package nn

import (
	"sync/atomic"

	"github.com/textclf/textclf/tensor"
)

// Linear is y = x·Wᵀ + b with W [out, in] as torch.nn.Linear stores it.
type Linear struct {
	In, Out int
	Weight  *Param // [out, in]
	Bias    *Param // [out]
	// packed is Wᵀ packed for the GEMM micro-kernel, for inference; nil
	// when the weights may have changed since it was made.
	packed atomic.Pointer[tensor.PackedB]
}

// NewLinear makes a Linear whose parameters are named prefix.weight and prefix.bias.
func NewLinear(prefix string, in, out int) *Linear {
	return &Linear{In: in, Out: out, Weight: NewParam(prefix+".weight", out, in), Bias: NewParam(prefix+".bias", out)}
}

// Params lists the weight and the bias.
func (l *Linear) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward computes y [n, out] from x [n, in].
func (l *Linear) Forward(y, x []float32, n int) {
	l.forward(y, x, n, &tensor.Epilogue{Bias: l.Bias.W})
}

// ForwardResidual computes y [n, out] = x·Wᵀ + b + residual (residual is
// [n, out]) in one pass over y.
func (l *Linear) ForwardResidual(y, x, residual []float32, n int) {
	l.forward(y, x, n, &tensor.Epilogue{Bias: l.Bias.W, Residual: residual})
}

// ForwardAct computes y [n, out] from x [n, in] and act(y) into actOut (which
// may be y), in one pass over y.
func (l *Linear) ForwardAct(y, actOut, x []float32, n int, act Activation) {
	l.forward(y, x, n, &tensor.Epilogue{Bias: l.Bias.W, Act: act.epilogue(), ActOut: actOut})
}

func (l *Linear) forward(y, x []float32, n int, ep *tensor.Epilogue) {
	if pb := l.packed.Load(); pb != nil {
		tensor.SgemmPackedBEpilogue(tensor.NoTrans, n, 1, x, l.In, pb, 0, y, l.Out, ep)
	} else {
		tensor.SgemmEpilogue(tensor.NoTrans, tensor.Trans, n, l.Out, l.In, 1, x, l.In, l.Weight.W, l.In, 0, y, l.Out, ep)
	}
}

// Pack prepares the weights for fast repeated inference. Call Unpack before
// the weights change (training, loading).
func (l *Linear) Pack() {
	if l.packed.Load() == nil {
		l.packed.Store(tensor.PackB(tensor.Trans, l.In, l.Out, l.Weight.W, l.In))
	}
}

// Unpack drops the packed weights, so Forward reads Weight again.
func (l *Linear) Unpack() { l.packed.Store(nil) }

// Backward adds dL/dW = dyᵀ·x and dL/db = Σ dy to the gradients and, when dx
// is not nil, dy·W to dx [n, in].
func (l *Linear) Backward(dx, dy, x []float32, n int) {
	tensor.Sgemm(tensor.Trans, tensor.NoTrans, l.Out, l.In, n, 1, dy, l.Out, x, l.In, 1, l.Weight.Grad, l.In)
	tensor.AddColSums(l.Bias.Grad, dy, n, l.Out)
	if dx != nil {
		tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, n, l.In, l.Out, 1, dy, l.Out, l.Weight.W, l.In, 1, dx, l.In)
	}
}

// BackwardInput adds dy·W to dx [n, in] given dy [n, out], and leaves the
// parameter gradients alone: the backward pass of an input gradient
// (integrated gradients), where the weights are constants.
func (l *Linear) BackwardInput(dx, dy []float32, n int) {
	tensor.Sgemm(tensor.NoTrans, tensor.NoTrans, n, l.In, l.Out, 1, dy, l.Out, l.Weight.W, l.In, 1, dx, l.In)
}
