package tensor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Transpose says whether an operand of a product is used as stored or
// transposed, as gonum's blas.Transpose does.
type Transpose uint8

// The two ways of using an operand X: op(X) = X or op(X) = Xᵀ.
const (
	NoTrans Transpose = iota // op(X) = X
	Trans                    // op(X) = Xᵀ
)

// String returns "NoTrans" or "Trans".
func (t Transpose) String() string {
	switch t {
	case NoTrans:
		return "NoTrans"
	case Trans:
		return "Trans"
	}
	return fmt.Sprintf("Transpose(%d)", uint8(t))
}

// checkTrans panics unless t is NoTrans or Trans.
func checkTrans(fn, name string, t Transpose) {
	if t != NoTrans && t != Trans {
		panic(fmt.Sprintf("tensor.%s: %s is %v, not NoTrans or Trans", fn, name, t))
	}
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X (NoTrans) or Xᵀ (Trans) as transA and transB
// say. op(A) is m×k, op(B) is k×n and C is m×n.
//
// Storage is row-major with explicit leading dimensions (row strides):
// A is m×k with stride lda ≥ k for NoTrans, and k×m with lda ≥ m for Trans;
// B is k×n with ldb ≥ n for NoTrans, or n×k with ldb ≥ k for Trans; C is
// m×n with ldc ≥ n. So the forward pass of a linear layer,
// y[T, out] = x[T, in]·W[out, in]ᵀ, is Sgemm(NoTrans, Trans, T, out, in, 1,
// x, in, W, in, 0, y, out), its weight gradient dW[out, in] += dyᵀ·x is
// Sgemm(Trans, NoTrans, out, in, T, 1, dy, out, x, in, 1, dW, in), and its
// input gradient dx[T, in] = dy·W is Sgemm(NoTrans, NoTrans, T, in, out, 1,
// dy, out, W, in, 0, dx, in).
//
// When beta is 0, C is not read (NaNs in it are overwritten). C must not
// overlap A or B. The work is
// spread over Threads() goroutines when the product is large enough; the
// assembly micro-kernel is chosen at start-up for the CPU (AVX-512 or
// AVX2+FMA on amd64, see UseAssembly). Sgemm panics with a message naming the
// argument if a dimension is negative, a leading dimension is too small, a
// slice is too short for the shape, or a Transpose is neither NoTrans nor
// Trans; these are programming errors.
func Sgemm(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmEpilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// SgemmEpilogue is Sgemm followed by ep on C (a bias and an activation),
// done block by block while the blocks are in cache.
func SgemmEpilogue(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	ep.check(m, n, ldc)
	sgemmWith(current.Load(), Threads(), nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// SgemmSerial is Sgemm on the calling goroutine only, for callers that
// spread many small products over the threads themselves (attention over
// sequences, heads and query blocks), so that no product starts goroutines
// of its own inside theirs.
func SgemmSerial(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	sgemm(current.Load(), 1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmStrided computes batch independent products
// C_i = alpha·op(A_i)·op(B_i) + beta·C_i, where A_i starts at a[i*strideA],
// B_i at b[i*strideB] and C_i at c[i*strideC]; each is laid out as in Sgemm.
// Batches run in parallel when there are at least as many as threads.
func SgemmStrided(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	if batch < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		panic(fmt.Sprintf("tensor.SgemmStrided: negative batch %d or stride (%d, %d, %d)", batch, strideA, strideB, strideC))
	}
	offs := make([]int, 3*batch)
	for i := 0; i < batch; i++ {
		offs[i], offs[batch+i], offs[2*batch+i] = i*strideA, i*strideB, i*strideC
	}
	SgemmBatched(transA, transB, m, n, k, alpha, a, lda, offs[:batch], b, ldb, offs[batch:2*batch], beta, c, ldc, offs[2*batch:])
}

// SgemmBatched computes len(offA) independent products
// C_i = alpha·op(A_i)·op(B_i) + beta·C_i, where A_i starts at a[offA[i]],
// B_i at b[offB[i]] and C_i at c[offC[i]], each laid out as in Sgemm. The
// offsets express any batch × head layout; for attention scores of head h in
// sequence s with q, k laid out [S*T, H*D], offA = offB = s*T*H*D + h*D with
// lda = ldb = H*D. The C_i must not overlap. Products run in parallel when
// there are at least as many as threads, otherwise one after the other, each
// in parallel.
func SgemmBatched(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, offA []int, b []float32, ldb int, offB []int, beta float32, c []float32, ldc int, offC []int) {
	if len(offB) != len(offA) || len(offC) != len(offA) {
		panic(fmt.Sprintf("tensor.SgemmBatched: offset counts differ: %d, %d, %d", len(offA), len(offB), len(offC)))
	}
	for i := range offA {
		if offA[i] < 0 || offA[i] > len(a) || offB[i] < 0 || offB[i] > len(b) || offC[i] < 0 || offC[i] > len(c) {
			panic(fmt.Sprintf("tensor.SgemmBatched: product %d: offset out of range", i))
		}
		checkGemm(transA, transB, m, n, k, a[offA[i]:], lda, b[offB[i]:], ldb, c[offC[i]:], ldc)
	}
	be := current.Load()
	nt := Threads()
	if len(offA) >= nt || nt == 1 {
		ParallelFor(len(offA), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				sgemm(be, 1, transA, transB, m, n, k, alpha, a[offA[i]:], lda, b[offB[i]:], ldb, beta, c[offC[i]:], ldc)
			}
		})
		return
	}
	for i := range offA {
		sgemm(be, nt, transA, transB, m, n, k, alpha, a[offA[i]:], lda, b[offB[i]:], ldb, beta, c[offC[i]:], ldc)
	}
}

func checkGemm(transA, transB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	checkTrans("Sgemm", "transA", transA)
	checkTrans("Sgemm", "transB", transB)
	checkOp("a", transA, a, m, k, lda)
	checkOp("b", transB, b, k, n, ldb)
	checkMat("c", c, m, n, ldc)
}

// checkOp checks, as checkMat does, a matrix x whose op(x) is rows×cols: x
// itself for NoTrans, x stored transposed (cols×rows) for Trans.
func checkOp(name string, t Transpose, x []float32, rows, cols, ld int) {
	if t == Trans {
		rows, cols = cols, rows
	}
	checkMat(name, x, rows, cols, ld)
}

// checkMat panics unless x holds a rows×cols row-major matrix with stride ld.
func checkMat(name string, x []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("tensor.Sgemm: ld%s=%d < %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("tensor.Sgemm: len(%s)=%d too short for %d×%d with ld%s=%d", name, len(x), rows, cols, name, ld))
	}
}

// scaleC sets C = beta·C for the m×n matrix c (stride ldc).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// minFlopsPerThread is the work below which a product runs on one goroutine.
const minFlopsPerThread = 1 << 21

// minPackedBytesPerThread is, for a product of a few rows (sgemmSmallM), the
// bytes of packed weights below which it runs on one goroutine. Such a
// product is bound by reading the weights, not by its FLOPs: the first-token
// products of a BERT pass's last layer and the pooler (1×768×768, 2.4 MB of
// weights, 1.2 MFLOP) ran on one thread at ~12 GB/s where two read ~20.
const minPackedBytesPerThread = 256 << 10

func sgemm(be *backend, nt int, transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(be, nt, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// sgemmWith runs the product with op(B) packed already when pre is not nil
// (b, ldb and transB are then unused), and then the epilogue ep (may be nil).
func sgemmWith(be *backend, nt int, pre *PackedB, transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		ep.apply(be.avx2, c, ldc, 0, 0, m, n)
		return
	}
	if pre != nil && m <= smallRows {
		nt = max(1, min(nt, max(2*m*n*k/minFlopsPerThread, 4*n*k/minPackedBytesPerThread)))
		sgemmSmallM(be, nt, pre, transA, m, alpha, a, lda, beta, c, ldc, ep)
		return
	}
	nt = max(1, min(nt, 2*m*n*k/minFlopsPerThread))
	// Packed B (op(A) not transposed), and short products on several
	// threads, run tasks over all of K with no barrier per block of kc steps.
	if pre != nil && transA == NoTrans || pre == nil && nt > 1 && m <= 2*taskRows {
		g := &gemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep}
		sgemmFullK(be, nt, pre, g)
		return
	}
	if nt == 1 {
		sgemmSerial(be, pre, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	sgemmParallel(be, nt, pre, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
}

// Task sizes of sgemmParallel: a task computes a block of about taskRows
// rows and taskCols columns of C.
const (
	taskRows = 96
	taskCols = 512
	// sharedCols bounds the columns of op(B) packed at once (kc×sharedCols
	// floats shared by all workers).
	sharedCols = 4096
)

// sgemmParallel runs the product on nt goroutines. For each block of kc
// steps (and of up to sharedCols columns) — a phase — the workers first pack
// op(B) and op(A) together into shared buffers, meet at a barrier, then take
// tasks — blocks of C of about taskRows×taskCols — from a shared counter, so
// a worker slowed by other load on the machine simply takes fewer tasks. A
// task runs the micro-kernel with each A micro-panel in L1 sweeping the
// task's B panels (in L2). Very tall products pack op(A) per task instead
// (see parallelPlan); short ones (m ≤ 2·taskRows) go to sgemmFullK.
func sgemmParallel(be *backend, nt int, pre *PackedB, transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue) {
	g := &gemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep}
	pl := planParallel(be, nt, pre, m, n, k)
	// The shared panels are double-buffered, so a worker may start packing
	// the next phase while another still computes: the next barrier orders
	// them.
	var shared [2]*gemmScratch
	for i := range shared {
		if shared[i] = pl.sharedScratch(); shared[i] != nil {
			defer scratchPool.Put(shared[i])
		}
	}
	counters := make([]struct{ pack, task atomic.Int64 }, len(pl.phases))
	bar := newBarrier(nt)
	runWorkers(nt, func() {
		s := pl.workerScratch()
		defer scratchPool.Put(s)
		for i, p := range pl.phases {
			blk := pl.block(p, pre, shared[i%2])
			packShared(be, g, pl.kr, &blk, &counters[i].pack)
			bar.wait()
			for {
				t := int(counters[i].task.Add(1) - 1)
				if t >= blk.tasks {
					break
				}
				runTask(be, g, pl, &blk, t, s)
			}
		}
	})
}

// gemmArgs are the operands of a product C = alpha·op(A)·op(B) + beta·C and
// its epilogue, as given to Sgemm.
type gemmArgs struct {
	transA, transB Transpose
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	ep             *Epilogue
}

// parallelPlan is how sgemmParallel splits a product: the blocking of the
// kernel, the phases, and the tasks of a phase.
type parallelPlan struct {
	m, n, k int
	kr      *gemmKernel
	// kcMax steps and ncMax columns of op(B) make one phase.
	kcMax, ncMax int
	mPanels      int // mr-row micro-panels of op(A)
	// A phase of ncMax columns has rowTasks×colTasks tasks, each rowStep
	// rows high (a multiple of mr).
	rowTasks, colTasks, rowStep int
	// shareA: op(A) is packed once per phase into a shared buffer, else by
	// each task for its rows. shareB: op(B) likewise, else it is packed
	// already (PackedB).
	shareA, shareB bool
	phases         []phase
}

// phase is the block of columns [jc, jc+ncMax) and steps [pc, pc+kcMax)
// that the workers pack together and then compute.
type phase struct{ jc, pc int }

// planParallel plans the product of op(A) (m×k) and op(B) (k×n, or pre
// when it is packed already) on nt workers.
func planParallel(be *backend, nt int, pre *PackedB, m, n, k int) *parallelPlan {
	kr := &be.gemm
	kcMax := min(kr.kc, k)
	ncMax := min(sharedCols, (n+kr.nr-1)/kr.nr*kr.nr)
	if pre != nil {
		kr, kcMax = &pre.kernel, pre.kc
		ncMax = pre.nPad
	}
	mr, nr := kr.mr, kr.nr
	pl := &parallelPlan{m: m, n: n, k: k, kr: kr, kcMax: kcMax, ncMax: ncMax}
	// Split rows and columns into near-equal task blocks aligned to the tile.
	mPanels, nPanels := (m+mr-1)/mr, (n+nr-1)/nr
	pl.mPanels = mPanels
	rowTasks := max(1, (m+taskRows/2)/taskRows)
	colTasks := max(1, (min(n, ncMax)+taskCols/2)/taskCols)
	// op(A) is packed once per phase into a shared buffer (rather than by
	// every task for its rows) unless it is very tall.
	pl.shareA = mPanels*mr*kcMax <= 1<<20
	// Make at least 2 tasks per worker if the tiles allow (4 when tasks do
	// not pack, so that they stay balanced on a busy machine).
	minTasks := 2 * nt
	if pl.shareA {
		minTasks = 4 * nt
	}
	for rowTasks*colTasks < minTasks && (rowTasks < mPanels || colTasks < nPanels) {
		if rowTasks < mPanels && (m/rowTasks >= n/colTasks || colTasks >= nPanels) {
			rowTasks++
		} else {
			colTasks++
		}
	}
	pl.shareB = pre == nil
	pl.rowStep = (mPanels + rowTasks - 1) / rowTasks * mr
	pl.rowTasks = (m + pl.rowStep - 1) / pl.rowStep
	pl.colTasks = colTasks
	for jc := 0; jc < n; jc += ncMax {
		for pc := 0; pc < k; pc += kcMax {
			pl.phases = append(pl.phases, phase{jc, pc})
		}
	}
	return pl
}

// sharedScratch takes from the pool the buffers of one phase's shared
// packed panels, or returns nil if the plan shares none.
func (pl *parallelPlan) sharedScratch() *gemmScratch {
	if !pl.shareA && !pl.shareB {
		return nil
	}
	sh := scratchPool.Get().(*gemmScratch)
	if pl.shareB {
		sh.b = grow(sh.b, pl.ncMax*pl.kcMax)
	}
	if pl.shareA {
		sh.a = grow(sh.a, pl.mPanels*pl.kr.mr*pl.kcMax)
	}
	return sh
}

// workerScratch takes from the pool a worker's buffers: its tasks' own
// packed panels and an edge tile.
func (pl *parallelPlan) workerScratch() *gemmScratch {
	mr, nr := pl.kr.mr, pl.kr.nr
	s := scratchPool.Get().(*gemmScratch)
	if !pl.shareA {
		s.a = grow(s.a, pl.rowStep*pl.kcMax)
	}
	s.tile = grow(s.tile, mr*nr)
	return s
}

// phaseBlock is what the workers compute in one phase: columns
// [jc, jc+nc) of C over steps [pc, pc+kc), split into tasks colStep
// columns wide.
type phaseBlock struct {
	jc, pc, nc, kc int
	colStep, tasks int
	// bp is packed op(B) (pre's, or shared with bUnits micro-panels to
	// pack), nil when each task packs its own; ap is the shared packed op(A)
	// (aUnits micro-panels to pack), nil when each task packs its own.
	bp, ap         []float32
	bUnits, aUnits int
}

// block returns the block of phase p, its shared panels in sh.
func (pl *parallelPlan) block(p phase, pre *PackedB, sh *gemmScratch) phaseBlock {
	nr := pl.kr.nr
	blk := phaseBlock{jc: p.jc, pc: p.pc, nc: min(pl.ncMax, pl.n-p.jc), kc: min(pl.kcMax, pl.k-p.pc)}
	ncPanels := (blk.nc + nr - 1) / nr
	blk.colStep = (ncPanels + pl.colTasks - 1) / pl.colTasks * nr
	blk.tasks = pl.rowTasks * ((blk.nc + blk.colStep - 1) / blk.colStep)
	switch {
	case pre != nil:
		blk.bp = pre.block(p.pc)
	case pl.shareB:
		blk.bp, blk.bUnits = sh.b, ncPanels
	}
	if pl.shareA {
		blk.ap, blk.aUnits = sh.a, pl.mPanels
	}
	return blk
}

// packShared packs, together with the other workers, the shared panels of
// the block: op(B)[pc:pc+kc, jc:jc+nc] into blk.bp and op(A)[:, pc:pc+kc]
// into blk.ap, a few micro-panels at a time taken from the counter next.
func packShared(be *backend, g *gemmArgs, kr *gemmKernel, blk *phaseBlock, next *atomic.Int64) {
	mr, nr, kc := kr.mr, kr.nr, blk.kc
	takeUnits(next, blk.bUnits+blk.aUnits, func(u int) {
		if u < blk.bUnits {
			jr := u * nr
			packB(be, blk.bp[jr*kc:jr*kc+nr*kc], g.transB, g.b, g.ldb, blk.pc, blk.jc+jr, nr, min(nr, blk.nc-jr), kc)
			return
		}
		ir := (u - blk.bUnits) * mr
		packA(be, blk.ap[ir*kc:ir*kc+mr*kc], g.transA, g.a, g.lda, ir, blk.pc, mr, min(mr, g.m-ir), kc)
	})
}

// takeUnits calls do for units 0…units-1 that this worker takes, a few at a
// time, from the counter next shared with the other workers.
func takeUnits(next *atomic.Int64, units int, do func(u int)) {
	const step = 4
	for {
		u0 := int(next.Add(step) - step)
		if u0 >= units {
			return
		}
		for u := u0; u < min(u0+step, units); u++ {
			do(u)
		}
	}
}

// runTask computes task t of the block: rows [i0, i0+mc) and columns
// [jc+j0, jc+j0+nw) of C over the block's kc steps, packing the panels the
// phase does not share into s, and then, after the last block of steps,
// applies the epilogue.
func runTask(be *backend, g *gemmArgs, pl *parallelPlan, blk *phaseBlock, t int, s *gemmScratch) {
	kr, pc, kc := pl.kr, blk.pc, blk.kc
	mr := kr.mr
	// Column-major task order: a worker taking consecutive tasks keeps the
	// same kc×colStep block of op(B) in its L2.
	i0 := (t % pl.rowTasks) * pl.rowStep
	j0 := (t / pl.rowTasks) * blk.colStep
	mc := min(pl.rowStep, g.m-i0)
	nw := min(blk.colStep, blk.nc-j0)
	c := g.c[i0*g.ldc+blk.jc+j0:]
	if pc == 0 && g.beta != 0 {
		scaleC(mc, nw, g.beta, c, g.ldc)
	}
	tb := blk.bp[j0*kc:]
	var ta []float32
	if pl.shareA {
		ta = blk.ap[i0*kc:]
	} else {
		for ir := 0; ir < mc; ir += mr {
			packA(be, s.a[ir*kc:ir*kc+mr*kc], g.transA, g.a, g.lda, i0+ir, pc, mr, min(mr, mc-ir), kc)
		}
		ta = s.a
	}
	microTiles(kr, kc, ta, tb, mc, nw, g.alpha, c, g.ldc, s.tile, pc == 0 && g.beta == 0)
	if pc+kc == g.k {
		g.ep.apply(be.avx2, g.c, g.ldc, i0, blk.jc+j0, mc, nw)
	}
}

// barrier makes n goroutines wait for each other. A waiter spins briefly
// (phases are short, and a parked thread may take long to get a CPU back
// on a busy machine) and then blocks.
type barrier struct {
	n     int
	mu    sync.Mutex
	count int
	gen   atomic.Uint64
	ch    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, ch: make(chan struct{})} }

// barrierSpins is how many times a waiter polls before blocking.
const barrierSpins = 20000

func (b *barrier) wait() {
	b.mu.Lock()
	g, ch := b.gen.Load(), b.ch
	b.count++
	if b.count == b.n {
		b.count = 0
		b.ch = make(chan struct{})
		b.gen.Add(1)
		b.mu.Unlock()
		close(ch)
		return
	}
	b.mu.Unlock()
	for i := 0; i < barrierSpins; i++ {
		if b.gen.Load() != g {
			return
		}
	}
	<-ch
}

// microTiles runs the micro-kernel over an mc×nw block of C from packed A
// (mc rows in mr-row panels) and packed B (nw columns in nr-column panels),
// the A micro-panel staying in L1 while the kernel sweeps the B panels.
// Edge tiles go through tile (mr×nr scratch). With store set the block is
// overwritten (the first kc block of a product with beta = 0), otherwise
// added to.
func microTiles(kr *gemmKernel, kc int, ap, bp []float32, mc, nw int, alpha float32, c []float32, ldc int, tile []float32, store bool) {
	mr, nr := kr.mr, kr.nr
	for ir := 0; ir < mc; ir += mr {
		mt := min(mr, mc-ir)
		a := &ap[ir*kc]
		// The last panel may be partial: use the smallest kernel that covers
		// its rows.
		fn, fnStore, rows := kr.fn, kr.fnStore, mr
		if mt < mr {
			for _, e := range kr.edge {
				if e.rows >= mt {
					fn, fnStore, rows = e.fn, e.fnStore, e.rows
					break
				}
			}
		}
		for jr := 0; jr < nw; jr += nr {
			nt := min(nr, nw-jr)
			b := &bp[jr*kc]
			ci := ir*ldc + jr
			if mt == rows && nt == nr {
				if store {
					fnStore(kc, a, b, &c[ci], ldc, alpha)
				} else {
					fn(kc, a, b, &c[ci], ldc, alpha)
				}
				continue
			}
			// Edge tile: compute it whole into tile, then move its valid part.
			fnStore(kc, a, b, &tile[0], nr, alpha)
			moveTile(c[ci:], ldc, tile, nr, mt, nt, store)
		}
	}
}

// moveTile stores (or, without store, adds) the first rows×cols values of
// the tile (row stride nr) into c (row stride ldc).
func moveTile(c []float32, ldc int, tile []float32, nr, rows, cols int, store bool) {
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+cols]
		t := tile[i*nr : i*nr+cols]
		if store {
			copy(row, t)
			continue
		}
		for j, v := range t {
			row[j] += v
		}
	}
}

type gemmScratch struct {
	a, b []float32
	tile []float32
}

var scratchPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// grow returns s with length n, reallocated if its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// sgemmSerial runs the blocked loop nest on the calling goroutine: for each
// block of kc steps it packs op(A) whole (m×kc, read once) and then, for each
// block of nc columns, packs op(B) (kc×nc, kept in L2) and runs the
// micro-kernel over every mr×nr tile, the A micro-panel staying in L1 while
// the kernel sweeps the B panels.
func sgemmSerial(be *backend, pre *PackedB, transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep *Epilogue) {
	// With beta = 0 the first block of kc steps overwrites C, so C is never
	// read (nor cleared beforehand).
	if beta != 0 {
		scaleC(m, n, beta, c, ldc)
	}
	kr := &be.gemm
	kcMax := min(kr.kc, k)
	ncMax := min(kr.nc, (n+kr.nr-1)/kr.nr*kr.nr)
	if pre != nil {
		kr, kcMax = &pre.kernel, pre.kc
		ncMax = pre.nPad
	}
	mr, nr := kr.mr, kr.nr
	mPad := (m + mr - 1) / mr * mr
	s := scratchPool.Get().(*gemmScratch)
	defer scratchPool.Put(s)
	s.a = grow(s.a, mPad*kcMax)
	if pre == nil {
		s.b = grow(s.b, ncMax*kcMax)
	}
	s.tile = grow(s.tile, mr*nr)
	for pc := 0; pc < k; pc += kcMax {
		kc := min(kcMax, k-pc)
		for ir := 0; ir < m; ir += mr {
			packA(be, s.a[ir*kc:ir*kc+mr*kc], transA, a, lda, ir, pc, mr, min(mr, m-ir), kc)
		}
		for jc := 0; jc < n; jc += ncMax {
			nc := min(ncMax, n-jc)
			store := pc == 0 && beta == 0
			bp := s.b
			if pre != nil {
				bp = pre.block(pc)
			} else {
				for jr := 0; jr < nc; jr += nr {
					packB(be, s.b[jr*kc:jr*kc+nr*kc], transB, b, ldb, pc, jc+jr, nr, min(nr, nc-jr), kc)
				}
			}
			microTiles(kr, kc, s.a, bp, m, nc, alpha, c[jc:], ldc, s.tile, store)
			if pc+kc == k {
				ep.apply(be.avx2, c, ldc, 0, jc, m, nc)
			}
		}
	}
}

// packA packs the micro-panel of op(A) holding rows [i, i+valid) and steps
// [pc, pc+kc) as w rows: dst[q*w+r] = op(A)[i+r][pc+q], zero for r ≥ valid.
func packA(be *backend, dst []float32, transA Transpose, a []float32, lda, i, pc, w, valid, kc int) {
	if transA == Trans {
		packCopy(be, dst, a[pc*lda+i:], lda, w, valid, kc)
		return
	}
	packTrans(be, dst, a[i*lda+pc:], lda, w, valid, kc)
}

// packB packs the micro-panel of op(B) holding steps [pc, pc+kc) and columns
// [j, j+valid) as w columns: dst[q*w+c] = op(B)[pc+q][j+c], zero for
// c ≥ valid.
func packB(be *backend, dst []float32, transB Transpose, b []float32, ldb, pc, j, w, valid, kc int) {
	if transB == Trans {
		packTrans(be, dst, b[j*ldb+pc:], ldb, w, valid, kc)
		return
	}
	packCopy(be, dst, b[pc*ldb+j:], ldb, w, valid, kc)
}

// packTrans packs a micro-panel from w rows of src (stride ld), of which the
// first valid exist: dst[q*w+i] = src[i*ld+q] for q < kc, zero for i ≥ valid.
// This is the layout of op(A) when A is not transposed and of op(B) when B
// is.
func packTrans(be *backend, dst, src []float32, ld, w, valid, kc int) {
	dst = dst[:w*kc]
	q0 := 0
	if be.avx2 && valid%2 == 0 && valid > 0 && kc >= 8 {
		q0 = kc &^ 7
		_ = src[(valid-1)*ld+q0-1]
		packTransAsm(dst, src, ld, valid, q0, w)
	}
	if q0 < kc {
		for i := 0; i < valid; i++ {
			row := src[i*ld+q0 : i*ld+kc]
			for q, v := range row {
				dst[(q0+q)*w+i] = v
			}
		}
	}
	if valid < w {
		for q := 0; q < kc; q++ {
			clear(dst[q*w+valid : q*w+w])
		}
	}
}

// packCopy packs a micro-panel from kc rows of src (stride ld), taking the
// first valid of w columns: dst[q*w+i] = src[q*ld+i], zero for i ≥ valid.
// This is the layout of op(A) when A is transposed and of op(B) when B is
// not.
func packCopy(be *backend, dst, src []float32, ld, w, valid, kc int) {
	if be.avx2 && valid == w && w%4 == 0 && kc > 0 {
		_ = dst[kc*w-1]
		_ = src[(kc-1)*ld+w-1]
		packCopyAsm(dst, src, ld, w, kc)
		return
	}
	for q := 0; q < kc; q++ {
		d := dst[q*w : q*w+w]
		copy(d, src[q*ld:q*ld+valid])
		clear(d[valid:])
	}
}

// unsafeSlice views n float32s from p.
func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

// PackedB is the right-hand matrix op(B) of a product packed once in the
// layout the micro-kernel reads, for products that reuse it many times
// (model weights at inference). Packing costs about as much as a product
// with a dozen rows, so for a few rows at a time SgemmPackedB is much faster
// than Sgemm. A PackedB is immutable and safe for concurrent use; it keeps
// the micro-kernel chosen when it was packed.
type PackedB struct {
	k, n   int
	kernel gemmKernel
	kc     int
	nPad   int // n rounded up to the kernel's nr
	data   []float32
}

// PackB packs op(B) (k×n; B is k×n with stride ldb ≥ n, or n×k with
// ldb ≥ k when transB is Trans, as in Sgemm) for SgemmPackedB. It panics on
// shapes that do not fit, as Sgemm does.
func PackB(transB Transpose, k, n int, b []float32, ldb int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("tensor.PackB: negative dimension k=%d n=%d", k, n))
	}
	checkTrans("PackB", "transB", transB)
	checkOp("b", transB, b, k, n, ldb)
	be := current.Load()
	kr := be.gemm
	p := &PackedB{k: k, n: n, kernel: kr, kc: max(1, min(kr.kc, k)), nPad: (n + kr.nr - 1) / kr.nr * kr.nr}
	p.data = make([]float32, p.nPad*k)
	nr := kr.nr
	blocks := (k + p.kc - 1) / p.kc
	ParallelFor(blocks*(p.nPad/nr), 8, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			pc := (t / (p.nPad / nr)) * p.kc
			jr := (t % (p.nPad / nr)) * nr
			kc := min(p.kc, k-pc)
			panel := p.block(pc)[jr*kc : jr*kc+nr*kc]
			packB(be, panel, transB, b, ldb, pc, jr, nr, min(nr, n-jr), kc)
		}
	})
	return p
}

// Dims returns the k×n shape of the packed op(B).
func (p *PackedB) Dims() (k, n int) { return p.k, p.n }

// block returns the packed rows [pc, pc+kc) of op(B): nPad/nr panels of
// kc×nr values.
func (p *PackedB) block(pc int) []float32 {
	return p.data[pc*p.nPad : (pc+min(p.kc, p.k-pc))*p.nPad]
}

// SgemmPackedB computes C = alpha·op(A)·B + beta·C like Sgemm, with B
// (k×n) given packed by PackB: op(A) is m×k (A is m×k with lda ≥ k, or k×m
// with lda ≥ m when transA is Trans) and C is m×n with ldc ≥ n.
func SgemmPackedB(transA Transpose, m int, alpha float32, a []float32, lda int, b *PackedB, beta float32, c []float32, ldc int) {
	SgemmPackedBEpilogue(transA, m, alpha, a, lda, b, beta, c, ldc, nil)
}

// SgemmPackedBEpilogue is SgemmPackedB followed by ep on C (a bias and an
// activation), done block by block while the blocks are in cache.
func SgemmPackedBEpilogue(transA Transpose, m int, alpha float32, a []float32, lda int, b *PackedB, beta float32, c []float32, ldc int, ep *Epilogue) {
	if m < 0 {
		panic(fmt.Sprintf("tensor.SgemmPackedB: negative dimension m=%d", m))
	}
	checkTrans("SgemmPackedB", "transA", transA)
	checkOp("a", transA, a, m, b.k, lda)
	checkMat("c", c, m, b.n, ldc)
	ep.check(m, b.n, ldc)
	sgemmWith(current.Load(), Threads(), b, transA, NoTrans, m, b.n, b.k, alpha, a, lda, nil, 0, beta, c, ldc, ep)
}

// smallRows is the largest m that sgemmSmallM takes.
const smallRows = 32

// sgemmSmallM runs a product of a few rows of op(A) with a packed op(B) — a
// linear layer on a short input, where streaming the weights from memory is
// the cost. The workers take blocks of columns from a shared counter and
// run each over all of K, with no barrier between them, on kernels that
// prefetch the next B micro-panel. The rows are split into panels of
// near-equal height (16 rows as 8 + 8, not 12 + 4), and each B micro-panel,
// read once from memory, serves every row panel while it is in L1. Row
// panels are read in place (A not transposed, a direct kernel of their
// height) or else packed once, up front, on the calling goroutine.
func sgemmSmallM(be *backend, nt int, pre *PackedB, transA Transpose, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int, ep *Epilogue) {
	kr := &pre.kernel
	if kr.stream != nil {
		kr = kr.stream
	}
	mr, nr, k, n := kr.mr, kr.nr, pre.k, pre.n
	panels := (m + mr - 1) / mr
	height := kr.rowsFor((m + panels - 1) / panels)
	direct := make([]directKernel, panels)
	packed := make([]bool, panels)
	var s *gemmScratch
	for p := range panels {
		i0 := p * height
		rows := min(height, m-i0)
		var ok bool
		if direct[p], ok = kr.directFor(rows); ok && transA == NoTrans {
			continue
		}
		// Packed op(A) of this panel: for each block of kc steps, mr rows
		// (of which the first rows are used) at ap[panels*mr*pc+p*mr*kc].
		if s == nil {
			s = scratchPool.Get().(*gemmScratch)
			defer scratchPool.Put(s)
			s.a = grow(s.a, panels*mr*k)
		}
		packed[p] = true
		for pc := 0; pc < k; pc += pre.kc {
			kc := min(pre.kc, k-pc)
			packA(be, s.a[panels*mr*pc+p*mr*kc:panels*mr*pc+(p+1)*mr*kc], transA, a, lda, i0, pc, mr, rows, kc)
		}
	}
	if beta != 0 {
		scaleC(m, n, beta, c, ldc)
	}
	nPanels := (n + nr - 1) / nr
	// About 8 tasks per worker, so that a worker slowed by other load takes
	// fewer.
	colStep := (nPanels + 8*nt - 1) / (8 * nt) * nr
	tasks := (n + colStep - 1) / colStep
	var next atomic.Int64
	work := func() {
		ts := scratchPool.Get().(*gemmScratch)
		defer scratchPool.Put(ts)
		ts.tile = grow(ts.tile, mr*nr)
		for {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			j0 := t * colStep
			nw := min(colStep, n-j0)
			for pc := 0; pc < k; pc += pre.kc {
				kc := min(pre.kc, k-pc)
				bp := pre.block(pc)
				store := pc == 0 && beta == 0
				for jr := j0; jr < j0+nw; jr += nr {
					cols := min(nr, j0+nw-jr)
					for p := 0; p < panels; p++ {
						i0 := p * height
						rows := min(height, m-i0)
						if packed[p] {
							panel := s.a[panels*mr*pc+p*mr*kc : panels*mr*pc+(p+1)*mr*kc]
							microTiles(kr, kc, panel, bp[jr*kc:], rows, cols, alpha, c[i0*ldc+jr:], ldc, ts.tile, store)
							continue
						}
						directTile(direct[p], kc, &a[i0*lda+pc], lda, &bp[jr*kc], rows, cols, nr, alpha, c[i0*ldc+jr:], ldc, ts.tile, store)
					}
				}
			}
			ep.apply(be.avx2, c, ldc, 0, j0, m, nw)
		}
	}
	if nt == 1 || tasks == 1 {
		work()
		return
	}
	runWorkers(min(nt, tasks), work)
}

// sgemmFullK runs on up to nt goroutines a product whose tasks — blocks of
// C — are each computed over all of K, with no barrier between blocks of kc
// steps: the workers take the tasks from a shared counter, and a task
// accumulates its block of C for every block of kc steps in turn and then
// applies the epilogue. It takes two kinds of product:
//
//   - op(B) packed already (pre, op(A) not transposed): tasks of about
//     taskRows×taskCols, at least 8 per worker. Packed A panels stay in L1
//     while the B panels stream from L2; reading A in place instead (the
//     direct kernels) was slower here, most for rows 3072 floats apart,
//     which all fall into the same L1 sets.
//   - op(B) not packed and a short op(A) (m ≤ 2·taskRows): each task spans
//     all rows and packs its own columns of op(B) for each block of kc
//     steps, where they are used, so nothing of B is shared between cores.
//     The tasks shrink as the product goes on (guidedChunks), so that the
//     workers end together.
//
// When several tasks share rows, the workers first pack all of op(A)
// together (one barrier, then the tasks read it); otherwise each task packs
// its own rows for every block of kc steps. With a barrier per block of kc
// steps instead (sgemmParallel's phases), a worker slowed for a moment by
// other load made the other wait at each of them: 30–250 µs a product of
// 128×768×768 on two threads, ~1 ms, on cpu family 25 model 1
// (BENCHMARKS.md).
func sgemmFullK(be *backend, nt int, pre *PackedB, g *gemmArgs) {
	m, n, k := g.m, g.n, g.k
	kr, kcMax := &be.gemm, min(be.gemm.kc, k)
	if pre != nil {
		kr, kcMax = &pre.kernel, pre.kc
	}
	mr, nr := kr.mr, kr.nr
	mPanels, nPanels := (m+mr-1)/mr, (n+nr-1)/nr
	var rowStep int
	var colEdges []int // task columns: chunk i is [colEdges[i], colEdges[i+1])
	if pre != nil {
		rowTasks := max(1, (m+taskRows/2)/taskRows)
		colTasks := max(1, (n+taskCols/2)/taskCols)
		// At least 8 tasks per worker: with 4 (9 tasks for a 256×896 product
		// on 2 workers, 5 against 4) the last tasks left a worker idle for
		// ~10 % of the product; 8 gained 4–10 % on the BERT, GPT-2, MiniLM
		// and Qwen2 forward passes on cpu family 25 model 1 (16 gained less).
		for rowTasks*colTasks < 8*nt && (rowTasks < mPanels || colTasks < nPanels) {
			if rowTasks < mPanels && (m/rowTasks >= n/colTasks || colTasks >= nPanels) {
				rowTasks++
			} else {
				colTasks++
			}
		}
		rowStep = (mPanels + rowTasks - 1) / rowTasks * mr
		colStep := (nPanels + colTasks - 1) / colTasks * nr
		for j := 0; j < n; j += colStep {
			colEdges = append(colEdges, j)
		}
		colEdges = append(colEdges, n)
	} else {
		rowStep = mPanels * mr
		// Tasks of at least ~1 MFLOP and at most taskCols columns.
		minPanels := max(1, (1<<20)/(2*m*k*nr))
		colEdges = guidedChunks(nPanels, nt, minPanels, max(1, taskCols/nr))
		for i := range colEdges {
			colEdges[i] = min(n, colEdges[i]*nr)
		}
	}
	rowTasks, colTasks := (m+rowStep-1)/rowStep, len(colEdges)-1
	tasks := rowTasks * colTasks
	workers := min(nt, tasks)
	// Shared packed op(A): block pc (kc steps) at pc*mPad, its panel of rows
	// [ir, ir+mr) at pc*mPad + ir*kc, as PackedB lays out B.
	mPad := mPanels * mr
	kBlocks := (k + kcMax - 1) / kcMax
	var shared []float32
	var packNext atomic.Int64
	var bar *barrier
	if colTasks > 1 {
		sh := scratchPool.Get().(*gemmScratch)
		defer scratchPool.Put(sh)
		sh.a = grow(sh.a, mPad*k)
		shared = sh.a
		bar = newBarrier(workers)
	}
	packUnit := func(u int) {
		pc, ir := u/mPanels*kcMax, u%mPanels*mr
		kc := min(kcMax, k-pc)
		packA(be, shared[pc*mPad+ir*kc:pc*mPad+(ir+mr)*kc], g.transA, g.a, g.lda, ir, pc, mr, min(mr, m-ir), kc)
	}
	var next atomic.Int64
	work := func() {
		s := scratchPool.Get().(*gemmScratch)
		defer scratchPool.Put(s)
		s.tile = grow(s.tile, mr*nr)
		if pre == nil {
			s.b = grow(s.b, (colEdges[1]-colEdges[0]+nr-1)/nr*nr*kcMax)
		}
		if shared != nil {
			takeUnits(&packNext, kBlocks*mPanels, packUnit)
			bar.wait()
		} else {
			s.a = grow(s.a, rowStep*kcMax)
		}
		for {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			// Column-major task order: consecutive tasks share columns of B.
			i0 := (t % rowTasks) * rowStep
			j0, j1 := colEdges[t/rowTasks], colEdges[t/rowTasks+1]
			mc, nw := min(rowStep, m-i0), j1-j0
			c := g.c[i0*g.ldc+j0:]
			if g.beta != 0 {
				scaleC(mc, nw, g.beta, c, g.ldc)
			}
			for pc := 0; pc < k; pc += kcMax {
				kc := min(kcMax, k-pc)
				ap := s.a
				if shared != nil {
					ap = shared[pc*mPad+i0*kc:]
				} else {
					for ir := 0; ir < mc; ir += mr {
						packA(be, s.a[ir*kc:ir*kc+mr*kc], g.transA, g.a, g.lda, i0+ir, pc, mr, min(mr, mc-ir), kc)
					}
				}
				var bp []float32
				if pre != nil {
					bp = pre.block(pc)[j0*kc:]
				} else {
					for jr := 0; jr < nw; jr += nr {
						packB(be, s.b[jr*kc:jr*kc+nr*kc], g.transB, g.b, g.ldb, pc, j0+jr, nr, min(nr, nw-jr), kc)
					}
					bp = s.b
				}
				microTiles(kr, kc, ap, bp, mc, nw, g.alpha, c, g.ldc, s.tile, pc == 0 && g.beta == 0)
			}
			g.ep.apply(be.avx2, g.c, g.ldc, i0, j0, mc, nw)
		}
	}
	if workers == 1 {
		work()
		return
	}
	runWorkers(workers, work)
}

// guidedChunks splits panels into consecutive chunks for nt workers and
// returns their edges (0, …, panels): each chunk is a 2·nt-th of the panels
// still left, within [minPanels, maxPanels], so the tasks taken first are
// large and the last ones small — a worker that finds the counter empty
// waits at most for one small task of the other.
func guidedChunks(panels, nt, minPanels, maxPanels int) []int {
	edges := []int{0}
	for p := 0; p < panels; {
		size := min(maxPanels, max(minPanels, (panels-p+2*nt-1)/(2*nt)))
		p = min(panels, p+size)
		edges = append(edges, p)
	}
	return edges
}

// directTile runs the direct kernel d on the rows×cols tile of C at c[0]
// (cols ≤ nr; a narrower tile is computed whole into tile, then its valid
// part moved).
func directTile(d directKernel, kc int, a *float32, lda int, b *float32, rows, cols, nr int, alpha float32, c []float32, ldc int, tile []float32, store bool) {
	if cols == nr {
		if store {
			d.fnStore(kc, a, lda, b, &c[0], ldc, alpha)
		} else {
			d.fn(kc, a, lda, b, &c[0], ldc, alpha)
		}
		return
	}
	d.fnStore(kc, a, lda, b, &tile[0], nr, alpha)
	moveTile(c, ldc, tile, nr, rows, cols, store)
}
