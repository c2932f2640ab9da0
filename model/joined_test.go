package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BERT-family inference runs each layer's q, k and v as one product
// (layer.inferQKV); the last layer, which computes only the first token of
// each sequence, runs k and v as one (layer.inferKV) and q apart.
// Its logits equal those of the three separate products bit for bit, float32,
// int8 and bf16: every output is the same dot product of the same values,
// accumulated in the same order (the packed kernels' order along the inputs
// does not depend on the number of outputs), and an int8 row of x is
// quantized alike whatever weights it meets. The joined weights are made
// again after a training step (float32, and in mixed precision, where they
// are bf16) and after Quantize or ToBF16: a stale copy would give the old
// weights' logits.
//
// BERT-base's widths (768, 12 heads, 3072) check it where the kernels run
// their real blockings: 16 tokens (the few-row path) and 3×40.
func TestJoinedQKV(t *testing.T) {
	const wide = `,"hidden_size":768,"num_attention_heads":12,"intermediate_size":3072,"max_position_embeddings":48`
	for _, tc := range []struct {
		modelType, extra string
		b, t             int
	}{{"bert", "", 4, 9}, {"distilbert", "", 4, 9}, {"roberta", "", 4, 9}, {"bert", wide, 1, 16}, {"bert", wide, 3, 40}} {
		for _, dtype := range []string{DtypeF32, DtypeInt8, DtypeBF16, "mixed"} {
			rng := rand.New(rand.NewPCG(21, 22))
			m, err := New(tinyConfig(t, tc.modelType, 3, tc.extra), 5)
			if err != nil {
				t.Fatal(err)
			}
			name := tc.modelType
			if tc.extra != "" {
				name += fmt.Sprintf(" 768-wide %dx%d", tc.b, tc.t)
				if m.Config.HiddenSize != 768 {
					t.Fatalf("%s: hidden size %d", name, m.Config.HiddenSize)
				}
			} else {
				perturb(m, rng)
			}
			in := randomBatch(rng, tc.b, tc.t, 50, 1)
			if _, err := m.Forward(in); err != nil { // joins the float32 weights
				t.Fatal(err)
			}
			switch dtype {
			case DtypeInt8, DtypeBF16:
				if err := m.SetDtype(dtype); err != nil {
					t.Fatal(err)
				}
			case "mixed":
				if err := m.SetMixedBF16(true); err != nil {
					t.Fatal(err)
				}
			}
			name += " " + dtype
			reduced := dtype != DtypeF32
			check := func(round string) []float32 {
				t.Helper()
				// The joined pass first: the separate one drops the joined
				// weights (which would hide stale ones).
				joined, err := m.Forward(in)
				if err != nil {
					t.Fatal(err)
				}
				for i, l := range m.layers {
					// The last layer joins k and v only.
					j, parts := l.inferQKV.get(), 3
					if i == len(m.layers)-1 {
						j, parts = l.inferKV.get(), 2
					}
					if j == nil || j.Out != parts*l.q.Out || j.Quantized() != reduced {
						t.Fatalf("%s %s: layer %d: %d joined products %v", name, round, i, parts, j)
					}
				}
				m.separateQKV = true
				separate, err := m.Forward(in)
				m.separateQKV = false
				if err != nil {
					t.Fatal(err)
				}
				for i := range separate {
					if math.Float32bits(joined[i]) != math.Float32bits(separate[i]) {
						t.Errorf("%s %s: logit %d: joined q, k, v %g, separate %g", name, round, i, joined[i], separate[i])
					}
				}
				// Join again, so that the next round starts with the
				// joined weights of this one.
				if _, err := m.Forward(in); err != nil {
					t.Fatal(err)
				}
				return joined
			}
			before := check("first pass")
			if dtype == DtypeInt8 || dtype == DtypeBF16 || tc.extra != "" {
				continue
			}
			// A training step (the optimizer changes the weights after
			// ForwardTrain, as train.Stepper's does).
			labels := &Labels{Classes: []int{0, 2, 1, 0}[:tc.b]}
			if _, _, err := m.ForwardTrain(in, labels); err != nil {
				t.Fatal(err)
			}
			m.ZeroGrad()
			if err := m.Backward(nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				for i, g := range p.Grad {
					p.W[i] -= 0.5 * g
				}
			}
			after := check("after a training step")
			changed := false
			for i := range after {
				changed = changed || after[i] != before[i]
			}
			if !changed {
				t.Errorf("%s: a training step changed no logit", name)
			}
			// Weights changed directly, then WeightsChanged.
			perturb(m, rng)
			m.WeightsChanged()
			check("after WeightsChanged")
		}
	}
}

// Llama, Qwen2 and Mistral join q, k and v at inference too (block.inferQKV),
// int8 and bf16 ones as well since nn.Concat joins them: the joined pass
// gives the three products' logits bit for bit, float32, int8 and bf16, and
// Quantize or ToBF16 drops float32 joined weights (a stale float32 copy
// would fail both the Quantized check and the comparison).
func TestDecoderJoinedQKV(t *testing.T) {
	for _, kind := range []string{"llama", "qwen2", "mistral"} {
		rng := rand.New(rand.NewPCG(23, 24))
		m, err := New(tinyArchConfig(t, kind, ""), 9)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		in := rightPadded(rng, 3, 12)
		net := m.net.(*prenormNet)
		for _, dtype := range []string{DtypeF32, DtypeInt8, DtypeBF16} {
			if dtype == DtypeBF16 { // a fresh float32 model: int8 cannot become bf16
				if m, err = New(tinyArchConfig(t, kind, ""), 9); err != nil {
					t.Fatal(err)
				}
				perturb(m, rand.New(rand.NewPCG(23, 24)))
				net = m.net.(*prenormNet)
				if _, err := m.Forward(in); err != nil { // joins the float32 weights
					t.Fatal(err)
				}
			}
			if err := m.SetDtype(dtype); err != nil {
				t.Fatal(err)
			}
			reduced := dtype != DtypeF32
			joined, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range net.blocks {
				if j := b.inferQKV.get(); j == nil || j.Quantized() != reduced {
					t.Fatalf("%s %s: block %d: joined q, k, v %v", kind, dtype, i, j)
				}
			}
			net.separateQKV = true
			separate, err := m.Forward(in)
			net.separateQKV = false
			if err != nil {
				t.Fatal(err)
			}
			if net.blocks[0].inferQKV.get() != nil {
				t.Fatalf("%s: separate pass kept the joined q, k, v", kind)
			}
			for i := range separate {
				if math.Float32bits(joined[i]) != math.Float32bits(separate[i]) {
					t.Errorf("%s %s: logit %d: joined q, k, v %g, separate %g", kind, dtype, i, joined[i], separate[i])
				}
			}
			// Join again, so that Quantize meets float32 joined weights.
			if _, err := m.Forward(in); err != nil {
				t.Fatal(err)
			}
		}
	}
}
