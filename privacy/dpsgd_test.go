package privacy

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/tensor"
)

func TestPlan(t *testing.T) {
	// Opacus' get_noise_multiplier case: q 0.04 (25 steps an epoch), 90
	// epochs, ε 8, δ 1e-5 → σ 1.416.
	p, err := NewPlan(Config{Epsilon: 8, Delta: 1e-5}, 1000, 40, 2250)
	if err != nil {
		t.Fatal(err)
	}
	if p.SampleRate != 0.04 || p.ExpectedBatchSize != 40 || math.Abs(p.NoiseMultiplier-1.416) > 5e-4 || p.MaxGradNorm != 1 {
		t.Fatalf("plan %+v", p)
	}
	if eps := p.Epsilon(2250); eps > 8 || eps < 7.99 {
		t.Fatalf("the plan spends ε %g, want in [7.99, 8]", eps)
	}
	// δ defaults to 1/N.
	if p, err := NewPlan(Config{NoiseMultiplier: 1}, 500, 10, 100); err != nil || p.Delta != 1.0/500 {
		t.Fatalf("default δ: %+v %v", p, err)
	}
	for _, c := range []struct {
		cfg             Config
		n, batch, steps int
		want            string
	}{
		{Config{}, 100, 10, 10, "noise multiplier or a target epsilon"},
		{Config{NoiseMultiplier: 1, Epsilon: 3}, 100, 10, 10, "not both"},
		{Config{NoiseMultiplier: 1}, 100, 100, 10, "sample rate 1"},
		{Config{NoiseMultiplier: 1, Delta: 1}, 100, 10, 10, "delta"},
		{Config{Epsilon: -2}, 100, 10, 10, "epsilon"},
		{Config{NoiseMultiplier: 1, MaxGradNorm: -1}, 100, 10, 10, "max grad norm"},
		{Config{NoiseMultiplier: -1}, 100, 10, 10, "noise multiplier"},
	} {
		if _, err := NewPlan(c.cfg, c.n, c.batch, c.steps); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v n %d batch %d: %v, want an error about %q", c.cfg, c.n, c.batch, err, c.want)
		}
	}
}

// Poisson sampling: batch sizes have mean nq and variance nq(1-q), and a
// step's batch is a function of the seed and the step.
func TestPoissonBatches(t *testing.T) {
	p, err := NewPlan(Config{NoiseMultiplier: 1}, 2000, 100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 2000
	var sum, sumSq float64
	for s := range steps {
		b := p.Batch(7, s, 2000)
		sum += float64(len(b))
		sumSq += float64(len(b)) * float64(len(b))
	}
	mean := sum / steps
	variance := sumSq/steps - mean*mean
	wantMean, wantVar := 2000*p.SampleRate, 2000*p.SampleRate*(1-p.SampleRate)
	// Standard error of the mean: sqrt(95/2000) ≈ 0.22; of the variance ≈ 3.
	if math.Abs(mean-wantMean) > 1 || math.Abs(variance-wantVar) > 15 {
		t.Fatalf("batch sizes: mean %g variance %g, want %g and %g", mean, variance, wantMean, wantVar)
	}
	if !slices.Equal(p.Batch(7, 5, 2000), p.Batch(7, 5, 2000)) || slices.Equal(p.Batch(7, 5, 2000), p.Batch(7, 6, 2000)) {
		t.Fatal("a step's batch must depend on the step only")
	}
}

// The noise has standard deviation σC / expected batch size and mean 0,
// and does not depend on the number of threads.
func TestPrivatizeNoiseScale(t *testing.T) {
	p, err := NewPlan(Config{NoiseMultiplier: 1.5, MaxGradNorm: 2}, 1000, 50, 10)
	if err != nil {
		t.Fatal(err)
	}
	grads := [][]float32{make([]float32, 200000), make([]float32, 70001)}
	p.Privatize(grads, 3, 4)
	var n, sum, sumSq float64
	for _, g := range grads {
		for _, v := range g {
			n++
			sum += float64(v)
			sumSq += float64(v) * float64(v)
		}
	}
	std := math.Sqrt(sumSq/n - (sum/n)*(sum/n))
	want := 1.5 * 2 / 50
	if math.Abs(std-want) > 0.01*want || math.Abs(sum/n) > 5*want/math.Sqrt(n) {
		t.Fatalf("noise std %g mean %g, want std %g mean 0", std, sum/n, want)
	}
	again := [][]float32{make([]float32, 200000), make([]float32, 70001)}
	prev := tensor.SetThreads(1)
	p.Privatize(again, 3, 4)
	tensor.SetThreads(prev)
	for i := range grads {
		if !slices.Equal(grads[i], again[i]) {
			t.Fatal("the noise depends on the number of threads")
		}
	}
	// The sum is divided too: a gradient of 50 (the expected batch) becomes 1 + noise.
	g := [][]float32{{50}}
	p.Privatize(g, 3, 4)
	if math.Abs(float64(g[0][0])-1) > 6*want {
		t.Fatalf("privatized %g, want 1 ± noise", g[0][0])
	}
}
