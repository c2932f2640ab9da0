package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/safetensors"
	"github.com/textclf/textclf/tensor"
)

// bf16Checkpoint saves the bf16 checkpoint (ToBF16, Save) of a random BERT
// of the given sizes in a new directory and returns the directory and the
// number of values of its Linear weights.
func bf16Checkpoint(t testing.TB, hidden, inter, layers int) (string, int) {
	t.Helper()
	cfg, err := checkpoint.ParseConfig(fmt.Appendf(nil, `{"model_type":"bert","vocab_size":40,"hidden_size":%d,
		"num_hidden_layers":%d,"num_attention_heads":4,"intermediate_size":%d,"max_position_embeddings":16,
		"type_vocab_size":2,"hidden_act":"gelu","pad_token_id":0,"id2label":{"0":"A","1":"B"}}`, hidden, layers, inter))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	linear := 0
	for _, l := range m.linears() {
		linear += l.In * l.Out
	}
	if err := m.ToBF16(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir, linear
}

// allocated is the number of bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLoadInferenceBF16Memory: loading a bf16 checkpoint for bf16 inference
// never makes the float32 copy of its BF16 Linear weights. The heap
// allocates the model's parameters (build's make, never touched for the
// weights that come packed), the packed weights (2 bytes a value), and
// little else: less than a quarter of the Linear weights' float32 size
// more, where converting them would allocate that whole size (4 bytes a
// value) again. Loaded for bf16 or for float32, the model computes what
// float32 loading then RunIn computes, bit for bit.
func TestLoadInferenceBF16Memory(t *testing.T) {
	dir, linear := bf16Checkpoint(t, 256, 1024, 2)
	f32Bytes := uint64(4 * linear)
	ref, _, err := Load(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	var paramBytes uint64
	for _, p := range ref.Params() {
		paramBytes += uint64(4 * p.Size())
	}
	in := &Batch{B: 2, T: 5, InputIDs: []int{2, 5, 7, 9, 3, 2, 4, 6, 8, 3}, AttentionMask: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 0},
		TokenTypeIDs: make([]int, 10)}
	for _, dtype := range []string{DtypeBF16, DtypeF32} {
		var m *Model
		n := allocated(func() { m, _, err = LoadInference(dir, dtype, 1) })
		if err != nil {
			t.Fatal(err)
		}
		if m.Dtype() != dtype {
			t.Fatalf("LoadInference(%s): dtype %s", dtype, m.Dtype())
		}
		if dtype == DtypeBF16 {
			limit := paramBytes + f32Bytes/2 + f32Bytes/4 // parameters, packed bf16, a quarter of the float32 size
			t.Logf("%d bytes allocated: parameters %d, Linear weights in float32 %d; limit %d", n, paramBytes, f32Bytes, limit)
			if n > limit {
				t.Errorf("LoadInference(bf16 checkpoint, bf16) allocated %d bytes, more than %d: the BF16 weights were converted", n, limit)
			}
		}
		ref, _, err := Load(dir, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.RunIn(dtype); err != nil {
			t.Fatal(err)
		}
		sameLogits(t, dtype+": LoadInference, Load then RunIn", m, ref, in)
	}
}

// TestRunIn: RunIn is SetDtype, except that an int8 model stays int8
// whatever dtype asks; an unknown dtype is refused.
func TestRunIn(t *testing.T) {
	src := filepath.Join(modelData, "bert-single-label")
	for _, c := range []struct{ from, ask, want string }{
		{DtypeF32, "", DtypeF32}, {DtypeF32, DtypeBF16, DtypeBF16}, {DtypeF32, DtypeInt8, DtypeInt8},
		{DtypeInt8, DtypeF32, DtypeInt8}, {DtypeInt8, DtypeBF16, DtypeInt8}, {DtypeBF16, DtypeBF16, DtypeBF16},
	} {
		m, _, err := Load(src, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetDtype(c.from); err != nil {
			t.Fatal(err)
		}
		if err := m.RunIn(c.ask); err != nil {
			t.Fatalf("%s model, RunIn(%q): %v", c.from, c.ask, err)
		}
		if m.Dtype() != c.want {
			t.Errorf("%s model, RunIn(%q): dtype %s, want %s", c.from, c.ask, m.Dtype(), c.want)
		}
	}
	m, _, err := Load(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunIn("fp8"); err == nil || !strings.Contains(err.Error(), `"fp8"`) {
		t.Errorf("RunIn(fp8): err = %v", err)
	}
	if err := m.RunIn(DtypeBF16); err != nil {
		t.Fatal(err)
	}
	if err := m.RunIn(DtypeF32); err == nil || !strings.Contains(err.Error(), "bf16 already") {
		t.Errorf("bf16 model, RunIn(f32): err = %v", err)
	}
}

// bf16Tensors reads the tensors of a checkpoint's model.safetensors (their
// data copied).
func bf16Tensors(t testing.TB, dir string) []safetensors.Tensor {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, checkpoint.SafetensorsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []safetensors.Tensor
	for _, name := range f.Names() {
		st, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		st.Data = slices.Clone(st.Data)
		out = append(out, st)
	}
	return out
}

// TestBF16CheckpointErrors: a bf16 checkpoint whose BF16 Linear weight has
// the wrong shape, or holds a NaN or an infinity, is refused by
// LoadInference for bf16 (and by Load) with an error naming the tensor.
func TestBF16CheckpointErrors(t *testing.T) {
	good, _ := bf16Checkpoint(t, 8, 12, 1)
	tensors := bf16Tensors(t, good)
	cfg, err := os.ReadFile(filepath.Join(good, checkpoint.ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	const w = "bert.encoder.layer.0.intermediate.dense.weight" // [12, 8]
	edit := func(f func(*safetensors.Tensor)) func([]safetensors.Tensor) {
		return func(ts []safetensors.Tensor) {
			for i := range ts {
				if ts[i].Name == w {
					f(&ts[i])
				}
			}
		}
	}
	for _, c := range []struct {
		name, want string
		edit       func([]safetensors.Tensor)
	}{
		{"transposed", "shape mismatch: " + w, edit(func(t *safetensors.Tensor) { t.Shape = []int{8, 12} })},
		{"short", "shape mismatch: " + w, edit(func(t *safetensors.Tensor) { t.Shape = []int{12, 4}; t.Data = t.Data[:2*12*4] })},
		{"NaN", `"` + w + `": value 5 is NaN`, edit(func(t *safetensors.Tensor) { t.Data[10], t.Data[11] = 0xc0, 0x7f })},
		{"infinity", `"` + w + `": value 0 is -Inf`, edit(func(t *safetensors.Tensor) { t.Data[0], t.Data[1] = 0x80, 0xff })},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := slices.Clone(tensors)
			for i := range ts {
				ts[i].Data = slices.Clone(ts[i].Data)
			}
			c.edit(ts)
			dir := t.TempDir()
			if err := safetensors.WriteFile(filepath.Join(dir, checkpoint.SafetensorsName), ts, map[string]string{"format": "pt"}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigName), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, dtype := range []string{DtypeBF16, DtypeF32} {
				if _, _, err := LoadInference(dir, dtype, 1); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("LoadInference(%s): err = %v, want it to contain %q", dtype, err, c.want)
				}
			}
		})
	}
}

// FuzzLoadBF16 loads fuzzed model.safetensors files beside the config.json of
// a bf16 checkpoint for bf16 inference: loading fails with an error or gives
// a model whose forward pass runs, never a panic.
func FuzzLoadBF16(f *testing.F) {
	src, _ := bf16Checkpoint(f, 8, 12, 1)
	fuzzCheckpoint(f, src, func(dir string) (*Model, error) {
		m, _, err := LoadInference(dir, DtypeBF16, 1)
		return m, err
	})
}

// TestLoadAllBF16Checkpoint: a checkpoint whose every tensor is BF16 (as
// save_pretrained writes a bfloat16 model: embeddings, norms and biases
// too) and that lacks its output layer loads, for float32 and for bf16,
// into the very model that the same values stored as F32 load into: the
// converted tensors become the parameters' values, the missing output layer
// is initialised with the same random draws (the parameters left without
// values of their own draw theirs too), and the BF16 Linear weights packed
// from the file equal ToBF16's.
func TestLoadAllBF16Checkpoint(t *testing.T) {
	for _, kind := range append([]string{"bert", "roberta", "distilbert"}, archKinds...) {
		t.Run(kind, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(51, 52))
			var cfg *checkpoint.Config
			var in *Batch
			switch kind {
			case "bert", "roberta", "distilbert":
				cfg = tinyConfig(t, kind, 3, "")
				in = randomBatch(rng, 3, 7, 50, 1)
			default:
				cfg = tinyArchConfig(t, kind, "")
				in = rightPadded(rng, 3, 7)
			}
			m, err := New(cfg, 3)
			if err != nil {
				t.Fatal(err)
			}
			perturb(m, rng)
			for _, p := range m.Params() {
				tensor.RoundBF16(p.W, p.W)
			}
			f32Dir, bf16Dir := t.TempDir(), t.TempDir()
			if err := m.Save(f32Dir, nil); err != nil {
				t.Fatal(err)
			}
			var f32s, bf16s []safetensors.Tensor
			for _, st := range bf16Tensors(t, f32Dir) {
				if strings.HasPrefix(st.Name, "classifier") || strings.HasPrefix(st.Name, "score") {
					continue
				}
				f32s = append(f32s, st)
				vals, err := st.Float32()
				if err != nil {
					t.Fatal(err)
				}
				h, err := safetensors.Convert(st.Name, st.Shape, vals, safetensors.BF16)
				if err != nil {
					t.Fatal(err)
				}
				bf16s = append(bf16s, h)
			}
			for _, d := range []struct {
				dir string
				ts  []safetensors.Tensor
			}{{f32Dir, f32s}, {bf16Dir, bf16s}} {
				if err := safetensors.WriteFile(filepath.Join(d.dir, checkpoint.SafetensorsName), d.ts, map[string]string{"format": "pt"}); err != nil {
					t.Fatal(err)
				}
			}
			cfgJSON, err := os.ReadFile(filepath.Join(f32Dir, checkpoint.ConfigName))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bf16Dir, checkpoint.ConfigName), cfgJSON, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, dtype := range []string{DtypeF32, DtypeBF16} {
				ref, rep, err := LoadInference(f32Dir, dtype, 9)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Missing) == 0 {
					t.Fatalf("no output layer was left out: the test tests nothing new")
				}
				got, _, err := LoadInference(bf16Dir, dtype, 9)
				if err != nil {
					t.Fatal(err)
				}
				sameLogits(t, dtype+": all-BF16 checkpoint, the same values in F32", got, ref, in)
			}
		})
	}
}

// sameLogits fails the test unless a and b compute the same logits on in,
// bit for bit.
func sameLogits(t *testing.T, what string, a, b *Model, in *Batch) {
	t.Helper()
	la, err := a.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	la = slices.Clone(la)
	lb, err := b.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range la {
		if math.Float32bits(la[i]) != math.Float32bits(lb[i]) {
			t.Fatalf("%s: logit %d = %g and %g", what, i, la[i], lb[i])
		}
	}
}

// procStatusKiB reads a "Vm…" line of /proc/self/status, in KiB.
func procStatusKiB(t *testing.T, key string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			var n int
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("/proc/self/status has no %s", key)
	return 0
}

// TestLoadInferencePeakRSS measures, in a fresh process (this test binary
// run again), how far loading raises the peak resident memory (VmHWM over
// VmRSS before loading): a bf16 checkpoint loaded for bf16, and its float32
// original loaded for bf16, peak at the packed weights plus a little (each
// tensor's file pages are given back once it is packed or reduced, and no
// float32 copy of the Linear weights is made), below 1.5 times the packed
// weights; holding the mapped file or a float32 copy beside them would
// reach twice that or more. Linux only (/proc).
func TestLoadInferencePeakRSS(t *testing.T) {
	if dir := os.Getenv("TEXTCLF_TEST_PEAK_DIR"); dir != "" {
		before := procStatusKiB(t, "VmRSS")
		if _, _, err := LoadInference(dir, DtypeBF16, 1); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("peak-delta-kib %d\n", procStatusKiB(t, "VmHWM")-before)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	bf16Dir, linear := bf16Checkpoint(t, 512, 2048, 4)
	cfg, err := checkpoint.LoadConfig(bf16Dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	f32Dir := t.TempDir()
	if err := m.Save(f32Dir, nil); err != nil {
		t.Fatal(err)
	}
	packedKiB := 2 * linear / 1024
	for _, dir := range []string{bf16Dir, f32Dir} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadInferencePeakRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TEXTCLF_TEST_PEAK_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var peak int
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "peak-delta-kib "); ok {
				fmt.Sscan(rest, &peak)
			}
		}
		if peak == 0 {
			t.Fatalf("no peak in the child's output:\n%s", out)
		}
		t.Logf("%s: loading raised the peak resident set by %d KiB; packed bf16 weights %d KiB", filepath.Base(dir), peak, packedKiB)
		if peak > packedKiB*3/2 {
			t.Errorf("loading %s for bf16 raised the peak resident set by %d KiB, more than 1.5 × the packed weights (%d KiB)", dir, peak, packedKiB)
		}
	}
}
