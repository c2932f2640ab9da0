package tensor

import (
	"os"
	"sync/atomic"
)

// gemmKernel is a micro-kernel and the cache blocking that suits it: fn adds
// alpha times the mr×nr product of a packed A micro-panel (kc steps of mr
// values) and a packed B micro-panel (kc steps of nr values) to a row-major C
// tile.
type gemmKernel struct {
	name   string
	mr, nr int
	kc, nc int
	fn     kernelFunc
	// fnStore is fn that overwrites C with alpha·AB instead of adding it,
	// for the first block of kc steps when beta = 0 (C is then never read).
	fnStore kernelFunc
	// edge lists kernels that compute only the first rows rows of a panel
	// (same packed layout), by increasing rows, for the last, partial panel
	// of op(A).
	edge []edgeKernel
	// stream, when set, is the same kernel (same layouts) prefetching the
	// B micro-panel after the one it reads, for products whose B streams
	// from memory once (a few rows times packed weights).
	stream *gemmKernel
	// direct lists kernels of the same nr that read A unpacked (row-major),
	// by increasing rows, the last with mr rows; empty if there are none.
	// Only the stream kernels have them, for the few-row products.
	direct []directKernel
}

// directKernelFunc is the signature of a micro-kernel that reads A
// row-major with stride lda instead of packed.
type directKernelFunc func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)

// directKernel computes rows rows of C from unpacked A.
type directKernel struct {
	rows        int
	fn, fnStore directKernelFunc
}

// directFor returns the direct kernel for exactly r rows, if there is one.
func (k *gemmKernel) directFor(r int) (directKernel, bool) {
	for _, d := range k.direct {
		if d.rows == r {
			return d, true
		}
	}
	return directKernel{}, false
}

// rowsFor returns the fewest rows, at least r, that one of the kernel's
// micro-kernels computes (mr if none of the edge kernels does).
func (k *gemmKernel) rowsFor(r int) int {
	for _, e := range k.edge {
		if e.rows >= r {
			return e.rows
		}
	}
	return k.mr
}

// kernelFunc is the signature of a micro-kernel.
type kernelFunc func(k int, a, b, c *float32, ldc int, alpha float32)

// edgeKernel is a micro-kernel for the first rows rows of a panel.
type edgeKernel struct {
	rows        int
	fn, fnStore kernelFunc
}

// genericKernel is the portable Go micro-kernel.
var genericKernel = gemmKernel{name: "go-4x4", mr: 4, nr: 4, kc: 256, nc: 1024, fn: sgemmKernel4x4Go, fnStore: sgemmKernel4x4GoStore}

type backend struct {
	gemm gemmKernel
	avx2 bool // AVX2 vector kernels (packing, dot, exp, GELU, …) in use
	vnni bool // AVX512-VNNI int8 kernels in use (with avx2)
	bf16 bool // AVX512_BF16 (VDPBF16PS) kernels in use (with avx2)
}

var current atomic.Pointer[backend]

func init() {
	UseAssembly(assemblyAllowed())
}

// assemblyAllowed reports whether the environment lets the assembly kernels
// be used: TEXTCLF_NOASM unset, empty or "0".
func assemblyAllowed() bool {
	v := os.Getenv("TEXTCLF_NOASM")
	return v == "" || v == "0"
}

// UseAssembly chooses between the assembly kernels this CPU supports (on)
// and the portable Go kernels (off), and reports whether assembly kernels
// are now in use. The environment variable TEXTCLF_NOASM (set to anything
// but "0") selects the portable kernels at start-up. Builds for other
// architectures, or with the purego build tag, have only the portable
// kernels. Switching while kernels run on other goroutines is safe: each
// call uses the kernels current at its start.
func UseAssembly(on bool) bool {
	b := &backend{gemm: genericKernel}
	if on {
		if ks := asmKernels(); len(ks) > 0 {
			b.gemm = ks[0]
		}
		b.avx2 = hasAVX2()
		b.vnni = hasVNNI()
		b.bf16 = hasAVX512BF16()
	}
	current.Store(b)
	return b.gemm.name != genericKernel.name || b.avx2
}

// useGemmKernel selects the assembly GEMM kernel named name (for tests);
// it reports false if this CPU or build lacks it.
func useGemmKernel(name string) bool {
	for _, k := range asmKernels() {
		if k.name == name {
			current.Store(&backend{gemm: k, avx2: hasAVX2(), vnni: hasVNNI(), bf16: hasAVX512BF16()})
			return true
		}
	}
	return false
}

// KernelName names the GEMM micro-kernel in use, such as "avx512-12x32" or
// "go-4x4".
func KernelName() string { return current.Load().gemm.name }

// Int8KernelName names the int8 micro-kernel in use: "avx512vnni-12x16",
// "avx2-6x16" or "go".
func Int8KernelName() string {
	switch b := current.Load(); {
	case b.vnni:
		return "avx512vnni-12x16"
	case b.avx2:
		return "avx2-6x16"
	}
	return "go"
}

// BF16KernelName names the bf16 micro-kernel in use: "avx512bf16-12x16"
// (VDPBF16PS), "avx2-fma-6x16" (emulated with FMA) or "go".
func BF16KernelName() string {
	switch b := current.Load(); {
	case b.bf16:
		return "avx512bf16-12x16"
	case b.avx2:
		return "avx2-fma-6x16"
	}
	return "go"
}

// NativeBF16 reports whether the bf16 products (LinearBF16) run on
// AVX512_BF16's VDPBF16PS rather than an emulation.
func NativeBF16() bool { return current.Load().bf16 }

// useAVX512Dot turns the AVX512-VNNI and AVX512_BF16 kernels on (where this
// CPU has them) or off (for tests, to run the AVX2 ones on such a CPU).
func useAVX512Dot(on bool) {
	b := *current.Load()
	b.vnni = on && b.avx2 && hasVNNI()
	b.bf16 = on && b.avx2 && hasAVX512BF16()
	current.Store(&b)
}

// sgemmKernel4x4Go is the portable micro-kernel: c[i*ldc+j] += alpha·Σ_p a[p*4+i]·b[p*4+j].
func sgemmKernel4x4Go(k int, a, b, c *float32, ldc int, alpha float32) {
	kernel4x4Go(k, a, b, c, ldc, alpha, false)
}

// sgemmKernel4x4GoStore is sgemmKernel4x4Go with c[i*ldc+j] = alpha·Σ_p ….
func sgemmKernel4x4GoStore(k int, a, b, c *float32, ldc int, alpha float32) {
	kernel4x4Go(k, a, b, c, ldc, alpha, true)
}

func kernel4x4Go(k int, a, b, c *float32, ldc int, alpha float32, store bool) {
	as := unsafeSlice(a, 4*k)
	bs := unsafeSlice(b, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := as[4*p : 4*p+4 : 4*p+4]
		bp := bs[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafeSlice(c, 3*ldc+4)
	put4(cs[0:4:4], alpha, c00, c01, c02, c03, store)
	put4(cs[ldc:ldc+4:ldc+4], alpha, c10, c11, c12, c13, store)
	put4(cs[2*ldc:2*ldc+4:2*ldc+4], alpha, c20, c21, c22, c23, store)
	put4(cs[3*ldc:3*ldc+4:3*ldc+4], alpha, c30, c31, c32, c33, store)
}

// put4 sets (store) or adds to r[0:4] alpha times v0..v3.
func put4(r []float32, alpha, v0, v1, v2, v3 float32, store bool) {
	r = r[:4]
	if store {
		r[0], r[1], r[2], r[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	r[0] += alpha * v0
	r[1] += alpha * v1
	r[2] += alpha * v2
	r[3] += alpha * v3
}
