package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tokData = "../../testdata/tokenizer"

// runCLI runs textclf with args and stdin, returning stdout and the error.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	out, _, err := runCLIIn(t, stdin, args...)
	return out, err
}

// runCLIIn runs the command line with stdin and returns its stdout and
// stderr.
func runCLIIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// goldenLines reads the first n lines of a golden file made by the HF
// generator (scripts/golden/tokenizer).
func goldenLines(t *testing.T, name string, n int) []tokenizeOutput {
	t.Helper()
	f, err := os.Open(filepath.Join(tokData, "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 16<<20)
	var out []tokenizeOutput
	for len(out) < n && sc.Scan() {
		var g tokenizeOutput
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

func TestTokenizeCommandMatchesHF(t *testing.T) {
	const n = 60
	corpus, err := os.ReadFile(filepath.Join(tokData, "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(corpus), "\n", n+1)[:n]
	pairsData, err := os.ReadFile(filepath.Join(tokData, "pairs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	pairs := strings.SplitN(string(pairsData), "\n", n+1)[:n]
	cases := []struct {
		golden string
		stdin  []string
		args   []string
	}{
		{"bert-base-uncased.plain.jsonl.gz", lines, []string{"--tokenizer", tokData + "/bert-base-uncased/tokenizer.json"}},
		{"bert-base-uncased.nospecial.jsonl.gz", lines, []string{"--tokenizer", tokData + "/bert-base-uncased", "--no-special-tokens"}},
		{"roberta-style.pairs.jsonl.gz", pairs, []string{"--tokenizer", tokData + "/roberta-style", "--pairs"}},
		{"bert-base-uncased.trunc.pairs.only_second.s0.right.jsonl.gz", pairs[:9], []string{"--tokenizer", tokData + "/bert-base-uncased", "--pairs", "--max-length", "16", "--truncation", "only_second"}},
		{"bert-base-chinese.plain.jsonl.gz", lines, []string{"--tokenizer", tokData + "/bert-base-chinese-vocab"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			stdout, err := runCLI(t, strings.Join(c.stdin, "\n")+"\n", append([]string{"tokenize"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			want := goldenLines(t, c.golden, len(c.stdin))
			got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(got) != len(want) {
				t.Fatalf("got %d output lines, want %d", len(got), len(want))
			}
			for i := range want {
				wantJSON, _ := json.Marshal(want[i])
				var g tokenizeOutput
				if err := json.Unmarshal([]byte(got[i]), &g); err != nil {
					t.Fatalf("line %d: %v: %s", i+1, err, got[i])
				}
				gotJSON, _ := json.Marshal(g)
				if !bytes.Equal(gotJSON, wantJSON) {
					t.Errorf("line %d %q:\n got %s\nwant %s", i+1, c.stdin[i], gotJSON, wantJSON)
				}
			}
		})
	}
}

func TestTokenizeCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(bad, []byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(notJSON, []byte(`{"model": `), 0o644); err != nil {
		t.Fatal(err)
	}
	bert := tokData + "/bert-base-uncased"
	cases := []struct {
		name, stdin string
		args        []string
		wantErr     string
	}{
		{"missing file", "x\n", []string{"--tokenizer", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"dir without tokenizer files", "x\n", []string{"--tokenizer", t.TempDir()}, "holds none of"},
		{"malformed json", "x\n", []string{"--tokenizer", notJSON}, "broken.json"},
		{"bad merges", "x\n", []string{"--tokenizer", bad}, "merges"},
		{"no tokenizer flag", "x\n", nil, "--tokenizer"},
		{"bad strategy", "x\n", []string{"--tokenizer", bert, "--max-length", "8", "--truncation", "middle"}, "--truncation"},
		{"strategy without length", "x\n", []string{"--tokenizer", bert, "--truncation", "only_first"}, "--max-length"},
		{"pair line without tab", "no tab here\n", []string{"--tokenizer", bert, "--pairs"}, "line 1"},
		{"only_second without room", "a\tb\n", []string{"--tokenizer", bert, "--pairs", "--max-length", "4", "--truncation", "only_second"}, "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCLI(t, c.stdin, append([]string{"tokenize"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got error %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
}

func TestTokenizeCommandInvalidUTF8(t *testing.T) {
	// HF (Node, Python) decode invalid bytes to U+FFFD before tokenizing.
	bert := tokData + "/bert-base-uncased"
	got, err := runCLI(t, "caf\xe9 ok\n", "tokenize", "--tokenizer", bert)
	if err != nil {
		t.Fatal(err)
	}
	want, err := runCLI(t, "caf\uFFFD ok\n", "tokenize", "--tokenizer", bert)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || !strings.Contains(got, `"ok"`) {
		t.Fatalf("invalid UTF-8 gave %s, want %s", got, want)
	}
}
