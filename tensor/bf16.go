package tensor

import (
	"fmt"
	"sync"

	"github.com/textclf/textclf/safetensors"
)

// bf16Panel is the number of columns (output channels) of a packed bf16
// weight panel, the width of the kernels.
const bf16Panel = panelWidth

// bf16 rounds x to bfloat16 (the top 16 bits of a float32: 8 exponent bits,
// 7 stored mantissa bits), to nearest with ties to even, as PyTorch's
// x.to(torch.bfloat16) and VCVTNEPS2BF16 do; a NaN stays a NaN.
func bf16(x float32) uint16 { return safetensors.Float32ToBFloat16(x) }

// fromBF16 is the float32 equal to the bfloat16 h.
func fromBF16(h uint16) float32 { return safetensors.BFloat16ToFloat32(h) }

// RoundBF16 sets dst[i] to src[i] rounded to bfloat16 (to nearest, ties to
// even, as torch's x.to(torch.bfloat16)), as a float32, for i < len(src);
// dst may be src.
func RoundBF16(dst, src []float32) {
	dst = dst[:len(src)]
	done := 0
	if n16 := len(src) &^ 15; n16 > 0 && current.Load().avx2 {
		roundBF16Asm(dst[:n16], src[:n16])
		done = n16
	}
	for i := done; i < len(src); i++ {
		dst[i] = fromBF16(bf16(src[i]))
	}
}

// BF16Weights is a weight matrix W [n, k] (a Linear's [out, in]) rounded to
// bfloat16, packed for the bf16 kernels: panels of 16 rows, k in pairs, as
// VDPBF16PS reads them (group g holds, for each of the 16 rows in turn, its
// values k = 2g and 2g+1; an odd k is padded with a zero). It is read-only
// once made and safe for concurrent use.
type BF16Weights struct {
	n, k, k2 int
	panels   panelSet[uint16] // panels of 16 rows × k2 groups × 32 values
}

// NewBF16Weights rounds W [n, k] to bfloat16 (RoundBF16) and packs it: W
// row-major with row stride ldw for NoTrans, or stored transposed, [k, n]
// row-major with row stride ldw, for Trans (a Conv1D's [in, out], or the
// operand of a product over the rows of two matrices, as a weight gradient
// is). Rounding is the only change: a weight that is already a bfloat16 (a
// bf16 checkpoint's, read as float32) is kept exactly.
func NewBF16Weights(trans Transpose, n, k int, w []float32, ldw int) *BF16Weights {
	checkTrans("NewBF16Weights", "trans", trans)
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: NewBF16Weights: bad shape [%d, %d]", n, k))
	}
	checkOp("w", trans, w, n, k, ldw)
	bw := newBF16Weights(n, k)
	// Panels on Threads() goroutines: mixed-precision training packs its
	// operands every step.
	np := (n + bf16Panel - 1) / bf16Panel
	ParallelFor(np, max(1, (1<<16)/max(1, bf16Panel*k)), func(p0, p1 int) {
		if trans == Trans {
			// A panel's 16 rows are 16 adjacent values of each row of w.
			var vals [bf16Panel]uint16
			for p := p0; p < p1; p++ {
				panel, j0 := bw.panels.panel(p), p*bf16Panel
				cols := min(bf16Panel, n-j0)
				for t := 0; t < k; t++ {
					packBF16(vals[:cols], w[t*ldw+j0:t*ldw+j0+cols])
					grp := panel[(t/2)*2*bf16Panel:]
					for r, h := range vals[:cols] {
						grp[2*r+t%2] = h
					}
				}
			}
			return
		}
		row := make([]uint16, k)
		for j := p0 * bf16Panel; j < min(p1*bf16Panel, n); j++ {
			panel := bw.panels.panel(j / bf16Panel)
			off := (j % bf16Panel) * 2
			packBF16(row, w[j*ldw:j*ldw+k])
			for p, h := range row {
				panel[(p/2)*2*bf16Panel+off+p%2] = h
			}
		}
	})
	return bw
}

// NewBF16WeightsBits packs weights that are bfloat16 already, given as their
// bits (a bf16 checkpoint's tensor as the file holds it): W [n, k] row-major
// for NoTrans, or W stored transposed, [k, n] row-major, for Trans (a
// Conv1D's [in, out]). The result is bit for bit what NewBF16Weights makes
// of the same values converted to float32, without that float32 copy. The
// bits are copied; bits may be reused afterwards.
func NewBF16WeightsBits(trans Transpose, n, k int, bits []uint16) *BF16Weights {
	if n < 0 || k < 0 || len(bits) != n*k {
		panic(fmt.Sprintf("tensor: NewBF16WeightsBits: %d values for shape [%d, %d]", len(bits), n, k))
	}
	bw := newBF16Weights(n, k)
	for j := 0; j < n; j++ {
		panel := bw.panels.panel(j / bf16Panel)
		off := (j % bf16Panel) * 2
		if trans == NoTrans {
			for p, h := range bits[j*k : (j+1)*k] {
				panel[(p/2)*2*bf16Panel+off+p%2] = h
			}
			continue
		}
		for p := 0; p < k; p++ {
			panel[(p/2)*2*bf16Panel+off+p%2] = bits[p*n+j]
		}
	}
	return bw
}

// newBF16Weights allocates the zeroed panels of weights [n, k].
func newBF16Weights(n, k int) *BF16Weights {
	np := (n + bf16Panel - 1) / bf16Panel
	k2 := (k + 1) / 2
	size := bf16Panel * k2 * 2
	return &BF16Weights{n: n, k: k, k2: k2, panels: panelSet[uint16]{packed: make([]uint16, np*size), size: size}}
}

// Dims returns n and k: the weights are [n, k].
func (w *BF16Weights) Dims() (n, k int) { return w.n, w.k }

// Float32 returns the weights [n, k] row-major, each bfloat16 as a float32.
func (w *BF16Weights) Float32() []float32 {
	out := make([]float32, w.n*w.k)
	for j := 0; j < w.n; j++ {
		panel := w.panels.panel(j / bf16Panel)
		off := (j % bf16Panel) * 2
		for p := 0; p < w.k; p++ {
			out[j*w.k+p] = fromBF16(panel[(p/2)*2*bf16Panel+off+p%2])
		}
	}
	return out
}

// Bytes is the memory the packed weights hold (0 for joined weights that
// read their parts in place).
func (w *BF16Weights) Bytes() int { return 2 * len(w.panels.packed) }

// ConcatBF16 stacks the rows of ws into one matrix [Σ n, k], as ConcatInt8
// does: in place when every part but the last fills whole panels of 16
// rows, otherwise a packed copy. The ws must share k.
func ConcatBF16(ws ...*BF16Weights) (*BF16Weights, error) {
	n, k, whole, err := joinPlan(ws)
	if err != nil {
		return nil, err
	}
	if whole {
		sets, first := make([]*panelSet[uint16], len(ws)), make([]int, len(ws))
		np := 0
		for i, w := range ws {
			sets[i], first[i] = &w.panels, np
			np += w.n / bf16Panel
		}
		return &BF16Weights{n: n, k: k, k2: ws[0].k2, panels: joinPanels(sets, first)}, nil
	}
	vals := make([]float32, 0, n*k)
	for _, w := range ws {
		vals = append(vals, w.Float32()...)
	}
	return NewBF16Weights(NoTrans, n, k, vals, k), nil
}

// bf16RowBytes bounds the rounded input rows a thread multiplies with all
// its weight panels before moving on (they stay in L2).
const bf16RowBytes = 256 << 10

var bf16Pool = sync.Pool{New: func() any { return new([]float32) }}

// bf16PackPool holds the bfloat16 input rows of the VDPBF16PS kernels.
var bf16PackPool = sync.Pool{New: func() any { return new([]uint16) }}

// packBF16 sets dst[i] to the bfloat16 of src[i] (bf16), for i < len(src).
func packBF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	done := 0
	if n16 := len(src) &^ 15; n16 > 0 && current.Load().avx2 {
		packBF16Asm(dst[:n16], src[:n16])
		done = n16
	}
	for i := done; i < len(src); i++ {
		dst[i] = bf16(src[i])
	}
}

// LinearBF16 computes y [m, n] = x·Wᵀ (x [m, k] with row stride ldx for
// NoTrans, or stored transposed, [k, m] with row stride ldx, for Trans; y
// row stride ldy) in bfloat16 products with float32 sums, as VDPBF16PS does:
// each x[i][p] rounded to bfloat16 (RoundBF16), each product of two bfloat16
// values exact in float32, the products of a row summed in float32 (for
// each pair of k, the odd term first), then ep applied (bias, residual,
// activation) as in SgemmEpilogue. It runs on Threads() goroutines,
// splitting the weight panels. On a CPU with AVX512_BF16 it runs
// VDPBF16PS itself, which also treats subnormal inputs as zero and flushes
// subnormal sums to zero: its results equal the emulation's (FMA on AVX2,
// or Go) bit for bit unless a value below 2⁻¹²⁶ in magnitude arises.
func LinearBF16(transX Transpose, m int, x []float32, ldx int, w *BF16Weights, y []float32, ldy int, ep *Epilogue) {
	if !checkPanelProduct("LinearBF16", transX, m, x, ldx, w, y, ldy, ep) {
		return
	}
	lda := 2 * w.k2
	bias, rest := splitEpilogue(ep)
	be := current.Load()
	np := (w.n + bf16Panel - 1) / bf16Panel
	grain := max(1, (1<<18)/max(1, m*w.k*bf16Panel))
	// run multiplies the rounded rows by the weight panels, mr rows per
	// kernel call, rowBlock rows of A at a time (they stay in L2).
	run := func(mr, rowBlock int, kernel func(i, rows, p int, dst []float32, ld int, b []float32)) {
		ParallelFor(np, grain, func(p0, p1 int) {
			panelBlocks(be, m, w.n, mr, rowBlock, bias, y, ldy, rest, p0, p1, kernel)
		})
	}
	if be.bf16 { // VDPBF16PS reads A as bfloat16s, a pair of k in a dword
		a := roundedRows(&bf16PackPool, transX, m, w.k, lda, x, ldx, packBF16)
		defer bf16PackPool.Put(a)
		run(12, max(12, bf16RowBytes/(2*lda)/12*12), func(i, rows, p int, dst []float32, ld int, b []float32) {
			bgemmBF16Asm(rows, w.k2, &(*a)[i*lda], lda, &w.panels.panel(p)[0], &dst[0], ld, &b[0])
		})
		return
	}
	a := roundedRows(&bf16Pool, transX, m, w.k, lda, x, ldx, RoundBF16)
	defer bf16Pool.Put(a)
	run(6, max(6, bf16RowBytes/(4*lda)/6*6), func(i, rows, p int, dst []float32, ld int, b []float32) {
		bp := w.panels.panel(p)
		if be.avx2 {
			bgemmAsm(rows, w.k2, &(*a)[i*lda], lda, &bp[0], &dst[0], ld, &b[0])
		} else {
			bgemmGo(rows, w.k2, (*a)[i*lda:], lda, bp, dst, ld, b)
		}
	})
}

// roundedRows returns the m rows of x (k values each: x [m, k] with row
// stride ldx, or for Trans its columns, x stored [k, m]) rounded to bfloat16
// by round, each padded with zeros to lda, in a buffer from pool, which the
// caller puts back.
func roundedRows[T any](pool *sync.Pool, transX Transpose, m, k, lda int, x []float32, ldx int, round func(dst []T, src []float32)) *[]T {
	buf := pool.Get().(*[]T)
	*buf = grow(*buf, m*lda)
	a := *buf
	if transX == Trans {
		// Tiles of x are transposed in a buffer that stays in L1, then
		// rounded a row at a time.
		const tileRows, tileCols = 16, 64
		tiles := (m + tileRows - 1) / tileRows
		ParallelFor(tiles, max(1, 16384/max(1, tileRows*k)), func(lo, hi int) {
			var tile [tileRows * tileCols]float32
			for i0 := lo * tileRows; i0 < min(hi*tileRows, m); i0 += tileRows {
				rows := min(tileRows, m-i0)
				for p0 := 0; p0 < k; p0 += tileCols {
					cols := min(tileCols, k-p0)
					for p := 0; p < cols; p++ {
						src := x[(p0+p)*ldx+i0 : (p0+p)*ldx+i0+rows]
						for r, v := range src {
							tile[r*tileCols+p] = v
						}
					}
					for r := 0; r < rows; r++ {
						round(a[(i0+r)*lda+p0:(i0+r)*lda+p0+cols], tile[r*tileCols:r*tileCols+cols])
					}
				}
				for r := 0; r < rows; r++ {
					clear(a[(i0+r)*lda+k : (i0+r+1)*lda])
				}
			}
		})
		return buf
	}
	ParallelFor(m, max(1, 16384/max(1, k)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := a[i*lda : (i+1)*lda]
			round(row, x[i*ldx:i*ldx+k])
			clear(row[k:])
		}
	})
	return buf
}

// bgemmGo is the portable bf16 kernel: c[i][j] = Σ_g (a[i][2g+1]·w[j][2g+1]
// + a[i][2g]·w[j][2g]) + bias[j] for rows rows of a (bfloat16 values as
// float32, row stride lda) and a packed panel b, summing in the order of
// the assembly kernel. Each product is exact, so rounding is the same
// whether or not the compiler fuses multiply and add.
func bgemmGo(rows, k2 int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32) {
	for i := 0; i < rows; i++ {
		var acc [bf16Panel]float32
		row := a[i*lda : i*lda+2*k2]
		for g := 0; g < k2; g++ {
			a0, a1 := row[2*g], row[2*g+1]
			grp := b[g*2*bf16Panel : (g+1)*2*bf16Panel]
			for j := range acc {
				acc[j] += a1 * fromBF16(grp[2*j+1])
				acc[j] += a0 * fromBF16(grp[2*j])
			}
		}
		for j, v := range acc {
			c[i*ldc+j] = v + bias[j]
		}
	}
}
