package serve

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/model"
)

// BenchmarkPredict compares one LogitsOfEncodings over 32 corpus texts (a batch the
// batcher would form) with 32 calls of one text, on a random
// MiniLM-shaped BERT.
func BenchmarkPredict(b *testing.B) {
	cfg, err := model.PresetConfig("minilm")
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := m.Save(dir, []string{"../testdata/tokenizer/bert-base-uncased/tokenizer.json"}); err != nil {
		b.Fatal(err)
	}
	clf, err := textclf.Open(context.Background(), dir, textclf.Options{MaxLength: 128, BatchSize: 64})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("../testdata/tokenizer/corpus-small.txt")
	if err != nil {
		b.Fatal(err)
	}
	var encs []textclf.Encoding
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		e, err := clf.Model.Encode(textclf.Input{Text: line}, textclf.EncodeOptions{Truncate: true})
		if err != nil {
			b.Fatal(err)
		}
		if encs = append(encs, e); len(encs) == 32 {
			break
		}
	}
	ctx := context.Background()
	b.Run("batch32", func(b *testing.B) {
		for b.Loop() {
			if _, err := clf.LogitsOfEncodings(ctx, encs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-by-one32", func(b *testing.B) {
		for b.Loop() {
			for _, e := range encs {
				if _, err := clf.LogitsOfEncodings(ctx, []textclf.Encoding{e}, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
