package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAttentionForward measures Attention.Forward at inference as a
// model layer runs it: a new state per pass (its buffers from a pool, here
// one slice), q, k and v read as views of one fused product [B·T, 3·H·D],
// on the shapes of BERT-base 1×16 (12 heads of 64) and MiniLM 32×128 (12
// heads of 32).
//
//	go test ./nn -run - -bench AttentionForward
func BenchmarkAttentionForward(b *testing.B) {
	for _, sh := range []struct{ b, t, heads, dim int }{{1, 16, 12, 64}, {32, 128, 12, 32}} {
		b.Run(fmt.Sprintf("%dx%d-%dx%d", sh.b, sh.t, sh.heads, sh.dim), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a := &Attention{Heads: sh.heads, HeadDim: sh.dim}
			c := sh.heads * sh.dim
			qkv := randSlice(rng, sh.b*sh.t*3*c, 1)
			ctx := make([]float32, sh.b*sh.t*c)
			mask := make([]int, sh.b*sh.t)
			for i := range mask {
				mask[i] = 1
			}
			pool := make([]float32, sh.b*sh.heads*sh.t*sh.t)
			opts := StateOptions{Alloc: func(n int) []float32 { return pool[:n] }}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s := a.NewState(sh.b, sh.t, opts)
				a.Forward(s, ctx, qkv, 3*c, qkv[c:], 3*c, qkv[2*c:], 3*c, mask, nil)
			}
		})
	}
}
