package tensor

import (
	"math/rand/v2"
	"testing"
)

// The element-wise benchmarks use BERT-base sizes for a batch of 8×128
// tokens: the feed-forward activation [1024, 3072], attention scores
// [8·12·128, 128] and hidden states [1024, 768].

func BenchmarkGELU(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 2)), 1024*3072)
	out := make([]float32, len(x))
	for b.Loop() {
		GELU(out, x)
	}
	b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}

func BenchmarkGELUTanh(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 2)), 1024*3072)
	out := make([]float32, len(x))
	for b.Loop() {
		GELUTanh(out, x)
	}
	b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}

func BenchmarkSoftmax(b *testing.B) {
	const rows, cols = 8 * 12 * 128, 128
	x := randSlice(rand.New(rand.NewPCG(1, 2)), rows*cols)
	out := make([]float32, len(x))
	for b.Loop() {
		Softmax(out, x, rows, cols)
	}
	b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}

func BenchmarkLayerNorm(b *testing.B) {
	const rows, cols = 1024, 768
	r := rand.New(rand.NewPCG(1, 2))
	x, g, be := randSlice(r, rows*cols), randSlice(r, cols), randSlice(r, cols)
	out, mean, rstd := make([]float32, len(x)), make([]float32, rows), make([]float32, rows)
	for b.Loop() {
		LayerNorm(out, mean, rstd, x, g, be, rows, cols, 1e-12)
	}
	b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}
