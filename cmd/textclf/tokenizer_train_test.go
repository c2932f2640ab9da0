package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/tokenizer"
)

const wptrainData = "../../tokenizer/testdata/wptrain"

// TestTokenizerTrainMatchesHF runs `textclf tokenizer train` as
// scripts/tokenizer/wordpiece/gen.js verify did, requires the same
// tokenizer.json that HF tokenizers loaded there, and textclf's encodings of
// the samples (ids, tokens, type ids, pairs, decoding) equal to HF's.
func TestTokenizerTrainMatchesHF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(wptrainData, "hf-encodings.json"))
	if err != nil {
		t.Fatal(err)
	}
	type enc struct {
		IDs     []int    `json:"ids"`
		Tokens  []string `json:"tokens"`
		TypeIDs []int    `json:"type_ids"`
	}
	var g struct {
		Samples []string `json:"samples"`
		Outputs map[string]struct {
			Args          []string `json:"args"`
			TokenizerJSON string   `json:"tokenizer_json"`
			VocabSize     int      `json:"vocab_size"`
			Encodings     []enc    `json:"encodings"`
			Pair          enc      `json:"pair"`
			Decoded       []string `json:"decoded"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Outputs) == 0 {
		t.Fatal("no outputs in hf-encodings.json")
	}
	for name, o := range g.Outputs {
		dir := filepath.Join(t.TempDir(), "tok")
		args := []string{"tokenizer", "train", "--output", dir}
		for _, a := range o.Args {
			if strings.HasPrefix(a, "corpus-") {
				a = filepath.Join(wptrainData, a)
			}
			args = append(args, a)
		}
		if _, err := runCLI(t, "", args...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != o.TokenizerJSON {
			t.Fatalf("%s: tokenizer.json differs from the one HF loaded", name)
		}
		var tc struct {
			DoLowerCase *bool  `json:"do_lower_case"`
			Class       string `json:"tokenizer_class"`
		}
		tcData, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
		if err != nil || json.Unmarshal(tcData, &tc) != nil || tc.DoLowerCase == nil || *tc.DoLowerCase != !slices.Contains(o.Args, "--lowercase=false") || tc.Class != "BertTokenizer" {
			t.Errorf("%s: tokenizer_config.json %s (%v)", name, tcData, err)
		}
		tk, err := tokenizer.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if tk.VocabSize() != o.VocabSize {
			t.Errorf("%s: vocabulary size %d, HF %d", name, tk.VocabSize(), o.VocabSize)
		}
		for i, s := range g.Samples {
			e, err := tk.Encode(s, true)
			if err != nil {
				t.Fatal(err)
			}
			want := o.Encodings[i]
			if !slices.Equal(e.IDs, want.IDs) || !slices.Equal(e.Tokens, want.Tokens) || !slices.Equal(e.TypeIDs, want.TypeIDs) {
				t.Errorf("%s %q: ids %v tokens %q, HF %v %q", name, s, e.IDs, e.Tokens, want.IDs, want.Tokens)
			}
			d, err := tk.Decode(e.IDs, true)
			if err != nil || d != o.Decoded[i] {
				t.Errorf("%s %q: decoded %q (%v), HF %q", name, s, d, err, o.Decoded[i])
			}
		}
		p, err := tk.EncodePair(g.Samples[0], g.Samples[1], true)
		if err != nil || !slices.Equal(p.IDs, o.Pair.IDs) || !slices.Equal(p.TypeIDs, o.Pair.TypeIDs) {
			t.Errorf("%s pair: %v %v (%v), HF %v %v", name, p.IDs, p.TypeIDs, err, o.Pair.IDs, o.Pair.TypeIDs)
		}
	}
}

// TestTokenizerTrainBadInput: each bad input is a clear error and leaves
// no output directory behind.
func TestTokenizerTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.txt", "\n  \n")
	good := filepath.Join(wptrainData, "corpus-en.txt")
	for i, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--corpus", empty}, "the corpus has no words"},
		{[]string{"--corpus", good, "--vocab-size", "50"}, "vocabulary size 50 is smaller than the 5 special tokens"},
		{[]string{"--corpus", filepath.Join(dir, "nope.txt")}, "nope.txt"},
		{[]string{"--corpus", write("bad.txt", "ok\n\xfe\n")}, "bad.txt:2: not valid UTF-8"},
		{[]string{"--corpus", good, "--special-tokens", "[PAD],[CLS]"}, `--unk-token "[UNK]" must be one of --special-tokens`},
		{[]string{"--corpus", good, "--strip-accents", "maybe"}, "--strip-accents must be auto, true or false"},
		{[]string{"--corpus", good, "--vocab-size", "0"}, "must be positive"},
		{nil, "--corpus is required"},
	} {
		out := filepath.Join(dir, "out", string(rune('a'+i)))
		_, err := runCLI(t, "", append([]string{"tokenizer", "train", "--output", out}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.args, err, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: %s was created", c.args, out)
		}
	}
	if _, err := runCLI(t, "", "tokenizer", "train", "--corpus", good, "--output", empty); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("output onto a file: %v", err)
	}
}
