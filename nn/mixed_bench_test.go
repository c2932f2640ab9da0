package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLinearMixedBackward times the forward and backward passes of a mixed-precision
// Linear of BERT-base's feed-forward size (8×128 tokens, 768 → 3072, and a
// Conv1D of the same size) both ways: the float32 GEMM on rounded operands
// ("sgemm") and the bf16 kernels ("bf16-kernels", VDPBF16PS where the CPU has
// it, its emulation elsewhere, so that the operand handling around the
// kernels can be timed on any CPU).
func BenchmarkLinearMixedBackward(b *testing.B) {
	defer func(f func() bool) { nativeBF16 = f }(nativeBF16)
	const n, in, out = 1024, 768, 3072
	rng := rand.New(rand.NewPCG(1, 2))
	for _, native := range []bool{false, true} {
		for _, conv := range []bool{false, true} {
			name := map[bool]string{false: "sgemm", true: "bf16-kernels"}[native] + map[bool]string{false: "/linear", true: "/conv1d"}[conv]
			b.Run(name, func(b *testing.B) {
				nativeBF16 = func() bool { return native }
				l := NewLinear("l", in, out)
				if conv {
					l = NewConv1D("l", in, out)
				}
				copy(l.Weight.W, randSlice(rng, in*out, 0.02))
				l.SetMixedBF16(true)
				l.Weight.AllocGrad()
				l.Bias.AllocGrad()
				x, dy := randSlice(rng, n*in, 1), randSlice(rng, n*out, 1)
				y, dx := make([]float32, n*out), make([]float32, n*in)
				for b.Loop() {
					l.Forward(y, x, n) // makes the step's rounded weights, as training does
					l.Backward(dx, dy, x, n)
				}
				b.ReportMetric(3*2*float64(n*in*out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s") // the forward and both backward products
			})
		}
	}
}
