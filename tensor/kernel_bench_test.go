package tensor

import "testing"

// BenchmarkMicroKernel measures each assembly micro-kernel alone on packed
// panels that stay in cache: the per-core peak the blocked GEMM can approach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, kr := range asmKernels() {
		b.Run(kr.name, func(b *testing.B) {
			kc := 256
			a := make([]float32, kr.mr*kc)
			bb := make([]float32, kr.nr*kc*8)
			c := make([]float32, kr.mr*kr.nr)
			for b.Loop() {
				for j := 0; j < 8; j++ {
					kr.fn(kc, &a[0], &bb[j*kr.nr*kc], &c[0], kr.nr, 1)
				}
			}
			b.ReportMetric(2*float64(kr.mr*kr.nr*kc*8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
