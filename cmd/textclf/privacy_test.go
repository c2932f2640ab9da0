package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// train --dp-epsilon trains privately (transformer, textcnn), says what it
// spent, and refuses flags that do not go with it.
func TestTrainDPCommand(t *testing.T) {
	dir := t.TempDir()
	data := writeSentiment(t, dir, 10) // 20 examples
	for _, args := range [][]string{
		{"--model", tinyBERT, "--epochs", "1", "--batch-size", "4"},
		{"--arch", "textcnn", "--dim", "8", "--filters", "2", "--epochs", "2", "--batch-size", "4"},
	} {
		out := filepath.Join(dir, strings.Join(args[:2], "-"))
		all := append([]string{"train", "--train", data, "--output", out, "--dp-epsilon", "8", "--dp-delta", "1e-3"}, args...)
		_, stderr, err := runCLIOutErr(t, all...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		m := regexp.MustCompile(`DP-SGD spent ε ([0-9.]+) at δ 0.001`).FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("%v: stderr does not say what DP-SGD spent:\n%s", args, stderr)
		}
		if eps, _ := strconv.ParseFloat(m[1], 64); eps > 8 || eps < 7.98 {
			t.Errorf("%v: spent ε %g of 8", args, eps)
		}
		b, _ := os.ReadFile(filepath.Join(out, "config.json"))
		if !strings.Contains(string(b), `"noise_multiplier"`) {
			t.Errorf("%v: config.json has no privacy record", args)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", tinyBERT, "--dp-delta", "1e-5"}, "go with --dp-noise-multiplier or --dp-epsilon"},
		{[]string{"--model", tinyBERT, "--dp-epsilon", "3", "--max-grad-norm", "2"}, "--max-grad-norm does not apply"},
		{[]string{"--arch", "fasttext", "--dp-epsilon", "3"}, "dp-epsilon"},
		{[]string{"--model", tinyBERT, "--dp-epsilon", "-3"}, "epsilon"},
	} {
		all := append([]string{"train", "--train", data, "--output", filepath.Join(dir, "bad")}, c.args...)
		if _, _, err := runCLIOutErr(t, all...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %q", c.args, err, c.want)
		}
	}
}
