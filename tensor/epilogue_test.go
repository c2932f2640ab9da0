package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmEpilogue checks the fused bias and activation against the
// product followed by AddBias and the activation's own function, on every
// path of the product (small m with packed B, serial, parallel with shared
// and per-task packing) and with the activation in place or into its own
// buffer.
func TestSgemmEpilogue(t *testing.T) {
	acts := []Activation{NoActivation, ActGELU, ActGELUTanh, ActReLU}
	cases := []struct{ m, n, k int }{{16, 300, 600}, {3, 40, 20}, {200, 130, 300}, {700, 70, 50}, {40, 2000, 33}}
	for _, nt := range []int{1, 2} {
		old := SetThreads(nt)
		backends(t, func(t *testing.T) {
			r := rand.New(rand.NewPCG(31, uint64(nt)))
			for _, cs := range cases {
				for i, act := range acts {
					packed, inPlace := i%2 == 0, i >= 2
					a, b := randSlice(r, cs.m*cs.k), randSlice(r, cs.n*cs.k)
					bias := randSlice(r, cs.n)
					want := make([]float32, cs.m*cs.n)
					Sgemm(NoTrans, Trans, cs.m, cs.n, cs.k, 1, a, cs.k, b, cs.k, 0, want, cs.n)
					AddBias(want, bias, cs.m, cs.n)
					var residual []float32
					if i == 1 || i == 2 {
						residual = randSlice(r, cs.m*cs.n)
						Add(want, want, residual)
					}
					wantAct := make([]float32, len(want))
					switch act {
					case NoActivation:
						copy(wantAct, want)
					case ActGELU:
						GELU(wantAct, want)
					case ActGELUTanh:
						GELUTanh(wantAct, want)
					case ActReLU:
						for j, v := range want {
							wantAct[j] = max(v, 0)
						}
					}
					c := make([]float32, cs.m*cs.n)
					for j := range c {
						c[j] = float32(math.NaN()) // beta = 0: never read
					}
					ep := &Epilogue{Bias: bias, Residual: residual, Act: act}
					if act != NoActivation {
						ep.ActOut = make([]float32, len(c))
						if inPlace {
							ep.ActOut = c
						}
					}
					if packed {
						SgemmPackedBEpilogue(NoTrans, cs.m, 1, a, cs.k, PackB(Trans, cs.k, cs.n, b, cs.k), 0, c, cs.n, ep)
					} else {
						SgemmEpilogue(NoTrans, Trans, cs.m, cs.n, cs.k, 1, a, cs.k, b, cs.k, 0, c, cs.n, ep)
					}
					gotAct := c
					if act != NoActivation {
						gotAct = ep.ActOut
					}
					for j := range want {
						tol := 1e-5 * (1 + math.Abs(float64(want[j])))
						if !inPlace || act == NoActivation {
							if d := math.Abs(float64(c[j] - want[j])); !(d <= tol) {
								t.Fatalf("threads=%d %v act=%d packed=%v: C[%d] = %g, want %g", nt, cs, act, packed, j, c[j], want[j])
							}
						}
						if d := math.Abs(float64(gotAct[j] - wantAct[j])); !(d <= tol) {
							t.Fatalf("threads=%d %v act=%d packed=%v in place=%v: out[%d] = %g, want %g", nt, cs, act, packed, inPlace, j, gotAct[j], wantAct[j])
						}
					}
				}
			}
		})
		SetThreads(old)
	}
}

func TestEpiloguePanicsOnShortBias(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic for a bias shorter than n")
		}
	}()
	a, b, c := make([]float32, 4*3), make([]float32, 3*5), make([]float32, 4*5)
	SgemmEpilogue(NoTrans, NoTrans, 4, 5, 3, 1, a, 3, b, 5, 0, c, 5, &Epilogue{Bias: make([]float32, 4)})
}
