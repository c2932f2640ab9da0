package classic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// fastText's product quantizer (src/productquantizer.cc): a vector of dim
// values is cut into nsubq sub-vectors of dsub values (the last one
// lastdsub, which may be shorter), and each sub-vector is replaced by the
// code (one byte) of the nearest of 256 centroids learnt by k-means for that
// position.
const (
	pqKsub      = 256
	pqMaxPoints = 256 * pqKsub // at most 256 points per centroid are used to learn them
	pqIters     = 25
	pqEps       = 1e-7
	pqSeed      = 1234
)

// productQuantizer holds the centroids of each sub-vector position.
type productQuantizer struct {
	dim, nsubq, dsub, lastdsub int
	// centroids [dim*256]: position m's 256 centroids of dsub values start
	// at m*256*dsub (the last position's are lastdsub values each).
	centroids []float32
}

// newProductQuantizer returns an untrained quantizer of dim-value vectors
// cut into dsub-value sub-vectors.
func newProductQuantizer(dim, dsub int) (*productQuantizer, error) {
	if dsub < 1 || dim < 1 {
		return nil, fmt.Errorf("product quantizer: bad dim %d or dsub %d", dim, dsub)
	}
	p := &productQuantizer{dim: dim, nsubq: dim / dsub, dsub: dsub, lastdsub: dim % dsub, centroids: make([]float32, dim*pqKsub)}
	if p.lastdsub == 0 {
		p.lastdsub = dsub
	} else {
		p.nsubq++
	}
	return p, nil
}

// subDim is the length of sub-vector m.
func (p *productQuantizer) subDim(m int) int {
	if m == p.nsubq-1 {
		return p.lastdsub
	}
	return p.dsub
}

// centroid returns centroid i of position m.
func (p *productQuantizer) centroid(m, i int) []float32 {
	d := p.subDim(m)
	off := m*pqKsub*p.dsub + i*d
	return p.centroids[off : off+d]
}

func distL2(x, y []float32) float32 {
	var s float32
	for i, v := range x {
		t := v - y[i]
		s += t * t
	}
	return s
}

// nearest returns the index of the centroid of c (k centroids of len(x)
// values) nearest to x; the first wins ties, as in fastText.
func nearest(x, c []float32) uint8 {
	d := len(x)
	switch d {
	case 1:
		return nearest1(x[0], c[:pqKsub])
	case 2:
		return nearest2(x[0], x[1], c[:2*pqKsub])
	}
	best, code := distL2(x, c[:d]), 0
	for j := 1; j < pqKsub; j++ {
		if dist := distL2(x, c[j*d:(j+1)*d]); dist < best {
			best, code = dist, j
		}
	}
	return uint8(code)
}

// nearest1 is nearest for 1-value sub-vectors (norms).
func nearest1(x float32, c []float32) uint8 {
	c = c[:pqKsub]
	t := x - c[0]
	best, code := t*t, 0
	for j := 1; j < pqKsub; j++ {
		t := x - c[j]
		if dist := t * t; dist < best {
			best, code = dist, j
		}
	}
	return uint8(code)
}

// nearest2 is nearest for 2-value sub-vectors (fastText's default -dsub).
func nearest2(x0, x1 float32, c []float32) uint8 {
	c = c[:2*pqKsub]
	t0, t1 := x0-c[0], x1-c[1]
	best, code := t0*t0+t1*t1, 0
	for j := 1; j < pqKsub; j++ {
		t0, t1 := x0-c[2*j], x1-c[2*j+1]
		if dist := t0*t0 + t1*t1; dist < best {
			best, code = dist, j
		}
	}
	return uint8(code)
}

// train learns the centroids of each position by k-means on the n rows of
// x [n, dim] (at most pqMaxPoints of them, drawn at random), the positions
// in parallel over threads goroutines. fastText requires 256 rows.
func (p *productQuantizer) train(x []float32, n, threads int) error {
	if n < pqKsub {
		return fmt.Errorf("matrix too small for quantization: %d rows, at least %d needed", n, pqKsub)
	}
	np := min(n, pqMaxPoints)
	var wg sync.WaitGroup
	next := make(chan int)
	for t := 0; t < max(threads, 1); t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				// Each position has its own generator, so the result does
				// not depend on the threads.
				rng := rand.New(rand.NewPCG(pqSeed, uint64(m)))
				d := p.subDim(m)
				perm := make([]int32, n)
				for i := range perm {
					perm[i] = int32(i)
				}
				if np != n {
					rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				}
				slice := make([]float32, np*d)
				for j := 0; j < np; j++ {
					copy(slice[j*d:(j+1)*d], x[int(perm[j])*p.dim+m*p.dsub:][:d])
				}
				off := m * pqKsub * p.dsub
				kmeans(slice, p.centroids[off:off+pqKsub*d], np, d, rng)
			}
		}()
	}
	for m := 0; m < p.nsubq; m++ {
		next <- m
	}
	close(next)
	wg.Wait()
	return nil
}

// kmeans runs fastText's k-means (256 centroids, 25 iterations, centroids
// started at random points, an empty cluster split off a populated one) on
// the n points of x [n, d], writing the centroids into c [256, d].
func kmeans(x, c []float32, n, d int, rng *rand.Rand) {
	perm := rng.Perm(n)
	for i := 0; i < pqKsub; i++ {
		copy(c[i*d:(i+1)*d], x[perm[i]*d:(perm[i]+1)*d])
	}
	codes := make([]uint8, n)
	nelts := make([]int, pqKsub)
	for it := 0; it < pqIters; it++ {
		// E step.
		for i := 0; i < n; i++ {
			codes[i] = nearest(x[i*d:(i+1)*d], c)
		}
		// M step.
		clear(c)
		clear(nelts)
		for i := 0; i < n; i++ {
			k := int(codes[i])
			ck := c[k*d : (k+1)*d]
			for j, v := range x[i*d : (i+1)*d] {
				ck[j] += v
			}
			nelts[k]++
		}
		for k := 0; k < pqKsub; k++ {
			if z := float32(nelts[k]); z != 0 {
				for j := range c[k*d : (k+1)*d] {
					c[k*d+j] /= z
				}
			}
		}
		for k := 0; k < pqKsub; k++ {
			if nelts[k] != 0 {
				continue
			}
			m := 0
			for rng.Float64()*float64(n-pqKsub) >= float64(nelts[m]-1) {
				m = (m + 1) % pqKsub
			}
			copy(c[k*d:(k+1)*d], c[m*d:(m+1)*d])
			for j := 0; j < d; j++ {
				sign := float32((j%2)*2 - 1)
				c[k*d+j] += sign * pqEps
				c[m*d+j] -= sign * pqEps
			}
			nelts[k] = nelts[m] / 2
			nelts[m] -= nelts[k]
		}
	}
}

// code sets code [nsubq] to the codes of vector x [dim].
func (p *productQuantizer) code(x []float32, code []uint8) {
	for m := 0; m < p.nsubq; m++ {
		d := p.subDim(m)
		off := m * pqKsub * p.dsub
		code[m] = nearest(x[m*p.dsub:m*p.dsub+d], p.centroids[off:off+pqKsub*d])
	}
}

// mulcode is alpha times the dot product of x and the vector of code.
func (p *productQuantizer) mulcode(x []float32, code []uint8, alpha float32) float32 {
	var res float32
	for m, c := range code {
		for j, v := range p.centroid(m, int(c)) {
			res += x[m*p.dsub+j] * v
		}
	}
	return res * alpha
}

// addcode adds alpha times the vector of code to x.
func (p *productQuantizer) addcode(x []float32, code []uint8, alpha float32) {
	for m, c := range code {
		xs := x[m*p.dsub:]
		for j, v := range p.centroid(m, int(c)) {
			xs[j] += alpha * v
		}
	}
}

// quantMatrix is fastText's QuantMatrix: rows [rows, cols] stored as
// product-quantizer codes, with their norms quantized apart when qnorm is
// set (each row is then its unit vector's code times its norm's centroid).
type quantMatrix struct {
	rows, cols int
	qnorm      bool
	codes      []uint8 // [rows, pq.nsubq]
	pq         *productQuantizer
	normCodes  []uint8 // [rows], qnorm only
	npq        *productQuantizer
}

// quantizeMatrix quantizes the dense matrix x [rows, cols] (which it
// overwrites when qnorm is set) as fastText does.
func quantizeMatrix(x []float32, rows, cols, dsub int, qnorm bool, threads int) (*quantMatrix, error) {
	pq, err := newProductQuantizer(cols, dsub)
	if err != nil {
		return nil, err
	}
	q := &quantMatrix{rows: rows, cols: cols, qnorm: qnorm, pq: pq, codes: make([]uint8, rows*pq.nsubq)}
	if qnorm {
		norms := make([]float32, rows)
		for i := range norms {
			row := x[i*cols : (i+1)*cols]
			norms[i] = float32(l2norm(row))
			if norms[i] != 0 {
				for j := range row {
					row[j] /= norms[i]
				}
			}
		}
		if q.npq, err = newProductQuantizer(1, 1); err != nil {
			return nil, err
		}
		if err := q.npq.train(norms, rows, 1); err != nil {
			return nil, err
		}
		q.normCodes = make([]uint8, rows)
		for i, v := range norms {
			q.npq.code([]float32{v}, q.normCodes[i:i+1])
		}
	}
	if err := pq.train(x, rows, threads); err != nil {
		return nil, err
	}
	parallelRows(rows, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			pq.code(x[i*cols:(i+1)*cols], q.codes[i*pq.nsubq:(i+1)*pq.nsubq])
		}
	})
	return q, nil
}

// parallelRows calls fn on contiguous parts of [0, n) in threads goroutines.
func parallelRows(n, threads int, fn func(lo, hi int)) {
	threads = max(1, min(threads, n))
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		lo, hi := t*n/threads, (t+1)*n/threads
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// norm is the norm of row i (1 without qnorm).
func (q *quantMatrix) norm(i int) float32 {
	if !q.qnorm {
		return 1
	}
	return q.npq.centroid(0, int(q.normCodes[i]))[0]
}

func (q *quantMatrix) rowCode(i int) []uint8 {
	n := q.pq.nsubq
	return q.codes[i*n : (i+1)*n]
}

// dotRow is the dot product of row i and x.
func (q *quantMatrix) dotRow(x []float32, i int) float32 {
	return q.pq.mulcode(x, q.rowCode(i), q.norm(i))
}

// addRow adds a times row i to x.
func (q *quantMatrix) addRow(x []float32, i int, a float32) {
	q.pq.addcode(x, q.rowCode(i), a*q.norm(i))
}

// size is the number of bytes the matrix takes in a .ftz file.
func (q *quantMatrix) size() int64 {
	s := int64(1+8+8+4+len(q.codes)) + 16 + 4*int64(len(q.pq.centroids))
	if q.qnorm {
		s += int64(len(q.normCodes)) + 16 + 4*int64(len(q.npq.centroids))
	}
	return s
}

// l2norm is the Euclidean norm of x, summed in float64 as fastText's
// DenseMatrix::l2NormRow does.
func l2norm(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
