package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestLinearBF16 checks the bf16 product against float64 arithmetic:
//   - against the exact product of the bfloat16-rounded inputs, y is within
//     the error of summing k+1 terms in float32 (γ_{k+1}·Σ|terms|, γ_n =
//     n·u/(1−n·u), u = 2⁻²⁴), because each product of two bfloat16s is exact;
//   - against the float64 product of the unrounded inputs, within the
//     rounding of both factors to bfloat16 (relative error at most
//     2⁻⁸ each): (2·2⁻⁸ + 2⁻¹⁶)·Σ|x·w| on top of that;
//   - the assembly and Go kernels agree bit for bit, and so do one and two
//     threads (the split of the panels does not change any sum).
func TestLinearBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, sh := range int8Shapes {
		m, n, k := sh[0], sh[1], sh[2]
		ldx, ldy := k+3, n+1
		x := randSlice(r, m*ldx)
		for i := range x { // magnitudes over many binades
			x[i] *= float32(math.Exp2(float64(r.IntN(16) - 8)))
		}
		wf := randSlice(r, n*k)
		bias := randSlice(r, n)
		w := NewBF16Weights(NoTrans, n, k, wf, k)
		var results [][]float32
		withKernels(t, func(t *testing.T) {
			for _, threads := range []int{1, 2} {
				old := SetThreads(threads)
				y := make([]float32, m*ldy)
				LinearBF16(NoTrans, m, x, ldx, w, y, ldy, &Epilogue{Bias: bias})
				SetThreads(old)
				results = append(results, y)
			}
		})
		for _, y := range results[1:] {
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(results[0][i]) {
					t.Fatalf("%v: results differ between kernels or thread counts at %d: %v and %v", sh, i, results[0][i], y[i])
				}
			}
		}
		y := results[0]
		wr := w.Float32()
		const u = 1.0 / (1 << 24)
		gamma := float64(k+1) * u / (1 - float64(k+1)*u)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var rounded, sumAbs, exact, mag float64
				for p := 0; p < k; p++ {
					xv := float64(x[i*ldx+p])
					xr := float64(fromBF16(bf16(x[i*ldx+p])))
					if rel := math.Abs(xr-xv) / math.Abs(xv); rel > 1.0/256 {
						t.Fatalf("x rounds to bfloat16 with relative error %g", rel)
					}
					rounded += xr * float64(wr[j*k+p])
					sumAbs += math.Abs(xr * float64(wr[j*k+p]))
					exact += xv * float64(wf[j*k+p])
					mag += math.Abs(xv * float64(wf[j*k+p]))
				}
				b := float64(bias[j])
				got := float64(y[i*ldy+j])
				if e, bound := math.Abs(got-rounded-b), gamma*(sumAbs+math.Abs(b)); e > bound {
					t.Fatalf("%v: y[%d][%d] = %v, exact product of the rounded inputs %v: error %g > γ·Σ|terms| = %g", sh, i, j, got, rounded+b, e, bound)
				}
				if e, bound := math.Abs(got-exact-b), (2.0/256+1.0/65536)*mag+gamma*(sumAbs+math.Abs(b)); e > bound {
					t.Fatalf("%v: y[%d][%d] = %v, float64 product %v: error %g beyond the bfloat16 bound %g", sh, i, j, got, exact+b, e, bound)
				}
			}
		}
	}
}

// TestNewBF16Weights: weights that are bfloat16s already are kept exactly,
// others are rounded to nearest even, and an odd k is padded.
func TestNewBF16Weights(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const n, k = 19, 7
	wf := randSlice(r, n*k)
	RoundBF16(wf, wf)
	w := NewBF16Weights(NoTrans, n, k, wf, k)
	if got := w.Float32(); !slices.Equal(got, wf) {
		t.Fatalf("bfloat16 weights changed: %v, want %v", got, wf)
	}
	if want := 2 * 16 * 2 * 4 * 2; w.Bytes() != want { // 2 panels × 16 rows × 4 pairs × 2 values × 2 bytes
		t.Errorf("Bytes() = %d, want %d", w.Bytes(), want)
	}
	tie := math.Float32frombits(0x3f808000) // halfway between 1 and 1+2⁻⁷
	if got := NewBF16Weights(NoTrans, 1, 1, []float32{tie}, 1).Float32()[0]; got != 1 {
		t.Errorf("tie %v rounds to %v, want 1 (even)", tie, got)
	}
}

// TestBF16Transposed: weights packed from their transpose (Trans) are the
// weights packed from W itself, and a product reading x transposed is the
// product reading x, bit for bit, with every kernel set; the strides are
// wider than the rows, and the shapes cross the panel and tile edges.
func TestBF16Transposed(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	transpose := func(a []float32, rows, cols, ld int) []float32 { // [rows, cols] → [cols, ld]
		at := make([]float32, cols*ld)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				at[j*ld+i] = a[i*cols+j]
			}
		}
		return at
	}
	for _, sh := range append(int8Shapes, [3]int{37, 70, 131}) {
		m, n, k := sh[0], sh[1], sh[2]
		wf, x := randSlice(r, n*k), randSlice(r, m*k)
		w := NewBF16Weights(NoTrans, n, k, wf, k)
		withKernels(t, func(t *testing.T) {
			wt := NewBF16Weights(Trans, n, k, transpose(wf, n, k, n+2), n+2)
			if !slices.Equal(wt.panels.packed, w.panels.packed) {
				t.Fatalf("%v: weights packed from Wᵀ differ from those packed from W", sh)
			}
			y, yt := make([]float32, m*n), make([]float32, m*n)
			LinearBF16(NoTrans, m, x, k, w, y, n, nil)
			LinearBF16(Trans, m, transpose(x, m, k, m+3), m+3, w, yt, n, nil)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(yt[i]) {
					t.Fatalf("%v: y[%d] = %v reading x, %v reading xᵀ", sh, i, y[i], yt[i])
				}
			}
		})
	}
	for _, bad := range []func(){
		func() { NewBF16Weights(Trans, 3, 4, make([]float32, 11), 3) },
		func() {
			LinearBF16(Trans, 3, make([]float32, 11), 3, NewBF16Weights(NoTrans, 2, 4, make([]float32, 8), 4), make([]float32, 6), 2, nil)
		},
		func() {
			LinearBF16(Transpose(7), 1, make([]float32, 4), 4, NewBF16Weights(NoTrans, 2, 4, make([]float32, 8), 4), make([]float32, 2), 2, nil)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a bad shape or flag did not panic")
				}
			}()
			bad()
		}()
	}
}

// TestLinearBF16Epilogue: residual and GELU in the product's epilogue equal
// the same steps applied afterwards.
func TestLinearBF16Epilogue(t *testing.T) {
	const n, k = 40, 25
	w := NewBF16Weights(NoTrans, n, k, randSlice(rand.New(rand.NewPCG(19, 20)), n*k), k)
	testPanelEpilogue(t, n, k, func(m int, x, y []float32, ep *Epilogue) { LinearBF16(NoTrans, m, x, k, w, y, n, ep) })
}

// TestConcatBF16: the joined weights hold each part's values, and their
// product gives each part's product bit for bit: in place when the parts but
// the last fill whole panels (the joined weights then hold nothing), copied
// otherwise.
func TestConcatBF16(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const m, k = 5, 37
	for _, ns := range [][]int{{16, 7, 33}, {16, 32, 5}} {
		inPlace := ns[1] == 32
		ws := []*BF16Weights{nil}
		var bias, want []float32
		for _, n := range ns {
			w := NewBF16Weights(NoTrans, n, k, randSlice(r, n*k), k)
			ws = append(ws, w)
			bias = append(bias, randSlice(r, n)...)
			want = append(want, w.Float32()...)
		}
		joined, err := ConcatBF16(ws[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		ws[0] = joined
		if got := joined.Bytes() == 0; got != inPlace {
			t.Errorf("%v: joined weights hold %d bytes: in place %v, want %v", ns, joined.Bytes(), got, inPlace)
		}
		if !slices.Equal(joined.Float32(), want) {
			t.Errorf("%v: the joined weights' values are not the parts' one after another", ns)
		}
		testPanelConcat(t, m, k, ns, bias, func(i, m int, x, y []float32, ep *Epilogue) {
			n, _ := ws[i].Dims()
			LinearBF16(NoTrans, m, x, k, ws[i], y, n, ep)
		})
	}
	a := NewBF16Weights(NoTrans, 16, k, randSlice(r, 16*k), k)
	b := NewBF16Weights(NoTrans, 3, k+1, randSlice(r, 3*(k+1)), k+1)
	if _, err := ConcatBF16(a, b); err == nil || !strings.Contains(err.Error(), "weights 1 are [3, 38]") {
		t.Errorf("joining [16, 37] and [3, 38]: %v", err)
	}
	if _, err := ConcatBF16(); err == nil {
		t.Error("joining no weights: no error")
	}
}

// TestRoundBF16Kernels: the assembly rounding equals the Go rounding
// (torch's, tested in package safetensors) bit for bit, on random bit
// patterns (NaNs, infinities and subnormals included) and on ties, and the
// packing of the VDPBF16PS kernels' input gives the same bfloat16s.
func TestRoundBF16Kernels(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	src := make([]float32, 4099)
	for i := range src {
		src[i] = math.Float32frombits(r.Uint32())
	}
	for i := 0; i < 64; i++ { // ties: the low half exactly 0x8000, both parities
		src[i] = math.Float32frombits(r.Uint32()&0xffff0000 | 0x8000)
	}
	src[64], src[65], src[66] = float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7f7fffff)
	want := make([]float32, len(src))
	for i, v := range src {
		want[i] = fromBF16(bf16(v))
	}
	withKernels(t, func(t *testing.T) {
		got := make([]float32, len(src))
		RoundBF16(got, src)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%#08x rounds to %#08x, want %#08x", math.Float32bits(src[i]), math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
		in := slices.Clone(src) // in place
		RoundBF16(in, in)
		for i := range in {
			if math.Float32bits(in[i]) != math.Float32bits(want[i]) {
				t.Fatalf("in place: %#08x rounds to %#08x", math.Float32bits(src[i]), math.Float32bits(in[i]))
			}
		}
		packed := make([]uint16, len(src)) // the bfloat16s themselves
		packBF16(packed, src)
		for i, h := range packed {
			if want := uint16(math.Float32bits(want[i]) >> 16); h != want {
				t.Fatalf("%#08x packs to %#04x, want %#04x", math.Float32bits(src[i]), h, want)
			}
		}
	})
}
