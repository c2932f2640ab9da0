package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/textclf/textclf/tensor"
)

// bf16 is v rounded to bfloat16, in float64.
func bf16(v float32) float64 {
	r := []float32{v}
	tensor.RoundBF16(r, r)
	return float64(r[0])
}

// TestLinearMixedBF16 checks a mixed-precision Linear (a plain one and a
// Conv1D) against float64 arithmetic on the operands rounded to bfloat16:
// the forward product, dL/dW = dyᵀ·x and dL/dx = dy·W each within the
// error of summing their exact products in float32 (γ_n·Σ|terms|, n terms
// and the accumulated value, γ_n = n·u/(1−n·u), u = 2⁻²⁴); the bias
// gradient sums dy unrounded. When the weights change after Backward, the
// next products use the new ones. It runs the backward products both ways:
// the float32 GEMM on rounded operands, and the bf16 kernels (as on a CPU
// with VDPBF16PS, where they are that instruction).
func TestLinearMixedBF16(t *testing.T) {
	defer func(f func() bool) { nativeBF16 = f }(nativeBF16)
	for _, native := range []bool{false, true} {
		nativeBF16 = func() bool { return native }
		t.Run(map[bool]string{false: "sgemm", true: "bf16-kernels"}[native], testLinearMixedBF16)
	}
}

func testLinearMixedBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, in, out = 7, 19, 13
	gamma := func(terms int) float64 { u := 1.0 / (1 << 24); return float64(terms) * u / (1 - float64(terms)*u) }
	check := func(t *testing.T, what string, got float32, terms []float64, extra float64) {
		t.Helper()
		var sum, abs float64
		for _, v := range terms {
			sum += v
			abs += math.Abs(v)
		}
		sum += extra
		if e, bound := math.Abs(float64(got)-sum), gamma(len(terms)+1)*(abs+math.Abs(extra)); e > bound {
			t.Fatalf("%s = %v, float64 %v: error %g > %g", what, got, sum, e, bound)
		}
	}
	for _, conv := range []bool{false, true} {
		l := NewLinear("l", in, out)
		if conv {
			l = NewConv1D("l", in, out)
		}
		w := func(o, i int) float32 { // W[o][i] whatever the layout
			if conv {
				return l.Weight.W[i*out+o]
			}
			return l.Weight.W[o*in+i]
		}
		copy(l.Weight.W, randSlice(rng, in*out, 1))
		copy(l.Bias.W, randSlice(rng, out, 1))
		l.SetMixedBF16(true)
		x, dy := randSlice(rng, n*in, 1), randSlice(rng, n*out, 1)
		for round := 0; round < 2; round++ {
			y := make([]float32, n*out)
			l.Forward(y, x, n)
			for r := 0; r < n; r++ {
				for o := 0; o < out; o++ {
					terms := make([]float64, in)
					for i := range terms {
						terms[i] = bf16(x[r*in+i]) * bf16(w(o, i))
					}
					check(t, "y", y[r*out+o], terms, float64(l.Bias.W[o]))
				}
			}
			l.Weight.AllocGrad()
			l.Bias.AllocGrad()
			dx := make([]float32, n*in)
			l.Backward(dx, dy, x, n)
			for o := 0; o < out; o++ {
				for i := 0; i < in; i++ {
					terms := make([]float64, n)
					for r := range terms {
						terms[r] = bf16(dy[r*out+o]) * bf16(x[r*in+i])
					}
					g := l.Weight.Grad[o*in+i]
					if conv {
						g = l.Weight.Grad[i*out+o]
					}
					check(t, "dW", g, terms, 0)
				}
				terms := make([]float64, n)
				for r := range terms {
					terms[r] = float64(dy[r*out+o])
				}
				check(t, "db", l.Bias.Grad[o], terms, 0)
			}
			for r := 0; r < n; r++ {
				for i := 0; i < in; i++ {
					terms := make([]float64, out)
					for o := range terms {
						terms[o] = bf16(dy[r*out+o]) * bf16(w(o, i))
					}
					check(t, "dx", dx[r*in+i], terms, 0)
				}
			}
			// The optimizer changes the weights after Backward (without
			// Unpack, as train.Stepper does): the next products must read
			// the new ones.
			for i := range l.Weight.W {
				l.Weight.W[i] *= -1.5
			}
		}
	}
}

// TestConcatMixedBF16: joined mixed-precision layers compute what each
// computes (their q, k and v joined for inference), and mixed and float32
// layers are not joined.
func TestConcatMixedBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, in = 3, 11
	var ls []*Linear
	for _, out := range []int{16, 5} {
		l := NewLinear("p", in, out)
		copy(l.Weight.W, randSlice(rng, in*out, 1))
		copy(l.Bias.W, randSlice(rng, out, 1))
		l.SetMixedBF16(true)
		ls = append(ls, l)
	}
	c, err := Concat("pq", ls...)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(rng, n*in, 1)
	y := make([]float32, n*21)
	c.Forward(y, x, n)
	off := 0
	for _, l := range ls {
		yl := make([]float32, n*l.Out)
		l.Forward(yl, x, n)
		for r := 0; r < n; r++ {
			for o := 0; o < l.Out; o++ {
				if y[r*21+off+o] != yl[r*l.Out+o] {
					t.Fatalf("joined y[%d][%d] = %v, alone %v", r, off+o, y[r*21+off+o], yl[r*l.Out+o])
				}
			}
		}
		off += l.Out
	}
	if _, err := Concat("x", ls[0], NewLinear("f", in, 2)); err == nil {
		t.Error("joining a mixed-precision and a float32 layer: no error")
	}
}
