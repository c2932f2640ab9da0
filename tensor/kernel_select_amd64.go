//go:build !purego

package tensor

import "golang.org/x/sys/cpu"

// asmKernels lists the assembly GEMM kernels this CPU can run, best first.
func asmKernels() []gemmKernel {
	var ks []gemmKernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		ks = append(ks, gemmKernel{name: "avx512-12x32", mr: 12, nr: 32, kc: 256, nc: 512, fn: sgemmKernel12x32AVX512, fnStore: sgemmKernel12x32AVX512Store,
			edge: []edgeKernel{
				{4, sgemmKernel4x32AVX512s12, sgemmKernel4x32AVX512s12Store},
				{8, sgemmKernel8x32AVX512s12, sgemmKernel8x32AVX512s12Store},
			},
			stream: &gemmKernel{name: "avx512-12x32-next", mr: 12, nr: 32, kc: 256, nc: 512, fn: sgemmKernel12x32AVX512Next, fnStore: sgemmKernel12x32AVX512NextStore,
				edge: []edgeKernel{
					{4, sgemmKernel4x32AVX512s12Next, sgemmKernel4x32AVX512s12NextStore},
					{8, sgemmKernel8x32AVX512s12Next, sgemmKernel8x32AVX512s12NextStore},
				},
				direct: []directKernel{
					{4, sgemmKernel4x32AVX512DirectNext, sgemmKernel4x32AVX512DirectNextStore},
					{8, sgemmKernel8x32AVX512DirectNext, sgemmKernel8x32AVX512DirectNextStore},
					{12, sgemmKernel12x32AVX512DirectNext, sgemmKernel12x32AVX512DirectNextStore},
				}},
		})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, gemmKernel{name: "avx2-6x16", mr: 6, nr: 16, kc: 256, nc: 512, fn: sgemmKernel6x16AVX2, fnStore: sgemmKernel6x16AVX2Store,
			edge: []edgeKernel{
				{2, sgemmKernel2x16AVX2s6, sgemmKernel2x16AVX2s6Store},
				{4, sgemmKernel4x16AVX2s6, sgemmKernel4x16AVX2s6Store},
			}})
	}
	return ks
}

func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func dotAsm(x, y []float32) float32 { return dotAVX2(x, y) }

func axpyAsm(alpha float32, x, y []float32) { axpyAVX2(alpha, x, y) }

func packCopyAsm(dst, src []float32, ld, w, kc int) {
	packCopyAVX2(&dst[0], &src[0], ld, w, kc)
}

func packTransAsm(dst, src []float32, ld, rows, kc, w int) {
	packTransAVX2(&dst[0], &src[0], ld, rows, kc, w)
}

func expSumAsm(out, x []float32, shift float32) float32 { return expSumAVX2(out, x, shift) }

func geluAsm(out, x []float32) { geluAVX2(out, x) }

func geluTanhAsm(out, x []float32) { geluTanhAVX2(out, x) }

func siluMulAsm(out, g, u []float32) { siluMulAVX2(out, g, u) }

func geluBackwardAsm(dx, x, dout []float32) { geluBackwardAVX2(dx, x, dout) }

func geluTanhBackwardAsm(dx, x, dout []float32) { geluTanhBackwardAVX2(dx, x, dout) }

func maxAsm(x []float32) float32 { return maxAVX2(x) }

func scaleAsm(alpha float32, x []float32) { scaleAVX2(alpha, x) }

func sumAsm(x []float32) float32 { return sumAVX2(x) }

func sumSqDevAsm(x []float32, m float32) float32 { return sumSqDevAVX2(x, m) }

func normAffineAsm(out, x, gamma, beta []float32, m, rs float32) {
	normAffineAVX2(out, x, gamma, beta, m, rs)
}

// The int8 kernels by row count (1–6).
var (
	qgemmKernels = [...]func(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32){
		nil, qgemmKernel1x16AVX2, qgemmKernel2x16AVX2, qgemmKernel3x16AVX2, qgemmKernel4x16AVX2, qgemmKernel5x16AVX2, qgemmKernel6x16AVX2}
	qgemmInt32Kernels = [...]func(k4 int, a *uint8, lda int, b *int8, c *int32, ldc int){
		nil, qgemmKernel1x16AVX2Int32, qgemmKernel2x16AVX2Int32, qgemmKernel3x16AVX2Int32, qgemmKernel4x16AVX2Int32, qgemmKernel5x16AVX2Int32, qgemmKernel6x16AVX2Int32}
)

// The AVX512-VNNI int8 kernels by row count (1–12).
var (
	qgemmVNNIKernels = [...]func(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32){
		nil, qgemmKernel1x16VNNI, qgemmKernel2x16VNNI, qgemmKernel3x16VNNI, qgemmKernel4x16VNNI, qgemmKernel5x16VNNI, qgemmKernel6x16VNNI,
		qgemmKernel7x16VNNI, qgemmKernel8x16VNNI, qgemmKernel9x16VNNI, qgemmKernel10x16VNNI, qgemmKernel11x16VNNI, qgemmKernel12x16VNNI}
	qgemmVNNIInt32Kernels = [...]func(k4 int, a *uint8, lda int, b *int8, c *int32, ldc int){
		nil, qgemmKernel1x16VNNIInt32, qgemmKernel2x16VNNIInt32, qgemmKernel3x16VNNIInt32, qgemmKernel4x16VNNIInt32, qgemmKernel5x16VNNIInt32, qgemmKernel6x16VNNIInt32,
		qgemmKernel7x16VNNIInt32, qgemmKernel8x16VNNIInt32, qgemmKernel9x16VNNIInt32, qgemmKernel10x16VNNIInt32, qgemmKernel11x16VNNIInt32, qgemmKernel12x16VNNIInt32}
)

// hasVNNI reports whether this CPU (and its OS) runs the AVX512-VNNI int8
// kernels; the rest of the int8 path (quantizing the activations) needs AVX2.
func hasVNNI() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && hasAVX2() }

// hasAVX512BF16 reports whether this CPU (and its OS) runs the VDPBF16PS
// kernels; packing their bfloat16 input needs AVX2.
func hasAVX512BF16() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 && hasAVX2() }

// The VDPBF16PS kernels by row count (1–12).
var bgemmBF16Kernels = [...]func(k2 int, a *uint16, lda int, b *uint16, c *float32, ldc int, bias *float32){
	nil, bgemmKernel1x16AVX512BF16, bgemmKernel2x16AVX512BF16, bgemmKernel3x16AVX512BF16, bgemmKernel4x16AVX512BF16, bgemmKernel5x16AVX512BF16, bgemmKernel6x16AVX512BF16,
	bgemmKernel7x16AVX512BF16, bgemmKernel8x16AVX512BF16, bgemmKernel9x16AVX512BF16, bgemmKernel10x16AVX512BF16, bgemmKernel11x16AVX512BF16, bgemmKernel12x16AVX512BF16}

// bgemmBF16Asm runs the VDPBF16PS kernel for rows (1–12) rows.
func bgemmBF16Asm(rows, k2 int, a *uint16, lda int, b *uint16, c *float32, ldc int, bias *float32) {
	bgemmBF16Kernels[rows](k2, a, lda, b, c, ldc, bias)
}

func packBF16Asm(dst []uint16, src []float32) { packBF16AVX2(&dst[0], src) }

// qgemmVNNIAsm runs the dequantizing AVX512-VNNI int8 kernel for rows (1–12) rows.
func qgemmVNNIAsm(rows, k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32) {
	qgemmVNNIKernels[rows](k4, a, lda, b, c, ldc, rs, rz, cs, csum, bias)
}

// qgemmVNNIInt32Asm runs the raw int32 AVX512-VNNI int8 kernel for rows (1–12) rows.
func qgemmVNNIInt32Asm(rows, k4 int, a *uint8, lda int, b *int8, c *int32, ldc int) {
	qgemmVNNIInt32Kernels[rows](k4, a, lda, b, c, ldc)
}

// qgemmAsm runs the dequantizing int8 kernel for rows (1–6) rows.
func qgemmAsm(rows, k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rs *float32, rz *int32, cs *float32, csum *int32, bias *float32) {
	qgemmKernels[rows](k4, a, lda, b, c, ldc, rs, rz, cs, csum, bias)
}

// qgemmInt32Asm runs the raw int32 int8 kernel for rows (1–6) rows.
func qgemmInt32Asm(rows, k4 int, a *uint8, lda int, b *int8, c *int32, ldc int) {
	qgemmInt32Kernels[rows](k4, a, lda, b, c, ldc)
}

func minMaxAsm(x []float32) (lo, hi float32) { return minMaxAVX2(x) }

func quantizeU8Asm(q []uint8, x []float32, inv, zp float32) {
	quantizeU8AVX2(&q[0], x, inv, zp)
}

// The bf16 kernels by row count (1–6).
var bgemmKernels = [...]func(k2 int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32){
	nil, bgemmKernel1x16AVX2, bgemmKernel2x16AVX2, bgemmKernel3x16AVX2, bgemmKernel4x16AVX2, bgemmKernel5x16AVX2, bgemmKernel6x16AVX2}

func roundBF16Asm(dst, src []float32) { roundBF16AVX2(dst, src) }

// bgemmAsm runs the bf16 kernel for rows (1–6) rows.
func bgemmAsm(rows, k2 int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32) {
	bgemmKernels[rows](k2, a, lda, b, c, ldc, bias)
}
