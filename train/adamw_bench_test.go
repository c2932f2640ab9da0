package train

import (
	"testing"

	"github.com/textclf/textclf/nn"
)

// BenchmarkAdamW is one optimizer step over a BERT-base-sized parameter.
func BenchmarkAdamW(b *testing.B) {
	p := nn.NewParam("w", 110_000_000)
	p.AllocGrad()
	o := NewAdamW([]*nn.Param{p}, AdamWConfig{LR: 1e-5, WeightDecay: 0.01})
	for b.Loop() {
		o.Step()
	}
}
