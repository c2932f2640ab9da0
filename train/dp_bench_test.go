package train

import (
	"fmt"
	"testing"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/privacy"
)

// BenchmarkStepDP compares a DP-SGD step (per-sample norms, clipped
// backward pass, noise on every parameter, AdamW) with a normal training
// step (forward, backward, clipping, AdamW) on the same 8×128 batch of
// random weights of the BERT-base and MiniLM shapes. Interleave the two
// sub-benchmarks (-count) on a busy machine.
//
//	go test ./train -run - -bench StepDP -benchtime 5x -count 3
func BenchmarkStepDP(b *testing.B) {
	for _, preset := range []string{"minilm", "bert-base"} {
		cfg, err := model.PresetConfig(preset)
		if err != nil {
			b.Fatal(err)
		}
		m, err := model.New(cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		in := model.RandomBatch(cfg.VocabSize, 8, 128, 2)
		labels := &model.Labels{Classes: make([]int, 8)}
		sched, _ := NewSchedule("constant", 0, 1)
		s := &Stepper{Model: m, Optimizer: NewAdamW(m.Params(), AdamWConfig{LR: 1e-5}), Schedule: sched, BaseLR: 1e-5, MaxGradNorm: 1}
		plan := &privacy.Plan{Config: privacy.Config{MaxGradNorm: 1, NoiseMultiplier: 1, Delta: 1e-5}, SampleRate: 0.01, ExpectedBatchSize: 8}
		for _, kind := range []string{"normal", "dp"} {
			b.Run(fmt.Sprintf("%s/%s-8x128", kind, preset), func(b *testing.B) {
				step := func(i int) {
					var err error
					if kind == "dp" {
						_, err = s.StepDP(in, labels, plan, 1, i)
					} else {
						_, err = s.Step([]*model.Batch{in}, []*model.Labels{labels})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				step(0)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					step(i)
				}
				b.ReportMetric(float64(b.N*8)/b.Elapsed().Seconds(), "seq/s")
			})
		}
	}
}
