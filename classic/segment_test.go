package classic

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSegment(t *testing.T) {
	cases := []struct {
		seg  Segmenter
		in   string
		want []string
	}{
		{Segmenter{}, "Hello, world! Don't e-mail me...", []string{"Hello", ",", "world", "!", "Don't", "e-mail", "me", ".", ".", "."}},
		{Segmenter{Lower: true}, "It's GREAT (really)", []string{"it's", "great", "(", "really", ")"}},
		{Segmenter{Mode: SegmentWhitespace}, "a,b  c\td", []string{"a,b", "c", "d"}},
		{Segmenter{}, "体验2D巅峰 倚天", []string{"体", "验", "2D", "巅", "峰", "倚", "天"}},
		{Segmenter{}, "  ", nil},
		{Segmenter{}, "it 's isn't", []string{"it", "'", "s", "isn't"}},
		// English clitics as the Penn Treebank (and SST-2) splits them.
		{Segmenter{Mode: SegmentEnglishWords}, "This movie isn't good, and I can't say it's won't-watch.",
			[]string{"This", "movie", "is", "n't", "good", ",", "and", "I", "ca", "n't", "say", "it", "'s", "won't-watch", "."}},
		{Segmenter{Mode: SegmentEnglishWords, Lower: true}, "They’re here; I'm sure we'd've WON'T o'clock 'quoted' James's",
			[]string{"they", "'re", "here", ";", "i", "'m", "sure", "we", "'d", "'ve", "wo", "n't", "o'clock", "'", "quoted", "'", "james", "'s"}},
		// Already tokenized text (SST-2's) keeps its tokens.
		{Segmenter{Mode: SegmentEnglishWords}, "it 's a film that does n't 'd 'S 'ss",
			[]string{"it", "'s", "a", "film", "that", "does", "n't", "'d", "'S", "'", "ss"}},
	}
	for _, c := range cases {
		got, err := c.seg.Segment(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v %q: %q, want %q", c.seg, c.in, got, c.want)
		}
	}
	if _, err := (Segmenter{Mode: "bpe"}).Segment("x"); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestSegmentChineseWords(t *testing.T) {
	got, err := Segmenter{Mode: SegmentChineseWords}.Segment("我爱北京天安门，Hello world")
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(got, "|")
	// Words, not characters: 北京 and 天安门 stay whole; punctuation and
	// Latin words are split as in the default mode.
	for _, w := range []string{"北京", "天安门", "，", "Hello", "world"} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("zh-words segmentation %q lacks %q", joined, w)
		}
	}
}

// FuzzSegmentWords checks that the words and en-words segmentations only
// cut: their tokens, joined, are the text without its spaces (’ read as '
// by en-words), and no token is empty.
func FuzzSegmentWords(f *testing.F) {
	for _, s := range []string{"This movie isn't good.", "it 's a film that does n't", "体验2D巅峰 ’s 'd'", "''s n't'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		bare := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == 0 {
				return -1
			}
			return r
		}, text)
		for _, mode := range []string{SegmentWords, SegmentEnglishWords} {
			toks, err := Segmenter{Mode: mode}.Segment(text)
			if err != nil {
				t.Fatal(err)
			}
			want := bare
			if mode == SegmentEnglishWords {
				want = strings.ReplaceAll(bare, "’", "'")
			}
			for _, tok := range toks {
				if tok == "" {
					t.Fatalf("%s %q: empty token in %q", mode, text, toks)
				}
			}
			if got := strings.Join(toks, ""); got != want {
				t.Fatalf("%s %q: tokens %q join to %q, want %q", mode, text, toks, got, want)
			}
		}
	})
}
