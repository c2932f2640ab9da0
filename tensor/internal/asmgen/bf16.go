package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
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

// bf16Rounding holds the constants of roundBF16 in ymm registers.
type bf16Rounding struct{ mask, lsb, bias, quiet reg.VecPhysical }

// loadBF16Rounding loads the rounding constants into Y8–Y11.
func loadBF16Rounding() bf16Rounding {
	c := bf16Rounding{reg.Y8, reg.Y9, reg.Y10, reg.Y11}
	VMOVDQU(cBF16Hi, c.mask)
	VMOVDQU(cBF16Lsb, c.lsb)
	VMOVDQU(cBF16Round, c.bias)
	VMOVDQU(cBF16Quiet, c.quiet)
	return c
}

// roundBF16 sets r to the 8 float32s of v rounded to bfloat16 (to nearest,
// ties to even): bits + 0x7fff + (bits>>16 & 1), then the low half cleared;
// a NaN keeps its top half with the quiet bit set, as the Go code does. t
// and nan are scratch.
func (c bf16Rounding) roundBF16(v, r, t, nan reg.VecPhysical) {
	VPSRLD(Imm(16), v, t)
	VPAND(c.lsb, t, t)
	VPADDD(c.bias, v, r)
	VPADDD(t, r, r)
	VPAND(c.mask, r, r)
	VPAND(c.mask, v, t)
	VPOR(c.quiet, t, t)
	VCMPPS(Imm(3), v, v, nan) // unordered: NaN
	VBLENDVPS(nan, t, r, r)
}

// roundBF16AVX2 emits roundBF16AVX2(dst, src []float32): dst[i] = src[i]
// rounded to bfloat16 (bf16Rounding.roundBF16), as a float32, for len(src) a
// multiple of 16.
func roundBF16AVX2() {
	TEXT("roundBF16AVX2", NOSPLIT, "func(dst, src []float32)")
	Doc("roundBF16AVX2 sets dst[i] to src[i] rounded to bfloat16 (ties to even; NaNs quiet), as a float32; len(src) is a multiple of 16.")
	bf16Loop("rb", Load(Param("dst").Base(), GP64()), 64, func(r [2]reg.VecPhysical, pd reg.Register) {
		for u := 0; u < 2; u++ {
			VMOVUPS(r[u], Mem{Base: pd, Disp: 32 * u})
		}
	})
}

// packBF16AVX2 emits packBF16AVX2(dst *uint16, src []float32): dst[i] =
// the bfloat16 of src[i] (bf16Rounding.roundBF16's top half), for len(src) a
// multiple of 16: the A operand of the VDPBF16PS kernels.
func packBF16AVX2() {
	TEXT("packBF16AVX2", NOSPLIT, "func(dst *uint16, src []float32)")
	Doc("packBF16AVX2 sets dst[i] to the bfloat16 of src[i] (ties to even; NaNs quiet); len(src) is a multiple of 16.")
	bf16Loop("pb", Load(Param("dst"), GP64()), 32, func(r [2]reg.VecPhysical, pd reg.Register) {
		// dwords → words: VPACKUSDW works within 128-bit lanes (r0 lo, r1
		// lo, r0 hi, r1 hi), VPERMQ puts the quarters back in order.
		for u := 0; u < 2; u++ {
			VPSRLD(Imm(16), r[u], r[u])
		}
		VPACKUSDW(r[1], r[0], r[0])
		VPERMQ(Imm(0xd8), r[0], r[0])
		VMOVDQU(r[0], Mem{Base: pd})
	})
}

// bf16Loop emits the loop of roundBF16AVX2 and packBF16AVX2 over src, 16
// values at a time: it rounds them (in two ymm registers, r) and calls store
// to write them at pd, which then advances by dstBytes.
func bf16Loop(label string, pd reg.Register, dstBytes int, store func(r [2]reg.VecPhysical, pd reg.Register)) {
	ps := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	c := loadBF16Rounding()
	Label(label + "_loop")
	CMPQ(n, Imm(16))
	JL(LabelRef(label + "_done"))
	var r [2]reg.VecPhysical
	for u := 0; u < 2; u++ {
		v, t, nan := yreg(4*u), yreg(4*u+2), yreg(4*u+3)
		r[u] = yreg(4*u + 1)
		VMOVUPS(Mem{Base: ps, Disp: 32 * u}, v)
		c.roundBF16(v, r[u], t, nan)
	}
	store(r, pd)
	ADDQ(Imm(64), ps)
	ADDQ(Imm(uint64(dstBytes)), pd)
	SUBQ(Imm(16), n)
	JMP(LabelRef(label + "_loop"))
	Label(label + "_done")
	VZEROUPPER()
	RET()
}

// bgemmAVX512BF16 emits bgemmKernel{mr}x16AVX512BF16: bgemmAVX2's product
// with AVX512_BF16's VDPBF16PS, for mr ≤ 12 rows of A given as bfloat16s
// (uint16, row stride lda values, 2·k2 used per row). A group of the panel
// (16 columns × a pair of k) is one zmm register; the row's pair at k = 2g,
// 2g+1 is one dword, broadcast. VDPBF16PS adds, in each column's lane, the
// odd product then the even one, each rounded to nearest even, as the Go
// kernel does; unlike it, it treats input denormals as zero and flushes
// denormal results to zero.
func bgemmAVX512BF16(mr int) {
	name := fmt.Sprintf("bgemmKernel%dx16AVX512BF16", mr)
	TEXT(name, NOSPLIT, "func(k2 int, a *uint16, lda int, b *uint16, c *float32, ldc int, bias *float32)")
	Doc(fmt.Sprintf("%s stores the %d×16 product of the bfloat16 rows of a (2·k2 values each, row stride lda) and the packed bfloat16 panel b, plus bias, to c (row stride ldc), with VDPBF16PS.", name, mr))
	k := Load(Param("k2"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(1), lda) // bfloat16s to bytes
	acc, _ := zmmPanelLoop(name, mr, k, lda, vdpbf16ps)
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	bias := Load(Param("bias"), GP64())
	for i := 0; i < mr; i++ {
		VADDPS(Mem{Base: bias}, acc[i], acc[i])
		VMOVUPS(acc[i], Mem{Base: pc})
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}

// vdpbf16ps emits VDPBF16PS dst, src1, src2 (Intel operand order: dst +=
// the pair products of src1 and src2, zmm registers), which Go's assembler
// does not know, as its bytes: EVEX.512.F3.0F38.W0 52 /r (Intel's SDM),
// register form.
func vdpbf16ps(dst, src1, src2 reg.VecPhysical) {
	Comment(fmt.Sprintf("VDPBF16PS %s, %s, %s (Intel order)", dst.Asm(), src1.Asm(), src2.Asm()))
	for _, b := range encodeVDPBF16PS(zmmNumber(dst), zmmNumber(src1), zmmNumber(src2)) {
		Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(b)}})
	}
}

// encodeVDPBF16PS is the encoding of VDPBF16PS zmm(dst), zmm(src1),
// zmm(src2): the EVEX prefix 62 P0 P1 P2, opcode 52, ModRM. P0 = R̄ X̄ B̄ R̄′ 0 0
// m m (mm = 10: 0F38), where R, R′ extend ModRM.reg (dst bits 3, 4) and B, X
// ModRM.rm (src2 bits 3, 4); P1 = W v̄v̄v̄v̄ 1 p p (W = 0, vvvv = src1's low
// four bits, pp = 10: F3); P2 = z L′L b V̄′ a a a (L′L = 10: 512 bits, V′ =
// src1 bit 4, no mask). ModRM = 11 reg rm.
func encodeVDPBF16PS(dst, src1, src2 int) []byte {
	inv := func(x, bit int) byte { return byte((x>>bit)&1 ^ 1) }
	p0 := inv(dst, 3)<<7 | inv(src2, 4)<<6 | inv(src2, 3)<<5 | inv(dst, 4)<<4 | 0b10
	p1 := byte((^src1)&0xf)<<3 | 1<<2 | 0b10
	p2 := byte(0b10)<<5 | inv(src1, 4)<<3
	modrm := byte(0b11<<6 | (dst&7)<<3 | src2&7)
	return []byte{0x62, p0, p1, p2, 0x52, modrm}
}

// zmmNumber is the number of a zmm register: 5 for Z5.
func zmmNumber(z reg.VecPhysical) int {
	for i := 0; i < 32; i++ {
		if zreg(i) == z {
			return i
		}
	}
	panic(fmt.Sprintf("%s is not a zmm register", z.Asm()))
}
