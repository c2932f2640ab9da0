package privacy

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// golden is testdata/privacy/golden.json, written by scripts/privacy/gen.py
// from Opacus' accounting code.
type golden struct {
	Alphas  []float64 `json:"alphas"`
	Epsilon []struct {
		Q, Sigma, Delta, Epsilon, Order float64
		Steps                           int
	} `json:"epsilon"`
	NoiseMultiplier []struct {
		Epsilon, Delta, Q float64
		Steps             int
		NoiseMultiplier   float64 `json:"noise_multiplier"`
	} `json:"noise_multiplier"`
}

func readGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("../testdata/privacy/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEpsilonMatchesOpacus(t *testing.T) {
	g := readGolden(t)
	if !slices.Equal(g.Alphas, DefaultOrders) {
		t.Fatalf("orders differ from Opacus' DEFAULT_ALPHAS")
	}
	for _, c := range g.Epsilon {
		eps, order := Epsilon(DefaultOrders, RDP(c.Q, c.Sigma, c.Steps, DefaultOrders), c.Delta)
		if math.Abs(eps-c.Epsilon) > 1e-9*max(1, math.Abs(c.Epsilon)) || order != c.Order {
			t.Errorf("q %g σ %g %d steps δ %g: ε %.12g at α %g, Opacus %.12g at α %g", c.Q, c.Sigma, c.Steps, c.Delta, eps, order, c.Epsilon, c.Order)
		}
	}
}

func TestNoiseMultiplierMatchesOpacus(t *testing.T) {
	for _, c := range readGolden(t).NoiseMultiplier {
		sigma, err := NoiseMultiplier(c.Epsilon, c.Delta, c.Q, c.Steps, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sigma-c.NoiseMultiplier) > 1e-9 {
			t.Errorf("ε %g q %g %d steps: σ %.10g, Opacus %.10g", c.Epsilon, c.Q, c.Steps, sigma, c.NoiseMultiplier)
		}
		// The σ found spends at most ε and at least ε - 0.01.
		spent, err := SpentEpsilon(c.Q, sigma, c.Steps, c.Delta)
		if err != nil || spent > c.Epsilon || spent < c.Epsilon-0.01 {
			t.Errorf("ε %g: σ %g spends %g (%v)", c.Epsilon, sigma, spent, err)
		}
	}
}

// The published values of Opacus' tests (opacus/tests/accountants_test.py).
func TestOpacusPublishedValues(t *testing.T) {
	var a Accountant
	for range int(90 / 0.04) {
		a.Step(1.5, 0.04)
	}
	if eps := a.Epsilon(1e-5); a.Steps() != 2250 || math.Abs(eps-7.32911117143) > 5e-8 {
		t.Errorf("2250 steps at σ 1.5, q 0.04: ε %.11f, Opacus 7.32911117143", eps)
	}
	for _, c := range []struct {
		steps int
		want  float64
	}{{int(90 / 0.04), 1.416}, {2000, 1.3562}} {
		sigma, err := NoiseMultiplier(8, 1e-5, 0.04, c.steps, 0.01)
		if err != nil || math.Abs(sigma-c.want) > 5e-5 {
			t.Errorf("ε 8 in %d steps: σ %g (%v), Opacus %g", c.steps, sigma, err, c.want)
		}
	}
	// Steps of another mechanism compose: RDP adds.
	var b Accountant
	b.Step(1.5, 0.04)
	b.Step(2, 0.01)
	b.Step(2, 0.01)
	rdp := RDP(0.04, 1.5, 1, DefaultOrders)
	for i, r := range RDP(0.01, 2, 2, DefaultOrders) {
		rdp[i] += r
	}
	if want, _ := Epsilon(DefaultOrders, rdp, 1e-5); b.Epsilon(1e-5) != want || b.Steps() != 3 {
		t.Errorf("composition: ε %g, want %g", b.Epsilon(1e-5), want)
	}
}

func TestBadParameters(t *testing.T) {
	for _, c := range []struct {
		eps, delta, q float64
		steps         int
		want          string
	}{
		{0, 1e-5, 0.01, 100, "epsilon"},
		{-1, 1e-5, 0.01, 100, "epsilon"},
		{1, 1, 0.01, 100, "delta"},
		{1, 0, 0.01, 100, "delta"},
		{1, 1e-5, 1, 100, "sample rate"},
		{1, 1e-5, 0, 100, "sample rate"},
		{1, 1e-5, 0.01, 0, "steps"},
		{0.01, 1e-5, 0.01, 100, "too small"}, // the conversion alone costs more over these orders
	} {
		if _, err := NoiseMultiplier(c.eps, c.delta, c.q, c.steps, 0.01); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", c, err, c.want)
		}
	}
	if _, err := SpentEpsilon(0.01, -1, 10, 1e-5); err == nil || !strings.Contains(err.Error(), "noise multiplier") {
		t.Errorf("negative σ: %v", err)
	}
}
