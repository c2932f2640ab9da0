package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchCorpus is the golden corpus, or the file named by
// TEXTCLF_BENCH_CORPUS (one text per line).
func benchCorpus(b *testing.B) []string {
	path := os.Getenv("TEXTCLF_BENCH_CORPUS")
	if path == "" {
		path = filepath.Join(goldenDir, "corpus.txt")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// BenchmarkEncode measures encode throughput in tokens/s, one text at a time
// on one goroutine ("single") and in batches of 64 on all cores ("batch").
func BenchmarkEncode(b *testing.B) {
	lines := benchCorpus(b)
	for _, name := range []string{"bert-base-uncased", "roberta-style", "unigram"} {
		tk, err := Load(filepath.Join(goldenDir, name))
		if err != nil {
			b.Fatal(err)
		}
		tokensPerPass := 0
		for _, l := range lines {
			e, err := tk.Encode(l, true)
			if err != nil {
				b.Fatal(err)
			}
			tokensPerPass += e.Len()
		}
		b.Run(name+"/single", func(b *testing.B) {
			for b.Loop() {
				for _, l := range lines {
					if _, err := tk.Encode(l, true); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(tokensPerPass)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
		inputs := make([]Input, len(lines))
		for i, l := range lines {
			inputs[i] = Input{Text: l}
		}
		b.Run(name+"/batch", func(b *testing.B) {
			for b.Loop() {
				for i := 0; i < len(inputs); i += 64 {
					if _, err := tk.EncodeBatch(inputs[i:min(i+64, len(inputs))], true); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(tokensPerPass)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
