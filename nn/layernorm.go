package nn

import "github.com/textclf/textclf/tensor"

// LayerNorm normalises rows of dim values, as torch.nn.LayerNorm. Bias is
// nil for a LayerNorm made with bias=False (ModernBERT's norm_bias false).
type LayerNorm struct {
	Dim    int
	Eps    float32
	Weight *Param // gamma [dim]
	Bias   *Param // beta [dim], or nil
	zeros  []float32
}

// NewLayerNorm makes a LayerNorm named prefix.weight / prefix.bias, with
// weight 1 and bias 0.
func NewLayerNorm(prefix string, dim int, eps float32) *LayerNorm {
	l := &LayerNorm{Dim: dim, Eps: eps, Weight: NewParam(prefix+".weight", dim), Bias: NewParam(prefix+".bias", dim)}
	l.Weight.Fill(1)
	return l
}

// NewLayerNormNoBias makes a LayerNorm without bias named prefix.weight,
// with weight 1.
func NewLayerNormNoBias(prefix string, dim int, eps float32) *LayerNorm {
	l := &LayerNorm{Dim: dim, Eps: eps, Weight: NewParam(prefix+".weight", dim), zeros: make([]float32, dim)}
	l.Weight.Fill(1)
	return l
}

// Params lists gamma and beta (when there is one).
func (l *LayerNorm) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

func (l *LayerNorm) beta() []float32 {
	if l.Bias == nil {
		return l.zeros
	}
	return l.Bias.W
}

// Forward normalises x [n, dim] into y (y may be x). mean and rstd (length n)
// receive the statistics Backward needs; pass nil for inference.
func (l *LayerNorm) Forward(y, mean, rstd, x []float32, n int) {
	tensor.LayerNorm(y, mean, rstd, x, l.Weight.W, l.beta(), n, l.Dim, l.Eps)
}

// Backward adds the input gradient to dx [n, dim] and the parameter gradients.
func (l *LayerNorm) Backward(dx, dy, x, mean, rstd []float32, n int) {
	dbeta := make([]float32, l.Dim) // thrown away without a bias
	if l.Bias != nil {
		dbeta = l.Bias.Grad
	}
	tensor.LayerNormBackward(dx, l.Weight.Grad, dbeta, dy, x, l.Weight.W, mean, rstd, n, l.Dim)
}

// BackwardInput adds the input gradient to dx [n, dim] and leaves the
// parameter gradients alone (their sums go to scratch space).
func (l *LayerNorm) BackwardInput(dx, dy, x, mean, rstd []float32, n int) {
	scratch := make([]float32, 2*l.Dim)
	tensor.LayerNormBackward(dx, scratch[:l.Dim], scratch[l.Dim:], dy, x, l.Weight.W, mean, rstd, n, l.Dim)
}
