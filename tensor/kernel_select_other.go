//go:build !amd64 || purego

package tensor

func asmKernels() []gemmKernel { return nil }

func hasAVX2() bool { return false }

func dotAsm(x, y []float32) float32 { panic("tensor: no assembly dot") }

func axpyAsm(alpha float32, x, y []float32) { panic("tensor: no assembly axpy") }

func packCopyAsm(dst, src []float32, ld, w, kc int) { panic("tensor: no assembly packing") }

func packTransAsm(dst, src []float32, ld, rows, kc, w int) { panic("tensor: no assembly packing") }

func expSumAsm(out, x []float32, shift float32) float32 { panic("tensor: no assembly exp") }

func geluAsm(out, x []float32) { panic("tensor: no assembly GELU") }

func geluTanhAsm(out, x []float32) { panic("tensor: no assembly GELU") }

func siluMulAsm(out, g, u []float32) { panic("tensor: no assembly SiLU") }

func geluBackwardAsm(dx, x, dout []float32) { panic("tensor: no assembly GELU") }

func geluTanhBackwardAsm(dx, x, dout []float32) { panic("tensor: no assembly GELU") }

func maxAsm(x []float32) float32 { panic("tensor: no assembly max") }

func scaleAsm(alpha float32, x []float32) { panic("tensor: no assembly scale") }

func sumAsm(x []float32) float32 { panic("tensor: no assembly sum") }

func sumSqDevAsm(x []float32, m float32) float32 { panic("tensor: no assembly sum") }

func normAffineAsm(out, x, gamma, beta []float32, m, rs float32) {
	panic("tensor: no assembly layer norm")
}

func qgemmAsm(rows, k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32) {
	panic("tensor: no assembly int8 kernel")
}

func hasVNNI() bool { return false }

func hasAVX512BF16() bool { return false }

func bgemmBF16Asm(rows, k2 int, a *uint16, lda int, b *uint16, c *float32, ldc int, bias *float32) {
	panic("tensor: no assembly bf16 kernel")
}

func packBF16Asm(dst []uint16, src []float32) { panic("tensor: no assembly bf16 packing") }

func qgemmVNNIAsm(rows, k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32) {
	panic("tensor: no assembly int8 kernel")
}

func qgemmVNNIInt32Asm(rows, k4 int, a *uint8, lda int, b *int8, c *int32, ldc int) {
	panic("tensor: no assembly int8 kernel")
}

func qgemmInt32Asm(rows, k4 int, a *uint8, lda int, b *int8, c *int32, ldc int) {
	panic("tensor: no assembly int8 kernel")
}

func minMaxAsm(x []float32) (lo, hi float32) { panic("tensor: no assembly min/max") }

func quantizeU8Asm(q []uint8, x []float32, inv, zp float32) {
	panic("tensor: no assembly quantization")
}

func roundBF16Asm(dst, src []float32) { panic("tensor: no assembly bf16 rounding") }

func bgemmAsm(rows, k2 int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32) {
	panic("tensor: no assembly bf16 kernel")
}
