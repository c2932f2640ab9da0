// Command asmgen generates the amd64 assembly kernels of package tensor with
// avo. It lives in its own module so that avo is not a dependency of the main
// module's build. Run it with `go generate ./tensor` (or, from this
// directory, `go run . -out ../../kernels_amd64.s -stubs ../../kernels_amd64.go -pkg tensor`).
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func main() {

	ConstraintExpr("!purego")

	// Each micro-kernel comes in two forms: one adds alpha·AB to C, one
	// (…Store) overwrites C, for the first block of a product with beta = 0.
	for _, store := range []bool{false, true} {
		gemmAVX512(12, 12, 2, store, false)
		gemmAVX512(8, 12, 2, store, false) // edge kernels for the last rows of op(A)
		gemmAVX512(4, 12, 2, store, false)
		// Products of a few rows with packed weights stream B from memory:
		// these prefetch the next B micro-panel into L2 while they compute.
		gemmAVX512(12, 12, 2, store, true)
		gemmAVX512(8, 12, 2, store, true)
		gemmAVX512(4, 12, 2, store, true)
		// Products of a few rows with packed weights read A unpacked
		// (row-major), and prefetch the next B micro-panel.
		gemmAVX512Direct(12, 2, store, true)
		gemmAVX512Direct(8, 2, store, true)
		gemmAVX512Direct(4, 2, store, true)
		gemmAVX2(6, 6, 2, store)
		gemmAVX2(4, 6, 2, store)
		gemmAVX2(2, 6, 2, store)
	}
	// The int8 kernels (u8 activations × s8 weights within ±63, int32 sums),
	// for every row count of the last rows of a block, dequantizing or raw:
	// AVX2 (6 rows at most) and AVX512-VNNI (12).
	for _, raw := range []bool{false, true} {
		for mr := 6; mr >= 1; mr-- {
			qgemmAVX2(mr, raw)
		}
		for mr := 12; mr >= 1; mr-- {
			qgemmVNNI(mr, raw)
		}
	}
	// The bf16 kernels (bfloat16 activations × bfloat16 weights, float32
	// sums), emulated with FMA, for every row count.
	initBF16Consts()
	for mr := 6; mr >= 1; mr-- {
		bgemmAVX2(mr)
	}
	// With AVX512_BF16's VDPBF16PS, on bfloat16 rows of A, 12 rows at most.
	for mr := 12; mr >= 1; mr-- {
		bgemmAVX512BF16(mr)
	}
	roundBF16AVX2()
	packBF16AVX2()
	initInt8Consts()
	minMaxAVX2()
	quantizeU8AVX2()
	packTransAVX2()
	packCopyAVX2()
	dotAVX2()
	axpyAVX2()
	initConsts()
	expSumAVX2()
	geluAVX2()
	geluTanhAVX2()
	siluMulAVX2()
	geluBackwardAVX2()
	geluTanhBackwardAVX2()
	maxAVX2()
	scaleAVX2()
	sumAVX2()
	sumSqDevAVX2()
	normAffineAVX2()

	Generate()
}

// gemmAVX512 emits sgemmKernel{mr}x{16*nv}AVX512[s{stride}]:
// c[i*ldc+j] += alpha·Σ_p a[p*stride+i]·b[p*nr+j] for a packed A micro-panel
// (k steps of stride values, of which the first mr rows are used) and a
// packed B micro-panel (k steps of nr values), i < mr, j < nr. Kernels with
// mr < stride serve the last, partial panel of op(A). With next set
// (…Next), the kernel also prefetches into L2 the B micro-panel that follows
// b in memory (the next k×nr values).
func gemmAVX512(mr, stride, nv int, store, next bool) {
	gemmKernel(avx512, mr, stride, nv, store, next, false)
}

// gemmAVX512Direct emits sgemmKernel{mr}x{16*nv}AVX512Direct[Next], which is
// gemmAVX512's kernel reading A as it is stored, row-major with stride lda,
// instead of packed: c[i*ldc+j] += alpha·Σ_p a[i*lda+p]·b[p*nr+j].
func gemmAVX512Direct(mr, nv int, store, next bool) {
	gemmKernel(avx512, mr, mr, nv, store, next, true)
}

// vectorISA is what the GEMM kernels of one vector width differ in.
type vectorISA struct {
	name      string
	lanes     int                         // float32s in a vector register
	regs      int                         // vector registers
	reg       func(i int) reg.VecPhysical // vector register i
	zero      func(x reg.VecPhysical)     // x = 0
	bPrefetch int                         // cache lines of B prefetched per unrolled loop
	bAhead    int                         // how many steps ahead B is prefetched
}

var (
	avx512 = vectorISA{"AVX512", 16, 32, zreg, func(x reg.VecPhysical) { VPXORD(x, x, x) }, 2, 8}
	// AVX2: every line of B, 24 steps ahead (1.5 KB, into the next panel at
	// a panel's end). On cpu family 25 model 1 this gained 5–8 % on the
	// packed-weight products of BERT, GPT-2 and Qwen2 over one line in four
	// 8 steps ahead (BenchmarkSgemmPackedB at 2 threads; 16 and 32 steps
	// ahead, or two lines, gained less).
	avx2 = vectorISA{"AVX2", 8, 16, yreg, func(x reg.VecPhysical) { VXORPS(x, x, x) }, 4, 24}
)

// gemmKernel emits the micro-kernels of gemmAVX512, gemmAVX512Direct and
// gemmAVX2.
func gemmKernel(isa vectorISA, mr, stride, nv int, store, next, direct bool) {
	nr := isa.lanes * nv
	name := fmt.Sprintf("sgemmKernel%dx%d%s", mr, nr, isa.name)
	switch {
	case direct:
		name += "Direct"
	case stride != mr:
		name += fmt.Sprintf("s%d", stride)
	}
	if next {
		name += "Next"
	}
	op := "adds"
	if store {
		name += "Store"
		op = "stores"
	}
	var doc string
	if direct {
		TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)")
		doc = fmt.Sprintf("%s %s the %d×%d product of the rows of a (k columns, row stride lda) and the packed panel b (k×%d), times alpha, to c (row stride ldc); k ≥ 0.", name, op, mr, nr, nr)
	} else {
		TEXT(name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, alpha float32)")
		doc = fmt.Sprintf("%s %s the %d×%d product of packed panels a (k×%d, first %d of each step) and b (k×%d), times alpha, to c (row stride ldc); k ≥ 0.", name, op, mr, nr, stride, mr, nr)
	}
	if next {
		doc += " It prefetches the next panel of b into L2."
	}
	Doc(doc)
	k := Load(Param("k"), GP64())

	// aAddr is the address of row i of A at step u of the unrolled loop;
	// advanceA moves A on by steps steps.
	var aAddr func(i, u int) Mem
	var advanceA func(steps int)
	var pa reg.GPVirtual
	if direct {
		// Row i is at rowBase[i/3] + (i%3)·lda: base pointers three rows
		// apart, and lda (in bytes) as a scaled index.
		lda := Load(Param("lda"), GP64())
		SHLQ(Imm(2), lda)
		rowBase, rowAddr := rowAddressing(mr, lda)
		aAddr = func(i, u int) Mem { return rowAddr(i, 4*u) }
		advanceA = func(steps int) {
			for _, r := range rowBase {
				ADDQ(U32(4*steps), r)
			}
		}
	} else {
		pa = GP64()
		Load(Param("a"), pa)
		aAddr = func(i, u int) Mem { return Mem{Base: pa, Disp: 4 * (u*stride + i)} }
		advanceA = func(steps int) { ADDQ(U32(4*stride*steps), pa) }
	}
	pb := Load(Param("b"), GP64())
	// pn walks the next B panel, k·nr floats after b, as fast as pb walks
	// b: every line of a step (nr floats) is prefetched.
	var pn reg.GPVirtual
	if next {
		pn = GP64()
		MOVQ(k, pn)
		SHLQ(Imm(uint64(math.Log2(float64(4*nr)))), pn)
		ADDQ(pb, pn)
	}
	pc := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)

	acc := make([][]reg.VecPhysical, mr)
	n := 0
	for i := range acc {
		acc[i] = make([]reg.VecPhysical, nv)
		for j := range acc[i] {
			acc[i][j] = isa.reg(n)
			n++
		}
	}
	bv := make([]reg.VecPhysical, nv)
	for j := range bv {
		bv[j] = isa.reg(n)
		n++
	}
	t0, t1 := isa.reg(n), isa.reg(n+1)
	if n+2 > isa.regs {
		panic("too many registers")
	}

	// Prefetch the c tile.
	cp := GP64()
	MOVQ(pc, cp)
	for i := 0; i < mr; i++ {
		PREFETCHT0(Mem{Base: cp})
		PREFETCHT0(Mem{Base: cp, Disp: 4*nr - 4})
		ADDQ(ldc, cp)
	}
	for i := range acc {
		for j := range acc[i] {
			isa.zero(acc[i][j])
		}
	}

	step := func(u int) {
		for j := range bv {
			VMOVUPS(Mem{Base: pb, Disp: 4 * (u*nr + isa.lanes*j)}, bv[j])
		}
		for i := 0; i < mr; i++ {
			t := t0
			if i%2 == 1 {
				t = t1
			}
			VBROADCASTSS(aAddr(i, u), t)
			for j := range bv {
				VFMADD231PS(bv[j], t, acc[i][j])
			}
		}
	}
	advance := func(steps int) {
		advanceA(steps)
		ADDQ(U32(4*nr*steps), pb)
		if next {
			ADDQ(U32(4*nr*steps), pn)
		}
	}
	prefetch := func() {
		for l := 0; l < isa.bPrefetch; l++ {
			PREFETCHT0(Mem{Base: pb, Disp: 4*nr*isa.bAhead + 64*l})
		}
		if !direct {
			PREFETCHT0(Mem{Base: pa, Disp: 4 * stride * 8})
		}
	}
	unrolledStep := func(u int) {
		if next {
			for l := 0; l < 4*nr/64; l++ {
				PREFETCHT1(Mem{Base: pn, Disp: 4*nr*u + 64*l})
			}
		}
		step(u)
	}
	kLoop(name, k, prefetch, unrolledStep, step, advance)
	alphaOffset := 40
	if direct {
		alphaOffset = 48
	}
	VBROADCASTSS(NewParamAddr("alpha", alphaOffset), t0)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			if store {
				VMULPS(t0, acc[i][j], acc[i][j])
			} else {
				VFMADD213PS(Mem{Base: pc, Disp: 4 * isa.lanes * j}, t0, acc[i][j])
			}
			VMOVUPS(acc[i][j], Mem{Base: pc, Disp: 4 * isa.lanes * j})
		}
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	VZEROUPPER()
	RET()
}

// rowAddressing loads Param("a") and returns the base registers and the
// addressing of mr rows of a row-major A with row stride lda (in bytes):
// row i is at rowBase[i/3] + (i%3)·lda, base pointers three rows apart and
// lda as a scaled index; rowAddr(i, disp) is row i's address plus disp.
func rowAddressing(mr int, lda reg.Register) (rowBase []reg.GPVirtual, rowAddr func(i, disp int) Mem) {
	rowBase = make([]reg.GPVirtual, (mr+2)/3)
	rowBase[0] = GP64()
	Load(Param("a"), rowBase[0])
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	for r := 1; r < len(rowBase); r++ {
		rowBase[r] = GP64()
		LEAQ(Mem{Base: rowBase[r-1], Index: lda3, Scale: 1}, rowBase[r])
	}
	return rowBase, func(i, disp int) Mem {
		m := Mem{Base: rowBase[i/3], Disp: disp}
		if i%3 > 0 {
			m.Index, m.Scale = lda, uint8(i%3)
		}
		return m
	}
}

// panelAccumulators returns the 2·mr ymm accumulators of a 16-column panel
// kernel (row i's columns 0–7 and 8–15 in Y(2i) and Y(2i+1)), zeroed, and
// the index of the first ymm register left.
func panelAccumulators(mr int) ([][2]reg.VecPhysical, int) {
	acc := make([][2]reg.VecPhysical, mr)
	for i := range acc {
		for j := range acc[i] {
			acc[i][j] = yreg(2*i + j)
			VPXOR(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	return acc, 2 * mr
}

// panelLoop emits the k loop of the int8 and bf16 panel kernels, then falls
// through to label name_store: k groups, each step(u) reading group u of
// the unrolled ones (A at aBytes·u past the row bases, B at 64·u past pb),
// four at a time with the B panel prefetched 8 groups ahead, then one at a
// time.
func panelLoop(name string, k, pb reg.Register, rowBase []reg.GPVirtual, aBytes int, step func(u int)) {
	advance := func(groups int) {
		for _, r := range rowBase {
			ADDQ(U32(aBytes*groups), r)
		}
		ADDQ(U32(64*groups), pb)
	}
	prefetch := func() {
		PREFETCHT0(Mem{Base: pb, Disp: 64 * 8})
		PREFETCHT0(Mem{Base: pb, Disp: 64*8 + 64})
	}
	kLoop(name, k, prefetch, step, step, advance)
}

// kLoop emits the k loop every GEMM kernel shares, then falls through to
// label name_store: while k ≥ 4, prefetch then unrolledStep(0…3) and
// advance(4); then, one step at a time, tailStep(0) and advance(1).
func kLoop(name string, k reg.Register, prefetch func(), unrolledStep, tailStep func(u int), advance func(steps int)) {
	const unroll = 4
	Label(name + "_loop4")
	CMPQ(k, Imm(unroll))
	JL(LabelRef(name + "_tail"))
	prefetch()
	for u := 0; u < unroll; u++ {
		unrolledStep(u)
	}
	advance(unroll)
	SUBQ(Imm(unroll), k)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_tail")
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	tailStep(0)
	advance(1)
	DECQ(k)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
}

// gemmAVX2 is gemmAVX512 for 256-bit vectors (nr = 8*nv).
func gemmAVX2(mr, stride, nv int, store bool) {
	gemmKernel(avx2, mr, stride, nv, store, false, false)
}

// packTransAVX2 emits packTransAVX2(dst, src *float32, ld, rows, kc int):
// dst[q*rows+i] = src[i*ld+q] for i < rows, q < kc, with rows a multiple of 4
// and kc a multiple of 8. It interleaves rows of A (or of Bᵀ) into the
// k-major micro-panels the GEMM kernels read, with 4×4 in-register
// transposes in each 128-bit lane.
// packCopyAVX2 emits packCopyAVX2(dst, src *float32, ld, w, kc int), which
// copies kc rows of w floats (a multiple of 4) from src (row stride ld) to
// dst (row stride w): the packing of op(A) when A is transposed and of op(B)
// when B is not.
func packCopyAVX2() {
	TEXT("packCopyAVX2", NOSPLIT, "func(dst, src *float32, ld, w, kc int)")
	Doc("packCopyAVX2 sets dst[q*w+i] = src[q*ld+i] for i < w (a multiple of 4), q < kc.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	w := Load(Param("w"), GP64())
	kc := Load(Param("kc"), GP64())
	SHLQ(Imm(2), ld)
	rowBytes := GP64()
	MOVQ(w, rowBytes)
	SHLQ(Imm(2), rowBytes)
	j, end := GP64(), GP64()
	Label("pc_row")
	TESTQ(kc, kc)
	JZ(LabelRef("pc_done"))
	XORQ(j, j)
	Label("pc_8")
	LEAQ(Mem{Base: j, Disp: 32}, end)
	CMPQ(end, rowBytes)
	JG(LabelRef("pc_4"))
	VMOVUPS(Mem{Base: src, Index: j, Scale: 1}, reg.Y0)
	VMOVUPS(reg.Y0, Mem{Base: dst, Index: j, Scale: 1})
	ADDQ(Imm(32), j)
	JMP(LabelRef("pc_8"))
	Label("pc_4")
	CMPQ(j, rowBytes)
	JGE(LabelRef("pc_next"))
	VMOVUPS(Mem{Base: src, Index: j, Scale: 1}, reg.X0)
	VMOVUPS(reg.X0, Mem{Base: dst, Index: j, Scale: 1})
	Label("pc_next")
	ADDQ(ld, src)
	ADDQ(rowBytes, dst)
	DECQ(kc)
	JMP(LabelRef("pc_row"))
	Label("pc_done")
	VZEROUPPER()
	RET()
}

func packTransAVX2() {
	TEXT("packTransAVX2", NOSPLIT, "func(dst, src *float32, ld, rows, kc, w int)")
	Doc("packTransAVX2 sets dst[q*w+i] = src[i*ld+q] for i < rows (even, at most w), q < kc (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	rows := Load(Param("rows"), GP64())
	kc := Load(Param("kc"), GP64())
	SHLQ(Imm(2), ld)
	rowBytes := Load(Param("w"), GP64()) // w*4: stride between packed steps
	SHLQ(Imm(2), rowBytes)
	g := GP64()
	XORQ(g, g)
	p0, p1, p2, p3, d, q := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	// Groups of four rows, then a last pair (an mr = 6 panel is 4 + 2).
	four := GP64()
	MOVQ(rows, four)
	SHRQ(Imm(2), four)
	SHLQ(Imm(2), four)
	Label("pt_group")
	CMPQ(g, four)
	JGE(LabelRef("pt_pair"))
	// p0 = src + g*ld (g counts rows), p1..p3 the next rows.
	MOVQ(g, p0)
	IMULQ(ld, p0)
	ADDQ(src, p0)
	LEAQ(Mem{Base: p0, Index: ld, Scale: 1}, p1)
	LEAQ(Mem{Base: p1, Index: ld, Scale: 1}, p2)
	LEAQ(Mem{Base: p2, Index: ld, Scale: 1}, p3)
	LEAQ(Mem{Base: dst, Index: g, Scale: 4}, d)
	MOVQ(kc, q)
	countedLoop("pt_q", q, 8, "pt_next", []reg.Register{p0, p1, p2, p3}, func() {
		VMOVUPS(Mem{Base: p0}, reg.Y0)
		VMOVUPS(Mem{Base: p1}, reg.Y1)
		VMOVUPS(Mem{Base: p2}, reg.Y2)
		VMOVUPS(Mem{Base: p3}, reg.Y3)
		VUNPCKLPS(reg.Y1, reg.Y0, reg.Y4)          // r0[0] r1[0] r0[1] r1[1]
		VUNPCKLPS(reg.Y3, reg.Y2, reg.Y5)          // r2[0] r3[0] r2[1] r3[1]
		VUNPCKHPS(reg.Y1, reg.Y0, reg.Y6)          // r0[2] r1[2] r0[3] r1[3]
		VUNPCKHPS(reg.Y3, reg.Y2, reg.Y7)          // r2[2] r3[2] r2[3] r3[3]
		VSHUFPS(Imm(0x44), reg.Y5, reg.Y4, reg.Y0) // column 0 (and 4)
		VSHUFPS(Imm(0xEE), reg.Y5, reg.Y4, reg.Y1) // column 1 (and 5)
		VSHUFPS(Imm(0x44), reg.Y7, reg.Y6, reg.Y2) // column 2 (and 6)
		VSHUFPS(Imm(0xEE), reg.Y7, reg.Y6, reg.Y3) // column 3 (and 7)
		cols := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3}
		xs := []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3}
		for j := 0; j < 4; j++ {
			VMOVUPS(xs[j], Mem{Base: d})
			ADDQ(rowBytes, d)
		}
		for j := 0; j < 4; j++ {
			VEXTRACTF128(Imm(1), cols[j], Mem{Base: d})
			ADDQ(rowBytes, d)
		}
	})
	Label("pt_next")
	ADDQ(Imm(4), g)
	JMP(LabelRef("pt_group"))
	Label("pt_pair")
	CMPQ(g, rows)
	JGE(LabelRef("pt_done"))
	// The last two rows: 8 steps at a time, a pair of floats per step.
	MOVQ(g, p0)
	IMULQ(ld, p0)
	ADDQ(src, p0)
	LEAQ(Mem{Base: p0, Index: ld, Scale: 1}, p1)
	LEAQ(Mem{Base: dst, Index: g, Scale: 4}, d)
	MOVQ(kc, q)
	countedLoop("pt_pq", q, 8, "pt_done", []reg.Register{p0, p1}, func() {
		VMOVUPS(Mem{Base: p0}, reg.Y0)
		VMOVUPS(Mem{Base: p1}, reg.Y1)
		VUNPCKLPS(reg.Y1, reg.Y0, reg.Y4) // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
		VUNPCKHPS(reg.Y1, reg.Y0, reg.Y5) // r0[2] r1[2] r0[3] r1[3] | r0[6] r1[6] r0[7] r1[7]
		VEXTRACTF128(Imm(1), reg.Y4, reg.X6)
		VEXTRACTF128(Imm(1), reg.Y5, reg.X7)
		for _, x := range []reg.VecPhysical{reg.X4, reg.X5, reg.X6, reg.X7} {
			VMOVLPS(x, Mem{Base: d})
			ADDQ(rowBytes, d)
			VMOVHPS(x, Mem{Base: d})
			ADDQ(rowBytes, d)
		}
	})
	Label("pt_done")
	VZEROUPPER()
	RET()
}

// dotAVX2 emits dotAVX2(x, y []float32) float32 over min(len) elements; the
// caller passes equal lengths.
func dotAVX2() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y []float32) float32")
	Doc("dotAVX2 returns the dot product of x and y[:len(x)].")
	px := Load(Param("x").Base(), GP64())
	py := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	countedLoop("dot_loop32", n, 32, "dot_loop8", []reg.Register{px, py}, func() {
		for u, a := range acc {
			VMOVUPS(Mem{Base: px, Disp: 32 * u}, reg.Y4)
			VFMADD231PS(Mem{Base: py, Disp: 32 * u}, reg.Y4, a)
		}
	})
	countedLoop("dot_loop8", n, 8, "dot_reduce", []reg.Register{px, py}, func() {
		VMOVUPS(Mem{Base: px}, reg.Y4)
		VFMADD231PS(Mem{Base: py}, reg.Y4, reg.Y0)
	})
	Label("dot_reduce")
	reduceSum()
	Label("dot_tail")
	TESTQ(n, n)
	JZ(LabelRef("dot_done"))
	VMOVSS(Mem{Base: px}, reg.X1)
	VFMADD231SS(Mem{Base: py}, reg.X1, reg.X0)
	ADDQ(Imm(4), px)
	ADDQ(Imm(4), py)
	DECQ(n)
	JMP(LabelRef("dot_tail"))
	Label("dot_done")
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	RET()
}

// axpyAVX2 emits axpyAVX2(alpha float32, x, y []float32): y += alpha*x over len(x).
func axpyAVX2() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y []float32)")
	Doc("axpyAVX2 sets y[i] += alpha*x[i] for i < len(x).")
	alpha := Load(Param("alpha"), XMM())
	px := Load(Param("x").Base(), GP64())
	py := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	VBROADCASTSS(alpha, reg.Y15)
	countedLoop("axpy_loop32", n, 32, "axpy_loop8", []reg.Register{px, py}, func() {
		for u := 0; u < 4; u++ {
			r := yreg(u)
			VMOVUPS(Mem{Base: py, Disp: 32 * u}, r)
			VFMADD231PS(Mem{Base: px, Disp: 32 * u}, reg.Y15, r)
			VMOVUPS(r, Mem{Base: py, Disp: 32 * u})
		}
	})
	countedLoop("axpy_loop8", n, 8, "axpy_tail", []reg.Register{px, py}, func() {
		VMOVUPS(Mem{Base: py}, reg.Y0)
		VFMADD231PS(Mem{Base: px}, reg.Y15, reg.Y0)
		VMOVUPS(reg.Y0, Mem{Base: py})
	})
	Label("axpy_tail")
	TESTQ(n, n)
	JZ(LabelRef("axpy_done"))
	VMOVSS(Mem{Base: py}, reg.X0)
	VFMADD231SS(Mem{Base: px}, reg.X15, reg.X0)
	VMOVSS(reg.X0, Mem{Base: py})
	ADDQ(Imm(4), px)
	ADDQ(Imm(4), py)
	DECQ(n)
	JMP(LabelRef("axpy_tail"))
	Label("axpy_done")
	VZEROUPPER()
	RET()
}

func zreg(i int) reg.VecPhysical {
	return []reg.VecPhysical{
		reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
	}[i]
}

func yreg(i int) reg.VecPhysical {
	return []reg.VecPhysical{
		reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
	}[i]
}

// Vector constants (8 copies each, for ymm memory operands).
var (
	cLog2e, cLn2Hi, cLn2Lo, cExpMax, cExpMin, cInf, cOne, cHalf Mem
	cP                                                          [6]Mem
	c126                                                        Mem
	cAbs, cInvSqrt2                                             Mem
	cErfc                                                       [10]Mem
	cGeluC, cGeluM2K                                            Mem
)

func vconst(name string, bits uint32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(bits))
	}
	return m
}

func vconstf(name string, f float32) Mem { return vconst(name, math.Float32bits(f)) }

func initConsts() {
	cLog2e = vconstf("c_log2e", 1.44269504088896341)
	cLn2Hi = vconstf("c_ln2hi", 0.693359375)
	cLn2Lo = vconstf("c_ln2lo", -2.12194440e-4)
	cExpMax = vconstf("c_expmax", 88.72283935546875)
	cExpMin = vconstf("c_expmin", -87)
	cInf = vconst("c_inf", 0x7f800000)
	cOne = vconstf("c_one", 1)
	cHalf = vconstf("c_half", 0.5)
	for i, v := range []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		cP[i] = vconstf(fmt.Sprintf("c_expp%d", i), v)
	}
	c126 = vconst("c_126", 126)
	cAbs = vconst("c_absmask", 0x7fffffff)
	cInvSqrt2 = vconstf("c_invsqrt2", 0.70710678118654752)
	for i, v := range []float32{0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223} {
		cErfc[i] = vconstf(fmt.Sprintf("c_erfc%d", i), v)
	}
	cGeluC = vconstf("c_geluc", 0.044715)
	cGeluM2K = vconstf("c_gelum2k", -2*0.7978845608028654)
	cInvSqrt2Pi = vconstf("c_invsqrt2pi", 0.3989422804014327)
	cMinusHalf = vconstf("c_minushalf", -0.5)
	cGeluK = vconstf("c_geluk", 0.7978845608028654)
	cGeluC3 = vconstf("c_geluc3", 3*0.044715)
}

// vexp emits y = exp(v) for 8 lanes (v is kept), with temporaries n, p, r.
// Results below 2e-38 (v ≤ -87) are flushed to 0, above 88.72 +Inf, NaN
// stays NaN; otherwise within 2 ulp of e^v, as the scalar Exp.
func vexp(v, y, n, p, r reg.VecPhysical) { run(vexpSteps(v, y, n, p, r)) }

// vexpSteps is vexp as a list of one-instruction steps, for interleave.
func vexpSteps(v, y, n, p, r reg.VecPhysical) []func() {
	st := []func(){
		func() { VMINPS(cExpMax, v, y) },
		func() { VMAXPS(cExpMin, y, y) },
		func() { VMULPS(cLog2e, y, n) },
		func() { VROUNDPS(Imm(0), n, n) },
		func() { VFNMADD231PS(cLn2Hi, n, y) },
		func() { VFNMADD231PS(cLn2Lo, n, y) },
		func() { VMOVUPS(cP[0], p) },
	}
	for i := 1; i < 6; i++ {
		st = append(st, func() { VFMADD213PS(cP[i], y, p) })
	}
	return append(st,
		func() { VMULPS(y, y, r) },
		func() { VFMADD213PS(y, r, p) },
		func() { VADDPS(cOne, p, p) },
		// Multiply by 2^(n-1) then by 2, so that n = 128 does not overflow
		// the exponent field.
		func() { VCVTPS2DQ(n, n) },
		func() { VPADDD(c126, n, n) },
		func() { VPSLLD(Imm(23), n, n) },
		func() { VMULPS(n, p, p) },
		func() { VADDPS(p, p, y) },
		func() { VCMPPS(Imm(1), cExpMin, v, r) }, // v < min
		func() { VANDNPS(y, r, y) },
		func() { VCMPPS(Imm(14), cExpMax, v, r) }, // v > max
		func() { VBLENDVPS(r, cInf, y, y) },
		func() { VCMPPS(Imm(3), v, v, r) }, // NaN
		func() { VBLENDVPS(r, v, y, y) },
	)
}

// run emits the steps in order.
func run(steps []func()) {
	for _, f := range steps {
		f()
	}
}

// interleave emits two step lists of the same length alternately, so that
// two independent dependency chains sit side by side in the instruction
// stream (the exp and erfc chains are long and latency-bound otherwise).
func interleave(a, b []func()) {
	if len(a) != len(b) {
		panic("interleave: lengths differ")
	}
	for i := range a {
		a[i]()
		b[i]()
	}
}

// expSumAVX2 emits expSumAVX2(out, x []float32, shift float32) float32:
// out[i] = exp(x[i]-shift) for i < len(x) (a multiple of 8), returning the sum.
func expSumAVX2() {
	TEXT("expSumAVX2", NOSPLIT, "func(out, x []float32, shift float32) float32")
	Doc("expSumAVX2 sets out[i] = exp(x[i]-shift) for i < len(x), a multiple of 8, and returns their sum.")
	po := Load(Param("out").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	shift := Load(Param("shift"), XMM())
	VBROADCASTSS(shift, reg.Y14)
	VXORPS(reg.Y0, reg.Y0, reg.Y0) // sums
	VXORPS(reg.Y15, reg.Y15, reg.Y15)
	body := func(d int, r []reg.VecPhysical, sum reg.VecPhysical) []func() {
		st := []func(){
			func() { VMOVUPS(Mem{Base: px, Disp: d}, r[0]) },
			func() { VSUBPS(reg.Y14, r[0], r[0]) },
		}
		st = append(st, vexpSteps(r[0], r[1], r[2], r[3], r[4])...)
		return append(st,
			func() { VMOVUPS(r[1], Mem{Base: po, Disp: d}) },
			func() { VADDPS(r[1], sum, sum) },
		)
	}
	ra := []reg.VecPhysical{reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5}
	rb := []reg.VecPhysical{reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10}
	countedLoop("es_loop16", n, 16, "es_loop8", []reg.Register{px, po}, func() {
		interleave(body(0, ra, reg.Y0), body(32, rb, reg.Y15))
	})
	countedLoop("es_loop8", n, 8, "es_done", []reg.Register{px, po}, func() {
		run(body(0, ra, reg.Y0))
	})
	Label("es_done")
	VADDPS(reg.Y15, reg.Y0, reg.Y0)
	reduceLanes(reg.Y0, reg.X0, reg.X1, VADDPS, VADDSS)
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	RET()
}

// geluAVX2 emits geluAVX2(out, x []float32): out = x·Φ(x) for len(x) a
// multiple of 8, with Φ from the erfc fit used by the scalar code.
func geluAVX2() {
	TEXT("geluAVX2", NOSPLIT, "func(out, x []float32)")
	Doc("geluAVX2 sets out[i] = x[i]·Φ(x[i]) for i < len(x), a multiple of 8.")
	po := Load(Param("out").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	one := reg.Y14
	VMOVUPS(cOne, one)
	// body computes 8 lanes at byte offset d with 7 registers; two bodies
	// with disjoint registers are interleaved per iteration.
	body := func(d int, r []reg.VecPhysical) []func() {
		v, z, t, p, y, e, q := r[0], r[1], r[2], r[3], r[4], r[5], r[6]
		st := []func(){
			func() { VMOVUPS(Mem{Base: px, Disp: d}, v) },
			func() { VANDPS(cAbs, v, z) },
			func() { VMULPS(cInvSqrt2, z, z) }, // z = |x|/√2
			func() { VMULPS(cHalf, z, t) },
			func() { VADDPS(one, t, t) },
			func() { VDIVPS(t, one, t) }, // t = 1/(1+z/2)
			func() { VMOVUPS(cErfc[0], p) },
		}
		for i := 1; i < 10; i++ {
			st = append(st, func() { VFMADD213PS(cErfc[i], t, p) })
		}
		st = append(st, func() { VFNMADD231PS(z, z, p) }) // p -= z²
		st = append(st, vexpSteps(p, y, e, q, z)...)
		return append(st,
			func() { VMULPS(t, y, y) },       // erfc(z)
			func() { VMULPS(cHalf, y, y) },   // Φ(-|x|)
			func() { VSUBPS(y, one, e) },     // Φ(|x|)
			func() { VBLENDVPS(v, y, e, e) }, // x < 0 ? Φ(-|x|) : Φ(|x|)
			func() { VMULPS(v, e, e) },
			func() { VMOVUPS(e, Mem{Base: po, Disp: d}) },
		)
	}
	ra := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6}
	rb := []reg.VecPhysical{reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13}
	countedLoop("gelu_loop16", n, 16, "gelu_loop8", []reg.Register{px, po}, func() {
		interleave(body(0, ra), body(32, rb))
	})
	countedLoop("gelu_loop8", n, 8, "gelu_done", []reg.Register{px, po}, func() {
		run(body(0, ra))
	})
	Label("gelu_done")
	VZEROUPPER()
	RET()
}

// geluTanhAVX2 emits geluTanhAVX2(out, x []float32): out = x/(1+exp(-2u)),
// u = √(2/π)(x+0.044715x³), for len(x) a multiple of 8.
func geluTanhAVX2() {
	TEXT("geluTanhAVX2", NOSPLIT, "func(out, x []float32)")
	Doc("geluTanhAVX2 sets out[i] to the tanh-approximate GELU of x[i] for i < len(x), a multiple of 8.")
	po := Load(Param("out").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	loop8("gelut", n, []reg.Register{px, po}, func() {
		v, w := reg.Y0, reg.Y1
		VMOVUPS(Mem{Base: px}, v)
		geluTanhDenominator(v, w, w)
		VDIVPS(reg.Y2, v, reg.Y2)
		VMOVUPS(reg.Y2, Mem{Base: po})
	})
}

// geluTanhDenominator emits Y2 = 1 + exp(-2u), u = √(2/π)(x+0.044715x³),
// for x in v, leaving x² in sq (which may be w); it overwrites w and Y3–Y5.
func geluTanhDenominator(v, sq, w reg.VecPhysical) {
	VMULPS(v, v, sq)
	VMULPS(cGeluC, sq, w)
	VADDPS(cOne, w, w)
	VMULPS(v, w, w)
	VMULPS(cGeluM2K, w, w) // -2u
	vexp(w, reg.Y2, reg.Y3, reg.Y4, reg.Y5)
	VADDPS(cOne, reg.Y2, reg.Y2)
}

// siluMulAVX2 emits siluMulAVX2(out, g, u []float32): out = g/(1+exp(-g))·u,
// SwiGLU's gate times its up projection, for len(g) a multiple of 8 (out may
// be g or u).
func siluMulAVX2() {
	TEXT("siluMulAVX2", NOSPLIT, "func(out, g, u []float32)")
	Doc("siluMulAVX2 sets out[i] = g[i]/(1+exp(-g[i]))·u[i] for i < len(g), a multiple of 8.")
	po := Load(Param("out").Base(), GP64())
	pg := Load(Param("g").Base(), GP64())
	pu := Load(Param("u").Base(), GP64())
	n := Load(Param("g").Len(), GP64())
	zero := reg.Y6
	VXORPS(zero, zero, zero)
	loop8("silum", n, []reg.Register{pg, pu, po}, func() {
		v, w := reg.Y0, reg.Y1
		VMOVUPS(Mem{Base: pg}, v)
		VSUBPS(v, zero, w) // -g
		vexp(w, reg.Y2, reg.Y3, reg.Y4, reg.Y5)
		VADDPS(cOne, reg.Y2, reg.Y2)
		VDIVPS(reg.Y2, v, reg.Y2)
		VMULPS(Mem{Base: pu}, reg.Y2, reg.Y2)
		VMOVUPS(reg.Y2, Mem{Base: po})
	})
}

// geluBackwardAVX2 emits geluBackwardAVX2(dx, x, dout []float32):
// dx += dout·(Φ(x) + x·φ(x)) for len(x) a multiple of 8.
func geluBackwardAVX2() {
	TEXT("geluBackwardAVX2", NOSPLIT, "func(dx, x, dout []float32)")
	Doc("geluBackwardAVX2 adds dout[i]·GELU'(x[i]) to dx[i] for i < len(x), a multiple of 8.")
	pd := Load(Param("dx").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	pg := Load(Param("dout").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	loop8("gelub", n, []reg.Register{px, pd, pg}, func() {
		v, z, t, p := reg.Y0, reg.Y1, reg.Y2, reg.Y3
		VMOVUPS(Mem{Base: px}, v)
		VANDPS(cAbs, v, z)
		VMULPS(cInvSqrt2, z, z)
		VMULPS(cHalf, z, t)
		VADDPS(cOne, t, t)
		VMOVUPS(cOne, reg.Y4)
		VDIVPS(t, reg.Y4, t)
		VMOVUPS(cErfc[0], p)
		for i := 1; i < 10; i++ {
			VFMADD213PS(cErfc[i], t, p)
		}
		VFNMADD231PS(z, z, p)
		vexp(p, reg.Y5, reg.Y6, reg.Y7, reg.Y8)
		VMULPS(t, reg.Y5, reg.Y5)
		VMULPS(cHalf, reg.Y5, reg.Y5) // Φ(-|x|)
		VMOVUPS(cOne, reg.Y6)
		VSUBPS(reg.Y5, reg.Y6, reg.Y6)
		VBLENDVPS(v, reg.Y5, reg.Y6, reg.Y9) // Φ(x)
		// φ(x) = exp(-x²/2)/√(2π)
		VMULPS(v, v, reg.Y10)
		VMULPS(cMinusHalf, reg.Y10, reg.Y10)
		vexp(reg.Y10, reg.Y11, reg.Y6, reg.Y7, reg.Y8)
		VMULPS(cInvSqrt2Pi, reg.Y11, reg.Y11)
		VFMADD213PS(reg.Y9, v, reg.Y11) // x·φ + Φ
		VMOVUPS(Mem{Base: pd}, reg.Y12)
		VFMADD231PS(Mem{Base: pg}, reg.Y11, reg.Y12)
		VMOVUPS(reg.Y12, Mem{Base: pd})
	})
}

// geluTanhBackwardAVX2 emits geluTanhBackwardAVX2(dx, x, dout []float32):
// with s = σ(2u), dx += dout·(s + x·2s(1-s)·√(2/π)(1 + 3·0.044715·x²)).
func geluTanhBackwardAVX2() {
	TEXT("geluTanhBackwardAVX2", NOSPLIT, "func(dx, x, dout []float32)")
	Doc("geluTanhBackwardAVX2 adds dout[i]·GELUTanh'(x[i]) to dx[i] for i < len(x), a multiple of 8.")
	pd := Load(Param("dx").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	pg := Load(Param("dout").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	loop8("gelutb", n, []reg.Register{px, pd, pg}, func() {
		v, w, x2 := reg.Y0, reg.Y1, reg.Y9
		VMOVUPS(Mem{Base: px}, v)
		geluTanhDenominator(v, x2, w)
		VMOVUPS(cOne, reg.Y6)
		VDIVPS(reg.Y2, reg.Y6, reg.Y2) // s
		VSUBPS(reg.Y2, reg.Y6, reg.Y7) // 1-s
		VMULPS(reg.Y2, reg.Y7, reg.Y7) // s(1-s)
		VADDPS(reg.Y7, reg.Y7, reg.Y7) // 2s(1-s)
		VMULPS(cGeluC3, x2, reg.Y8)
		VADDPS(cOne, reg.Y8, reg.Y8)
		VMULPS(cGeluK, reg.Y8, reg.Y8) // du
		VMULPS(reg.Y8, reg.Y7, reg.Y7)
		VFMADD213PS(reg.Y2, v, reg.Y7) // x·2s(1-s)·du + s
		VMOVUPS(Mem{Base: pd}, reg.Y10)
		VFMADD231PS(Mem{Base: pg}, reg.Y7, reg.Y10)
		VMOVUPS(reg.Y10, Mem{Base: pd})
	})
}

// Constants of the GELU backward kernels.
var cInvSqrt2Pi, cMinusHalf, cGeluK, cGeluC3 Mem

// maxAVX2 emits maxAVX2(x []float32) float32: the maximum of x, len(x) a
// multiple of 8 and at least 8.
func maxAVX2() {
	TEXT("maxAVX2", NOSPLIT, "func(x []float32) float32")
	Doc("maxAVX2 returns the largest element of x; len(x) is a positive multiple of 8.")
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3}
	for _, a := range acc {
		VMOVUPS(Mem{Base: px}, a)
	}
	countedLoop("max_loop32", n, 32, "max_loop8", []reg.Register{px}, func() {
		for u, a := range acc {
			VMAXPS(Mem{Base: px, Disp: 32 * u}, a, a)
		}
	})
	countedLoop("max_loop8", n, 8, "max_reduce", []reg.Register{px}, func() {
		VMAXPS(Mem{Base: px}, reg.Y0, reg.Y0)
	})
	Label("max_reduce")
	reduce4(VMAXPS, VMAXSS)
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	RET()
}

// scaleAVX2 emits scaleAVX2(alpha float32, x []float32): x *= alpha for
// len(x) a multiple of 8.
func scaleAVX2() {
	TEXT("scaleAVX2", NOSPLIT, "func(alpha float32, x []float32)")
	Doc("scaleAVX2 sets x[i] *= alpha for i < len(x), a multiple of 8.")
	alpha := Load(Param("alpha"), XMM())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	VBROADCASTSS(alpha, reg.Y15)
	countedLoop("scale_loop32", n, 32, "scale_loop8", []reg.Register{px}, func() {
		for u := 0; u < 4; u++ {
			VMULPS(Mem{Base: px, Disp: 32 * u}, reg.Y15, yreg(u))
			VMOVUPS(yreg(u), Mem{Base: px, Disp: 32 * u})
		}
	})
	countedLoop("scale_loop8", n, 8, "scale_done", []reg.Register{px}, func() {
		VMULPS(Mem{Base: px}, reg.Y15, reg.Y0)
		VMOVUPS(reg.Y0, Mem{Base: px})
	})
	Label("scale_done")
	VZEROUPPER()
	RET()
}

// loop8 emits the loop of an elementwise kernel over n float32s, a
// multiple of 8: countedLoop name_loop of step 8 over ptrs, exiting to
// name_done, where VZEROUPPER and RET end the function.
func loop8(name string, n reg.Register, ptrs []reg.Register, body func()) {
	countedLoop(name+"_loop", n, 8, name+"_done", ptrs, body)
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// countedLoop emits the loop labelled label: while n ≥ step, body, each of
// ptrs advanced by step float32s (4·step bytes), n -= step; once n < step
// it jumps to exit.
func countedLoop(label string, n reg.Register, step int, exit string, ptrs []reg.Register, body func()) {
	Label(label)
	CMPQ(n, Imm(uint64(step)))
	JL(LabelRef(exit))
	body()
	for _, p := range ptrs {
		ADDQ(Imm(uint64(4*step)), p)
	}
	SUBQ(Imm(uint64(step)), n)
	JMP(LabelRef(label))
}

// reduceSum emits the horizontal sum of the four ymm accumulators Y0..Y3
// into X0.
func reduceSum() { reduce4(VADDPS, VADDSS) }

// reduce4 folds the four ymm accumulators Y0..Y3 into Y0 with the packed
// op (Y0 op Y1, Y2 op Y3, then the two) and reduces its eight lanes into
// the low lane of X0 with reduceLanes (X1 the scratch register).
func reduce4(op, last func(ops ...Op)) {
	op(reg.Y1, reg.Y0, reg.Y0)
	op(reg.Y3, reg.Y2, reg.Y2)
	op(reg.Y2, reg.Y0, reg.Y0)
	reduceLanes(reg.Y0, reg.X0, reg.X1, op, last)
}

// reduceLanes emits the horizontal reduction of the eight lanes of y into
// the low lane of x (the low half of y) with the packed op: the high 128
// bits onto the low, the high 64 onto the low, then lane 1 onto lane 0 with
// last (the scalar form of op, or op itself). tmp is overwritten.
func reduceLanes(y, x, tmp reg.VecPhysical, op, last func(ops ...Op)) {
	VEXTRACTF128(Imm(1), y, tmp)
	op(tmp, x, x)
	VMOVHLPS(x, x, tmp)
	op(tmp, x, x)
	VMOVSHDUP(x, tmp)
	last(tmp, x, x)
}

// sumAVX2 emits sumAVX2(x []float32) float32 for len(x) a multiple of 8.
func sumAVX2() {
	TEXT("sumAVX2", NOSPLIT, "func(x []float32) float32")
	Doc("sumAVX2 returns the sum of x; len(x) is a multiple of 8.")
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	for i := 0; i < 4; i++ {
		VXORPS(yreg(i), yreg(i), yreg(i))
	}
	countedLoop("sum_loop32", n, 32, "sum_loop8", []reg.Register{px}, func() {
		for u := 0; u < 4; u++ {
			VADDPS(Mem{Base: px, Disp: 32 * u}, yreg(u), yreg(u))
		}
	})
	countedLoop("sum_loop8", n, 8, "sum_reduce", []reg.Register{px}, func() {
		VADDPS(Mem{Base: px}, reg.Y0, reg.Y0)
	})
	Label("sum_reduce")
	reduceSum()
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	RET()
}

// sumSqDevAVX2 emits sumSqDevAVX2(x []float32, m float32) float32: Σ(x-m)²
// for len(x) a multiple of 8.
func sumSqDevAVX2() {
	TEXT("sumSqDevAVX2", NOSPLIT, "func(x []float32, m float32) float32")
	Doc("sumSqDevAVX2 returns the sum of (x[i]-m)²; len(x) is a multiple of 8.")
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	m := Load(Param("m"), XMM())
	VBROADCASTSS(m, reg.Y15)
	for i := 0; i < 4; i++ {
		VXORPS(yreg(i), yreg(i), yreg(i))
	}
	countedLoop("ssd_loop32", n, 32, "ssd_loop8", []reg.Register{px}, func() {
		for u := 0; u < 4; u++ {
			t := yreg(4 + u)
			VMOVUPS(Mem{Base: px, Disp: 32 * u}, t)
			VSUBPS(reg.Y15, t, t)
			VFMADD231PS(t, t, yreg(u))
		}
	})
	countedLoop("ssd_loop8", n, 8, "ssd_reduce", []reg.Register{px}, func() {
		VMOVUPS(Mem{Base: px}, reg.Y4)
		VSUBPS(reg.Y15, reg.Y4, reg.Y4)
		VFMADD231PS(reg.Y4, reg.Y4, reg.Y0)
	})
	Label("ssd_reduce")
	reduceSum()
	VZEROUPPER()
	Store(reg.X0, ReturnIndex(0))
	RET()
}

// normAffineAVX2 emits normAffineAVX2(out, x, gamma, beta []float32, m, rs
// float32): out = (x-m)·rs·gamma + beta for len(x) a multiple of 8.
func normAffineAVX2() {
	TEXT("normAffineAVX2", NOSPLIT, "func(out, x, gamma, beta []float32, m, rs float32)")
	Doc("normAffineAVX2 sets out[i] = (x[i]-m)·rs·gamma[i] + beta[i] for i < len(x), a multiple of 8.")
	po := Load(Param("out").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	pg := Load(Param("gamma").Base(), GP64())
	pb := Load(Param("beta").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	m := Load(Param("m"), XMM())
	rs := Load(Param("rs"), XMM())
	VBROADCASTSS(m, reg.Y14)
	VBROADCASTSS(rs, reg.Y15)
	loop8("na", n, []reg.Register{px, po, pg, pb}, func() {
		VMOVUPS(Mem{Base: px}, reg.Y0)
		VSUBPS(reg.Y14, reg.Y0, reg.Y0)
		VMULPS(reg.Y15, reg.Y0, reg.Y0)
		VMOVUPS(Mem{Base: pb}, reg.Y1)
		VFMADD231PS(Mem{Base: pg}, reg.Y0, reg.Y1)
		VMOVUPS(reg.Y1, Mem{Base: po})
	})
}
