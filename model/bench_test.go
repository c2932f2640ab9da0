package model

import (
	"fmt"
	"testing"
)

// BenchmarkForward measures inference on random weights of the preset
// shapes the transformer comparison uses (bench/model/run.sh).
//
//	go test ./model -run - -bench Forward -benchtime 20x -cpuprofile cpu.out
func BenchmarkForward(b *testing.B) {
	for _, c := range []struct {
		preset string
		batch  int
		seq    int
	}{{"bert-base", 1, 16}, {"bert-base", 8, 128}, {"minilm", 32, 128}} {
		b.Run(fmt.Sprintf("%s-%dx%d", c.preset, c.batch, c.seq), func(b *testing.B) {
			cfg, err := PresetConfig(c.preset)
			if err != nil {
				b.Fatal(err)
			}
			m, err := New(cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			in := RandomBatch(cfg.VocabSize, c.batch, c.seq, 2)
			if _, err := m.Forward(in); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Forward(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*c.batch)/b.Elapsed().Seconds(), "seq/s")
		})
	}
}
