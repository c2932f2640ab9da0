package tensor

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// withKernels runs f with the assembly kernels (when this CPU has them),
// with the AVX2 int8 and bf16 kernels instead of the AVX512-VNNI and
// AVX512_BF16 ones (when this CPU has either), and with the portable
// kernels, in that order.
func withKernels(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, v := range []struct {
		name        string
		asm, avx512 bool
	}{{"asm", true, true}, {"asm-avx2", true, false}, {"go", false, false}} {
		t.Run(v.name, func(t *testing.T) {
			defer UseAssembly(assemblyAllowed())
			if UseAssembly(v.asm) != v.asm {
				t.Skip("no assembly kernels on this CPU or build")
			}
			if v.asm && !v.avx512 && !hasVNNI() && !hasAVX512BF16() {
				t.Skip("the asm subtest ran the AVX2 int8 and bf16 kernels already")
			}
			useAVX512Dot(v.avx512)
			t.Logf("int8 kernel %s, bf16 kernel %s", Int8KernelName(), BF16KernelName())
			f(t)
		})
	}
}

// TestReducedKernelsSelected: the int8 and bf16 kernels in use are the best
// this CPU runs, and, when TEXTCLF_EXPECT_INT8_KERNEL or
// TEXTCLF_EXPECT_BF16_KERNEL name one (as the emulated AVX-512 runs do),
// that one.
func TestReducedKernelsSelected(t *testing.T) {
	defer UseAssembly(assemblyAllowed())
	wantInt8, wantBF16 := "go", "go"
	if UseAssembly(true) { // not another architecture or the purego tag
		wantInt8, wantBF16 = "avx2-6x16", "avx2-fma-6x16"
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI {
			wantInt8 = "avx512vnni-12x16"
		}
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 {
			wantBF16 = "avx512bf16-12x16"
		}
	}
	for _, c := range []struct{ what, got, want, env string }{
		{"int8", Int8KernelName(), wantInt8, "TEXTCLF_EXPECT_INT8_KERNEL"},
		{"bf16", BF16KernelName(), wantBF16, "TEXTCLF_EXPECT_BF16_KERNEL"},
	} {
		if c.got != c.want {
			t.Errorf("%s kernel %q on this CPU, want %q", c.what, c.got, c.want)
		}
		if env := os.Getenv(c.env); env != "" && c.got != env {
			t.Errorf("%s kernel %q, %s=%q", c.what, c.got, c.env, env)
		}
	}
	if UseAssembly(false); Int8KernelName() != "go" || BF16KernelName() != "go" {
		t.Errorf("portable kernels %q and %q", Int8KernelName(), BF16KernelName())
	}
}

// int8Shapes are [m, n, k] products whose last row blocks cover every row
// count of the AVX2 (1–6) and AVX512-VNNI (1–12) kernels.
var int8Shapes = [][3]int{{1, 1, 1}, {1, 16, 4}, {2, 17, 5}, {3, 20, 9}, {6, 16, 64}, {7, 33, 67}, {8, 16, 33}, {9, 31, 12},
	{10, 17, 64}, {11, 16, 5}, {13, 15, 3}, {12, 48, 128}, {100, 40, 36}, {5, 1, 300}}

// TestGemmU8S8Exact: the integer product equals an int64 reference exactly,
// including the worst case for VPMADDUBSW's int16 pairs (255·63 twice).
func TestGemmU8S8Exact(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, sh := range int8Shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for trial := 0; trial < 3; trial++ {
				q := make([]int8, n*k)
				for i := range q {
					switch trial {
					case 0:
						q[i] = int8(r.IntN(2*Int8Max+1) - Int8Max)
					case 1:
						q[i] = Int8Max
					case 2:
						q[i] = -Int8Max
					}
				}
				scale := make([]float32, n)
				for i := range scale {
					scale[i] = 1
				}
				w, err := NewInt8Weights(n, k, q, scale)
				if err != nil {
					t.Fatal(err)
				}
				lda := (k+3)&^3 + 4
				a := make([]uint8, m*lda)
				for i := 0; i < m; i++ {
					for p := 0; p < k; p++ {
						if trial == 0 {
							a[i*lda+p] = uint8(r.IntN(256))
						} else {
							a[i*lda+p] = 255
						}
					}
				}
				ldc := n + 3
				c := make([]int32, m*ldc)
				if err := GemmU8S8(m, a, lda, w, c, ldc); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var want int64
						for p := 0; p < k; p++ {
							want += int64(a[i*lda+p]) * int64(q[j*k+p])
						}
						if int64(c[i*ldc+j]) != want {
							t.Fatalf("%v trial %d: c[%d][%d] = %d, want %d", sh, trial, i, j, c[i*ldc+j], want)
						}
					}
				}
			}
		}
	})
}

func TestNewInt8WeightsErrors(t *testing.T) {
	if _, err := NewInt8Weights(2, 2, []int8{1, 2, 64, 0}, []float32{1, 1}); err == nil || !strings.Contains(err.Error(), "row 1, column 0") {
		t.Errorf("weight 64: err = %v", err)
	}
	if _, err := NewInt8Weights(2, 2, []int8{1, 2, 3, 0}, []float32{1, 0}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("scale 0: err = %v", err)
	}
	if _, err := NewInt8Weights(2, 2, []int8{1, 2, 3}, []float32{1, 1}); err == nil {
		t.Error("3 values for [2, 2]: no error")
	}
	if _, err := QuantizeInt8(1, 2, []float32{1, float32(math.NaN())}, 2); err == nil || !strings.Contains(err.Error(), "row 0") {
		t.Errorf("NaN: err = %v", err)
	}
	w, err := QuantizeInt8(3, 5, randSlice(rand.New(rand.NewPCG(3, 4)), 15), 5)
	if err != nil {
		t.Fatal(err)
	}
	if q := w.Int8(); len(q) != 15 {
		t.Fatalf("Int8 has %d values", len(q))
	}
	w2, err := NewInt8Weights(3, 5, w.Int8(), w.Scales())
	if err != nil {
		t.Fatal(err)
	}
	if string(i8bytes(w2.panels.packed)) != string(i8bytes(w.panels.packed)) {
		t.Error("repacking Int8() gives other panels")
	}
}

func i8bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}

// TestQuantizeRowsU8 checks DynamicQuantizeLinear's rule and its error
// bound: |x − s·(q − zp)| ≤ s/2 (plus float32 rounding of x/s).
func TestQuantizeRowsU8(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	m, k, ld := 9, 37, 40
	x := randSlice(r, m*k)
	for p := 0; p < k; p++ {
		x[2*k+p] = float32(math.Abs(float64(x[2*k+p]))) // all positive: lo = 0
		x[3*k+p] = 0                                    // all zero
	}
	q := make([]uint8, m*ld)
	for i := range q {
		q[i] = 7
	}
	s := make([]float32, m)
	zp := make([]int32, m)
	QuantizeRowsU8(m, k, x, k, q, ld, s, zp)
	for i := 0; i < m; i++ {
		lo, hi := float32(0), float32(0)
		for _, v := range x[i*k : i*k+k] {
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi > lo && s[i] != (hi-lo)/255 {
			t.Errorf("row %d: scale %v, want %v", i, s[i], (hi-lo)/255)
		}
		for p := 0; p < k; p++ {
			got := float64(s[i]) * float64(int32(q[i*ld+p])-zp[i])
			if e := math.Abs(got - float64(x[i*k+p])); e > float64(s[i])*(0.5+1e-5) {
				t.Errorf("row %d col %d: x=%v dequantized %v, error %g > scale/2 = %g", i, p, x[i*k+p], got, e, s[i]/2)
			}
		}
		for p := k; p < ld; p++ {
			if q[i*ld+p] != 0 {
				t.Errorf("row %d: padding byte %d = %d", i, p, q[i*ld+p])
			}
		}
	}
	if zp[2] != 0 || zp[3] != 0 || s[3] != 1 {
		t.Errorf("positive row zp %d, zero row zp %d scale %v", zp[2], zp[3], s[3])
	}
}

// TestQuantizeRowsU8Kernels: the assembly and Go quantization agree bit for
// bit, ties (x/s exactly half-way) included.
func TestQuantizeRowsU8Kernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m, k := 5, 100
	x := randSlice(r, m*k)
	// Row 1: values on the half-way points of a scale of 1 (hi − lo = 255).
	for p := 0; p < k; p++ {
		x[k+p] = float32(p%7) - 2.5
	}
	x[k], x[k+1] = -100, 155
	x[3*k+5] = 1e30 // one huge value: everything else quantizes to zp
	var qs [][]uint8
	var ss [][]float32
	var zs [][]int32
	withKernels(t, func(t *testing.T) {
		q := make([]uint8, m*k)
		s := make([]float32, m)
		z := make([]int32, m)
		QuantizeRowsU8(m, k, x, k, q, k, s, z)
		qs, ss, zs = append(qs, q), append(ss, s), append(zs, z)
	})
	for v := 1; v < len(qs); v++ {
		if string(qs[0]) != string(qs[v]) {
			t.Errorf("kernels 0 and %d: quantized values differ", v)
		}
		for i := 0; i < m; i++ {
			if ss[0][i] != ss[v][i] || zs[0][i] != zs[v][i] {
				t.Errorf("row %d: kernels 0 scale %v zp %d, %d: %v %d", i, ss[0][i], zs[0][i], v, ss[v][i], zs[v][i])
			}
		}
	}
}

// TestLinearInt8 checks LinearInt8 three ways: the assembly and Go kernels
// agree bit for bit (they round the same operations in the same order);
// the result equals the float64 dequantization of the exact integer product
// within float32 rounding; and it is within the bound the two quantization
// steps imply of the float64 product x·Wᵀ + b:
//
//	x = x̂ + e_x, |e_x| ≤ s_x/2;  w = ŵ + e_w, |e_w| ≤ s_w/2
//	|x·w − x̂·ŵ| ≤ Σ_p |e_x||ŵ| + |x̂||e_w| + |e_x||e_w|
//	            ≤ Σ_p s_x/2·|w_p| + s_w/2·|x_p| + 3/4·s_x·s_w.
func TestLinearInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range int8Shapes {
		m, n, k := sh[0], sh[1], sh[2]
		x := randSlice(r, m*k)
		wf := randSlice(r, n*k)
		bias := randSlice(r, n)
		w, err := QuantizeInt8(n, k, wf, k)
		if err != nil {
			t.Fatal(err)
		}
		ldy := n + 1
		var results [][]float32
		withKernels(t, func(t *testing.T) {
			y := make([]float32, m*ldy)
			LinearInt8(m, x, k, w, y, ldy, &Epilogue{Bias: bias})
			results = append(results, y)
		})
		for _, y := range results[1:] {
			for i := range results[0] {
				if math.Float32bits(results[0][i]) != math.Float32bits(y[i]) {
					t.Fatalf("%v: kernels differ at %d: %v and %v", sh, i, results[0][i], y[i])
				}
			}
		}
		y := results[0]
		lda := (k + 3) &^ 3
		qa := make([]uint8, m*lda)
		sa := make([]float32, m)
		za := make([]int32, m)
		QuantizeRowsU8(m, k, x, k, qa, lda, sa, za)
		qw, sw := w.Int8(), w.Scales()
		const eps = 1.0 / (1 << 24)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var acc int64
				var exact, bound, mag float64
				for p := 0; p < k; p++ {
					acc += (int64(qa[i*lda+p]) - int64(za[i])) * int64(qw[j*k+p])
					xv, wv := float64(x[i*k+p]), float64(wf[j*k+p])
					exact += xv * wv
					bound += float64(sa[i])/2*math.Abs(wv) + float64(sw[j])/2*math.Abs(xv) + 0.75*float64(sa[i])*float64(sw[j])
					mag += math.Abs(xv * wv)
				}
				deq := float64(acc)*float64(sw[j])*float64(sa[i]) + float64(bias[j])
				got := float64(y[i*ldy+j])
				// float32 rounding: the int32→float32 conversion, two
				// products and the bias sum, each at most half an ulp.
				round := 4 * eps * (math.Abs(float64(acc)*float64(sw[j])*float64(sa[i])) + math.Abs(float64(bias[j])))
				if math.Abs(got-deq) > round {
					t.Fatalf("%v: y[%d][%d] = %v, dequantized integer product %v (|diff| > %g)", sh, i, j, got, deq, round)
				}
				if e := math.Abs(got - exact - float64(bias[j])); e > bound+round+1e-6*mag {
					t.Fatalf("%v: y[%d][%d] = %v, float64 product %v: error %g beyond the quantization bound %g", sh, i, j, got, exact+float64(bias[j]), e, bound)
				}
			}
		}
	}
}

// TestLinearInt8Epilogue: residual and GELU in the product's epilogue equal
// the same steps applied afterwards.
func TestLinearInt8Epilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const n, k = 40, 24
	w, err := QuantizeInt8(n, k, randSlice(r, n*k), k)
	if err != nil {
		t.Fatal(err)
	}
	testPanelEpilogue(t, n, k, func(m int, x, y []float32, ep *Epilogue) { LinearInt8(m, x, k, w, y, n, ep) })
}

// testPanelEpilogue checks that a product y [m, n] = linear(x [m, k]) of the
// panel kernels (int8, bf16) applies residual and GELU in its epilogue
// exactly as the same steps applied afterwards, with both kernels.
func testPanelEpilogue(t *testing.T, n, k int, linear func(m int, x, y []float32, ep *Epilogue)) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	const m = 130
	x, bias, res := randSlice(r, m*k), randSlice(r, n), randSlice(r, m*n)
	withKernels(t, func(t *testing.T) {
		want := make([]float32, m*n)
		linear(m, x, want, &Epilogue{Bias: bias})
		for i := range want {
			want[i] += res[i]
		}
		wantAct := make([]float32, m*n)
		GELU(wantAct, want)
		y, act := make([]float32, m*n), make([]float32, m*n)
		linear(m, x, y, &Epilogue{Bias: bias, Residual: res, Act: ActGELU, ActOut: act})
		for i := range y {
			if y[i] != want[i] || act[i] != wantAct[i] {
				t.Fatalf("at %d: y %v act %v, want %v %v", i, y[i], act[i], want[i], wantAct[i])
			}
		}
	})
}

// TestConcatInt8: the joined weights hold each part's values and scales,
// and their product gives each part's product bit for bit, with both
// kernels: parts that fill whole panels of 16 rows but the last are read in
// place (the joined weights then hold the scales only), others copied.
func TestConcatInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const m, k = 5, 37
	for _, ns := range [][]int{{16, 7, 33}, {16, 32, 5}} {
		inPlace := ns[1] == 32
		var parts []*Int8Weights
		var bias []float32
		total, bytes := 0, 0
		for _, n := range ns {
			w, err := QuantizeInt8(n, k, randSlice(r, n*k), k)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, w)
			bias = append(bias, randSlice(r, n)...)
			total += n
			bytes += w.Bytes()
		}
		joined, err := ConcatInt8(parts...)
		if err != nil {
			t.Fatal(err)
		}
		if n, kk := joined.Dims(); n != total || kk != k {
			t.Fatalf("%v: joined weights are [%d, %d], want [%d, %d]", ns, n, kk, total, k)
		}
		if got := joined.Bytes() < bytes/4; got != inPlace {
			t.Errorf("%v: joined weights hold %d bytes, the parts %d: in place %v, want %v", ns, joined.Bytes(), bytes, got, inPlace)
		}
		ws := make([]*Int8Weights, len(parts)+1)
		ws[0] = joined
		copy(ws[1:], parts)
		testPanelConcat(t, m, k, ns, bias, func(i, m int, x, y []float32, ep *Epilogue) {
			n, _ := ws[i].Dims()
			LinearInt8(m, x, k, ws[i], y, n, ep)
		})
		q, want := joined.Int8(), []int8{}
		for _, w := range parts {
			want = append(want, w.Int8()...)
		}
		if !slices.Equal(q, want) {
			t.Errorf("%v: the joined weights' values are not the parts' one after another", ns)
		}
		if !slices.Equal(joined.Scales()[:ns[0]], parts[0].Scales()) {
			t.Errorf("%v: the joined weights' first scales are not the first part's", ns)
		}
	}
	other, err := QuantizeInt8(3, k+1, randSlice(r, 3*(k+1)), k+1)
	if err != nil {
		t.Fatal(err)
	}
	w16, err := QuantizeInt8(16, k, randSlice(r, 16*k), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ConcatInt8(w16, other); err == nil || !strings.Contains(err.Error(), "weights 1 are [3, 38]") {
		t.Errorf("joining [16, 37] and [3, 38]: %v", err)
	}
	if _, err := ConcatInt8(); err == nil {
		t.Error("joining no weights: no error")
	}
}

// testPanelConcat checks that the product with weights joined from parts
// of ns rows (linear(0, …)) gives each part's product (linear(i+1, …)) bit
// for bit, with both kernels.
func testPanelConcat(t *testing.T, m, k int, ns []int, bias []float32, linear func(i, m int, x, y []float32, ep *Epilogue)) {
	t.Helper()
	total := 0
	for _, n := range ns {
		total += n
	}
	x := randSlice(rand.New(rand.NewPCG(13, 14)), m*k)
	withKernels(t, func(t *testing.T) {
		y := make([]float32, m*total)
		linear(0, m, x, y, &Epilogue{Bias: bias})
		off := 0
		for pi, n := range ns {
			yp := make([]float32, m*n)
			linear(pi+1, m, x, yp, &Epilogue{Bias: bias[off : off+n]})
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					if got, want := y[i*total+off+j], yp[i*n+j]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%v part %d: y[%d][%d] = %v joined, %v alone", ns, pi, i, j, got, want)
					}
				}
			}
			off += n
		}
	})
}
