//go:build !amd64 || purego

package tensor

func asmKernels() []gemmKernel { return nil }

func hasAVX2() bool { return false }

func dotAsm(x, y []float32) float32 { panic("tensor: no assembly dot") }

func axpyAsm(alpha float32, x, y []float32) { panic("tensor: no assembly axpy") }

func packTransAsm(dst, src []float32, ld, rows, kc int) { panic("tensor: no assembly packing") }
