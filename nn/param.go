package nn

import (
	"math"
	"math/rand/v2"
)

// Param is a learnable tensor with its gradient, named as in the HF checkpoint.
type Param struct {
	Name  string
	Shape []int
	W     []float32
	// Grad has W's length once AllocGrad has been called; nil for inference.
	Grad []float32
}

// NewParam returns a zero parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: shape, W: make([]float32, n)}
}

// Size is the number of values, from Shape (W is nil once a quantized
// layer has dropped its float32 weights).
func (p *Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// AllocGrad makes (or clears) the gradient.
func (p *Param) AllocGrad() {
	if p.Grad == nil {
		p.Grad = make([]float32, len(p.W))
		return
	}
	clear(p.Grad)
}

// InitNormal fills W with normal(0, std) values, as transformers' _init_weights.
// A Param without values (W nil: weights that will come in another form,
// int8) draws as many values and drops them, so that the parameters after
// it get the values they would have had.
func (p *Param) InitNormal(rng *rand.Rand, std float64) {
	if p.W == nil {
		for range p.Size() {
			rng.NormFloat64()
		}
		return
	}
	for i := range p.W {
		p.W[i] = float32(rng.NormFloat64() * std)
	}
}

// Fill sets every value of W to v.
func (p *Param) Fill(v float32) {
	for i := range p.W {
		p.W[i] = v
	}
}

// MinFloat32 is torch.finfo(torch.float32).min, the score transformers gives
// masked attention positions.
const MinFloat32 = -math.MaxFloat32
