package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// bertBase returns the tensors of a BERT-base classifier (109.5M parameters,
// 438 MB in F32), filled with a cheap deterministic pattern.
func bertBase() []*Tensor {
	const h, inter, vocab, pos, layers = 768, 3072, 30522, 512, 12
	var ts []*Tensor
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i%97) * 0.01
		}
		ts = append(ts, &Tensor{Name: name, DType: "F32", Shape: shape, Data: data})
	}
	add("bert.embeddings.word_embeddings.weight", vocab, h)
	add("bert.embeddings.position_embeddings.weight", pos, h)
	add("bert.embeddings.token_type_embeddings.weight", 2, h)
	add("bert.embeddings.LayerNorm.weight", h)
	add("bert.embeddings.LayerNorm.bias", h)
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("bert.encoder.layer.%d.", l)
		for _, m := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			add(p+m+".weight", h, h)
			add(p+m+".bias", h)
		}
		add(p+"attention.output.LayerNorm.weight", h)
		add(p+"attention.output.LayerNorm.bias", h)
		add(p+"intermediate.dense.weight", inter, h)
		add(p+"intermediate.dense.bias", inter)
		add(p+"output.dense.weight", h, inter)
		add(p+"output.dense.bias", h)
		add(p+"output.LayerNorm.weight", h)
		add(p+"output.LayerNorm.bias", h)
	}
	add("bert.pooler.dense.weight", h, h)
	add("bert.pooler.dense.bias", h)
	add("classifier.weight", 2, h)
	add("classifier.bias", 2)
	return ts
}

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// bertBaseDir writes a BERT-base checkpoint once per run in a temporary directory.
func bertBaseDir(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "textclf-bench-*")
		if benchErr != nil {
			return
		}
		cfg, _ := ParseConfig([]byte(`{"model_type":"bert","architectures":["BertForSequenceClassification"]}`))
		benchErr = Save(benchDir, cfg, bertBase(), nil)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkLoadBERTBase measures LoadWeights on a 438 MB F32 model.safetensors:
// mmap, header validation and zero-copy float32 views of all 201 tensors.
func BenchmarkLoadBERTBase(b *testing.B) {
	dir := bertBaseDir(b)
	st, _ := os.Stat(filepath.Join(dir, SafetensorsName))
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := LoadWeights(dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(w.Tensors) != 201 {
			b.Fatalf("%d tensors", len(w.Tensors))
		}
		w.Close()
	}
}

// BenchmarkLoadBERTBaseTouchAll also reads every value once (page cache warm),
// the cost a first forward pass pays for the lazily mapped pages.
func BenchmarkLoadBERTBaseTouchAll(b *testing.B) {
	dir := bertBaseDir(b)
	st, _ := os.Stat(filepath.Join(dir, SafetensorsName))
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := LoadWeights(dir)
		if err != nil {
			b.Fatal(err)
		}
		var s float32
		for _, t := range w.Tensors {
			for _, v := range t.Data {
				s += v
			}
		}
		if s == 0 {
			b.Fatal("zero sum")
		}
		w.Close()
	}
}

// BenchmarkSaveBERTBase measures Save (config.json + 438 MB model.safetensors, fsynced).
func BenchmarkSaveBERTBase(b *testing.B) {
	ts := bertBase()
	cfg, _ := ParseConfig([]byte(`{"model_type":"bert"}`))
	dir := b.TempDir()
	b.SetBytes(438_000_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Save(dir, cfg, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadTorchBin loads the pytorch_model.bin named by
// TEXTCLF_BENCH_TORCH_BIN (written by scripts/checkpoint/bench_torch.py), with
// ReadTorchFile (tensors copied out) and LoadWeights (F32 tensors alias the mapping).
func BenchmarkLoadTorchBin(b *testing.B) {
	p := os.Getenv("TEXTCLF_BENCH_TORCH_BIN")
	if p == "" {
		b.Skip("set TEXTCLF_BENCH_TORCH_BIN to a pytorch_model.bin")
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ReadTorchFile", func(b *testing.B) {
		b.SetBytes(st.Size())
		for i := 0; i < b.N; i++ {
			ts, err := ReadTorchFile(p)
			if err != nil || len(ts) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("LoadWeights", func(b *testing.B) {
		b.SetBytes(st.Size())
		for i := 0; i < b.N; i++ {
			w, err := LoadWeights(filepath.Dir(p))
			if err != nil || len(w.Tensors) == 0 {
				b.Fatal(err)
			}
			w.Close()
		}
	})
}
