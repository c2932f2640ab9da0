package main

import (
	"fmt"

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
	name := fmt.Sprintf("qgemmKernel%dx16AVX2", mr)
	if raw {
		name += "Int32"
		TEXT(name, NOSPLIT, "func(k4 int, a *uint8, lda int, b *int8, c *int32, ldc int)")
		Doc(fmt.Sprintf("%s stores the exact int32 %d×16 product of the unsigned byte rows of a (4·k4 bytes each, row stride lda) and the packed signed byte panel b (weights within ±63) to c (row stride ldc).", name, mr))
	} else {
		TEXT(name, NOSPLIT, "func(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, rowScale *float32, rowZp *int32, colScale *float32, colSum *int32, bias *float32)")
		Doc(fmt.Sprintf("%s stores the dequantized %d×16 product of the unsigned byte rows of a (4·k4 bytes each, row stride lda) and the packed signed byte panel b (weights within ±63) to c (row stride ldc): float32(acc − rowZp[i]·colSum[j])·colScale[j]·rowScale[i] + bias[j].", name, mr))
	}
	k := Load(Param("k4"), GP64())
	lda := Load(Param("lda"), GP64())
	rowBase := make([]reg.GPVirtual, (mr+2)/3)
	rowBase[0] = GP64()
	Load(Param("a"), rowBase[0])
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	for r := 1; r < len(rowBase); r++ {
		rowBase[r] = GP64()
		LEAQ(Mem{Base: rowBase[r-1], Index: lda3, Scale: 1}, rowBase[r])
	}
	aAddr := func(i, disp int) Mem {
		m := Mem{Base: rowBase[i/3], Disp: disp}
		if i%3 > 0 {
			m.Index, m.Scale = lda, uint8(i%3)
		}
		return m
	}
	pb := Load(Param("b"), GP64())

	// Registers: 2·mr accumulators, the int16 ones, the broadcast A bytes and
	// two products.
	acc := make([][2]reg.VecPhysical, mr)
	n := 0
	for i := range acc {
		for j := range acc[i] {
			acc[i][j] = yreg(n)
			n++
		}
	}
	ones, bc, t0, t1 := yreg(n), yreg(n+1), yreg(n+2), yreg(n+3)
	if n+4 > 16 {
		panic("too many registers")
	}
	tmp := [2]reg.VecPhysical{t0, t1}
	for i := range acc {
		for j := range acc[i] {
			VPXOR(acc[i][j], acc[i][j], acc[i][j])
		}
	}
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
	const unroll = 4
	Label(name + "_loop4")
	CMPQ(k, Imm(unroll))
	JL(LabelRef(name + "_tail"))
	PREFETCHT0(Mem{Base: pb, Disp: 64 * 8})
	PREFETCHT0(Mem{Base: pb, Disp: 64*8 + 64})
	for u := 0; u < unroll; u++ {
		step(u)
	}
	for _, r := range rowBase {
		ADDQ(U32(4*unroll), r)
	}
	ADDQ(U32(64*unroll), pb)
	SUBQ(Imm(unroll), k)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_tail")
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	step(0)
	for _, r := range rowBase {
		ADDQ(U32(4), r)
	}
	ADDQ(U32(64), pb)
	DECQ(k)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	if raw {
		for i := 0; i < mr; i++ {
			for j := 0; j < 2; j++ {
				VMOVDQU(acc[i][j], Mem{Base: pc, Disp: 32 * j})
			}
			if i < mr-1 {
				ADDQ(ldc, pc)
			}
		}
		VZEROUPPER()
		RET()
		return
	}
	rs := Load(Param("rowScale"), GP64())
	rz := Load(Param("rowZp"), GP64())
	cs := Load(Param("colScale"), GP64())
	csum := Load(Param("colSum"), GP64())
	bias := Load(Param("bias"), GP64())
	for i := 0; i < mr; i++ {
		VPBROADCASTD(Mem{Base: rz, Disp: 4 * i}, bc)
		VBROADCASTSS(Mem{Base: rs, Disp: 4 * i}, ones)
		for j := 0; j < 2; j++ {
			x := acc[i][j]
			VPMULLD(Mem{Base: csum, Disp: 32 * j}, bc, tmp[j])
			VPSUBD(tmp[j], x, x)
			VCVTDQ2PS(x, x)
			VMULPS(Mem{Base: cs, Disp: 32 * j}, x, x)
			VMULPS(ones, x, x)
			VADDPS(Mem{Base: bias, Disp: 32 * j}, x, x)
			VMOVUPS(x, Mem{Base: pc, Disp: 32 * j})
		}
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}
