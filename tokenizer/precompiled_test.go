package tokenizer

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadCharsmap(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "precompiled_charsmap.b64"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// The map is SentencePiece's nmt_nfkc (scripts/golden/tokenizer/make_charsmap.py);
// the golden variants norm-precompiled* check whole encodings against HF.
func TestPrecompiledMapsNFKC(t *testing.T) {
	p, err := newPrecompiled(loadCharsmap(t))
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"ﬁ": "fi", "Ａ": "A", "①": "1", "plain": "plain", "Å": "Å"} {
		ns := newNormalizedString(in)
		if err := p.normalize(context.Background(), &ns); err != nil {
			t.Fatal(err)
		}
		if ns.normalized != want {
			t.Errorf("%q normalized to %q, want %q", in, ns.normalized, want)
		}
	}
}

func TestPrecompiledErrors(t *testing.T) {
	for _, bad := range []string{"%%%", base64.StdEncoding.EncodeToString([]byte{1, 2}),
		base64.StdEncoding.EncodeToString([]byte{255, 255, 0, 0, 1, 2, 3, 4})} {
		if _, err := newPrecompiled(bad); err == nil {
			t.Errorf("charsmap %q was accepted", bad)
		}
	}
}

// FuzzPrecompiled normalizes arbitrary text with arbitrary charsmaps: an
// error or a result, never a panic.
func FuzzPrecompiled(f *testing.F) {
	real := loadCharsmap(f)
	raw, _ := base64.StdEncoding.DecodeString(real)
	f.Add(raw[:4096], "ﬁ Ａ① café")
	f.Add([]byte{8, 0, 0, 0, 0, 4, 0, 0, 1, 0, 0, 0, 'x', 0}, "abc")
	f.Fuzz(func(t *testing.T, charsmap []byte, text string) {
		p, err := newPrecompiled(base64.StdEncoding.EncodeToString(charsmap))
		if err != nil {
			return
		}
		ns := newNormalizedString(ToValidUTF8(text))
		if err := p.normalize(context.Background(), &ns); err != nil {
			t.Fatal(err)
		}
		if len(ns.alignments) != len(ns.normalized) {
			t.Fatalf("%d alignments for %d bytes", len(ns.alignments), len(ns.normalized))
		}
	})
}

func TestWordLevelUnknownWithoutUnkToken(t *testing.T) {
	m := NewWordLevel(map[string]int{"a": 0, "b": 1}, "<unk>")
	toks, err := m.Tokenize("b")
	if err != nil || len(toks) != 1 || toks[0].ID != 1 {
		t.Fatalf("b: %v %v", toks, err)
	}
	if _, err := m.Tokenize("c"); err == nil || !strings.Contains(err.Error(), "<unk>") {
		t.Fatalf("an unknown word without an unknown token: %v", err)
	}
}
