package train

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/textclf/textclf/model"
)

// BenchmarkPretrainStep measures masked-language-model pretraining steps
// (forward, loss on the masked tokens, backward, clipping, AdamW) of a
// random BERT miniature of vocabulary 30,522 (dropout 0.1) on a batch of
// random tokens masked as DataCollatorForLanguageModeling masks them,
// reported in tokens per second. bench/pretrain/run.sh runs it against
// the PyTorch reference (bench/pretrain/torch_mlm_step.py). The shape comes
// from TEXTCLF_BENCH_PRESET (default bert-mini), B and T from
// TEXTCLF_BENCH_BATCH and TEXTCLF_BENCH_SEQ (default 32×128).
//
//	go test ./train -run - -bench PretrainStep -benchtime 10x
func BenchmarkPretrainStep(b *testing.B) {
	preset, bs, seq := envOr("TEXTCLF_BENCH_PRESET", "bert-mini"), envInt("TEXTCLF_BENCH_BATCH", 32), envInt("TEXTCLF_BENCH_SEQ", 128)
	cfg, err := model.PresetConfig(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.NewMaskedLM(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	in := model.RandomBatch(cfg.VocabSize, bs, seq, 2)
	flags := make([]maskFlags, bs)
	for i := range flags {
		flags[i] = maskFlags{special: make([]bool, seq), cont: make([]bool, seq)}
		flags[i].special[0], flags[i].special[seq-1] = true, true
	}
	mk := &masker{prob: 0.15, maskID: 103, vocab: cfg.VocabSize}
	labels := mk.mask(in, flags, rand.New(rand.NewPCG(1, 2)))
	sched, _ := NewSchedule("constant", 0, 1)
	s := &Stepper{Model: m, Optimizer: NewAdamW(m.Params(), AdamWConfig{LR: 1e-4, WeightDecay: 0.01}), Schedule: sched, BaseLR: 1e-4, MaxGradNorm: 1}
	step := func() {
		if _, err := s.Step([]*model.Batch{in}, []*model.Labels{{Classes: labels}}); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*bs*seq)/b.Elapsed().Seconds(), "tokens/s")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}
