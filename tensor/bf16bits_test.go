package tensor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNewBF16WeightsBits: packing bfloat16 bits (as a bf16 checkpoint holds
// them, [n, k] or transposed [k, n]) gives exactly the panels that
// NewBF16Weights makes of the same values converted to float32, for odd and
// even shapes, whole and partial panels, and values over the whole range:
// ±0, subnormals, the largest finite bfloat16.
func TestNewBF16WeightsBits(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	special := []uint16{0x0000, 0x8000, 0x0001, 0x807f, 0x007f, 0x7f7f, 0xff7f, 0x3f80, 0xbf80}
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {16, 2}, {17, 7}, {33, 64}, {48, 31}} {
		n, k := sh[0], sh[1]
		bits := make([]uint16, n*k)
		for i := range bits {
			if r.IntN(4) == 0 {
				bits[i] = special[r.IntN(len(special))]
				continue
			}
			// Any finite bfloat16: exponent field below 0xff.
			bits[i] = uint16(r.IntN(2))<<15 | uint16(r.IntN(0xff))<<7 | uint16(r.IntN(0x80))
		}
		f := make([]float32, n*k)
		for i, h := range bits {
			f[i] = fromBF16(h)
		}
		want := NewBF16Weights(NoTrans, n, k, f, k)
		got := NewBF16WeightsBits(NoTrans, n, k, bits)
		if !slices.Equal(got.panels.packed, want.panels.packed) {
			t.Fatalf("[%d, %d]: packed bits differ from packing their float32 values", n, k)
		}
		if gn, gk := got.Dims(); gn != n || gk != k {
			t.Fatalf("Dims = %d, %d, want %d, %d", gn, gk, n, k)
		}
		tr := make([]uint16, k*n) // [k, n]
		for j := 0; j < n; j++ {
			for p := 0; p < k; p++ {
				tr[p*n+j] = bits[j*k+p]
			}
		}
		if got := NewBF16WeightsBits(Trans, n, k, tr); !slices.Equal(got.panels.packed, want.panels.packed) {
			t.Fatalf("[%d, %d] from [k, n]: packed bits differ from packing their float32 values", n, k)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewBF16WeightsBits of 5 values for [2, 3] did not panic")
		}
	}()
	NewBF16WeightsBits(NoTrans, 2, 3, make([]uint16, 5))
}
