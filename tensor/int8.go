package tensor

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// Int8Max is the largest magnitude of an int8 weight: 63, seven bits, as
// ONNX Runtime's reduce_range quantizes weights for CPUs without VNNI. The
// AVX2 kernel's VPMADDUBSW adds two u8·s8 products into a saturating int16:
// 2·255·63 = 32130 fits, 2·255·127 = 64770 would not, so with 7-bit weights
// the integer product is exact on every path.
const Int8Max = 63

// int8Panel is the number of columns (output channels) of a packed weight
// panel, the width of the AVX2 kernel.
const int8Panel = panelWidth

// Int8Weights is a weight matrix W [n, k] (a Linear's [out, in]) quantized
// per row (output channel) to signed bytes within ±Int8Max, symmetric:
// W[j][p] ≈ Scale[j]·q[j][p]. It is packed for the int8 kernels: panels of
// 16 rows, k in groups of 4 bytes. It is read-only once made and safe for
// concurrent use.
type Int8Weights struct {
	n, k, k4 int
	panels   panelSet[int8] // panels of 16 rows × k4 groups × 64 bytes
	scale    []float32      // per row, padded to a whole panel with zeros
	colSum   []int32        // Σ_p q[j][p] per row, padded
}

// QuantizeInt8 quantizes W [n, k] (row stride ldw) per row:
// Scale[j] = max_p |W[j][p]| / Int8Max (1 for a row of zeros) and
// q[j][p] = round(W[j][p] / Scale[j]) (half to even), so that
// |W[j][p] − Scale[j]·q[j][p]| ≤ Scale[j]/2. It returns an error naming the
// row if W holds a NaN or an infinity.
func QuantizeInt8(n, k int, w []float32, ldw int) (*Int8Weights, error) {
	checkMat("w", w, n, k, ldw)
	q := make([]int8, n*k)
	scale := make([]float32, n)
	for j := 0; j < n; j++ {
		row := w[j*ldw : j*ldw+k]
		var m float32
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("row %d holds %v", j, v)
			}
			m = max(m, abs32(v))
		}
		s := m / Int8Max
		if s == 0 || math.IsInf(float64(1/s), 0) {
			s = 1
		}
		scale[j] = s
		for p, v := range row {
			q[j*k+p] = int8(math.RoundToEven(float64(v / s)))
		}
	}
	return NewInt8Weights(n, k, q, scale)
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// NewInt8Weights packs quantized weights q [n, k] (row-major) with their
// per-row scales, as a quantized checkpoint stores them. Every value must be
// within ±Int8Max and every scale finite and positive; the error says which
// is not.
func NewInt8Weights(n, k int, q []int8, scale []float32) (*Int8Weights, error) {
	switch {
	case n < 0 || k < 0:
		return nil, fmt.Errorf("bad shape [%d, %d]", n, k)
	case len(q) != n*k:
		return nil, fmt.Errorf("%d values for shape [%d, %d]", len(q), n, k)
	case len(scale) != n:
		return nil, fmt.Errorf("%d scales for %d rows", len(scale), n)
	}
	np := (n + int8Panel - 1) / int8Panel
	k4 := (k + 3) / 4
	size := int8Panel * k4 * 4
	w := &Int8Weights{n: n, k: k, k4: k4, panels: panelSet[int8]{packed: make([]int8, np*size), size: size},
		scale: make([]float32, np*int8Panel), colSum: make([]int32, np*int8Panel)}
	for j := 0; j < n; j++ {
		s := scale[j]
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("row %d: scale %v is not a positive finite number", j, s)
		}
		w.scale[j] = s
		panel := w.panels.panel(j / int8Panel)
		// Within a group of 64 bytes: columns 0–7, then 8–15, 4 bytes each.
		off := (j % int8Panel) * 4
		var sum int32
		for p, v := range q[j*k : j*k+k] {
			if v > Int8Max || v < -Int8Max {
				return nil, fmt.Errorf("row %d, column %d: value %d is outside ±%d (weights are 7-bit, reduce_range)", j, p, v, Int8Max)
			}
			panel[(p/4)*64+off+p%4] = v
			sum += int32(v)
		}
		w.colSum[j] = sum
	}
	return w, nil
}

// Dims returns n and k: the weights are [n, k].
func (w *Int8Weights) Dims() (n, k int) { return w.n, w.k }

// Scales returns a copy of the per-row scales.
func (w *Int8Weights) Scales() []float32 { return append([]float32(nil), w.scale[:w.n]...) }

// Int8 returns a copy of the quantized values, [n, k] row-major.
func (w *Int8Weights) Int8() []int8 {
	q := make([]int8, w.n*w.k)
	for j := 0; j < w.n; j++ {
		panel := w.panels.panel(j / int8Panel)
		off := (j % int8Panel) * 4
		for p := 0; p < w.k; p++ {
			q[j*w.k+p] = panel[(p/4)*64+off+p%4]
		}
	}
	return q
}

// ConcatInt8 stacks the rows of ws into one matrix [Σ n, k] (the weights of
// Linear layers on one input, joined into one product): the values and
// per-row scales of each, one after another. The ws must share k. When
// every part but the last fills whole panels of 16 rows (BERT's q, k and
// v: 768 rows each), the result reads the parts' packed panels in place,
// holding only a copy of the scales; otherwise it packs a copy.
func ConcatInt8(ws ...*Int8Weights) (*Int8Weights, error) {
	n, k, whole, err := joinPlan(ws)
	if err != nil {
		return nil, err
	}
	if whole {
		j := &Int8Weights{n: n, k: k, k4: ws[0].k4}
		sets, first := make([]*panelSet[int8], len(ws)), make([]int, len(ws))
		for i, w := range ws {
			sets[i], first[i] = &w.panels, len(j.scale)/int8Panel
			j.scale = append(j.scale, w.scale...)
			j.colSum = append(j.colSum, w.colSum...)
		}
		j.panels = joinPanels(sets, first)
		return j, nil
	}
	q := make([]int8, 0, n*k)
	scale := make([]float32, 0, n)
	for _, w := range ws {
		q = append(q, w.Int8()...)
		scale = append(scale, w.scale[:w.n]...)
	}
	return NewInt8Weights(n, k, q, scale)
}

// Bytes is the memory the packed weights hold (of joined weights that
// read their parts in place, the scales only).
func (w *Int8Weights) Bytes() int { return len(w.panels.packed) + 4*len(w.scale) + 4*len(w.colSum) }

// QuantizeRowsU8 quantizes the m rows of x (k values, row stride ldx) as
// ONNX's DynamicQuantizeLinear does, each row on its own: with
// lo = min(0, min x) and hi = max(0, max x), scale = (hi − lo)/255 (1 for a
// row of zeros), zero point zp = round(−lo/scale) and
// q = clamp(round(x/scale) + zp, 0, 255), rounding half to even. Then
// |x − scale·(q − zp)| ≤ scale/2 up to float32 rounding. q is [m, ldq] with
// ldq ≥ k; its columns k… are set to 0.
func QuantizeRowsU8(m, k int, x []float32, ldx int, q []uint8, ldq int, scale []float32, zp []int32) {
	checkMat("x", x, m, k, ldx)
	if ldq < k || len(q) < m*ldq {
		panic(fmt.Sprintf("tensor: QuantizeRowsU8: q has %d bytes for %d rows of stride %d", len(q), m, ldq))
	}
	if len(scale) < m || len(zp) < m {
		panic("tensor: QuantizeRowsU8: scale or zp shorter than m")
	}
	asm := current.Load().avx2
	for i := 0; i < m; i++ {
		scale[i], zp[i] = quantizeRow(asm, q[i*ldq:i*ldq+ldq], x[i*ldx:i*ldx+k])
	}
}

// quantizeRow quantizes x into q[:len(x)] and zeroes the rest of q.
func quantizeRow(asm bool, q []uint8, x []float32) (float32, int32) {
	var lo, hi float32
	rest := x
	if n8 := len(x) &^ 7; asm && n8 > 0 {
		l, h := minMaxAsm(x[:n8])
		lo, hi = min(lo, l), max(hi, h)
		rest = x[n8:]
	}
	for _, v := range rest {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	s := (hi - lo) / 255
	if !(s > 0) || math.IsInf(float64(s), 0) {
		// All zeros (or a NaN/Inf, which the float path would propagate
		// anyway): scale 1 keeps the arithmetic finite.
		s = 1
	}
	z := float32(math.RoundToEven(float64(-lo / s)))
	z = min(max(z, 0), 255)
	inv := 1 / s
	done := 0
	if n32 := len(x) &^ 31; asm && n32 > 0 {
		quantizeU8Asm(q[:n32], x[:n32], inv, z)
		done = n32
	}
	for i := done; i < len(x); i++ {
		r := float32(math.RoundToEven(float64(x[i]*inv))) + z
		q[i] = uint8(min(max(r, 0), 255))
	}
	clear(q[len(x):])
	return s, int32(z)
}

// int8Scratch holds the quantized activations of one product.
type int8Scratch struct {
	q     []uint8
	scale []float32
	zp    []int32
	tile  []float32
	tileI []int32
	bias  []float32
}

var int8Pool = sync.Pool{New: func() any { return new(int8Scratch) }}

// int8RowBlock is the number of rows of A a thread multiplies with all its
// weight panels before moving on (its quantized rows stay in L2).
const int8RowBlock = 96

// LinearInt8 computes y [m, n] ≈ x·Wᵀ (x [m, k], row stride ldx; y row stride
// ldy) with W's int8 weights: each row of x quantized to u8 at run time
// (QuantizeRowsU8), the products summed exactly in int32, then
// y[i][j] = float32(Σ_p qx[i][p]·qw[j][p] − zp[i]·Σ_p qw[j][p])·Scale[j]·scale[i],
// and ep applied (bias, residual, activation) as in SgemmEpilogue. It runs
// on Threads() goroutines, splitting the weight panels.
func LinearInt8(m int, x []float32, ldx int, w *Int8Weights, y []float32, ldy int, ep *Epilogue) {
	if !checkPanelProduct("LinearInt8", NoTrans, m, x, ldx, w, y, ldy, ep) {
		return
	}
	s := int8Pool.Get().(*int8Scratch)
	defer int8Pool.Put(s)
	lda := w.k4 * 4
	s.q = grow(s.q, m*lda)
	s.scale = grow(s.scale, m)
	s.zp = grow(s.zp, m)
	ParallelFor(m, max(1, 16384/max(1, w.k)), func(lo, hi int) {
		QuantizeRowsU8(hi-lo, w.k, x[lo*ldx:], ldx, s.q[lo*lda:], lda, s.scale[lo:], s.zp[lo:])
	})
	bias, rest := splitEpilogue(ep)
	be := current.Load()
	np := (w.n + int8Panel - 1) / int8Panel
	// Each thread takes whole panels; a thread's work is at least about
	// 2^18 multiply-adds.
	grain := max(1, (1<<18)/max(1, m*w.k*int8Panel))
	ParallelFor(np, grain, func(p0, p1 int) {
		int8Block(be, m, s.q, lda, s.scale, s.zp, w, bias, y, ldy, rest, p0, p1)
	})
}

// int8Block computes the panels p0…p1-1 of y for all m rows.
func int8Block(be *backend, m int, a []uint8, lda int, rs []float32, rz []int32, w *Int8Weights, bias, y []float32, ldy int, ep *Epilogue, p0, p1 int) {
	panelBlocks(be, m, w.n, int8Rows(be), int8RowBlock, bias, y, ldy, ep, p0, p1, func(i, rows, p int, dst []float32, ld int, b []float32) {
		j, bp := p*int8Panel, w.panels.panel(p)
		switch {
		case be.vnni:
			qgemmVNNIAsm(rows, w.k4, &a[i*lda], lda, &bp[0], &dst[0], ld, &rs[i], &rz[i], &w.scale[j], &w.colSum[j], &b[0])
		case be.avx2:
			qgemmAsm(rows, w.k4, &a[i*lda], lda, &bp[0], &dst[0], ld, &rs[i], &rz[i], &w.scale[j], &w.colSum[j], &b[0])
		default:
			qgemmGo(rows, w.k4, a[i*lda:], lda, bp, dst, ld, rs[i:], rz[i:], w.scale[j:], w.colSum[j:], b)
		}
	})
}

// int8Rows is the most rows the int8 kernel of be computes in one call.
func int8Rows(be *backend) int {
	if be.vnni {
		return 12
	}
	return 6
}

// qgemmGo is the portable form of the dequantizing kernel, rounding as it
// does.
func qgemmGo(rows, k4 int, a []uint8, lda int, b []int8, c []float32, ldc int, rs []float32, rz []int32, cs []float32, csum []int32, bias []float32) {
	var acc [int8Panel]int32
	for i := 0; i < rows; i++ {
		int8Dot(&acc, k4, a[i*lda:], b)
		for j := 0; j < int8Panel; j++ {
			v := float32(acc[j] - rz[i]*csum[j])
			c[i*ldc+j] = float32(float32(v*cs[j])*rs[i]) + bias[j]
		}
	}
}

// int8Dot sets acc[j] = Σ_p a[p]·qw[j][p] over the 16 columns of a packed panel.
func int8Dot(acc *[int8Panel]int32, k4 int, a []uint8, b []int8) {
	*acc = [int8Panel]int32{}
	for g := 0; g < k4; g++ {
		a0, a1, a2, a3 := int32(a[4*g]), int32(a[4*g+1]), int32(a[4*g+2]), int32(a[4*g+3])
		grp := b[64*g : 64*g+64]
		for j := 0; j < int8Panel; j++ {
			o := 4 * j
			acc[j] += a0*int32(grp[o]) + a1*int32(grp[o+1]) + a2*int32(grp[o+2]) + a3*int32(grp[o+3])
		}
	}
}

// GemmU8S8 sets c [m, n] (row stride ldc) to the exact int32 product
// a·qWᵀ of unsigned bytes a [m, k] (row stride lda) and W's quantized
// values, with no scaling: the integer core of LinearInt8, for tests and
// callers with their own quantization. a's rows are read up to k rounded up
// to a multiple of 4 (the bytes past k multiply zero weights), so lda must be
// at least that.
func GemmU8S8(m int, a []uint8, lda int, w *Int8Weights, c []int32, ldc int) error {
	kp := w.k4 * 4
	switch {
	case m < 0:
		return errors.New("tensor: GemmU8S8: negative m")
	case lda < kp:
		return fmt.Errorf("tensor: GemmU8S8: lda %d < %d (k rounded up to 4)", lda, kp)
	case m > 0 && len(a) < (m-1)*lda+kp:
		return fmt.Errorf("tensor: GemmU8S8: a has %d bytes for %d rows", len(a), m)
	case ldc < w.n || m > 0 && len(c) < (m-1)*ldc+w.n:
		return fmt.Errorf("tensor: GemmU8S8: c too short for [%d, %d] with stride %d", m, w.n, ldc)
	}
	be := current.Load()
	np := (w.n + int8Panel - 1) / int8Panel
	var tile [maxPanelRows * int8Panel]int32
	mr := int8Rows(be)
	for p := 0; p < np; p++ {
		j := p * int8Panel
		cols := min(int8Panel, w.n-j)
		bp := w.panels.panel(p)
		for i := 0; i < m; i += mr {
			rows := min(mr, m-i)
			switch {
			case be.vnni:
				qgemmVNNIInt32Asm(rows, w.k4, &a[i*lda], lda, &bp[0], &tile[0], int8Panel)
			case be.avx2:
				qgemmInt32Asm(rows, w.k4, &a[i*lda], lda, &bp[0], &tile[0], int8Panel)
			default:
				var acc [int8Panel]int32
				for r := 0; r < rows; r++ {
					int8Dot(&acc, w.k4, a[(i+r)*lda:], bp)
					copy(tile[r*int8Panel:], acc[:])
				}
			}
			for r := 0; r < rows; r++ {
				copy(c[(i+r)*ldc+j:(i+r)*ldc+j+cols], tile[r*int8Panel:r*int8Panel+cols])
			}
		}
	}
	return nil
}
