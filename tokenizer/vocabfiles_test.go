package tokenizer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeVocabFixture(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadWordPieceVocab(t *testing.T) {
	// CRLF line ends, trailing spaces trimmed, an empty line is the token ""
	// and a repeated token keeps its last id; no empty token after the final
	// newline.
	p := writeVocabFixture(t, "vocab.txt", "[PAD]\r\n[UNK]  \nhello\n\n##lo\t\nhello\n")
	got, err := ReadWordPieceVocab(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"[PAD]": 0, "[UNK]": 1, "hello": 5, "": 3, "##lo": 4}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// No final newline: the last line still counts.
	got, _ = ReadWordPieceVocab(writeVocabFixture(t, "v2.txt", "a\nb"))
	if !reflect.DeepEqual(got, map[string]int{"a": 0, "b": 1}) {
		t.Fatalf("got %v", got)
	}
	if _, err := ReadWordPieceVocab(writeVocabFixture(t, "bad.txt", "a\n\xff\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if _, err := ReadWordPieceVocab(filepath.Join(t.TempDir(), "missing.txt")); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestReadBPEFiles(t *testing.T) {
	v := writeVocabFixture(t, "vocab.json", `{"a":0,"b":1,"ab":2,"Ġ":3,"Ġa":4}`)
	m := writeVocabFixture(t, "merges.txt", "#version: 0.2\r\na b\nĠ a\n\n")
	vocab, merges, err := ReadBPEFiles(v, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(vocab) != 5 || vocab["Ġa"] != 4 {
		t.Errorf("vocab %v", vocab)
	}
	if !reflect.DeepEqual(merges, [][2]string{{"a", "b"}, {"Ġ", "a"}}) {
		t.Errorf("merges %v", merges)
	}
	bpe, err := NewBPE(BPEConfig{Vocab: vocab, Merges: merges})
	if err != nil {
		t.Fatal(err)
	}
	// "a b" has the higher priority (first line after the header).
	for word, want := range map[string]string{"Ġab": "Ġ ab", "Ġa": "Ġa", "Ġba": "Ġ b a"} {
		toks, _ := bpe.Tokenize(word)
		if got := joinTokenValues(toks); got != want {
			t.Errorf("tokenize %q: %q, want %q", word, got, want)
		}
	}
	bad := writeVocabFixture(t, "bad.txt", "#version: 0.2\na b\na b c\n")
	if _, _, err := ReadBPEFiles(v, bad); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "bad.txt") {
		t.Errorf("bad merges: %v", err)
	}
	for _, content := range []string{`{"a":-1}`, `{"a":"x"}`, `[1]`, `{`} {
		if _, _, err := ReadBPEFiles(writeVocabFixture(t, "v.json", content), m); err == nil || !strings.Contains(err.Error(), "v.json") {
			t.Errorf("vocab %s: %v", content, err)
		}
	}
}
