//go:build unix

package explain

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// BenchmarkIntegratedGradients compares explaining one 128-token text by
// integrated gradients (50 Gauss-Legendre steps, the default passes of
// DefaultPassTokens tokens) with 50 forward and backward passes of that text
// in batches of the same size (ForwardTrain and Backward with dropout 0, as
// in training: parameter gradients included), on random weights of the
// BERT-base and MiniLM shapes. The two run one after the other in each
// round, so -count N interleaves them; bench/explain/run.sh prints the ratio.
//
//	go test ./explain -run - -bench IntegratedGradients -benchtime 1x -count 3
func BenchmarkIntegratedGradients(b *testing.B) {
	const seq, steps = 128, 50
	for _, preset := range []string{"minilm", "bert-base"} {
		cfg, err := model.PresetConfig(preset)
		if err != nil {
			b.Fatal(err)
		}
		m, err := model.New(cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		m.SetDropout(0)
		in := model.RandomBatch(cfg.VocabSize, 1, seq, 3)
		enc := tokenizer.Encoding{IDs: in.InputIDs, TypeIDs: in.TokenTypeIDs, SpecialTokensMask: make([]int, seq)}
		enc.SpecialTokensMask[0], enc.SpecialTokensMask[seq-1] = 1, 1
		perPass := DefaultPassTokens / seq
		b.Run(fmt.Sprintf("%s/explain-%dx%d", preset, steps, seq), func(b *testing.B) {
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				if _, err := IntegratedGradients(context.Background(), m, []tokenizer.Encoding{enc}, []int{1}, Config{Steps: steps}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/explanation")
		})
		b.Run(fmt.Sprintf("%s/forward-backward-%dx%d", preset, steps, seq), func(b *testing.B) {
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				for done := 0; done < steps; done += perPass {
					k := min(perPass, steps-done)
					batch := model.RandomBatch(cfg.VocabSize, k, seq, 3)
					if _, _, err := m.ForwardTrain(batch, &model.Labels{Classes: make([]int, k)}); err != nil {
						b.Fatal(err)
					}
					m.ZeroGrad()
					if err := m.Backward(nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/50-passes")
		})
	}
}

// reportCPU reports, when the returned func is called, the CPU time (user
// and system, all threads) per operation: on a shared machine it moves less
// with other processes' load than the wall time does.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
