package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// gradNormSq is the squared norm of the parameters' gradients.
func gradNormSq(ps []*Param) float64 {
	var s float64
	for _, p := range ps {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	return s
}

func zeroGrads(ps []*Param) {
	for _, p := range ps {
		if p.Grad == nil {
			p.AllocGrad()
		}
		clear(p.Grad)
	}
}

// Each example's gradient norm equals the norm of the gradient Backward
// accumulates for that example alone, for one row per example and for
// several, with the ghost form (short rows) and the direct one.
func TestLinearSampleGradNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ in, out, rows int }{{7, 5, 1}, {16, 12, 3}, {3, 4, 9}} {
		l := NewLinear("l", c.in, c.out)
		l.Weight.InitNormal(rng, 0.5)
		const b = 4
		n := b * c.rows
		x, dy := randomSlice(rng, n*c.in), randomSlice(rng, n*c.out)
		sq := make([]float64, b)
		l.AddSampleGradNormSq(sq, dy, x, n)
		for i := range b {
			zeroGrads(l.Params())
			r := c.rows
			l.Backward(nil, dy[i*r*c.out:(i+1)*r*c.out], x[i*r*c.in:(i+1)*r*c.in], r)
			if want := gradNormSq(l.Params()); math.Abs(sq[i]-want) > 1e-4*want {
				t.Errorf("in %d out %d rows %d, example %d: %g, alone %g", c.in, c.out, c.rows, i, sq[i], want)
			}
		}
	}
}

func TestLayerNormSampleGradNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bias := range []bool{true, false} {
		l := NewLayerNorm("ln", 6, 1e-5)
		if !bias {
			l = NewLayerNormNoBias("ln", 6, 1e-5)
		}
		const b, r = 3, 4
		n := b * r
		x, dy := randomSlice(rng, n*6), randomSlice(rng, n*6)
		y, mean, rstd := make([]float32, n*6), make([]float32, n), make([]float32, n)
		l.Forward(y, mean, rstd, x, n)
		sq := make([]float64, b)
		l.AddSampleGradNormSq(sq, dy, x, mean, rstd, n)
		for i := range b {
			zeroGrads(l.Params())
			dx := make([]float32, r*6)
			l.Backward(dx, dy[i*r*6:(i+1)*r*6], x[i*r*6:(i+1)*r*6], mean[i*r:(i+1)*r], rstd[i*r:(i+1)*r], r)
			if want := gradNormSq(l.Params()); math.Abs(sq[i]-want) > 1e-4*want {
				t.Errorf("bias %v, example %d: %g, alone %g", bias, i, sq[i], want)
			}
		}
	}
}

func TestEmbeddingSampleGradNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	e := NewEmbedding("e", 5, 3)
	const b, r = 3, 6
	ids := []int{1, 2, 1, 4, 1, 0, 3, 3, 3, 3, 2, 0, 4, 2, 1, 0, 2, 4}
	dy := randomSlice(rng, b*r*3)
	sq := make([]float64, b)
	e.AddSampleGradNormSq(sq, dy, ids)
	for i := range b {
		zeroGrads(e.Params())
		e.Backward(dy[i*r*3:(i+1)*r*3], ids[i*r:(i+1)*r])
		if want := gradNormSq(e.Params()); math.Abs(sq[i]-want) > 1e-4*want {
			t.Errorf("example %d: %g, alone %g", i, sq[i], want)
		}
	}
}
