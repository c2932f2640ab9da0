package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLinearInt8 times LinearInt8 (row quantization, the int8 product,
// dequantization and bias) and LinearBF16 (rounding the rows, the bf16
// product, bias) against SgemmPackedBEpilogue on the same shapes
// (a Linear of BERT-base: m rows of 768 or 3072 inputs), in the same run;
// GOP/s counts 2·m·n·k operations for both.
func BenchmarkLinearInt8(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sh := range [][3]int{{1024, 768, 768}, {1024, 3072, 768}, {1024, 768, 3072}, {16, 768, 768}, {16, 3072, 768}} {
		m, n, k := sh[0], sh[1], sh[2]
		x, wf, bias := randSlice(r, m*k), randSlice(r, n*k), randSlice(r, n)
		y := make([]float32, m*n)
		w, err := QuantizeInt8(n, k, wf, k)
		if err != nil {
			b.Fatal(err)
		}
		pb := PackB(Trans, k, n, wf, k)
		wb := NewBF16Weights(NoTrans, n, k, wf, k)
		ops := 2 * float64(m*n*k)
		b.Run(fmt.Sprintf("int8/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				LinearInt8(m, x, k, w, y, n, &Epilogue{Bias: bias})
			}
			b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
		b.Run(fmt.Sprintf("bf16/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				LinearBF16(NoTrans, m, x, k, wb, y, n, &Epilogue{Bias: bias})
			}
			b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
		b.Run(fmt.Sprintf("f32/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				SgemmPackedBEpilogue(NoTrans, m, 1, x, k, pb, 0, y, n, &Epilogue{Bias: bias})
			}
			b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// BenchmarkInt8Kernel measures the 6×16 int8 kernel alone on a panel in
// cache: the per-core peak of the int8 path.
func BenchmarkInt8Kernel(b *testing.B) {
	if !current.Load().avx2 {
		b.Skip("no AVX2")
	}
	k := 256
	a := make([]uint8, 6*k)
	w := make([]int8, int8Panel*k*8)
	c := make([]float32, 6*int8Panel)
	f := make([]float32, int8Panel)
	z := make([]int32, int8Panel)
	for b.Loop() {
		for j := 0; j < 8; j++ {
			qgemmAsm(6, k/4, &a[0], k, &w[j*int8Panel*k], &c[0], int8Panel, &f[0], &z[0], &f[0], &z[0], &f[0])
		}
	}
	b.ReportMetric(2*float64(6*int8Panel*k*8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
}
