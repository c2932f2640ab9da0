package tokenizer

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusLines reads the first n lines of the tokenizer corpus.
func corpusLines(t *testing.T, n int) []string {
	t.Helper()
	f, err := os.Open("../testdata/tokenizer/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(out) < n {
		out = append(out, sc.Text())
	}
	return out
}

// Truncation with DropOverflow stops tokenizing once max_length tokens are
// certain; the encoding is the one full tokenization then truncation gives
// (ids, tokens, type ids, masks, word ids and offsets), on every tokenizer
// and pipeline variant of the golden files, right and left.
func TestDropOverflowKeepsTheSameTokens(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/tokenizer/variants/*.json")
	for _, d := range []string{"bert-base-uncased", "gpt2", "roberta-style", "unigram", "bert-base-chinese"} {
		paths = append(paths, filepath.Join("../testdata/tokenizer", d, "tokenizer.json"))
	}
	lines := corpusLines(t, 40)
	// Long texts: the corpus joined, so that truncation cuts mid-text.
	lines = append(lines, strings.Join(lines[:20], " "), strings.Join(lines[20:], "\n"))
	checked := 0
	for _, p := range paths {
		tk, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, max := range []int{5, 40} {
			for _, dir := range []TruncationDirection{TruncateRight, TruncateLeft} {
				full := *tk
				full.Truncation = &Truncation{MaxLength: max, Strategy: LongestFirst, Direction: dir}
				drop := full
				tr := *full.Truncation
				tr.DropOverflow = true
				drop.Truncation = &tr
				for _, line := range lines {
					want, werr := full.Encode(line, true)
					got, gerr := drop.Encode(line, true)
					if (werr == nil) != (gerr == nil) {
						t.Fatalf("%s max %d %s %q: error %v, with DropOverflow %v", p, max, dir, line, werr, gerr)
					}
					if werr != nil {
						continue
					}
					if len(got.Overflowing) != 0 {
						t.Fatalf("%s: overflowing pieces with DropOverflow", p)
					}
					if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Tokens, want.Tokens) || !slices.Equal(got.TypeIDs, want.TypeIDs) ||
						!slices.Equal(got.WordIDs, want.WordIDs) || !slices.Equal(got.Offsets, want.Offsets) ||
						!slices.Equal(got.AttentionMask, want.AttentionMask) || !slices.Equal(got.SpecialTokensMask, want.SpecialTokensMask) {
						t.Fatalf("%s max %d %s %q:\n got %v %v %v\nwant %v %v %v", p, max, dir, line, got.Tokens, got.WordIDs, got.Offsets, want.Tokens, want.WordIDs, want.Offsets)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d encodings compared", checked)
}

// splitTokenizer is a BERT tokenizer whose pre-tokenizer is a Split on pattern.
func splitTokenizer(t *testing.T, pattern string) (*Tokenizer, error) {
	t.Helper()
	b, err := os.ReadFile("../testdata/tiny-bert/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `"pre_tokenizer": {`, `"pre_tokenizer": {"type": "Split", "pattern": {"Regex": `+quoteJSON(pattern)+`}, "behavior": "Isolated", "invert": false}, "unused": {`, 1)
	if s == string(b) {
		t.Fatal("no pre_tokenizer in tiny-bert's tokenizer.json")
	}
	return FromJSON([]byte(s))
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// A pattern that backtracks catastrophically stops with an error after
// MatchTimeout instead of running for minutes; the error does not quote the
// text. A pattern over MaxPatternBytes is refused when the tokenizer loads.
func TestRegexLimits(t *testing.T) {
	tk, err := splitTokenizer(t, `(a+)+$`)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("a", 40) + "!"
	start := time.Now()
	_, err = tk.Encode(text, true)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "took longer than 1s") || strings.Contains(err.Error(), text) {
		t.Fatalf("error %v", err)
	}
	if took > 10*MatchTimeout {
		t.Errorf("the timed-out match took %v", took)
	}
	// A cancelled context stops the tokenization between matches.
	tk, err = splitTokenizer(t, `a`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tk.EncodeInput(ctx, Input{Text: strings.Repeat("a ", 1000)}, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := splitTokenizer(t, strings.Repeat("a", MaxPatternBytes+1)); err == nil || !strings.Contains(err.Error(), "longer than the 65536 bytes") {
		t.Fatalf("huge pattern: %v", err)
	}
}

// FuzzSplitRegex splits texts by regular expressions as a Split
// pre-tokenizer of tokenizer.json does: any pattern either fails to compile
// or gives pieces that cover the text in order, or stops at the match
// timeout with an error; none panics or runs on.
func FuzzSplitRegex(f *testing.F) {
	matchTimeout = 50 * time.Millisecond
	for _, seed := range [][2]string{
		{`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, "Hello world's 123 ..."},
		{`(a+)+$`, "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"},
		{`\s+`, "a  b\tc\n"},
		{`(?i)[\p{Han}]+|\w+`, "中文 text"},
		{`(?<=a)b`, "abab"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		p, err := compileRegex(pattern)
		if err != nil {
			return
		}
		ms, err := p.findMatches(context.Background(), text)
		if err != nil {
			return
		}
		pos := 0
		for _, m := range ms {
			if m.start != pos || m.end < m.start || m.end > len(text) {
				t.Fatalf("pattern %q on %q: pieces %v do not cover the text in order", pattern, text, ms)
			}
			pos = m.end
		}
		if pos != len(text) && !(text == "" && len(ms) == 1) {
			t.Fatalf("pattern %q on %q: pieces %v end at %d", pattern, text, ms, pos)
		}
	})
}
