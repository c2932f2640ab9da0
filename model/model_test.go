package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
)

func tinyConfig(t testing.TB, modelType string, labels int, extra string) *checkpoint.Config {
	t.Helper()
	var js string
	switch modelType {
	case "distilbert":
		js = `{"model_type":"distilbert","vocab_size":50,"dim":16,"n_layers":2,"n_heads":2,"hidden_dim":23,
			"max_position_embeddings":20,"dropout":0,"attention_dropout":0,"seq_classif_dropout":0,"activation":"gelu"`
	default:
		js = fmt.Sprintf(`{"model_type":%q,"vocab_size":50,"hidden_size":16,"num_hidden_layers":2,"num_attention_heads":2,
			"intermediate_size":23,"max_position_embeddings":24,"type_vocab_size":2,"hidden_act":"gelu",
			"hidden_dropout_prob":0,"attention_probs_dropout_prob":0,"layer_norm_eps":1e-12,"pad_token_id":1`, modelType)
	}
	js += fmt.Sprintf(`,"id2label":{%s}%s}`, labelsJSON(labels), extra)
	cfg, err := checkpoint.ParseConfig([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func labelsJSON(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`"%d":"L%d"`, i, i)
	}
	return s
}

// randomBatch makes B sequences of random lengths in [2, T] padded with pad.
func randomBatch(rng *rand.Rand, b, t, vocab, pad int) *Batch {
	in := &Batch{B: b, T: t, InputIDs: make([]int, b*t), AttentionMask: make([]int, b*t), TokenTypeIDs: make([]int, b*t)}
	for i := 0; i < b; i++ {
		n := t
		if i > 0 {
			n = 2 + rng.IntN(t-1)
		}
		for j := 0; j < t; j++ {
			if j < n {
				in.InputIDs[i*t+j] = 2 + rng.IntN(vocab-2)
				in.AttentionMask[i*t+j] = 1
				if j > n/2 {
					in.TokenTypeIDs[i*t+j] = 1
				}
			} else {
				in.InputIDs[i*t+j] = pad
			}
		}
	}
	return in
}

// perturb gives the LayerNorm and bias parameters random values, so that
// their gradients are tested in a non-trivial point.
func perturb(m *Model, rng *rand.Rand) {
	for _, p := range m.Params() {
		for i := range p.W {
			p.W[i] += float32(rng.NormFloat64() * 0.1)
		}
	}
}

func TestModelGradientsFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		modelType string
		labels    int
		extra     string
	}{
		{"bert", 3, ""},
		{"bert", 4, `,"problem_type":"multi_label_classification"`},
		{"bert", 1, ""},
		{"roberta", 3, ""},
		{"distilbert", 2, ""},
		// With dropout: the masks are drawn again from the same RNG state
		// for every loss evaluation, so the loss is a function of the weights.
		{"bert", 3, `,"hidden_dropout_prob":0.1,"attention_probs_dropout_prob":0.1`},
		{"roberta", 2, `,"hidden_dropout_prob":0.1,"attention_probs_dropout_prob":0.1`},
		{"distilbert", 3, `,"dropout":0.1,"attention_dropout":0.1,"seq_classif_dropout":0.2`},
	} {
		t.Run(tc.modelType+"/"+fmt.Sprint(tc.labels)+tc.extra, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.labels)))
			m, err := New(tinyConfig(t, tc.modelType, tc.labels, tc.extra), 7)
			if err != nil {
				t.Fatal(err)
			}
			if withDropout := strings.Contains(tc.extra, "dropout"); withDropout != (m.layers[0].dropout.P > 0 && m.layers[0].attn.Dropout.P > 0) {
				t.Fatalf("dropout %g, attention dropout %g from %s", m.layers[0].dropout.P, m.layers[0].attn.Dropout.P, tc.extra)
			}
			perturb(m, rng)
			in := randomBatch(rng, 3, 6, 50, 1)
			labels := &Labels{Classes: []int{0, 1, 0}}
			if m.ProblemType != SingleLabel {
				labels = &Labels{Values: make([]float32, 3*m.NumLabels)}
				for i := range labels.Values {
					labels.Values[i] = float32(rng.IntN(2))
				}
			}
			rngState, err := m.RNGState()
			if err != nil {
				t.Fatal(err)
			}
			lossAt := func() float64 {
				if err := m.SetRNGState(rngState); err != nil {
					t.Fatal(err)
				}
				_, loss, err := m.ForwardTrain(in, labels)
				if err != nil {
					t.Fatal(err)
				}
				return float64(loss)
			}
			lossAt()
			m.ZeroGrad()
			if err := m.Backward(nil); err != nil {
				t.Fatal(err)
			}
			// Small steps: the DistilBERT head's ReLU has a kink.
			checkGradients(t, m, rng, 4, lossAt)
		})
	}
}

// A sequence's logits do not depend on the batch it is in (beyond rounding).
func TestBatchInvariance(t *testing.T) {
	for _, modelType := range []string{"bert", "roberta", "distilbert"} {
		rng := rand.New(rand.NewPCG(3, 4))
		m, err := New(tinyConfig(t, modelType, 3, ""), 11)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		in := randomBatch(rng, 4, 9, 50, 1)
		batched, err := m.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < in.B; i++ {
			n := 0
			for _, v := range in.AttentionMask[i*in.T : (i+1)*in.T] {
				n += v
			}
			one := &Batch{B: 1, T: n, InputIDs: in.InputIDs[i*in.T : i*in.T+n], AttentionMask: in.AttentionMask[i*in.T : i*in.T+n],
				TokenTypeIDs: in.TokenTypeIDs[i*in.T : i*in.T+n]}
			alone, err := m.Forward(one)
			if err != nil {
				t.Fatal(err)
			}
			for j := range alone {
				if d := math.Abs(float64(alone[j] - batched[i*3+j])); d > 1e-5 {
					t.Errorf("%s: sequence %d logit %d alone %g, in batch %g", modelType, i, j, alone[j], batched[i*3+j])
				}
			}
		}
	}
}

func TestForwardErrors(t *testing.T) {
	m, err := New(tinyConfig(t, "bert", 2, ""), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(&Batch{B: 1, T: 2, InputIDs: []int{3, 99}, AttentionMask: []int{1, 1}}); err == nil {
		t.Error("token id 99 of a 50-token vocabulary was accepted")
	}
	if _, err := m.Forward(&Batch{B: 1, T: 30, InputIDs: make([]int, 30), AttentionMask: make([]int, 30)}); err == nil {
		t.Error("30 tokens with 24 positions were accepted")
	}
	if _, err := m.Forward(&Batch{B: 2, T: 2, InputIDs: []int{3}, AttentionMask: []int{1}}); err == nil {
		t.Error("a short batch was accepted")
	}
}

// TestForwardConcurrent runs inference on several goroutines at once (each
// pass takes its buffers from a shared pool of arenas) and checks every
// result against the same batch run alone; the config has dropout, which
// inference must not apply.
func TestForwardConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, err := New(tinyConfig(t, "bert", 3, `,"hidden_dropout_prob":0.1,"attention_probs_dropout_prob":0.1`), 11)
	if err != nil {
		t.Fatal(err)
	}
	perturb(m, rng)
	batches := []*Batch{randomBatch(rng, 4, 9, 50, 1), randomBatch(rng, 1, 5, 50, 1), randomBatch(rng, 7, 20, 50, 1)}
	want := make([][]float32, len(batches))
	for i, in := range batches {
		if want[i], err = m.Forward(in); err != nil {
			t.Fatal(err)
		}
		again, _ := m.Forward(in)
		for j := range again {
			if again[j] != want[i][j] {
				t.Fatalf("batch %d: logit %d is %g, then %g: inference is not deterministic", i, j, want[i][j], again[j])
			}
		}
	}
	errs := make(chan error, 6)
	for g := 0; g < cap(errs); g++ {
		go func() {
			for it := 0; it < 20; it++ {
				i := (g + it) % len(batches)
				got, err := m.Forward(batches[i])
				if err == nil {
					for j := range got {
						if got[j] != want[i][j] {
							err = fmt.Errorf("goroutine %d: batch %d logit %d = %g, want %g", g, i, j, got[j], want[i][j])
							break
						}
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestForwardFirstTokens checks that inference (Forward) and the reference
// training pass (ForwardTrain, dropout 0), which both run the last layer
// for each sequence's first token only, give the logits of every row of
// every layer computed.
func TestForwardFirstTokens(t *testing.T) {
	for _, modelType := range []string{"bert", "roberta", "distilbert"} {
		rng := rand.New(rand.NewPCG(7, 8))
		m, err := New(tinyConfig(t, modelType, 3, ""), 13)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		in := randomBatch(rng, 5, 11, 50, 1)
		inference, err := m.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		training, _, err := m.ForwardTrain(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := everyRowLogits(t, m, in)
		for i := range want {
			if d := math.Abs(float64(inference[i] - want[i])); d > 1e-5 {
				t.Errorf("%s: logit %d: inference %g, every row computed %g", modelType, i, inference[i], want[i])
			}
			if d := math.Abs(float64(training[i] - want[i])); d > 1e-5 {
				t.Errorf("%s: logit %d: training pass %g, every row computed %g", modelType, i, training[i], want[i])
			}
		}
	}
}

// everyRowLogits computes the logits of in with no dropout, running every
// row of every layer (the head then reads the first token's row of each
// sequence of the last layer's output).
func everyRowLogits(t *testing.T, m *Model, in *Batch) []float32 {
	t.Helper()
	alloc := func(n int) []float32 { return make([]float32, n) }
	n, c := in.B*in.T, m.Config.HiddenSize
	x := alloc(n * c)
	if err := m.emb.forward(&embeddingActs{sum: alloc(n * c)}, x, in, nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.layers {
		a := l.newActs(x, in.B, in.T, false, false, false, alloc)
		l.forward(a, in.AttentionMask, nil)
		if a.rows() != n {
			t.Fatalf("layer computed %d rows of %d", a.rows(), n)
		}
		x = a.out
	}
	ha := m.head.newActs(in.B)
	m.head.forward(ha, x, in.B, in.T, nil)
	return ha.logits
}

// checkGradients compares the gradients of m's parameters (of the last
// Backward) with central differences of lossAt (steps of 2e-3) at samples
// random weights of each parameter, relative to its largest gradient.
func checkGradients(t *testing.T, m *Model, rng *rand.Rand, samples int, lossAt func() float64) {
	t.Helper()
	const eps = 2e-3
	for _, p := range m.Params() {
		grad := append([]float32(nil), p.Grad...)
		var norm float64
		for _, g := range grad {
			norm = math.Max(norm, math.Abs(float64(g)))
		}
		for k := 0; k < samples; k++ {
			i := rng.IntN(len(p.W))
			orig := p.W[i]
			p.W[i] = orig + eps
			up := lossAt()
			p.W[i] = orig - eps
			down := lossAt()
			p.W[i] = orig
			num := (up - down) / (2 * eps)
			if diff := math.Abs(num - float64(grad[i])); diff > 3e-2*math.Max(norm, 1e-2)+2e-4 {
				t.Errorf("%s[%d]: analytic %g, numeric %g (max |grad| %g)", p.Name, i, grad[i], num, norm)
			}
		}
	}
}
