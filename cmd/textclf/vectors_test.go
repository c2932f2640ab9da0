package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sameOutput compares command output with fastText's, word for word, the
// numbers within what fastText's 5 or 6 significant digits allow.
func sameOutput(t *testing.T, what, got, want string) {
	t.Helper()
	gl, wl := strings.Split(strings.TrimSpace(got), "\n"), strings.Split(strings.TrimSpace(want), "\n")
	if len(gl) != len(wl) {
		t.Fatalf("%s: %d lines, fastText %d:\n%s", what, len(gl), len(wl), got)
	}
	for i := range gl {
		gf, wf := strings.Fields(gl[i]), strings.Fields(wl[i])
		if len(gf) != len(wf) {
			t.Fatalf("%s line %d: %q, fastText %q", what, i+1, gl[i], wl[i])
		}
		for j := range gf {
			g, err1 := strconv.ParseFloat(gf[j], 64)
			w, err2 := strconv.ParseFloat(wf[j], 64)
			if err1 != nil || err2 != nil {
				if gf[j] != wf[j] {
					t.Fatalf("%s line %d: %q, fastText %q", what, i+1, gl[i], wl[i])
				}
				continue
			}
			if math.Abs(g-w) > 1e-7+6e-5*math.Abs(w) {
				t.Fatalf("%s line %d: %q, fastText %q", what, i+1, gl[i], wl[i])
			}
		}
	}
}

func TestVectorsCommandMatchesFastText(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(ftTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	model := filepath.Join(ftTestdata, "cbow.bin")
	for _, tc := range []struct {
		args        []string
		stdin, want string
	}{
		{[]string{"nn", "--k", "5"}, "goal\nrecipe\n芯片\nrobots\n", read("cbow.nn")},
		{[]string{"analogies", "--k", "4"}, "match team recipe\ncode chip noodle\n", read("cbow.analogies")},
		{[]string{"word"}, "match goal 比赛 matchs unseenword 新面条 </s>\n", read("cbow.words")},
		{[]string{"sentence"}, read("test.txt"), read("cbow.sentences")},
	} {
		out, err := runCLI(t, tc.stdin, append(append([]string{"vectors"}, tc.args...), "--model", model)...)
		if err != nil {
			t.Fatal(err)
		}
		sameOutput(t, "vectors "+tc.args[0], out, tc.want)
	}
	if _, err := runCLI(t, "", "vectors", "nn", "--model", filepath.Join(ftTestdata, "test.txt")); err == nil || !strings.Contains(err.Error(), "unknown vector file format") {
		t.Errorf("a text file as vectors: %v", err)
	}
	if _, err := runCLI(t, "a b\n", "vectors", "analogies", "--model", model); err == nil || !strings.Contains(err.Error(), "line 1: 2 words") {
		t.Errorf("analogy of two words: %v", err)
	}
}

// TestWord2VecSubwordsCommand trains CBOW vectors with char n-grams into a
// fastText .bin and reads them with the vector tools: an unseen word gets a
// vector from its n-grams, close to the word it is a form of.
func TestWord2VecSubwordsCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.txt")
	var b strings.Builder
	for i := 0; i < 300; i++ {
		b.WriteString([]string{"the farmer feeds the horses and the cows\n", "the driver parks the trucks and the buses\n"}[i%2])
	}
	os.WriteFile(corpus, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "v.bin")
	if _, err := runCLI(t, "", "word2vec", "--model", "cbow", "--corpus", corpus, "--output", out, "--dim", "16",
		"--minn", "3", "--maxn", "5", "--bucket", "5000", "--threads", "1", "--epochs", "10"); err != nil {
		t.Fatal(err)
	}
	got, err := runCLI(t, "horse\n", "vectors", "word", "--model", out)
	if err != nil {
		t.Fatal(err)
	}
	fs := strings.Fields(got)
	if len(fs) != 17 || fs[0] != "horse" {
		t.Fatalf("vector of an unseen word: %q", got)
	}
	nonzero := false
	for _, s := range fs[1:] {
		if v, _ := strconv.ParseFloat(s, 64); v != 0 {
			nonzero = true
		}
	}
	if !nonzero {
		t.Errorf("unseen word \"horse\" has a zero vector: %q", got)
	}
	nn, err := runCLI(t, "horse truck\n", "vectors", "nn", "--model", out, "--k", "1")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(nn); len(f) != 4 || f[0] != "horses" || f[2] != "trucks" {
		t.Errorf("nearest words of unseen horse and truck: %q, want horses and trucks", nn)
	}
	if _, err := runCLI(t, "", "word2vec", "--model", "glove", "--corpus", corpus, "--output", out); err == nil || !strings.Contains(err.Error(), `unknown --model "glove"`) {
		t.Errorf("--model glove: %v", err)
	}
}
