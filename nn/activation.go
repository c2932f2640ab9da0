package nn

import (
	"fmt"

	"github.com/textclf/textclf/tensor"
)

// Activation is an element-wise function with its derivative.
type Activation int

// The activations of HF configs' hidden_act.
const (
	GELU     Activation = iota // exact, erf-based ("gelu")
	GELUTanh                   // tanh approximation ("gelu_new", "gelu_pytorch_tanh")
	ReLU
)

// ParseActivation maps a config's hidden_act to an Activation.
func ParseActivation(name string) (Activation, error) {
	switch name {
	case "gelu", "":
		return GELU, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return GELUTanh, nil
	case "relu":
		return ReLU, nil
	}
	return 0, fmt.Errorf("unsupported hidden_act %q (want gelu, gelu_new or relu)", name)
}

// epilogue is the GEMM epilogue activation that computes a.
func (a Activation) epilogue() tensor.Activation {
	switch a {
	case GELU:
		return tensor.ActGELU
	case GELUTanh:
		return tensor.ActGELUTanh
	case ReLU:
		return tensor.ActReLU
	}
	panic(fmt.Sprintf("nn: unknown activation %d", a))
}

// Forward writes f(x) to y (y may be x).
func (a Activation) Forward(y, x []float32) {
	switch a {
	case GELU:
		tensor.GELU(y, x)
	case GELUTanh:
		tensor.GELUTanh(y, x)
	case ReLU:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	}
}

// Backward adds f'(x)·dy to dx.
func (a Activation) Backward(dx, x, dy []float32) {
	switch a {
	case GELU:
		tensor.GELUBackward(dx, x, dy)
	case GELUTanh:
		tensor.GELUTanhBackward(dx, x, dy)
	case ReLU:
		for i, v := range x {
			if v > 0 {
				dx[i] += dy[i]
			}
		}
	}
}
