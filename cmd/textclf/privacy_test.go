package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestPrivacyCommand(t *testing.T) {
	// Opacus' accountant test: σ 1.5, q 0.04, 90 epochs (2250 steps), δ 1e-5.
	for _, args := range [][]string{{"--steps", "2250"}, {"--epochs", "90"}} {
		out, err := runCLI(t, "", append([]string{"privacy", "--noise-multiplier", "1.5", "--sample-rate", "0.04", "--delta", "1e-5"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Epsilon float64 }
		if json.Unmarshal([]byte(out), &got) != nil || math.Abs(got.Epsilon-7.32911117143) > 5e-8 {
			t.Fatalf("%v: %s, want ε 7.32911117143", args, out)
		}
	}
	out, err := runCLI(t, "", "privacy", "--epsilon", "8", "--sample-rate", "0.04", "--epochs", "90")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		NoiseMultiplier float64 `json:"noise_multiplier"`
	}
	if json.Unmarshal([]byte(out), &got) != nil || math.Abs(got.NoiseMultiplier-1.416) > 5e-5 {
		t.Fatalf("noise multiplier for ε 8: %s, Opacus 1.416", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--epsilon", "-1", "--sample-rate", "0.04", "--steps", "10"}, "epsilon"},
		{[]string{"--epsilon", "1", "--sample-rate", "1.5", "--steps", "10"}, "sample rate"},
		{[]string{"--epsilon", "1", "--sample-rate", "0.1", "--steps", "10", "--delta", "1"}, "delta"},
		{[]string{"--epsilon", "1", "--noise-multiplier", "1", "--sample-rate", "0.1", "--steps", "10"}, "--noise-multiplier (to get ε) or --epsilon"},
		{[]string{"--epsilon", "1", "--sample-rate", "0.1"}, "--steps or --epochs"},
	} {
		if _, err := runCLI(t, "", append([]string{"privacy"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %q", c.args, err, c.want)
		}
	}
}
