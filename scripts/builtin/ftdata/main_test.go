package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/classic"
)

// Both segmentations write fastText lines with the tokens textclf's
// classic models see; a label with a space is refused, nothing written.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.tsv")
	os.WriteFile(in, []byte("label\ttext\nsports\t国足晋级八强\ngame\t《魔兽世界》公测 CSOL\n"), 0o644)
	for mode, want := range map[string]string{
		classic.SegmentWords:        "__label__sports 国 足 晋 级 八 强\n__label__game 《 魔 兽 世 界 》 公 测 CSOL\n",
		classic.SegmentChineseWords: "__label__sports 国足 晋级 八强\n__label__game 《 魔兽 世界 》 公测 CSOL\n",
	} {
		out := filepath.Join(dir, mode+".txt")
		if err := run(in, out, classic.Segmenter{Mode: mode}); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(out); string(got) != want {
			t.Errorf("%s:\n%s\nwant\n%s", mode, got, want)
		}
	}
	os.WriteFile(in, []byte("label\ttext\nsports news\t国足\n"), 0o644)
	out := filepath.Join(dir, "bad.txt")
	if err := run(in, out, classic.Segmenter{Mode: classic.SegmentWords}); err == nil || !strings.Contains(err.Error(), "example 1: want one label without spaces") {
		t.Errorf("label with a space: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("written anyway: %v", err)
	}
	if err := run(in, out, classic.Segmenter{Mode: "jieba"}); err == nil || !strings.Contains(err.Error(), `unknown segmentation "jieba"`) {
		t.Errorf("unknown mode: %v", err)
	}
}
