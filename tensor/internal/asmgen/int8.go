package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// qgemmAVX2 emits qgemmKernel{mr}x16AVX2 (dequant) or
// qgemmKernel{mr}x16AVX2Int32 (raw): the product of mr rows of unsigned
// bytes A (row-major, row stride lda bytes, 4·k4 bytes used per row) and a
// packed panel of 16 columns of signed bytes B (k4 groups of 64 bytes: for
// group g, columns 0–7 then 8–15, each column's four bytes k = 4g…4g+3
// together). The product is exact int32 arithmetic as long as no weight
// exceeds 63 in magnitude: VPMADDUBSW adds two products u8·s8 into a
// saturating int16, and 2·255·63 = 32130 < 32767 (the 7-bit weights of
// ONNX Runtime's reduce_range), then VPMADDWD with ones widens the pairs to
// int32.
//
// The raw form stores the int32 sums to c (row stride ldc int32s). The
// dequantizing form stores, in float32,
// c[i][j] = float32(acc[i][j] − zp[i]·colSum[j]) · colScale[j] · rowScale[i] + bias[j],
// each operation rounded to float32 in that order, as the Go kernel does.
func qgemmAVX2(mr int, raw bool) {
	name, k, lda := qgemmTEXT("AVX2", mr, raw, "AVX2")
	rowBase, aAddr := rowAddressing(mr, lda)
	pb := Load(Param("b"), GP64())

	// Registers: 2·mr accumulators, the int16 ones, the broadcast A bytes and
	// two products.
	acc, n := panelAccumulators(mr)
	ones, bc, t0, t1 := yreg(n), yreg(n+1), yreg(n+2), yreg(n+3)
	if n+4 > 16 {
		panic("too many registers")
	}
	tmp := [2]reg.VecPhysical{t0, t1}
	VPCMPEQW(ones, ones, ones)
	VPSRLW(Imm(15), ones, ones)

	step := func(u int) {
		for i := 0; i < mr; i++ {
			VPBROADCASTD(aAddr(i, 4*u), bc)
			for j := 0; j < 2; j++ {
				VPMADDUBSW(Mem{Base: pb, Disp: 64*u + 32*j}, bc, tmp[j])
				VPMADDWD(ones, tmp[j], tmp[j])
				VPADDD(tmp[j], acc[i][j], acc[i][j])
			}
		}
	}
	panelLoop(name, k, pb, rowBase, 4, step)
	rows := make([][]reg.VecPhysical, mr)
	for i := range acc {
		rows[i] = acc[i][:]
	}
	qgemmStore(mr, raw, rows, 32, bc, ones, tmp[:])
	VZEROUPPER()
	RET()
}

// qgemmTEXT declares the dequantizing or raw int8 kernel of mr rows for an
// instruction set (suffix of its name, isa in its description) and loads
// its k4 and lda; it returns the kernel's name.
func qgemmTEXT(suffix string, mr int, raw bool, isa string) (name string, k, lda reg.Register) {
	name = fmt.Sprintf("qgemmKernel%dx16%s", mr, suffix)
	if raw {
		name += "Int32"
		TEXT(name, NOSPLIT, "func(k4 int, a *uint8, lda int, b *int8, c *int32, ldc int)")
		Doc(fmt.Sprintf("%s stores the exact int32 %d×16 product of the unsigned byte rows of a (4·k4 bytes each, row stride lda) and the packed signed byte panel b (weights within ±63) to c (row stride ldc), with %s.", name, mr, isa))
	} else {
		TEXT(name, NOSPLIT, "func(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rowScale *float32, rowZp *int32, colScale *float32, colSum *int32, bias *float32)")
		Doc(fmt.Sprintf("%s stores the dequantized %d×16 product of the unsigned byte rows of a (4·k4 bytes each, row stride lda) and the packed signed byte panel b (weights within ±63) to c (row stride ldc): float32(acc − rowZp[i]·colSum[j])·colScale[j]·rowScale[i] + bias[j], with %s.", name, mr, isa))
	}
	return name, Load(Param("k4"), GP64()), Load(Param("lda"), GP64())
}

// qgemmStore emits the end of an int8 kernel: the int32 sums acc[i] of row
// i (16 columns in vectors of vecBytes bytes) stored raw to c, or
// dequantized as float32(acc − rowZp[i]·colSum[j])·colScale[j]·rowScale[i]
// + bias[j], each operation rounded to float32 in that order, as the Go
// kernel does. zpBc, scaleBc and tmp are free vector registers of the
// accumulators' width, tmp one per vector of a row.
func qgemmStore(mr int, raw bool, acc [][]reg.VecPhysical, vecBytes int, zpBc, scaleBc reg.VecPhysical, tmp []reg.VecPhysical) {
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	next := func(i int) {
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	if raw {
		for i := 0; i < mr; i++ {
			for j, x := range acc[i] {
				storeInt32s(vecBytes, x, Mem{Base: pc, Disp: vecBytes * j})
			}
			next(i)
		}
		return
	}
	rs := Load(Param("rowScale"), GP64())
	rz := Load(Param("rowZp"), GP64())
	cs := Load(Param("colScale"), GP64())
	csum := Load(Param("colSum"), GP64())
	bias := Load(Param("bias"), GP64())
	for i := 0; i < mr; i++ {
		VPBROADCASTD(Mem{Base: rz, Disp: 4 * i}, zpBc)
		VBROADCASTSS(Mem{Base: rs, Disp: 4 * i}, scaleBc)
		for j, x := range acc[i] {
			VPMULLD(Mem{Base: csum, Disp: vecBytes * j}, zpBc, tmp[j])
			VPSUBD(tmp[j], x, x)
			VCVTDQ2PS(x, x)
			VMULPS(Mem{Base: cs, Disp: vecBytes * j}, x, x)
			VMULPS(scaleBc, x, x)
			VADDPS(Mem{Base: bias, Disp: vecBytes * j}, x, x)
			VMOVUPS(x, Mem{Base: pc, Disp: vecBytes * j})
		}
		next(i)
	}
}

// storeInt32s stores the integer vector x to m: VMOVDQU32 for a zmm
// register (vecBytes 64), VMOVDQU for a ymm one.
func storeInt32s(vecBytes int, x reg.VecPhysical, m Mem) {
	if vecBytes == 64 {
		VMOVDQU32(x, m)
		return
	}
	VMOVDQU(x, m)
}

// qgemmVNNI emits qgemmKernel{mr}x16VNNI (dequant) or
// qgemmKernel{mr}x16VNNIInt32 (raw): qgemmAVX2's product with AVX512-VNNI.
// A 16-column panel group (64 bytes: column j's four bytes at 4j) is one
// zmm register, and VPDPBUSD adds the four u8·s8 products of each column to
// its int32 sum, exactly and without saturation, for each of mr ≤ 12 rows
// whose four bytes are broadcast. The sums and the dequantization are those
// of the AVX2 kernel, bit for bit.
func qgemmVNNI(mr int, raw bool) {
	name, k, lda := qgemmTEXT("VNNI", mr, raw, "AVX512-VNNI")
	acc, free := zmmPanelLoop(name, mr, k, lda, func(acc, a, b reg.VecPhysical) { VPDPBUSD(b, a, acc) })
	rows := make([][]reg.VecPhysical, mr)
	for i := range acc {
		rows[i] = acc[i : i+1]
	}
	qgemmStore(mr, raw, rows, 64, free[0], free[1], free[2:3])
	VZEROUPPER()
	RET()
}

// zmmPanelLoop emits the accumulation of the AVX-512 panel kernels (VNNI
// int8, VDPBF16PS bf16): for mr ≤ 12 rows of A (row stride lda bytes) and a
// packed panel b whose k groups are 64 bytes, one zmm register each, it
// broadcasts each row's 4 bytes of a group and calls dot(acc[i], the
// broadcast, the group) to add their products to row i's accumulator. It
// returns the accumulators, zmm 0…mr-1, and free zmm registers (at least
// three) for the epilogue.
func zmmPanelLoop(name string, mr int, k, lda reg.Register, dot func(acc, a, b reg.VecPhysical)) (acc, free []reg.VecPhysical) {
	rowBase, aAddr := rowAddressing(mr, lda)
	pb := Load(Param("b"), GP64())
	// Registers: mr accumulators, one B group per unrolled step, two
	// broadcast A words in turn.
	acc = make([]reg.VecPhysical, mr)
	for i := range acc {
		acc[i] = zreg(i)
		VPXORD(acc[i], acc[i], acc[i])
	}
	bGroup := []reg.VecPhysical{zreg(mr), zreg(mr + 1), zreg(mr + 2), zreg(mr + 3)}
	bc := []reg.VecPhysical{zreg(mr + 4), zreg(mr + 5)}
	step := func(u int) {
		VMOVDQU32(Mem{Base: pb, Disp: 64 * u}, bGroup[u])
		for i := 0; i < mr; i++ {
			VPBROADCASTD(aAddr(i, 4*u), bc[i%2])
			dot(acc[i], bc[i%2], bGroup[u])
		}
	}
	panelLoop(name, k, pb, rowBase, 4, step)
	return acc, append(bc, bGroup...)
}

// minMaxAVX2 emits minMaxAVX2(x []float32) (lo, hi float32): the smallest
// and largest element of x, len(x) a positive multiple of 8 (VMINPS and
// VMAXPS, so a NaN is not propagated reliably; the caller's float path
// carries NaNs anyway).
func minMaxAVX2() {
	TEXT("minMaxAVX2", NOSPLIT, "func(x []float32) (lo, hi float32)")
	Doc("minMaxAVX2 returns the smallest and the largest element of x; len(x) is a positive multiple of 8.")
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	lo := []reg.VecPhysical{reg.Y0, reg.Y1}
	hi := []reg.VecPhysical{reg.Y2, reg.Y3}
	for u := 0; u < 2; u++ {
		VMOVUPS(Mem{Base: px}, lo[u])
		VMOVUPS(Mem{Base: px}, hi[u])
	}
	countedLoop("mm_loop16", n, 16, "mm_loop8", []reg.Register{px}, func() {
		for u := 0; u < 2; u++ {
			VMOVUPS(Mem{Base: px, Disp: 32 * u}, reg.Y4)
			VMINPS(reg.Y4, lo[u], lo[u])
			VMAXPS(reg.Y4, hi[u], hi[u])
		}
	})
	Label("mm_loop8")
	TESTQ(n, n)
	JZ(LabelRef("mm_reduce"))
	VMOVUPS(Mem{Base: px}, reg.Y4)
	VMINPS(reg.Y4, lo[0], lo[0])
	VMAXPS(reg.Y4, hi[0], hi[0])
	Label("mm_reduce")
	VMINPS(lo[1], lo[0], lo[0])
	VMAXPS(hi[1], hi[0], hi[0])
	reduceLanes(reg.Y0, reg.X0, reg.X5, VMINPS, VMINPS)
	reduceLanes(reg.Y2, reg.X2, reg.X5, VMAXPS, VMAXPS)
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	Store(reg.X2, ReturnIndex(1))
	RET()
}

// quantizeU8AVX2 emits quantizeU8AVX2(q *uint8, x []float32, inv, zp float32):
// q[i] = clamp(roundEven(x[i]·inv) + zp, 0, 255) for len(x) a multiple of
// 32, rounding as the Go code of QuantizeRowsU8 does (VROUNDPS to nearest
// even; zp is a whole number).
func quantizeU8AVX2() {
	TEXT("quantizeU8AVX2", NOSPLIT, "func(q *uint8, x []float32, inv, zp float32)")
	Doc("quantizeU8AVX2 sets q[i] = clamp(roundEven(x[i]*inv) + zp, 0, 255); len(x) is a multiple of 32.")
	pq := Load(Param("q"), GP64())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	inv, zp, zero, top := reg.Y8, reg.Y9, reg.Y10, reg.Y11
	perm := reg.Y12
	VBROADCASTSS(NewParamAddr("inv", 32), inv)
	VBROADCASTSS(NewParamAddr("zp", 36), zp)
	VXORPS(zero, zero, zero)
	VBROADCASTSS(qc255, top)
	VMOVDQU(qcPerm, perm)
	v := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3}
	Label("qu_loop")
	CMPQ(n, Imm(32))
	JL(LabelRef("qu_done"))
	for u, r := range v {
		VMULPS(Mem{Base: px, Disp: 32 * u}, inv, r)
		VROUNDPS(Imm(0), r, r)
		VADDPS(zp, r, r)
		VMAXPS(zero, r, r)
		VMINPS(top, r, r)
		VCVTPS2DQ(r, r)
	}
	// int32 → uint8: the packs work within 128-bit lanes, VPERMD puts the
	// dwords back in order.
	VPACKSSDW(reg.Y1, reg.Y0, reg.Y0)
	VPACKSSDW(reg.Y3, reg.Y2, reg.Y2)
	VPACKUSWB(reg.Y2, reg.Y0, reg.Y0)
	VPERMD(reg.Y0, perm, reg.Y0)
	VMOVDQU(reg.Y0, Mem{Base: pq})
	ADDQ(Imm(128), px)
	ADDQ(Imm(32), pq)
	SUBQ(Imm(32), n)
	JMP(LabelRef("qu_loop"))
	Label("qu_done")
	VZEROUPPER()
	RET()
}

var qc255, qcPerm Mem

// initInt8Consts emits the constants of quantizeU8AVX2.
func initInt8Consts() {
	qc255 = GLOBL("qc_255", RODATA|NOPTR)
	DATA(0, U32(math.Float32bits(255)))
	qcPerm = GLOBL("qc_perm", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
}
