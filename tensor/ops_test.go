package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(got float32, want, abs, rel float64) bool {
	return math.Abs(float64(got)-want) <= abs+rel*math.Abs(want)
}

func TestExp(t *testing.T) {
	worst := 0.0
	for x := float32(-103.9); x < 88.7; x += 0.0137 {
		got := float64(Exp(x))
		want := math.Exp(float64(x))
		if want < 1.2e-38 { // subnormal results: absolute error of a subnormal ulp
			if math.Abs(got-want) > 2e-45*4 {
				t.Fatalf("Exp(%g) = %g, want %g", x, got, want)
			}
			continue
		}
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 3e-7 {
		t.Fatalf("Exp worst relative error %g > 3e-7", worst)
	}
	for _, c := range []struct {
		x    float32
		want float64
	}{{0, 1}, {89, math.Inf(1)}, {-104, 0}, {float32(math.Inf(-1)), 0}, {float32(math.Inf(1)), math.Inf(1)}} {
		if got := Exp(c.x); float64(got) != c.want {
			t.Fatalf("Exp(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if v := Exp(float32(math.NaN())); v == v {
		t.Fatalf("Exp(NaN) = %g", v)
	}
}

func TestErf(t *testing.T) {
	for x := float32(-6); x < 6; x += 0.00917 {
		if got, want := Erf(x), math.Erf(float64(x)); !near(got, want, 4e-7, 0) {
			t.Fatalf("Erf(%g) = %g, want %g", x, got, want)
		}
	}
}

func TestVectorOps(t *testing.T) {
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{0, 1, 7, 8, 31, 33, 100, 1000, 70001} {
			x, y := randSlice(r, n), randSlice(r, n+3)
			var want, mag float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				mag += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if got := Dot(x, y); !near(got, want, 1e-6*mag+1e-7, 0) {
				t.Fatalf("n=%d: Dot = %g, want %g", n, got, want)
			}
			y0 := append([]float32(nil), y...)
			Axpy(-1.5, x, y)
			for i := range y {
				w := float64(y0[i])
				if i < n {
					w += -1.5 * float64(x[i])
				}
				if !near(y[i], w, 1e-6, 1e-6) {
					t.Fatalf("n=%d: Axpy y[%d] = %g, want %g", n, i, y[i], w)
				}
			}
			z := make([]float32, n)
			Add(z, x, y)
			for i := range z {
				if z[i] != x[i]+y[i] {
					t.Fatalf("n=%d: Add z[%d] = %g, want %g", n, i, z[i], x[i]+y[i])
				}
			}
			Scale(0.5, z)
			for i := range z {
				if z[i] != (x[i]+y[i])*0.5 {
					t.Fatalf("n=%d: Scale z[%d] = %g", n, i, z[i])
				}
			}
		}
	})
	x := []float32{1, 2, 3, 4, 5, 6}
	AddBias(x, []float32{10, 20, 30}, 2, 3)
	for i, w := range []float32{11, 22, 33, 14, 25, 36} {
		if x[i] != w {
			t.Fatalf("AddBias x[%d] = %g, want %g", i, x[i], w)
		}
	}
}

func TestExpSum(t *testing.T) {
	var xs []float32
	for x := float32(-110); x < 95; x += 0.0173 {
		xs = append(xs, x)
	}
	inf := float32(math.Inf(1))
	xs = append(xs, 0, -0.0, inf, -inf, float32(math.NaN()), 88.72, 88.7228, -87, -86.9, 1e-30)
	backends(t, func(t *testing.T) {
		asm := current.Load().avx2
		out := make([]float32, len(xs))
		expSum(asm, out, xs, 0)
		for i, x := range xs {
			got, want := float64(out[i]), math.Exp(float64(x))
			switch {
			case math.IsNaN(want):
				if !math.IsNaN(got) {
					t.Fatalf("exp(%g) = %g, want NaN", x, got)
				}
			case want < 2e-38: // the vector kernel flushes these to zero
				if got > 2e-38 || got < 0 {
					t.Fatalf("exp(%g) = %g, want %g", x, got, want)
				}
			case math.IsInf(want, 1) || want > math.MaxFloat32:
				if !math.IsInf(got, 1) && !(got > 3.4e38) {
					t.Fatalf("exp(%g) = %g, want +Inf", x, got)
				}
			default:
				if math.Abs(got-want) > 3e-7*want {
					t.Fatalf("exp(%g) = %g, want %g", x, got, want)
				}
			}
		}
		// The returned sum covers every element, vector body and tail.
		ys := []float32{0, 1, 2, -1, 0.5, 3, -2, 1.5, 0.25, -0.75, 2.5}
		var want float64
		for _, y := range ys {
			want += math.Exp(float64(y) - 1)
		}
		if got := expSum(asm, make([]float32, len(ys)), ys, 1); !near(got, want, 0, 1e-6) {
			t.Fatalf("expSum = %g, want %g", got, want)
		}
	})
}

func TestSoftmax(t *testing.T) {
	backends(t, testSoftmax)
}

func testSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {5, 128}, {300, 129}} {
		rows, cols := sh[0], sh[1]
		x := randSlice(r, rows*cols)
		for i := range x {
			x[i] *= 30 // large logits: max-shifting is needed
		}
		x[0] = 1000
		out := make([]float32, len(x))
		Softmax(out, x, rows, cols)
		for rr := 0; rr < rows; rr++ {
			m := math.Inf(-1)
			for _, v := range x[rr*cols : rr*cols+cols] {
				m = math.Max(m, float64(v))
			}
			var s float64
			for _, v := range x[rr*cols : rr*cols+cols] {
				s += math.Exp(float64(v) - m)
			}
			for j := 0; j < cols; j++ {
				want := math.Exp(float64(x[rr*cols+j])-m) / s
				if !near(out[rr*cols+j], want, 1e-7, 2e-6) {
					t.Fatalf("%dx%d: softmax[%d][%d] = %g, want %g", rows, cols, rr, j, out[rr*cols+j], want)
				}
			}
		}
		// Backward against Σ_k J[j][k]·dy[k] with J = diag(y) - y·yᵀ.
		dy := randSlice(r, len(x))
		dx := make([]float32, len(x))
		for i := range dx {
			dx[i] = 0.25
		}
		SoftmaxBackward(dx, out, dy, rows, cols)
		for rr := 0; rr < rows; rr++ {
			for j := 0; j < cols; j++ {
				yj := float64(out[rr*cols+j])
				want := 0.25
				for k := 0; k < cols; k++ {
					yk := float64(out[rr*cols+k])
					jac := -yj * yk
					if k == j {
						jac += yj
					}
					want += jac * float64(dy[rr*cols+k])
				}
				if !near(dx[rr*cols+j], want, 1e-6, 1e-5) {
					t.Fatalf("%dx%d: softmax backward [%d][%d] = %g, want %g", rows, cols, rr, j, dx[rr*cols+j], want)
				}
			}
		}
	}
	masked := []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
	Softmax(masked, masked, 1, 2)
	if masked[0] != 0 || masked[1] != 0 {
		t.Fatalf("fully masked row = %v, want zeros", masked)
	}
}

// refLayerNorm is LayerNorm in float64.
func refLayerNorm(x, gamma, beta []float64, eps float64) []float64 {
	n := float64(len(x))
	var mu, v float64
	for _, e := range x {
		mu += e
	}
	mu /= n
	for _, e := range x {
		v += (e - mu) * (e - mu)
	}
	rs := 1 / math.Sqrt(v/n+eps)
	out := make([]float64, len(x))
	for j, e := range x {
		out[j] = (e-mu)*rs*gamma[j] + beta[j]
	}
	return out
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func TestLayerNorm(t *testing.T) {
	backends(t, testLayerNorm)
}

func testLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const eps = 1e-5
	for _, sh := range [][2]int{{1, 1}, {2, 3}, {4, 17}, {200, 768}} {
		rows, cols := sh[0], sh[1]
		x, gamma, beta := randSlice(r, rows*cols), randSlice(r, cols), randSlice(r, cols)
		for i := range x {
			x[i] = 3*x[i] + 5 // offset mean: a one-pass variance would lose digits
		}
		out := make([]float32, rows*cols)
		mean, rstd := make([]float32, rows), make([]float32, rows)
		LayerNorm(out, mean, rstd, x, gamma, beta, rows, cols, eps)
		for rr := 0; rr < rows; rr++ {
			want := refLayerNorm(f64(x[rr*cols:rr*cols+cols]), f64(gamma), f64(beta), eps)
			for j, w := range want {
				if !near(out[rr*cols+j], w, 1e-5, 1e-5) {
					t.Fatalf("%dx%d: layernorm[%d][%d] = %g, want %g", rows, cols, rr, j, out[rr*cols+j], w)
				}
			}
		}
		if rows > 20 {
			continue // the finite-difference check below is O((rows·cols)²)
		}
		// Backward: compare with central differences of the float64 reference
		// of L = Σ dout·LayerNorm(x).
		dout := randSlice(r, rows*cols)
		dx, dg, db := make([]float32, rows*cols), make([]float32, cols), make([]float32, cols)
		dx[0], dg[0], db[0] = 1, 2, 3 // accumulation
		LayerNormBackward(dx, dg, db, dout, x, gamma, mean, rstd, rows, cols)
		loss := func(x, g, b []float64) float64 {
			var l float64
			for rr := 0; rr < rows; rr++ {
				y := refLayerNorm(x[rr*cols:rr*cols+cols], g, b, eps)
				for j, v := range y {
					l += v * float64(dout[rr*cols+j])
				}
			}
			return l
		}
		x64, g64, b64 := f64(x), f64(gamma), f64(beta)
		const h = 1e-6
		fd := func(v []float64, i int) float64 {
			old := v[i]
			v[i] = old + h
			lp := loss(x64, g64, b64)
			v[i] = old - h
			lm := loss(x64, g64, b64)
			v[i] = old
			return (lp - lm) / (2 * h)
		}
		for i := range x64 {
			want := fd(x64, i)
			if i == 0 {
				want++
			}
			if !near(dx[i], want, 2e-4, 1e-3) {
				t.Fatalf("%dx%d: dx[%d] = %g, want %g", rows, cols, i, dx[i], want)
			}
		}
		for j := 0; j < cols; j++ {
			wg, wb := fd(g64, j), fd(b64, j)
			if j == 0 {
				wg, wb = wg+2, wb+3
			}
			if !near(dg[j], wg, 2e-4, 1e-3) || !near(db[j], wb, 2e-4, 1e-3) {
				t.Fatalf("%dx%d: dgamma[%d], dbeta[%d] = %g, %g, want %g, %g", rows, cols, j, j, dg[j], db[j], wg, wb)
			}
		}
	}
}

func TestLayerNormBackwardThreads(t *testing.T) {
	// The per-thread partial sums must add up to the one-thread result.
	r := rand.New(rand.NewPCG(17, 18))
	const rows, cols = 300, 200
	x, gamma, beta, dout := randSlice(r, rows*cols), randSlice(r, cols), randSlice(r, cols), randSlice(r, rows*cols)
	out, mean, rstd := make([]float32, rows*cols), make([]float32, rows), make([]float32, rows)
	LayerNorm(out, mean, rstd, x, gamma, beta, rows, cols, 1e-12)
	run := func(nt int) (dx, dg, db []float32) {
		defer SetThreads(SetThreads(nt))
		dx, dg, db = make([]float32, rows*cols), make([]float32, cols), make([]float32, cols)
		LayerNormBackward(dx, dg, db, dout, x, gamma, mean, rstd, rows, cols)
		return
	}
	dx1, dg1, db1 := run(1)
	dx3, dg3, db3 := run(3)
	for i := range dx1 {
		if dx1[i] != dx3[i] {
			t.Fatalf("dx[%d]: %g with 1 thread, %g with 3", i, dx1[i], dx3[i])
		}
	}
	var sumD float64
	for j := 0; j < cols; j++ {
		sumD = 0
		for rr := 0; rr < rows; rr++ {
			sumD += float64(dout[rr*cols+j])
		}
		if !near(db3[j], sumD, 1e-4, 1e-5) || !near(db1[j], sumD, 1e-4, 1e-5) || !near(dg3[j], float64(dg1[j]), 1e-4, 1e-5) {
			t.Fatalf("dbeta[%d] = %g (1 thread), %g (3 threads), want %g", j, db1[j], db3[j], sumD)
		}
	}
}

func TestGELU(t *testing.T) {
	backends(t, testGELU)
}

func testGELU(t *testing.T) {
	var xs []float32
	for x := float32(-12); x <= 12; x += 0.0131 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, 1e-30, -1e-30, 40, -40)
	out, outT := make([]float32, len(xs)), make([]float32, len(xs))
	GELU(out, xs)
	GELUTanh(outT, xs)
	dout := make([]float32, len(xs))
	for i := range dout {
		dout[i] = float32(i%7) - 3
	}
	dx, dxT := make([]float32, len(xs)), make([]float32, len(xs))
	for i := range dx {
		dx[i], dxT[i] = 0.5, 0.5
	}
	GELUBackward(dx, xs, dout)
	GELUTanhBackward(dxT, xs, dout)
	for i, x32 := range xs {
		x := float64(x32)
		cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
		pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
		if want := x * cdf; !near(out[i], want, 1e-7, 1e-6) {
			t.Fatalf("GELU(%g) = %g, want %g", x, out[i], want)
		}
		if want := 0.5 + float64(dout[i])*(cdf+x*pdf); !near(dx[i], want, 1e-6, 1e-6) {
			t.Fatalf("GELUBackward(%g) = %g, want %g", x, dx[i], want)
		}
		u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
		th := math.Tanh(u)
		if want := 0.5 * x * (1 + th); !near(outT[i], want, 1e-7, 1e-5) {
			t.Fatalf("GELUTanh(%g) = %g, want %g", x, outT[i], want)
		}
		du := math.Sqrt(2/math.Pi) * (1 + 3*0.044715*x*x)
		d := 0.5*(1+th) + 0.5*x*(1-th*th)*du
		if want := 0.5 + float64(dout[i])*d; !near(dxT[i], want, 1e-6, 1e-5) {
			t.Fatalf("GELUTanhBackward(%g) = %g, want %g", x, dxT[i], want)
		}
	}
}

func TestAddColSums(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {1024, 768}} {
		rows, cols := sh[0], sh[1]
		x := randSlice(r, rows*cols)
		dst := randSlice(r, cols)
		want := f64(dst)
		for rr := 0; rr < rows; rr++ {
			for j := 0; j < cols; j++ {
				want[j] += float64(x[rr*cols+j])
			}
		}
		AddColSums(dst, x, rows, cols)
		for j, w := range want {
			if !near(dst[j], w, 1e-4, 1e-5) {
				t.Fatalf("%dx%d: dst[%d] = %g, want %g", rows, cols, j, dst[j], w)
			}
		}
	}
}

func TestTanh(t *testing.T) {
	xs := []float32{-20, -3, -0.5, -1e-6, 0, 1e-6, 0.3, 2, 20}
	y := make([]float32, len(xs))
	Tanh(y, xs)
	dout := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	dx := make([]float32, len(xs))
	TanhBackward(dx, y, dout)
	for i, x := range xs {
		th := math.Tanh(float64(x))
		if !near(y[i], th, 0, 1e-7) {
			t.Fatalf("Tanh(%g) = %g, want %g", x, y[i], th)
		}
		if want := float64(dout[i]) * (1 - th*th); !near(dx[i], want, 1e-7, 1e-6) {
			t.Fatalf("TanhBackward(%g) = %g, want %g", x, dx[i], want)
		}
	}
}

func TestLogSoftmax(t *testing.T) {
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		for _, sh := range [][2]int{{1, 1}, {4, 3}, {7, 50}, {3, 1000}} {
			rows, cols := sh[0], sh[1]
			x := randSlice(r, rows*cols)
			for i := range x {
				x[i] *= 40
			}
			out := make([]float32, len(x))
			LogSoftmax(out, x, rows, cols)
			for rr := 0; rr < rows; rr++ {
				m := math.Inf(-1)
				for _, v := range x[rr*cols : rr*cols+cols] {
					m = math.Max(m, float64(v))
				}
				var s float64
				for _, v := range x[rr*cols : rr*cols+cols] {
					s += math.Exp(float64(v) - m)
				}
				for j := 0; j < cols; j++ {
					want := float64(x[rr*cols+j]) - m - math.Log(s)
					if !near(out[rr*cols+j], want, 2e-5, 1e-6) {
						t.Fatalf("%dx%d: logsoftmax[%d][%d] = %g, want %g", rows, cols, rr, j, out[rr*cols+j], want)
					}
				}
			}
		}
		inf := float32(math.Inf(-1))
		x := []float32{0, inf, 1, inf}
		LogSoftmax(x, x, 1, 4)
		want := []float64{-math.Log(1 + math.E), math.Inf(-1), 1 - math.Log(1+math.E), math.Inf(-1)}
		for i, w := range want {
			if !(float64(x[i]) == w || near(x[i], w, 1e-6, 0)) {
				t.Fatalf("masked logsoftmax = %v, want %v", x, want)
			}
		}
	})
}

func TestMaxOf(t *testing.T) {
	backends(t, func(t *testing.T) {
		asm := current.Load().avx2
		if got := maxOf(asm, nil); !math.IsInf(float64(got), -1) {
			t.Fatalf("maxOf(nil) = %g", got)
		}
		for n := 1; n <= 70; n++ {
			for p := 0; p < n; p++ {
				x := make([]float32, n)
				for i := range x {
					x[i] = -float32(i%5) - 1
				}
				x[p] = 3
				if got := maxOf(asm, x); got != 3 {
					t.Fatalf("n=%d, max at %d: maxOf = %g", n, p, got)
				}
			}
		}
	})
}

// TestSerialVectorOps checks AxpySerial and ScaleSerial against the portable
// Go loops and against Axpy and Scale, which split long vectors.
func TestSerialVectorOps(t *testing.T) {
	backends(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, n := range []int{0, 1, 7, 8, 9, 31, 100, 300, 1000, 3*elemGrain + 5} {
			x, y := randSlice(r, n), randSlice(r, n+3)
			goY := append([]float32(nil), y...)
			axpyGo(0.75, x, goY)
			serialY := append([]float32(nil), y...)
			AxpySerial(0.75, x, serialY)
			splitY := append([]float32(nil), y...)
			Axpy(0.75, x, splitY)
			for i := range y {
				if !near(serialY[i], float64(goY[i]), 1e-6, 1e-6) {
					t.Fatalf("n=%d: AxpySerial y[%d] = %g, Go loop %g", n, i, serialY[i], goY[i])
				}
				if serialY[i] != splitY[i] {
					t.Fatalf("n=%d: AxpySerial y[%d] = %g, Axpy %g", n, i, serialY[i], splitY[i])
				}
			}
			if i := n; len(y) > n && serialY[i] != y[i] {
				t.Fatalf("n=%d: AxpySerial wrote past len(x)", n)
			}
			serialX := append([]float32(nil), x...)
			ScaleSerial(-1.25, serialX)
			splitX := append([]float32(nil), x...)
			Scale(-1.25, splitX)
			for i := range x {
				if serialX[i] != x[i]*-1.25 || splitX[i] != serialX[i] {
					t.Fatalf("n=%d: ScaleSerial x[%d] = %g, Scale %g, want %g", n, i, serialX[i], splitX[i], x[i]*-1.25)
				}
			}
		}
	})
}

// TestShortVectorsDoNotAllocate checks that the kernels Hogwild and
// per-example training loops call on short rows run without the closure and
// goroutines of ParallelFor.
func TestShortVectorsDoNotAllocate(t *testing.T) {
	x, y := make([]float32, 300), make([]float32, 300)
	for name, f := range map[string]func(){
		"Axpy":        func() { Axpy(0.5, x, y) },
		"AxpySerial":  func() { AxpySerial(0.5, x, y) },
		"Scale":       func() { Scale(0.5, x) },
		"ScaleSerial": func() { ScaleSerial(0.5, x) },
		"Dot":         func() { Dot(x, y) },
		"Softmax":     func() { Softmax(y[:10], x[:10], 1, 10) },
		"Sigmoid":     func() { Sigmoid(y, x) },
		"Tanh":        func() { Tanh(y, x) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s on 300 values: %g allocations per call", name, n)
		}
	}
}

func TestSigmoid(t *testing.T) {
	// The reference is the textbook stable form in float64, a different
	// formula from the kernel's for x < 0.
	ref := func(x float64) float64 {
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		e := math.Exp(x)
		return e / (1 + e)
	}
	var xs []float32
	for x := float32(-110); x < 110; x += 0.0371 {
		xs = append(xs, x)
	}
	inf := float32(math.Inf(1))
	xs = append(xs, 0, 1e-30, -1e-30, 16.6, 17, -87.3, -103, -150, math.MaxFloat32, -math.MaxFloat32, inf, -inf)
	out := make([]float32, len(xs))
	Sigmoid(out, xs)
	for i, x := range xs {
		want := ref(float64(x))
		// One float32 ulp of the result (subnormal ulp below 2^-126).
		ulp := math.Max(math.Abs(want)*0x1p-23, 0x1p-149)
		if math.Abs(float64(out[i])-want) > ulp {
			t.Fatalf("Sigmoid(%g) = %g, want %g", x, out[i], want)
		}
	}
	for _, c := range []struct{ x, want float32 }{{0, 0.5}, {inf, 1}, {-inf, 0}, {100, 1}, {-200, 0}} {
		if got := sigmoidOf(c.x); got != c.want {
			t.Fatalf("Sigmoid(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := sigmoidOf(-100); got <= 0 || got > 4e-44 {
		t.Fatalf("Sigmoid(-100) = %g, want the subnormal e^-100 ≈ 3.7e-44", got)
	}
	if got := sigmoidOf(float32(math.NaN())); got == got {
		t.Fatalf("Sigmoid(NaN) = %g", got)
	}
	// In place, and split across goroutines, the values are the same.
	r := rand.New(rand.NewPCG(15, 16))
	long := randSlice(r, 3*elemGrain+7)
	for i := range long {
		long[i] *= 20
	}
	want := make([]float32, len(long))
	for i, v := range long {
		want[i] = sigmoidOf(v)
	}
	defer SetThreads(SetThreads(4))
	Sigmoid(long, long)
	for i := range long {
		if long[i] != want[i] {
			t.Fatalf("in-place split Sigmoid[%d] = %g, want %g", i, long[i], want[i])
		}
	}
}

func sigmoidOf(x float32) float32 {
	out := []float32{0}
	Sigmoid(out, []float32{x})
	return out[0]
}

// SiLU and its backward against float64 formulas, with the assembly and the
// portable kernels, in place and across goroutines.
func TestSiLU(t *testing.T) {
	var xs []float32
	for x := float32(-110); x < 110; x += 0.0773 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, 1e-30, -87.5, -103, -150, 89, 100)
	ref := func(x float64) (f, df float64) {
		s := 1 / (1 + math.Exp(-x))
		return x * s, s * (1 + x*(1-s))
	}
	for _, asm := range []bool{true, false} {
		UseAssembly(asm)
		out, dx := make([]float32, len(xs)), make([]float32, len(xs))
		dy := make([]float32, len(xs))
		for i := range dy {
			dy[i] = 1
			dx[i] = 0.5 // accumulated onto
		}
		SiLU(out, xs)
		SiLUBackward(dx, xs, dy)
		for i, x := range xs {
			f, df := ref(float64(x))
			if d := math.Abs(float64(out[i]) - f); d > 4e-7*math.Max(math.Abs(f), 1) {
				t.Fatalf("asm=%v: SiLU(%g) = %g, want %g", asm, x, out[i], f)
			}
			if d := math.Abs(float64(dx[i]) - 0.5 - df); d > 2e-6*math.Max(math.Abs(df), 1) {
				t.Fatalf("asm=%v: SiLU'(%g) = %g, want %g", asm, x, dx[i]-0.5, df)
			}
		}
	}
	UseAssembly(true)
	r := rand.New(rand.NewPCG(17, 18))
	long := randSlice(r, 3*elemGrain+7)
	want := make([]float32, len(long))
	SiLU(want, long)
	defer SetThreads(SetThreads(4))
	SiLU(long, long)
	for i := range long {
		if long[i] != want[i] {
			t.Fatalf("in-place split SiLU[%d] = %g, want %g", i, long[i], want[i])
		}
	}
}

// SiLUMul is SiLU followed by a multiplication, to the bit, on the assembly
// and the portable paths (lengths with and without a tail), in place, and
// against the float64 formula.
func TestSiLUMul(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, asm := range []bool{true, false} {
		UseAssembly(asm)
		for _, n := range []int{1, 7, 8, 13, 4864, 2*elemGrain + 5} {
			g, u := randSlice(r, n), randSlice(r, n)
			for i := range g {
				g[i] *= 12 // the exponential's range, not only its middle
			}
			g[0], u[0] = -100, 3
			want := make([]float32, n)
			SiLU(want, g)
			for i := range want {
				want[i] *= u[i]
			}
			out := make([]float32, n)
			SiLUMul(out, g, u)
			for i := range out {
				if out[i] != want[i] {
					t.Fatalf("asm=%v n=%d: SiLUMul[%d] = %g, SiLU then × = %g", asm, n, i, out[i], want[i])
				}
				x := float64(g[i])
				if f := x / (1 + math.Exp(-x)) * float64(u[i]); math.Abs(float64(out[i])-f) > 6e-7*math.Max(math.Abs(f), 1) {
					t.Fatalf("asm=%v: SiLUMul(%g, %g) = %g, want %g", asm, g[i], u[i], out[i], f)
				}
			}
			SiLUMul(u, g, u)
			for i := range u {
				if u[i] != want[i] {
					t.Fatalf("asm=%v n=%d: in place SiLUMul[%d] = %g, want %g", asm, n, i, u[i], want[i])
				}
			}
		}
	}
	UseAssembly(true)
}
