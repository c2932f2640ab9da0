// Package tensor holds the float32 kernels the models run on: GEMM (Go
// assembly generated with avo, with a portable fallback), softmax, layer norm,
// GELU, vector operations and a parallel-for sized to GOMAXPROCS.
package tensor

//go:generate go run -C internal/asmgen . -out ../../kernels_amd64.s -stubs ../../kernels_amd64.go -pkg tensor
