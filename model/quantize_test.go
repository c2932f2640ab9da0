package model

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/internal/golden"
	"github.com/textclf/textclf/safetensors"
)

// int8Batch reads the golden inputs of a case.
func int8Batch(t *testing.T, g golden.File) *Batch {
	ids, shape := g.Ints(t, "input_ids")
	mask, _ := g.Ints(t, "attention_mask")
	in := &Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask}
	if g.Has("token_type_ids") {
		in.TokenTypeIDs, _ = g.Ints(t, "token_type_ids")
	}
	return in
}

// TestReducedFidelity runs the BERT-family golden models in int8 and in
// bf16 and compares their logits with the float32 model's and with PyTorch
// running the same recipe (scripts/model/gen_reduced.py, which also derives
// the bounds):
//   - |reduced − f32| ≤ 6σ + 1e-4 per logit, σ the standard deviation of the
//     rounding error carried to that logit to first order (each rounding
//     error uniform on ±s/2 for int8, ±ulp/2 of the bfloat16 for bf16,
//     through the Jacobian of the logit);
//   - |int8 − PyTorch's int8| ≤ σ/2 + 1e-4: the two compute the same model,
//     and differ only by float32 rounding (1e-4 is the float32 golden
//     tolerance of the float model) and by the rare input that sits on a
//     rounding boundary and lands on the other side — far less than the
//     rounding error itself;
//   - |bf16 − PyTorch's bf16| ≤ √12·σ + 1e-4: the same, but an input that
//     lands on the other side of a bfloat16 rounding does show. One such
//     flip moves that element by a whole ulp where σ counts it as uniform on
//     ±ulp/2 (standard deviation ulp/√12), so it moves a logit by at most
//     √12 times that element's share of σ, to first order: the bound allows
//     one flip of the most influential element. (PyTorch alone, summing in
//     float64 instead of float32 before the same roundings, moves
//     bert-gelu-new's logits by 0.68σ.)
//   - the predicted label (argmax) is the float32 model's for every row of
//     the single-label cases whose float32 margin exceeds 12σ;
//   - saved and loaded again, the model computes the same logits (an int8
//     checkpoint loads int8; a bf16 one loads float32 weights that are
//     bfloat16s, which --dtype bf16 makes the same bf16 model).
func TestReducedFidelity(t *testing.T) {
	for _, dtype := range []string{DtypeInt8, DtypeBF16} {
		t.Run(dtype, func(t *testing.T) { testReducedFidelity(t, dtype) })
	}
}

func testReducedFidelity(t *testing.T, dtype string) {
	refTol := 0.5
	if dtype == DtypeBF16 {
		refTol = math.Sqrt(12)
	}
	n := 0
	for _, name := range caseNames(t, "cases.json", 8) {
		dir := filepath.Join(modelData, name)
		goldenFile := filepath.Join(dir, "golden-"+dtype+".safetensors")
		if _, err := os.Stat(goldenFile); err != nil {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			m, _, err := Load(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			g := golden.Open(t, filepath.Join(dir, "golden.safetensors"))
			in := int8Batch(t, g)
			f32, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			f32 = slices.Clone(f32)
			if err := m.SetDtype(dtype); err != nil {
				t.Fatal(err)
			}
			if m.Dtype() != dtype {
				t.Fatalf("Dtype %q after SetDtype(%q)", m.Dtype(), dtype)
			}
			q, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			// LoadInference reduces the float32 checkpoint's Linear
			// weights from the file's mapping: the same model.
			m4, _, err := LoadInference(dir, dtype, 1)
			if err != nil {
				t.Fatal(err)
			}
			if m4.Dtype() != dtype {
				t.Fatalf("LoadInference(f32 checkpoint, %s): dtype %s", dtype, m4.Dtype())
			}
			sameLogits(t, "LoadInference(f32 checkpoint, "+dtype+"), Load then SetDtype", m4, m, in)
			gq := golden.Open(t, goldenFile)
			ref, sigma := gq.Floats(t, "logits."+dtype), gq.Floats(t, "err.sigma")
			var worst, worstRef float64
			for i := range q {
				s := float64(sigma[i])
				d := math.Abs(float64(q[i] - f32[i]))
				worst = max(worst, d/s)
				if d > 6*s+1e-4 {
					t.Errorf("logit %d: %s %g, f32 %g: |Δ| %g > 6σ = %g", i, dtype, q[i], f32[i], d, 6*s)
				}
				d = math.Abs(float64(q[i] - ref[i]))
				worstRef = max(worstRef, d/s)
				if d > refTol*s+1e-4 {
					t.Errorf("logit %d: %s %g, PyTorch's %g: |Δ| %g > %.2fσ = %g", i, dtype, q[i], ref[i], d, refTol, refTol*s)
				}
			}
			t.Logf("max |%s − f32|/σ = %.2f, max |%s − PyTorch's|/σ = %.3f", dtype, worst, dtype, worstRef)
			if m.ProblemType == SingleLabel {
				L := m.NumLabels
				for r := 0; r < in.B; r++ {
					fr, qr := f32[r*L:(r+1)*L], q[r*L:(r+1)*L]
					top := argmax(fr)
					margin := math.Inf(1)
					for c := range fr {
						if c != top {
							margin = min(margin, float64(fr[top]-fr[c]))
						}
					}
					if margin > 12*float64(slices.Max(sigma[r*L:(r+1)*L])) && argmax(qr) != top {
						t.Errorf("row %d: %s predicts %d, f32 %d (margin %g)", r, dtype, argmax(qr), top, margin)
					}
				}
			}
			if _, _, err := m.ForwardTrain(in, &Labels{}); err == nil || !strings.Contains(err.Error(), dtype) {
				t.Errorf("ForwardTrain of an %s model: err = %v", dtype, err)
			}
			out := t.TempDir()
			if err := m.Save(out, nil); err != nil {
				t.Fatal(err)
			}
			m2, rep, err := Load(out, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Missing)+len(rep.Unexpected) != 0 {
				t.Fatalf("reload: missing %v unexpected %v", rep.Missing, rep.Unexpected)
			}
			if dtype == DtypeBF16 {
				if m2.Dtype() != DtypeF32 {
					t.Fatalf("a bf16 checkpoint loads as %s", m2.Dtype())
				}
				if err := m2.SetDtype(DtypeBF16); err != nil {
					t.Fatal(err)
				}
			} else if m2.Dtype() != dtype {
				t.Fatalf("reload: dtype %s", m2.Dtype())
			}
			q2, err := m2.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range q {
				if q2[i] != q[i] {
					t.Fatalf("reloaded %s logit %d = %g, before saving %g", dtype, i, q2[i], q[i])
				}
			}
			// LoadInference for bf16: the bf16 checkpoint's Linear weights
			// packed from the file give the same bits as float32 loading
			// then ToBF16; an int8 checkpoint stays int8.
			m3, _, err := LoadInference(out, DtypeBF16, 1)
			if err != nil {
				t.Fatal(err)
			}
			if m3.Dtype() != dtype {
				t.Fatalf("LoadInference(%s checkpoint, bf16): dtype %s", dtype, m3.Dtype())
			}
			q3, err := m3.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range q {
				if math.Float32bits(q3[i]) != math.Float32bits(q[i]) {
					t.Fatalf("LoadInference(%s checkpoint, bf16) logit %d = %g, loaded as float32 then %s %g", dtype, i, q3[i], dtype, q[i])
				}
			}
			if dtype == DtypeInt8 {
				if _, _, err := LoadForTraining(out, nil, "", 1); err == nil || !strings.Contains(err.Error(), "inference only") {
					t.Errorf("LoadForTraining of an int8 checkpoint: err = %v", err)
				}
			}
		})
	}
	if n < 8 {
		t.Fatalf("only %d cases have golden-%s.safetensors", n, dtype)
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// TestInt8CheckpointErrors: an int8 checkpoint whose scales are missing or
// of the wrong shape, whose int8 values exceed ±63, or whose int8 tensor
// has the wrong shape is refused with an error naming the tensor.
func TestInt8CheckpointErrors(t *testing.T) {
	src := filepath.Join(modelData, "bert-single-label")
	m, _, err := Load(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Quantize(); err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	if err := m.Save(good, nil); err != nil {
		t.Fatal(err)
	}
	const w = "bert.encoder.layer.0.attention.self.query.weight"
	f, err := safetensors.Open(filepath.Join(good, checkpoint.SafetensorsName))
	if err != nil {
		t.Fatal(err)
	}
	var tensors []safetensors.Tensor
	for _, name := range f.Names() {
		st, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		st.Data = slices.Clone(st.Data)
		tensors = append(tensors, st)
	}
	f.Close()
	cfg, err := os.ReadFile(filepath.Join(good, checkpoint.ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		edit       func([]safetensors.Tensor) []safetensors.Tensor
	}{
		{"scale missing", `"` + w + `_scale" is missing`, func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(t safetensors.Tensor) bool { return t.Name == w+"_scale" })
		}},
		{"scale mis-shaped", `"` + w + `_scale": shape`, func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == w+"_scale" {
					ts[i].Shape = []int{ts[i].Shape[0] / 2, 2}
				}
			}
			return ts
		}},
		{"value 64", `"` + w + `": row 0, column 0: value 64`, func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == w {
					ts[i].Data[0] = 64
				}
			}
			return ts
		}},
		{"int8 mis-shaped", `"` + w + `": int8 shape`, func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == w {
					ts[i].Shape = []int{ts[i].Shape[1], ts[i].Shape[0]}
					if ts[i].Shape[0] == ts[i].Shape[1] {
						ts[i].Shape = []int{1, ts[i].Shape[0] * ts[i].Shape[1]}
					}
				}
			}
			return ts
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ts := c.edit(slices.Clone(tensors))
			for i := range ts {
				ts[i].Data = slices.Clone(ts[i].Data)
			}
			if err := safetensors.WriteFile(filepath.Join(dir, checkpoint.SafetensorsName), ts, map[string]string{"format": "pt"}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigName), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Load(dir, 1)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	// int8 tensors without the config's quantization_config
	dir := t.TempDir()
	if err := safetensors.WriteFile(filepath.Join(dir, checkpoint.SafetensorsName), tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigName), []byte(strings.Replace(string(cfg), "quantization_config", "x_quantization_config", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir, 1); err == nil || !strings.Contains(err.Error(), "is int8 but") {
		t.Fatalf("int8 tensors, no quantization_config: err = %v", err)
	}
}

// FuzzLoadInt8 loads fuzzed model.safetensors files beside the config.json of
// tiny-bert's int8 directory: loading fails with an error or gives a model
// whose forward pass runs, never a panic.
func FuzzLoadInt8(f *testing.F) {
	m, _, err := Load("../testdata/tiny-bert", 1)
	if err != nil {
		f.Fatal(err)
	}
	if err := m.Quantize(); err != nil {
		f.Fatal(err)
	}
	src := f.TempDir()
	if err := m.Save(src, nil); err != nil {
		f.Fatal(err)
	}
	fuzzCheckpoint(f, src, func(dir string) (*Model, error) {
		m, _, err := Load(dir, 1)
		return m, err
	})
}

// fuzzCheckpoint fuzzes the model.safetensors beside the config.json of the
// checkpoint in src: load fails with an error or gives a model whose
// forward pass runs, never a panic.
func fuzzCheckpoint(f *testing.F, src string, load func(dir string) (*Model, error)) {
	weights, err := os.ReadFile(filepath.Join(src, checkpoint.SafetensorsName))
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(src, checkpoint.ConfigName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(weights)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, checkpoint.ConfigName), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, checkpoint.SafetensorsName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := load(dir)
		if err != nil {
			return
		}
		in := &Batch{B: 1, T: 3, InputIDs: []int{1, 2, 3}, AttentionMask: []int{1, 1, 1}, TokenTypeIDs: []int{0, 0, 0}}
		if _, err := m.Forward(in); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBF16Decoders: every architecture runs in bf16 (GPT-2's Conv1D weights
// stored [in, out] included): its logits are near the float32 ones but not
// equal, and a saved bf16 checkpoint, loaded and made bf16 again, computes
// them bit for bit (WeightValues writes a Conv1D's weights back in its own
// layout).
func TestBF16Decoders(t *testing.T) {
	for _, kind := range []string{"gpt2", "llama", "qwen2", "mistral", "modernbert"} {
		rng := rand.New(rand.NewPCG(31, 32))
		m, err := New(tinyArchConfig(t, kind, ""), 3)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		in := rightPadded(rng, 3, 10)
		f32, err := m.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		f32 = slices.Clone(f32)
		if err := m.SetDtype(DtypeBF16); err != nil {
			t.Fatal(err)
		}
		h, err := m.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		h = slices.Clone(h)
		var worst, scale float64
		for i := range h {
			worst = max(worst, math.Abs(float64(h[i]-f32[i])))
			scale = max(scale, math.Abs(float64(f32[i])))
		}
		// bfloat16 keeps 8 significant bits: a few of its relative steps
		// (2⁻⁸) of the logits' scale, through two layers.
		if worst == 0 || worst > 0.05*scale {
			t.Errorf("%s: max |bf16 − f32| = %g (logits up to %g)", kind, worst, scale)
		}
		out := t.TempDir()
		if err := m.Save(out, nil); err != nil {
			t.Fatal(err)
		}
		m2, _, err := Load(out, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := m2.SetDtype(DtypeBF16); err != nil {
			t.Fatal(err)
		}
		// LoadInference packs the BF16 tensors from the file (a Conv1D's
		// [in, out] transposed as it packs): the same bits.
		m3, _, err := LoadInference(out, DtypeBF16, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []*Model{m2, m3} {
			h2, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range h {
				if math.Float32bits(h2[i]) != math.Float32bits(h[i]) {
					t.Fatalf("%s: reloaded bf16 logit %d = %g, before saving %g", kind, i, h2[i], h[i])
				}
			}
		}
	}
}
