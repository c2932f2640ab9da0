package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// backends runs f once with each assembly GEMM kernel this build and CPU
// have (with the assembly vector kernels) and once with the portable Go
// kernels, restoring the default afterwards. With TEXTCLF_EXPECT_KERNEL set
// (the emulated AVX-512 run, README), it runs f with that kernel only: the
// others are tested natively, and under emulation each run takes minutes.
func backends(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer UseAssembly(true)
	only := os.Getenv("TEXTCLF_EXPECT_KERNEL")
	ran := false
	for _, k := range asmKernels() {
		if only != "" && k.name != only {
			continue
		}
		if !useGemmKernel(k.name) {
			t.Fatalf("useGemmKernel(%q) failed", k.name)
		}
		t.Run("asm/"+KernelName(), f)
		ran = true
	}
	if UseAssembly(false) {
		t.Fatal("UseAssembly(false) reports assembly in use")
	}
	if KernelName() != "go-4x4" {
		t.Fatalf("portable kernel is %q", KernelName())
	}
	if only == "" || only == KernelName() {
		t.Run("go/"+KernelName(), f)
		ran = true
	}
	if !ran {
		t.Fatalf("TEXTCLF_EXPECT_KERNEL=%q: no such kernel on this CPU", only)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// refGemm computes alpha·op(A)·op(B) + beta·C in float64, and the matching
// sum of absolute terms used to bound the float32 rounding error.
func refGemm(transA, transB Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (val, mag []float64) {
	val = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA == Trans {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB == Trans {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			cv := 0.0
			if beta != 0 {
				cv = float64(beta) * float64(c[i*ldc+j])
			}
			val[i*n+j] = float64(alpha)*s + cv
			mag[i*n+j] = math.Abs(float64(alpha))*sa + math.Abs(cv)
		}
	}
	return val, mag
}

func checkGemmCase(t *testing.T, r *rand.Rand, transA, transB Transpose, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	lda, ldb, ldc := k+pad, n+pad, n+pad
	ar, br := m, k
	if transA == Trans {
		lda, ar = m+pad, k
	}
	if transB == Trans {
		ldb, br = k+pad, n
	}
	a := randSlice(r, max(0, (ar-1)*lda+lda))
	b := randSlice(r, max(0, (br-1)*ldb+ldb))
	c := randSlice(r, max(0, (m-1)*ldc+ldc))
	if beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN()) // must be ignored
		}
	}
	c0 := append([]float32(nil), c...)
	val, mag := refGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if !(got == c0[i*ldc+j] || math.IsNaN(float64(got)) && math.IsNaN(float64(c0[i*ldc+j]))) {
					t.Fatalf("tA=%v tB=%v m=%d n=%d k=%d: padding C[%d][%d] changed", transA, transB, m, n, k, i, j)
				}
				continue
			}
			want := val[i*n+j]
			tol := 2e-7*float64(k+4)*mag[i*n+j] + 1e-30
			if d := math.Abs(float64(got) - want); !(d <= tol) {
				t.Fatalf("tA=%v tB=%v m=%d n=%d k=%d α=%g β=%g: C[%d][%d] = %g, want %g (tol %g)", transA, transB, m, n, k, alpha, beta, i, j, got, want, tol)
			}
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	// 20 and 28 end in exact 8- and 4-row edge panels (with n = 64, full width).
	sizes := []int{1, 2, 7, 12, 17, 20, 28, 33, 64, 65}
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, tA := range []Transpose{NoTrans, Trans} {
			for _, tB := range []Transpose{NoTrans, Trans} {
				for _, m := range sizes {
					for _, n := range sizes {
						k := sizes[(m+n)%len(sizes)]
						checkGemmCase(t, r, tA, tB, m, n, k, 1, 0, 0)
					}
				}
			}
		}
	})
}

func TestSgemmLarge(t *testing.T) {
	// Odd sizes that cross the kc, mc and nc block edges of every kernel, with
	// padded leading dimensions, alpha ≠ 1 and beta ∈ {0, 1, -0.5}.
	cases := []struct{ m, n, k int }{
		{511, 33, 300}, {17, 1100, 511}, {130, 515, 257}, {1, 777, 513}, {600, 1, 70}, {97, 131, 1},
	}
	// One thread runs the serial loop nest, several the task-parallel one.
	for _, nt := range []int{1, 3} {
		old := SetThreads(nt)
		t.Run(fmt.Sprintf("threads=%d", nt), func(t *testing.T) {
			backends(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(3, 4))
				for i, cs := range cases {
					for _, tA := range []Transpose{NoTrans, Trans} {
						for _, tB := range []Transpose{NoTrans, Trans} {
							beta := []float32{0, 1, -0.5}[i%3]
							checkGemmCase(t, r, tA, tB, cs.m, cs.n, cs.k, 0.75, beta, 3)
						}
					}
				}
			})
		})
		SetThreads(old)
	}
}

func TestSgemmThreads(t *testing.T) {
	defer SetThreads(SetThreads(3))
	if Threads() != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", Threads())
	}
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		checkGemmCase(t, r, NoTrans, Trans, 300, 200, 100, 1, 0, 0)
		checkGemmCase(t, r, Trans, NoTrans, 50, 700, 90, 1, 1, 1)
		checkGemmCase(t, r, NoTrans, NoTrans, 700, 20, 90, -2, 0.5, 0)
		checkGemmCase(t, r, Trans, Trans, 33, 5000, 40, 1, 0, 2) // more columns than sharedCols
		checkGemmCase(t, r, NoTrans, NoTrans, 64, 64, 600, 1, 0, 0)
		checkGemmCase(t, r, NoTrans, NoTrans, 100, 100, 0, 1, 0.5, 1) // k = 0: C = beta·C
		checkGemmCase(t, r, NoTrans, Trans, 300, 200, 100, 0, -1, 0)  // alpha = 0
		// Tall enough that tasks pack their own rows of A (no shared A).
		checkGemmCase(t, r, NoTrans, NoTrans, 4200, 17, 300, 1, 0, 0)
		checkGemmCase(t, r, Trans, Trans, 4200, 17, 300, 1, 0, 1)
	})
}

func TestSgemmZeroSizes(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(NoTrans, NoTrans, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
	for i, want := range []float32{0.5, 1, 1.5, 2} {
		if c[i] != want {
			t.Fatalf("k=0: c[%d] = %g, want %g", i, c[i], want)
		}
	}
	Sgemm(NoTrans, NoTrans, 0, 5, 3, 1, nil, 3, make([]float32, 15), 5, 0, nil, 5)
}

func TestSgemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a too short A")
		}
	}()
	Sgemm(NoTrans, NoTrans, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

func TestTransposeChecked(t *testing.T) {
	a, b, c := make([]float32, 4), make([]float32, 4), make([]float32, 4)
	for _, cs := range []struct {
		name, want string
		call       func()
	}{
		{"Sgemm", "transB is Transpose(2)", func() { Sgemm(NoTrans, 2, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2) }},
		{"PackB", "transB is Transpose(7)", func() { PackB(7, 2, 2, b, 2) }},
		{"SgemmPackedB", "transA is Transpose(3)", func() { SgemmPackedB(3, 2, 1, a, 2, PackB(Trans, 2, 2, b, 2), 0, c, 2) }},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, cs.want) {
					t.Errorf("%s: panic %q, want one saying %q", cs.name, msg, cs.want)
				}
			}()
			cs.call()
		}()
	}
	if NoTrans.String() != "NoTrans" || Trans.String() != "Trans" {
		t.Errorf("String: %q, %q", NoTrans, Trans)
	}
}

func TestSgemmBatched(t *testing.T) {
	// Attention-style layout: q, k are [S*T, H*D]; scores[s][h] = q_sh·k_shᵀ.
	const S, T, H, D = 2, 9, 3, 5
	backends(t, func(t *testing.T) {
		for _, nt := range []int{1, 2, 8} {
			old := SetThreads(nt)
			r := rand.New(rand.NewPCG(7, uint64(nt)))
			q := randSlice(r, S*T*H*D)
			kk := randSlice(r, S*T*H*D)
			out := make([]float32, S*H*T*T)
			var offA, offC []int
			for s := 0; s < S; s++ {
				for h := 0; h < H; h++ {
					offA = append(offA, s*T*H*D+h*D)
					offC = append(offC, (s*H+h)*T*T)
				}
			}
			SgemmBatched(NoTrans, Trans, T, T, D, 0.5, q, H*D, offA, kk, H*D, offA, 0, out, T, offC)
			for s := 0; s < S; s++ {
				for h := 0; h < H; h++ {
					for i := 0; i < T; i++ {
						for j := 0; j < T; j++ {
							var want float64
							for d := 0; d < D; d++ {
								want += float64(q[(s*T+i)*H*D+h*D+d]) * float64(kk[(s*T+j)*H*D+h*D+d])
							}
							want *= 0.5
							got := out[(s*H+h)*T*T+i*T+j]
							if math.Abs(float64(got)-want) > 1e-5 {
								t.Fatalf("threads=%d s=%d h=%d [%d][%d] = %g, want %g", nt, s, h, i, j, got, want)
							}
						}
					}
				}
			}
			// The strided form on contiguous [batch, m, k] × [batch, k, n].
			const B, M, N, K = 5, 7, 6, 4
			a := randSlice(r, B*M*K)
			b := randSlice(r, B*K*N)
			c := make([]float32, B*M*N)
			SgemmStrided(NoTrans, NoTrans, M, N, K, 1, a, K, M*K, b, N, K*N, 0, c, N, M*N, B)
			for bi := 0; bi < B; bi++ {
				val, _ := refGemm(NoTrans, NoTrans, M, N, K, 1, a[bi*M*K:], K, b[bi*K*N:], N, 0, nil, N)
				for i, want := range val {
					if got := c[bi*M*N+i]; math.Abs(float64(got)-want) > 1e-5 {
						t.Fatalf("strided batch %d elem %d = %g, want %g", bi, i, got, want)
					}
				}
			}
			SetThreads(old)
		}
	})
}

func TestParallelFor(t *testing.T) {
	for _, nt := range []int{1, 2, 5} {
		old := SetThreads(nt)
		for _, n := range []int{0, 1, 3, 100} {
			hits := make([]int32, n)
			calls := 0
			done := make(chan struct{}, 64)
			ParallelFor(n, 2, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i]++
				}
				if hi-lo < 2 && n >= 2 {
					t.Errorf("threads=%d n=%d: chunk [%d, %d) below the grain", nt, n, lo, hi)
				}
				done <- struct{}{}
			})
			close(done)
			for range done {
				calls++
			}
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads=%d n=%d: index %d visited %d times", nt, n, i, h)
				}
			}
			if n > 0 && (calls < 1 || calls > nt || calls > (n+1)/2) {
				t.Fatalf("threads=%d n=%d: %d chunks", nt, n, calls)
			}
		}
		SetThreads(old)
	}
}

func BenchmarkSgemm(b *testing.B) {
	cases := []struct {
		tB      Transpose
		m, n, k int
	}{
		{NoTrans, 1024, 768, 768},
		{Trans, 1024, 3072, 768},
		{NoTrans, 1024, 768, 3072},
		{Trans, 128, 768, 768},
		{NoTrans, 2048, 2048, 2048},
	}
	for _, cs := range cases {
		op := "NN"
		if cs.tB == Trans {
			op = "NT"
		}
		b.Run(fmt.Sprintf("%s/M=%d,N=%d,K=%d", op, cs.m, cs.n, cs.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x := randSlice(r, cs.m*cs.k)
			y := randSlice(r, cs.k*cs.n)
			z := make([]float32, cs.m*cs.n)
			ldb := cs.n
			if cs.tB == Trans {
				ldb = cs.k
			}
			Sgemm(NoTrans, cs.tB, cs.m, cs.n, cs.k, 1, x, cs.k, y, ldb, 0, z, cs.n)
			b.ResetTimer()
			cpu0 := processCPUSeconds()
			for b.Loop() {
				Sgemm(NoTrans, cs.tB, cs.m, cs.n, cs.k, 1, x, cs.k, y, ldb, 0, z, cs.n)
			}
			flops := 2 * float64(cs.m) * float64(cs.n) * float64(cs.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := processCPUSeconds() - cpu0; cpu > 0 {
				// Work per CPU-second of the process: how well the cores
				// that were granted are used, whatever else the machine runs.
				b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

func TestNoAsmEnv(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"", true}, {"0", true}, {"1", false}, {"yes", false}} {
		t.Setenv("TEXTCLF_NOASM", c.v)
		if got := assemblyAllowed(); got != c.want {
			t.Fatalf("TEXTCLF_NOASM=%q: assemblyAllowed() = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestKernelName checks the default kernel is the best one this CPU has; with
// TEXTCLF_EXPECT_KERNEL set, the default kernel must also be the one named
// there (README's emulated AVX-512 run sets it to avx512-12x32, so that the
// run proves which kernel the tests exercised).
func TestKernelName(t *testing.T) {
	defer UseAssembly(true)
	name := KernelName()
	t.Logf("kernel: %s", name)
	if want := os.Getenv("TEXTCLF_EXPECT_KERNEL"); want != "" && name != want {
		t.Fatalf("default kernel %q, TEXTCLF_EXPECT_KERNEL wants %q", name, want)
	}
	if UseAssembly(false); KernelName() != "go-4x4" {
		t.Fatalf("portable kernel name %q", KernelName())
	}
	if ks := asmKernels(); len(ks) > 0 && assemblyAllowed() && name != ks[0].name {
		t.Fatalf("default kernel %q, want the best available %q", name, ks[0].name)
	}
}

// BenchmarkSgemmAttention runs the per-head products of BERT-base attention
// for a batch of 8×128 tokens (12 heads of 64): scores = Q·Kᵀ and
// context = P·V, with Q, K, V laid out [8·128, 768].
func BenchmarkSgemmAttention(b *testing.B) {
	const S, T, H, D = 8, 128, 12, 64
	r := rand.New(rand.NewPCG(1, 1))
	q, k, v := randSlice(r, S*T*H*D), randSlice(r, S*T*H*D), randSlice(r, S*T*H*D)
	p := randSlice(r, S*H*T*T)
	ctx := make([]float32, S*T*H*D)
	var offQ, offP []int
	for s := 0; s < S; s++ {
		for h := 0; h < H; h++ {
			offQ = append(offQ, s*T*H*D+h*D)
			offP = append(offP, (s*H+h)*T*T)
		}
	}
	b.Run("QK", func(b *testing.B) {
		for b.Loop() {
			SgemmBatched(NoTrans, Trans, T, T, D, 0.125, q, H*D, offQ, k, H*D, offQ, 0, p, T, offP)
		}
		b.ReportMetric(2*S*H*T*T*D*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("PV", func(b *testing.B) {
		for b.Loop() {
			SgemmBatched(NoTrans, NoTrans, T, D, T, 1, p, T, offP, v, H*D, offQ, 0, ctx, H*D, offQ)
		}
		b.ReportMetric(2*S*H*T*T*D*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

func TestSgemmPackedB(t *testing.T) {
	// m ≤ smallRows takes sgemmSmallM: rows split into panels of equal
	// height, several blocks of kc steps, partial column panels; {1, 768,
	// 300} and {2, 500, 301} are split across threads for their bytes of
	// weights (minPackedBytesPerThread), not their FLOPs.
	cases := []struct{ m, n, k int }{{1, 1, 1}, {1, 768, 300}, {2, 500, 301}, {20, 70, 513}, {130, 515, 257}, {5, 33, 0},
		{16, 100, 700}, {13, 97, 300}, {25, 65, 520}, {32, 64, 257}, {33, 40, 30},
		// Larger m with A not transposed reads A in place (sgemmDirectA):
		// last row panels of 8, 4 and 10 rows (packed), several kc blocks.
		{44, 96, 300}, {40, 33, 1000}, {130, 64, 600}}
	for _, nt := range []int{1, 3} {
		old := SetThreads(nt)
		backends(t, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, uint64(nt)))
			for _, cs := range cases {
				for _, tA := range []Transpose{NoTrans, Trans} {
					for _, tB := range []Transpose{NoTrans, Trans} {
						lda, ar := cs.k+1, cs.m
						if tA == Trans {
							lda, ar = cs.m+1, cs.k
						}
						ldb, br := cs.n+2, cs.k
						if tB == Trans {
							ldb, br = cs.k+2, cs.n
						}
						a, b := randSlice(r, ar*lda), randSlice(r, br*ldb)
						c := randSlice(r, cs.m*cs.n)
						beta := float32(0.5)
						if tA == tB {
							beta = 0
							for i := range c {
								c[i] = float32(math.NaN()) // must not be read
							}
						}
						val, mag := refGemm(tA, tB, cs.m, cs.n, cs.k, 1.5, a, lda, b, ldb, beta, c, cs.n)
						pb := PackB(tB, cs.k, cs.n, b, ldb)
						if k, n := pb.Dims(); k != cs.k || n != cs.n {
							t.Fatalf("Dims() = %d, %d", k, n)
						}
						SgemmPackedB(tA, cs.m, 1.5, a, lda, pb, beta, c, cs.n)
						for i := range c {
							if d := math.Abs(float64(c[i]) - val[i]); !(d <= 2e-7*float64(cs.k+4)*mag[i]+1e-30) {
								t.Fatalf("threads=%d tA=%v tB=%v %v: C[%d] = %g, want %g", nt, tA, tB, cs, i, c[i], val[i])
							}
						}
					}
				}
			}
		})
		SetThreads(old)
	}
}

func TestPackedBKeepsItsKernel(t *testing.T) {
	defer UseAssembly(true)
	r := rand.New(rand.NewPCG(23, 24))
	const m, n, k = 30, 50, 40
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	pb := PackB(NoTrans, k, n, b, n) // packed for the default kernel
	UseAssembly(false)               // then multiplied with the portable one selected
	c := make([]float32, m*n)
	SgemmPackedB(NoTrans, m, 1, a, k, pb, 0, c, n)
	val, mag := refGemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, nil, n)
	for i := range c {
		if d := math.Abs(float64(c[i]) - val[i]); !(d <= 2e-7*(k+4)*mag[i]) {
			t.Fatalf("C[%d] = %g, want %g", i, c[i], val[i])
		}
	}
}

func TestSgemmRandom(t *testing.T) {
	// Random shapes, strides, scalars and thread counts against the float64
	// reference, on every backend.
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		defer SetThreads(SetThreads(0))
		for i := 0; i < 60; i++ {
			SetThreads(1 + r.IntN(3))
			m, n, k := 1+r.IntN(90), 1+r.IntN(90), r.IntN(300)
			if i%10 == 0 {
				m = 150 + r.IntN(200) // enough work for several threads
			}
			alpha := float32(r.NormFloat64())
			beta := []float32{0, 1, float32(r.NormFloat64())}[r.IntN(3)]
			checkGemmCase(t, r, Transpose(r.IntN(2)), Transpose(r.IntN(2)), m, n, k, alpha, beta, r.IntN(5))
		}
	})
}

func TestSgemmLinearLayerConventions(t *testing.T) {
	// The calls in Sgemm's doc comment, checked element by element.
	const T, in, out = 5, 7, 3
	r := rand.New(rand.NewPCG(29, 30))
	x, W, dy := randSlice(r, T*in), randSlice(r, out*in), randSlice(r, T*out)
	y := make([]float32, T*out)
	Sgemm(NoTrans, Trans, T, out, in, 1, x, in, W, in, 0, y, out)
	dW := randSlice(r, out*in)
	dW0 := append([]float32(nil), dW...)
	Sgemm(Trans, NoTrans, out, in, T, 1, dy, out, x, in, 1, dW, in)
	dx := make([]float32, T*in)
	Sgemm(NoTrans, NoTrans, T, in, out, 1, dy, out, W, in, 0, dx, in)
	for t0 := 0; t0 < T; t0++ {
		for o := 0; o < out; o++ {
			var want float64
			for i := 0; i < in; i++ {
				want += float64(x[t0*in+i]) * float64(W[o*in+i])
			}
			if !near(y[t0*out+o], want, 1e-5, 1e-5) {
				t.Fatalf("y[%d][%d] = %g, want %g", t0, o, y[t0*out+o], want)
			}
		}
		for i := 0; i < in; i++ {
			var want float64
			for o := 0; o < out; o++ {
				want += float64(dy[t0*out+o]) * float64(W[o*in+i])
			}
			if !near(dx[t0*in+i], want, 1e-5, 1e-5) {
				t.Fatalf("dx[%d][%d] = %g, want %g", t0, i, dx[t0*in+i], want)
			}
		}
	}
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			want := float64(dW0[o*in+i])
			for t0 := 0; t0 < T; t0++ {
				want += float64(dy[t0*out+o]) * float64(x[t0*in+i])
			}
			if !near(dW[o*in+i], want, 1e-5, 1e-5) {
				t.Fatalf("dW[%d][%d] = %g, want %g", o, i, dW[o*in+i], want)
			}
		}
	}
}

func TestSgemmConcurrentCalls(t *testing.T) {
	// Independent products from several goroutines at once, each parallel
	// inside, must not disturb one another (shared scratch pool, barrier).
	const m, n, k = 150, 140, 300
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			r := rand.New(rand.NewPCG(31, uint64(g)))
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			c := make([]float32, m*n)
			Sgemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
			val, mag := refGemm(NoTrans, NoTrans, m, n, k, 1, a, k, b, n, 0, nil, n)
			for i := range c {
				if d := math.Abs(float64(c[i]) - val[i]); !(d <= 2e-7*(k+4)*mag[i]) {
					done <- fmt.Errorf("goroutine %d: C[%d] = %g, want %g", g, i, c[i], val[i])
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkSgemmPackedB runs the linear layers of BERT-base with packed
// weights (nn.Linear at inference): 1024 rows (8×128 tokens, A read in
// place) and 16 rows (1×16, the weights streamed from memory), and those of
// the decoders: Qwen2-0.5B's on 256 rows, GPT-2 small's fused QKV.
func BenchmarkSgemmPackedB(b *testing.B) {
	for _, cs := range []struct{ m, n, k int }{
		{1024, 768, 768}, {1024, 3072, 768}, {1024, 768, 3072},
		{16, 768, 768}, {16, 3072, 768}, {16, 768, 3072},
		// Qwen2-0.5B's on 1×256 tokens: q/o, k/v, gate/up, down.
		{256, 896, 896}, {256, 128, 896}, {256, 4864, 896}, {256, 896, 4864},
		// GPT-2 small's on 8×128: c_attn, c_fc, mlp c_proj.
		{1024, 2304, 768},
	} {
		b.Run(fmt.Sprintf("M=%d,N=%d,K=%d", cs.m, cs.n, cs.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x := randSlice(r, cs.m*cs.k)
			// Several weight matrices in turn, as the layers of a model,
			// so that B comes from memory as it does there.
			pbs := make([]*PackedB, max(1, (64<<20)/(4*cs.k*cs.n)))
			for i := range pbs {
				pbs[i] = PackB(Trans, cs.k, cs.n, randSlice(r, cs.k*cs.n), cs.k)
			}
			z := make([]float32, cs.m*cs.n)
			b.ResetTimer()
			cpu0 := processCPUSeconds()
			i := 0
			for b.Loop() {
				SgemmPackedB(NoTrans, cs.m, 1, x, cs.k, pbs[i%len(pbs)], 0, z, cs.n)
				i++
			}
			flops := 2 * float64(cs.m) * float64(cs.n) * float64(cs.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := processCPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// SgemmSerial gives Sgemm's results (it is the same product on one goroutine).
func TestSgemmSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, tA := range []Transpose{NoTrans, Trans} {
		for _, tB := range []Transpose{NoTrans, Trans} {
			for _, mnk := range [][3]int{{1, 1, 1}, {7, 33, 17}, {130, 100, 160}} {
				m, n, k := mnk[0], mnk[1], mnk[2]
				lda, ldb := k, n
				if tA == Trans {
					lda = m
				}
				if tB == Trans {
					ldb = k
				}
				a, b := randSlice(r, m*k), randSlice(r, k*n)
				c1, c2 := randSlice(r, m*n), make([]float32, m*n)
				copy(c2, c1)
				Sgemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, c1, n)
				SgemmSerial(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 2, c2, n)
				val, mag := refGemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 0, nil, n)
				for i := range c1 {
					// c1 and c2 started equal: both are 2·c0 + the product.
					if d := math.Abs(float64(c1[i] - c2[i])); d > 2e-7*float64(k+4)*(mag[i]+math.Abs(val[i]))+1e-6 {
						t.Fatalf("tA=%v tB=%v %dx%dx%d: C[%d] serial %g, parallel %g", tA, tB, m, n, k, i, c2[i], c1[i])
					}
				}
			}
		}
	}
}

// packTrans and packCopy lay out every panel shape as their definitions
// say, on the assembly paths (pairs and groups of four rows, steps in eights)
// and the Go tails alike.
func TestPackPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	// check compares dst (kc steps of w values) with at(q, i) for the first
	// valid of each step and zeros after them.
	check := func(name string, avx2 bool, dst []float32, w, valid, kc int, at func(q, i int) float32) {
		t.Helper()
		for q := 0; q < kc; q++ {
			for i := 0; i < w; i++ {
				want := float32(0)
				if i < valid {
					want = at(q, i)
				}
				if dst[q*w+i] != want {
					t.Fatalf("avx2=%v %s w=%d valid=%d kc=%d: dst[%d*w+%d] = %g, want %g", avx2, name, w, valid, kc, q, i, dst[q*w+i], want)
				}
			}
		}
	}
	for _, be := range []*backend{{gemm: genericKernel}, {gemm: genericKernel, avx2: hasAVX2()}} {
		for _, w := range []int{2, 4, 6, 8, 16} {
			for valid := 1; valid <= w; valid++ {
				for _, kc := range []int{1, 7, 8, 13, 24, 256} {
					dst := randSlice(r, w*kc)
					ld := kc + 3
					src := randSlice(r, w*ld+kc)
					packTrans(be, dst, src, ld, w, valid, kc)
					check("packTrans", be.avx2, dst, w, valid, kc, func(q, i int) float32 { return src[i*ld+q] })
					ldc := w + 5
					src = randSlice(r, kc*ldc)
					packCopy(be, dst, src, ldc, w, valid, kc)
					check("packCopy", be.avx2, dst, w, valid, kc, func(q, i int) float32 { return src[q*ldc+i] })
				}
			}
		}
	}
}

// TestSgemmShortWideBitIdentical checks that the parallel paths of short
// products (m ≤ 2·taskRows: every task spans all rows and packs its own
// columns of op(B)) give exactly the bits of the serial loop nest on any
// number of threads: they differ only in which goroutine computes which
// tile, never in the order of a tile's sums.
func TestSgemmShortWideBitIdentical(t *testing.T) {
	cases := []struct{ m, n, k int }{{128, 768, 768}, {130, 515, 257}, {17, 1100, 511}, {192, 100, 600}, {7, 300, 1000}, {40, 4500, 70}}
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		defer SetThreads(SetThreads(0))
		for i, cs := range cases {
			tA, tB := Transpose(i%2), Transpose(i/2%2)
			lda, ldb := cs.k+1, cs.n+3
			if tA == Trans {
				lda = cs.m + 1
			}
			if tB == Trans {
				ldb = cs.k + 3
			}
			a, b := randSlice(r, max(cs.m, cs.k)*lda), randSlice(r, max(cs.n, cs.k)*ldb)
			beta := []float32{0, 0.5}[i%2]
			c0 := randSlice(r, cs.m*cs.n)
			want := append([]float32(nil), c0...)
			SgemmSerial(tA, tB, cs.m, cs.n, cs.k, 1.25, a, lda, b, ldb, beta, want, cs.n)
			for _, nt := range []int{2, 3} {
				SetThreads(nt)
				got := append([]float32(nil), c0...)
				Sgemm(tA, tB, cs.m, cs.n, cs.k, 1.25, a, lda, b, ldb, beta, got, cs.n)
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("threads=%d tA=%v tB=%v %v β=%g: C[%d] = %g, serial %g", nt, tA, tB, cs, beta, j, got[j], want[j])
					}
				}
			}
		}
	})
}

// guidedChunks covers the panels with chunks that never grow, each within
// its bounds (the last may be cut short) and a 2·nt-th of what is left.
func TestGuidedChunks(t *testing.T) {
	for _, cs := range []struct{ panels, nt, lo, hi int }{
		{48, 2, 1, 32}, {1, 2, 1, 32}, {192, 2, 1, 32}, {7, 3, 2, 4}, {100, 4, 5, 16}, {3, 2, 8, 8},
	} {
		e := guidedChunks(cs.panels, cs.nt, cs.lo, cs.hi)
		if e[0] != 0 || e[len(e)-1] != cs.panels {
			t.Fatalf("%v: edges %v do not span [0, %d]", cs, e, cs.panels)
		}
		for i := 1; i < len(e); i++ {
			size, left := e[i]-e[i-1], cs.panels-e[i-1]
			want := min(cs.hi, max(cs.lo, (left+2*cs.nt-1)/(2*cs.nt)), left)
			if size != want {
				t.Fatalf("%v: chunk %d of %v has %d panels, want %d", cs, i-1, e, size, want)
			}
			if i > 1 && size > e[i-1]-e[i-2] {
				t.Fatalf("%v: chunks grow: %v", cs, e)
			}
		}
	}
	if e := guidedChunks(48, 2, 1, 32); len(e) < 9 || e[1] != 12 || e[len(e)-1]-e[len(e)-2] != 1 {
		t.Fatalf("48 panels on 2 workers: %v, want a first chunk of 12 and a last of 1", e)
	}
}
