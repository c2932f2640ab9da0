package tensor

import (
	"fmt"
	"math"
)

// elemGrain is the number of elements below which an element-wise kernel
// does not split its work across goroutines.
const elemGrain = 1 << 15

// oneChunk reports whether ParallelFor(n, elemGrain, …) would run a single
// chunk, so that an element-wise kernel can run its loop directly: without
// the closure ParallelFor takes (which allocates) and without reading
// Threads().
func oneChunk(n int) bool { return n < 2*elemGrain }

func checkLen(op string, n int, xs ...[]float32) {
	for i, x := range xs {
		if len(x) < n {
			panic(fmt.Sprintf("tensor.%s: argument %d has length %d, want ≥ %d", op, i+1, len(x), n))
		}
	}
}

// Dot returns Σ x[i]·y[i] over i < len(x); y must be at least as long as x.
// It runs on the calling goroutine.
func Dot(x, y []float32) float32 {
	checkLen("Dot", len(x), y)
	if current.Load().avx2 {
		return dotAsm(x, y[:len(x)])
	}
	return dotGo(x, y)
}

func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy sets y[i] += alpha·x[i] for i < len(x); y must be at least as long as
// x. Large vectors are split across Threads() goroutines.
func Axpy(alpha float32, x, y []float32) {
	checkLen("Axpy", len(x), y)
	if oneChunk(len(x)) {
		AxpySerial(alpha, x, y)
		return
	}
	asm := current.Load().avx2
	ParallelFor(len(x), elemGrain, func(lo, hi int) {
		if asm {
			axpyAsm(alpha, x[lo:hi], y[lo:hi])
			return
		}
		axpyGo(alpha, x[lo:hi], y[lo:hi])
	})
}

// AxpySerial is Axpy on the calling goroutine only, whatever the length,
// without allocating: for the short rows (embeddings, output rows) that
// many goroutines update at once, as Hogwild training does, where a split
// would only add overhead.
func AxpySerial(alpha float32, x, y []float32) {
	checkLen("AxpySerial", len(x), y)
	if current.Load().avx2 {
		axpyAsm(alpha, x, y[:len(x)])
		return
	}
	axpyGo(alpha, x, y)
}

func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Scale sets x[i] *= alpha for every i. Large vectors are split across
// Threads() goroutines.
func Scale(alpha float32, x []float32) {
	asm := current.Load().avx2
	if oneChunk(len(x)) {
		scale(asm, alpha, x)
		return
	}
	ParallelFor(len(x), elemGrain, func(lo, hi int) {
		scale(asm, alpha, x[lo:hi])
	})
}

// ScaleSerial is Scale on the calling goroutine only, whatever the length,
// without allocating (see AxpySerial).
func ScaleSerial(alpha float32, x []float32) {
	scale(current.Load().avx2, alpha, x)
}

// scale sets x[i] *= alpha, with the vector kernel when asm is set.
func scale(asm bool, alpha float32, x []float32) {
	i := 0
	if asm && len(x) >= 8 {
		i = len(x) &^ 7
		scaleAsm(alpha, x[:i])
	}
	for ; i < len(x); i++ {
		x[i] *= alpha
	}
}

// maxOf returns the largest element of x (-Inf for an empty x), with the
// vector kernel when asm is set.
func maxOf(asm bool, x []float32) float32 {
	m := float32(math.Inf(-1))
	i := 0
	if asm && len(x) >= 8 {
		i = len(x) &^ 7
		m = maxAsm(x[:i])
	}
	for ; i < len(x); i++ {
		if x[i] > m {
			m = x[i]
		}
	}
	return m
}

// Add sets dst[i] = x[i] + y[i] for i < len(dst); dst may alias x or y.
func Add(dst, x, y []float32) {
	checkLen("Add", len(dst), x, y)
	ParallelFor(len(dst), elemGrain, func(lo, hi int) {
		d, a, b := dst[lo:hi], x[lo:hi], y[lo:hi]
		for i := range d {
			d[i] = a[i] + b[i]
		}
	})
}

// AddBias adds bias (length cols) to every row of x [rows, cols] in place,
// the bias step of a linear layer.
func AddBias(x, bias []float32, rows, cols int) {
	checkLen("AddBias", rows*cols, x)
	checkLen("AddBias", cols, bias)
	ParallelFor(rows, max(1, elemGrain/max(cols, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*cols : r*cols+cols]
			for i, b := range bias[:cols] {
				row[i] += b
			}
		}
	})
}

// AddColSums adds the column sums of x [rows, cols] to dst (length cols):
// dst[j] += Σ_r x[r][j], the bias gradient of a linear layer.
func AddColSums(dst, x []float32, rows, cols int) {
	checkLen("AddColSums", rows*cols, x)
	checkLen("AddColSums", cols, dst)
	asm := current.Load().avx2
	nt := min(Threads(), max(1, rows*cols/elemGrain))
	if nt == 1 {
		for r := 0; r < rows; r++ {
			addTo(asm, dst, x[r*cols:r*cols+cols])
		}
		return
	}
	// Column blocks are independent: split the columns, not the rows.
	ParallelFor(cols, 64, func(lo, hi int) {
		d := dst[lo:hi]
		for r := 0; r < rows; r++ {
			addTo(asm, d, x[r*cols+lo:r*cols+hi])
		}
	})
}
