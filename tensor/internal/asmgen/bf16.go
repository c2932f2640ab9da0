package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

var cBF16Hi Mem

// initBF16Consts emits the constants of the bf16 kernels.
func initBF16Consts() {
	cBF16Hi = vconst("c_bf16hi", 0xffff0000)
	cBF16Lsb = vconst("c_bf16lsb", 1)
	cBF16Round = vconst("c_bf16round", 0x7fff)
	cBF16Quiet = vconst("c_bf16quiet", 0x00400000)
}

// bgemmAVX2 emits bgemmKernel{mr}x16AVX2: the product of mr rows of A
// (float32 values that are bfloat16s, row-major, row stride lda floats,
// 2·k2 used per row) and a packed panel of 16 columns of bfloat16 weights B
// (k2 groups of 64 bytes: for group g, the 16 columns in turn, each as the
// pair k = 2g, 2g+1), plus bias, stored to c (row stride ldc). It emulates
// VDPBF16PS with FMA: a 32-bit lane of a group holds one column's pair, so
// masking its low half gives the odd value as a float32 and shifting it left
// by 16 the even one. Each product of two bfloat16s is exact in float32, so
// c[i][j] is the float32 sum Σ_g (a[i][2g+1]·b[2g+1][j] + a[i][2g]·b[2g][j]),
// in that order, then + bias[j], as the Go kernel computes it.
func bgemmAVX2(mr int) {
	name := fmt.Sprintf("bgemmKernel%dx16AVX2", mr)
	TEXT(name, NOSPLIT, "func(k2 int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32)")
	Doc(fmt.Sprintf("%s stores the %d×16 product of the bfloat16-valued float32 rows of a (2·k2 values each, row stride lda) and the packed bfloat16 panel b, plus bias, to c (row stride ldc).", name, mr))
	k := Load(Param("k2"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda)
	rowBase, aAddr := rowAddressing(mr, lda)
	pb := Load(Param("b"), GP64())

	// Registers: 2·mr accumulators, the mask, the broadcast A value and the
	// two halves (columns 0–7, 8–15) of B's odd or even values.
	acc, n := panelAccumulators(mr)
	mask, bc := yreg(n), yreg(n+1)
	bv := [2]reg.VecPhysical{yreg(n + 2), yreg(n + 3)}
	if n+4 > 16 {
		panic("too many registers")
	}
	VMOVDQU(cBF16Hi, mask)

	fma := func(disp int) {
		for i := 0; i < mr; i++ {
			VBROADCASTSS(aAddr(i, disp), bc)
			for j := 0; j < 2; j++ {
				VFMADD231PS(bv[j], bc, acc[i][j])
			}
		}
	}
	step := func(u int) {
		for j := 0; j < 2; j++ { // odd k: the high halves
			VPAND(Mem{Base: pb, Disp: 64*u + 32*j}, mask, bv[j])
		}
		fma(8*u + 4)
		for j := 0; j < 2; j++ { // even k: the low halves, shifted up
			VMOVDQU(Mem{Base: pb, Disp: 64*u + 32*j}, bv[j])
			VPSLLD(Imm(16), bv[j], bv[j])
		}
		fma(8 * u)
	}
	panelLoop(name, k, pb, rowBase, 8, step)
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	bias := Load(Param("bias"), GP64())
	for i := 0; i < mr; i++ {
		for j := 0; j < 2; j++ {
			VADDPS(Mem{Base: bias, Disp: 32 * j}, acc[i][j], acc[i][j])
			VMOVUPS(acc[i][j], Mem{Base: pc, Disp: 32 * j})
		}
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}

var cBF16Lsb, cBF16Round, cBF16Quiet Mem

// roundBF16AVX2 emits roundBF16AVX2(dst, src []float32): dst[i] = src[i]
// rounded to bfloat16 (to nearest, ties to even), as a float32, for
// len(src) a multiple of 16: bits + 0x7fff + (bits>>16 & 1), then the low
// half cleared; a NaN keeps its top half with the quiet bit set, as the Go
// code does.
func roundBF16AVX2() {
	TEXT("roundBF16AVX2", NOSPLIT, "func(dst, src []float32)")
	Doc("roundBF16AVX2 sets dst[i] to src[i] rounded to bfloat16 (ties to even; NaNs quiet), as a float32; len(src) is a multiple of 16.")
	pd := Load(Param("dst").Base(), GP64())
	ps := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	mask, lsb, bias, quiet := reg.Y8, reg.Y9, reg.Y10, reg.Y11
	VMOVDQU(cBF16Hi, mask)
	VMOVDQU(cBF16Lsb, lsb)
	VMOVDQU(cBF16Round, bias)
	VMOVDQU(cBF16Quiet, quiet)
	Label("rb_loop")
	CMPQ(n, Imm(16))
	JL(LabelRef("rb_done"))
	for u := 0; u < 2; u++ {
		v, r, t, nan := yreg(4*u), yreg(4*u+1), yreg(4*u+2), yreg(4*u+3)
		VMOVUPS(Mem{Base: ps, Disp: 32 * u}, v)
		VPSRLD(Imm(16), v, t)
		VPAND(lsb, t, t)
		VPADDD(bias, v, r)
		VPADDD(t, r, r)
		VPAND(mask, r, r)
		VPAND(mask, v, t)
		VPOR(quiet, t, t)
		VCMPPS(Imm(3), v, v, nan) // unordered: NaN
		VBLENDVPS(nan, t, r, r)
		VMOVUPS(r, Mem{Base: pd, Disp: 32 * u})
	}
	ADDQ(Imm(64), ps)
	ADDQ(Imm(64), pd)
	SUBQ(Imm(16), n)
	JMP(LabelRef("rb_loop"))
	Label("rb_done")
	VZEROUPPER()
	RET()
}
