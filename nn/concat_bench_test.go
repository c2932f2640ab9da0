package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFirstTokenQKV compares the two ways of computing q, k and v in a
// layer that reads only the first token's query of each of B sequences of T
// tokens (the last layer of a classifier): q, k and v joined over all B·T
// rows (the queries of the other tokens computed for nothing), or k and v
// joined over B·T rows and q apart over B rows (one more product), float32
// and int8, on BERT-base (C 768) and MiniLM (C 384) shapes.
//
//	go test ./nn -run - -bench FirstTokenQKV
func BenchmarkFirstTokenQKV(b *testing.B) {
	for _, sh := range []struct{ c, b, t int }{{768, 1, 16}, {768, 8, 128}, {384, 32, 128}} {
		for _, int8 := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(1, 2))
			lin := func(name string) *Linear {
				l := NewLinear(name, sh.c, sh.c)
				copy(l.Weight.W, randSlice(rng, len(l.Weight.W), 0.05))
				if int8 {
					if err := l.Quantize(); err != nil {
						b.Fatal(err)
					}
				}
				return l
			}
			q, k, v := lin("q"), lin("k"), lin("v")
			q.Pack()
			qkv, err := Concat("qkv", q, k, v)
			if err != nil {
				b.Fatal(err)
			}
			kv, err := Concat("kv", k, v)
			if err != nil {
				b.Fatal(err)
			}
			n := sh.b * sh.t
			x := randSlice(rng, n*sh.c, 1)
			first := x[:sh.b*sh.c]
			y, yq := make([]float32, n*3*sh.c), make([]float32, sh.b*sh.c)
			dtype := "f32"
			if int8 {
				dtype = "int8"
			}
			name := fmt.Sprintf("%s-C%d-%dx%d", dtype, sh.c, sh.b, sh.t)
			b.Run(name+"/qkv-all-rows", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					qkv.Forward(y, x, n)
				}
			})
			b.Run(name+"/kv-and-q-first", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					kv.Forward(y[:n*2*sh.c], x, n)
					q.Forward(yq, first, sh.b)
				}
			})
		}
	}
}
