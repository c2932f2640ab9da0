// Package crafted writes model directories made to exhaust or hang
// textclf's loaders — lying config.json sizes, zip bombs in
// pytorch_model.bin, NaN weights, tokenizer.json regular expressions that
// backtrack catastrophically — from a small real model, for tests that
// check each is refused (or read) quickly and within bounded memory. Every
// file is generated (none is stored in git); the largest is a few MB.
package crafted

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/textclf/textclf/checkpoint"
)

// Case is one crafted model directory and what textclf must say of it.
type Case struct {
	// Name says what the directory does (config-hidden-size-1e9, …).
	Name string
	// Dir is the model directory.
	Dir string
	// PredictErr and InfoErr are substrings of the errors of `textclf
	// predict` and `textclf info` on Dir; "" means the command succeeds
	// (the crafted part is never read, or read only as far as needed).
	PredictErr, InfoErr string
}

// ReDoSText is the text to predict: on it the pattern of the
// tokenizer-redos case takes exponential time.
var ReDoSText = strings.Repeat("a", 40) + "!"

// GiB is the size the zip bombs inflate to, per storage.
const GiB = 1 << 30

// Write writes every case under root from the model directory tiny (a
// BERT with config.json, model.safetensors and tokenizer.json).
func Write(root, tiny string) ([]Case, error) {
	cfg, err := os.ReadFile(filepath.Join(tiny, checkpoint.ConfigName))
	if err != nil {
		return nil, err
	}
	tok, err := os.ReadFile(filepath.Join(tiny, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	weights, err := os.ReadFile(filepath.Join(tiny, checkpoint.SafetensorsName))
	if err != nil {
		return nil, err
	}
	w, err := checkpoint.LoadWeights(tiny)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	tensors := w.Tensors

	var cases []Case
	add := func(c Case, files map[string][]byte) error {
		c.Dir = filepath.Join(root, c.Name)
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return err
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(c.Dir, name), b, 0o644); err != nil {
				return err
			}
		}
		cases = append(cases, c)
		return nil
	}
	model := func(config, tokenizer []byte, weightFile string, weightBytes []byte) map[string][]byte {
		return map[string][]byte{checkpoint.ConfigName: config, "tokenizer.json": tokenizer, weightFile: weightBytes}
	}
	withConfig := func(field string, v any) []byte { return setJSON(cfg, field, v) }

	// config.json sizes that a Go program cannot allocate, or can only just.
	for _, c := range []struct {
		name, field string
		v           int
		predict     string
		info        string
	}{
		{"config-hidden-size-1e9", "hidden_size", 1_000_000_000, "hidden_size 1000000000 exceeds", "hidden_size 1000000000 exceeds"},
		{"config-layers-1e9", "num_hidden_layers", 1_000_000_000, "num_hidden_layers 1000000000 exceeds", "num_hidden_layers 1000000000 exceeds"},
		{"config-hidden-size-8192", "hidden_size", 8192, "shape mismatch", ""},
		{"config-vocab-16M", "vocab_size", 16_000_000, "shape mismatch", ""},
		{"config-layers-1000", "num_hidden_layers", 1000, "do not belong together", ""},
		{"config-intermediate-200000", "intermediate_size", 200_000, "shape mismatch", ""},
	} {
		if err := add(Case{Name: c.name, PredictErr: c.predict, InfoErr: c.info},
			model(withConfig(c.field, c.v), tok, checkpoint.SafetensorsName, weights)); err != nil {
			return nil, err
		}
	}

	// pytorch_model.bin zip bombs.
	bomb := deflatedZeros(GiB)
	word := "bert.embeddings.word_embeddings.weight"
	{
		// The word embeddings' storage declares a GiB (deflated zeros): only
		// the bytes of the [vocab, hidden] view may be inflated.
		z := newTorchZip(tensors)
		z.storage[word] = storageEntry{numel: GiB / 4, raw: bomb}
		if err := add(Case{Name: "bin-storage-bomb"}, model(cfg, tok, checkpoint.TorchName, z.bytes())); err != nil {
			return nil, err
		}
	}
	{
		// Six unused tensors of a GiB each (a 6 MB file): never inflated.
		z := newTorchZip(tensors)
		for i := range 6 {
			name := fmt.Sprintf("junk.%d", i)
			z.extra = append(z.extra, name)
			z.shape[name] = []int{GiB / 4}
			z.storage[name] = storageEntry{numel: GiB / 4, raw: bomb}
		}
		if err := add(Case{Name: "bin-unused-bombs"}, model(cfg, tok, checkpoint.TorchName, z.bytes())); err != nil {
			return nil, err
		}
	}
	{
		// data.pkl itself inflates to a GiB.
		z := newTorchZip(tensors)
		z.pickle = &storageEntry{raw: bomb}
		if err := add(Case{Name: "bin-pickle-bomb", PredictErr: "a state dict's pickle can need", InfoErr: "a state dict's pickle can need"},
			model(cfg, tok, checkpoint.TorchName, z.bytes())); err != nil {
			return nil, err
		}
	}
	{
		// A storage entry declaring a GiB from a few compressed bytes.
		z := newTorchZip(tensors)
		lie := deflatedZeros(1 << 16)
		lie.uncompressed = GiB
		z.storage[word] = storageEntry{numel: GiB / 4, raw: lie}
		if err := add(Case{Name: "bin-deflate-lie", PredictErr: "entry claims", InfoErr: "entry claims"},
			model(cfg, tok, checkpoint.TorchName, z.bytes())); err != nil {
			return nil, err
		}
	}
	{
		// A stored storage shorter than the pickle says.
		z := newTorchZip(tensors)
		z.storage[word] = storageEntry{numel: GiB / 4}
		if err := add(Case{Name: "bin-stored-short", PredictErr: "the storage needs", InfoErr: "the storage needs"},
			model(cfg, tok, checkpoint.TorchName, z.bytes())); err != nil {
			return nil, err
		}
	}

	// A NaN weight.
	{
		ts := make([]*checkpoint.Tensor, len(tensors))
		for i, t := range tensors {
			ts[i] = &checkpoint.Tensor{Name: t.Name, DType: "F32", Shape: t.Shape, Data: append([]float32(nil), t.Data...)}
			if t.Name == "bert.encoder.layer.1.attention.self.query.weight" {
				ts[i].Data[7] = float32(math.NaN())
			}
		}
		c, err := checkpoint.ParseConfig(cfg)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(root, "nan-weights")
		if err := checkpoint.SaveFiles(dir, c, ts, []checkpoint.File{{Name: "tokenizer.json", Data: tok}}); err != nil {
			return nil, err
		}
		cases = append(cases, Case{Name: "nan-weights", Dir: dir, PredictErr: `bert.encoder.layer.1.attention.self.query.weight": value 7 is NaN`})
	}

	// tokenizer.json regular expressions.
	for _, c := range []struct{ name, pattern, err string }{
		{"tokenizer-redos", `(a+)+$`, "took longer than 1s"},
		{"tokenizer-huge-pattern", strings.Repeat("(a|b)", 2<<20), "longer than the 65536 bytes"},
	} {
		t, err := splitPreTokenizer(tok, c.pattern)
		if err != nil {
			return nil, err
		}
		if err := add(Case{Name: c.name, PredictErr: c.err}, model(cfg, t, checkpoint.SafetensorsName, weights)); err != nil {
			return nil, err
		}
	}

	// A safetensors header whose tensor claims a terabyte.
	{
		hdr := []byte(`{"bert.embeddings.word_embeddings.weight":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}`)
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, uint64(len(hdr)))
		b.Write(hdr)
		b.Write(make([]byte, 64))
		if err := add(Case{Name: "safetensors-lying-header", PredictErr: "safetensors", InfoErr: "safetensors"},
			model(cfg, tok, checkpoint.SafetensorsName, b.Bytes())); err != nil {
			return nil, err
		}
	}
	return cases, nil
}

// setJSON sets a top-level field of a JSON object.
func setJSON(b []byte, field string, v any) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	m[field] = v
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err)
	}
	return out
}

// splitPreTokenizer replaces the pre-tokenizer of a tokenizer.json by a
// Split on a regular expression.
func splitPreTokenizer(tok []byte, pattern string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(tok, &m); err != nil {
		return nil, err
	}
	m["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]string{"Regex": pattern},
		"behavior": "Isolated", "invert": false}
	return json.Marshal(m)
}

// rawEntry is the compressed bytes of a zip entry with its declared sizes.
type rawEntry struct {
	data         []byte
	uncompressed uint64
	crc          uint32
}

// deflatedZeros is at least n zero bytes (32 KiB and whole MiB), deflated: a MiB of zeros is compressed once and its blocks
// repeated, which is valid since they refer only to the zeros before them.
func deflatedZeros(n int) rawEntry {
	const chunk = 1 << 20
	zero := make([]byte, chunk)
	var full bytes.Buffer
	fw, _ := flate.NewWriter(&full, flate.BestCompression)
	fw.Write(zero[:32<<10])
	fw.Flush()
	headLen := full.Len()
	fw.Write(zero)
	fw.Flush()
	midLen := full.Len() - headLen
	fw.Close()
	b := full.Bytes()
	var out bytes.Buffer
	out.Write(b[:headLen])
	total := 32 << 10
	for total < n {
		out.Write(b[headLen : headLen+midLen])
		total += chunk
	}
	out.Write(b[headLen+midLen:])
	crc := crc32.NewIEEE()
	for done := 0; done < total; done += chunk {
		crc.Write(zero[:min(chunk, total-done)])
	}
	return rawEntry{data: out.Bytes(), uncompressed: uint64(total), crc: crc.Sum32()}
}

// storageEntry is a storage of a crafted torch zip: numel float32
// elements, stored as the tensor's data (raw nil) or as raw compressed bytes.
type storageEntry struct {
	numel int
	raw   rawEntry
}

// torchZip is a pytorch_model.bin in the making: a tiny model's tensors,
// each with its own storage, which a case may replace.
type torchZip struct {
	tensors map[string]*checkpoint.Tensor
	order   []string
	extra   []string
	shape   map[string][]int
	storage map[string]storageEntry
	pickle  *storageEntry
}

func newTorchZip(ts []*checkpoint.Tensor) *torchZip {
	z := &torchZip{tensors: map[string]*checkpoint.Tensor{}, shape: map[string][]int{}, storage: map[string]storageEntry{}}
	for _, t := range ts {
		z.tensors[t.Name] = t
		z.order = append(z.order, t.Name)
		z.shape[t.Name] = t.Shape
		z.storage[t.Name] = storageEntry{numel: len(t.Data)}
	}
	return z
}

// bytes writes the zip: archive/data.pkl, archive/data/N, archive/version.
func (z *torchZip) bytes() []byte {
	names := append(append([]string(nil), z.order...), z.extra...)
	var pkl bytes.Buffer
	pkl.WriteString("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(")
	for i, name := range names {
		shape := z.shape[name]
		stride := make([]int, len(shape))
		s := 1
		for d := len(shape) - 1; d >= 0; d-- {
			stride[d] = s
			s *= shape[d]
		}
		pkl.WriteString(unicode(name))
		pkl.WriteString("ctorch._utils\n_rebuild_tensor_v2\n((")
		pkl.WriteString(unicode("storage") + "ctorch\nFloatStorage\n" + unicode(fmt.Sprint(i)) + unicode("cpu") + binint(z.storage[name].numel) + "tQ")
		pkl.WriteString(binint(0) + tuple(shape) + tuple(stride) + "\x89ccollections\nOrderedDict\n)RtR")
	}
	pkl.WriteString("u.")

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	store := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			panic(err)
		}
		w.Write(b)
	}
	raw := func(name string, e rawEntry) {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: e.crc,
			CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.uncompressed})
		if err != nil {
			panic(err)
		}
		w.Write(e.data)
	}
	if z.pickle != nil {
		raw("archive/data.pkl", z.pickle.raw)
	} else {
		store("archive/data.pkl", pkl.Bytes())
	}
	for i, name := range names {
		e := z.storage[name]
		switch {
		case e.raw.data != nil:
			raw(fmt.Sprintf("archive/data/%d", i), e.raw)
		case z.tensors[name] != nil:
			b := make([]byte, 4*len(z.tensors[name].Data))
			for j, v := range z.tensors[name].Data {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
			}
			store(fmt.Sprintf("archive/data/%d", i), b)
		default:
			store(fmt.Sprintf("archive/data/%d", i), nil)
		}
	}
	store("archive/version", []byte("3\n"))
	zw.Close()
	return buf.Bytes()
}

func unicode(s string) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	return "X" + string(n[:]) + s
}

func binint(v int) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(int32(v)))
	return "J" + string(n[:])
}

func tuple(v []int) string {
	var b strings.Builder
	b.WriteString("(")
	for _, x := range v {
		b.WriteString(binint(x))
	}
	b.WriteString("t")
	return b.String()
}
