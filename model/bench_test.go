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
	}{{"bert-base", 1, 16}, {"bert-base", 8, 128}, {"minilm", 32, 128}, {"gpt2", 8, 128}, {"modernbert-base", 1, 2048}, {"qwen2-0.5b", 1, 256}} {
		b.Run(fmt.Sprintf("%s-%dx%d", c.preset, c.batch, c.seq), func(b *testing.B) { benchForward(b, c.preset, c.batch, c.seq, false) })
	}
}

// BenchmarkForwardInt8 is BenchmarkForward for the BERT shapes with the
// Linear layers quantized to int8 (Model.Quantize).
func BenchmarkForwardInt8(b *testing.B) {
	for _, c := range []struct {
		preset     string
		batch, seq int
	}{{"bert-base", 1, 16}, {"bert-base", 8, 128}, {"minilm", 32, 128}} {
		b.Run(fmt.Sprintf("%s-%dx%d", c.preset, c.batch, c.seq), func(b *testing.B) { benchForward(b, c.preset, c.batch, c.seq, true) })
	}
}

// benchForward times Forward on random weights of a preset shape, int8
// when quantize is set.
func benchForward(b *testing.B, preset string, batch, seq int, quantize bool) {
	cfg, err := PresetConfig(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	if quantize {
		if err := m.Quantize(); err != nil {
			b.Fatal(err)
		}
	}
	in := RandomBatch(cfg.VocabSize, batch, seq, 2)
	if _, err := m.Forward(in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "seq/s")
}

// BenchmarkTrainStep measures a training forward and backward pass (no
// optimizer step) of BERT-base on 8×128 random tokens, in float32 and in
// mixed precision (SetMixedBF16).
//
//	go test ./model -run - -bench TrainStep -benchtime 3x -cpuprofile cpu.out
func BenchmarkTrainStep(b *testing.B) {
	for _, mixed := range []bool{false, true} {
		name := "f32"
		if mixed {
			name = "bf16"
		}
		b.Run(name, func(b *testing.B) { benchTrainStep(b, mixed) })
	}
}

func benchTrainStep(b *testing.B, mixed bool) {
	cfg, err := PresetConfig("bert-base")
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetMixedBF16(mixed); err != nil {
		b.Fatal(err)
	}
	in := RandomBatch(cfg.VocabSize, 8, 128, 2)
	labels := &Labels{Classes: make([]int, 8)}
	step := func() {
		if _, _, err := m.ForwardTrain(in, labels); err != nil {
			b.Fatal(err)
		}
		m.ZeroGrad()
		if err := m.Backward(nil); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*8)/b.Elapsed().Seconds(), "seq/s")
}
