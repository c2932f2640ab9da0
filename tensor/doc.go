// Package tensor holds the float32 kernels the models run on: GEMM (Go
// assembly generated with avo, with a portable fallback), softmax, layer norm,
// GELU, vector operations and a parallel-for sized to GOMAXPROCS.
package tensor
