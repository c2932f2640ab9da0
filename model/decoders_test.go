package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
)

// Tiny configs of the architectures beyond BERT, as their config classes
// write them; extra is spliced into the JSON object.
func tinyArchConfig(t testing.TB, kind, extra string) *checkpoint.Config {
	t.Helper()
	js := map[string]string{
		"gpt2": `{"model_type":"gpt2","vocab_size":50,"n_positions":256,"n_embd":16,"n_layer":2,"n_head":2,
			"resid_pdrop":0,"embd_pdrop":0,"attn_pdrop":0,"pad_token_id":1`,
		"llama": `{"model_type":"llama","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":2,
			"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":64,"pad_token_id":1`,
		"qwen2": `{"model_type":"qwen2","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":2,
			"num_attention_heads":4,"num_key_value_heads":1,"max_position_embeddings":64,"pad_token_id":1`,
		"mistral": `{"model_type":"mistral","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":2,
			"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":2048,"sliding_window":5,"pad_token_id":1`,
		"modernbert": `{"model_type":"modernbert","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":3,
			"num_attention_heads":2,"max_position_embeddings":2048,"local_attention":8,"global_attn_every_n_layers":3,"pad_token_id":1`,
	}[kind]
	cfg, err := checkpoint.ParseConfig([]byte(js + `,"id2label":{"0":"a","1":"b","2":"c"}` + extra + "}"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var archKinds = []string{"gpt2", "llama", "qwen2", "mistral", "modernbert"}

// rightPadded makes B random sequences of lengths in [2, T] (the first T),
// right-padded with id 1.
func rightPadded(rng *rand.Rand, b, t int) *Batch {
	in := randomBatch(rng, b, t, 50, 1)
	in.TokenTypeIDs = nil
	return in
}

// Every parameter's gradient matches finite differences of the loss, with
// the dropouts of each architecture on (the masks drawn again from the same
// state for every evaluation).
func TestArchGradientsFiniteDifferences(t *testing.T) {
	for _, tc := range []struct{ kind, extra string }{
		{"gpt2", `,"resid_pdrop":0.1,"embd_pdrop":0.1,"attn_pdrop":0.1`},
		{"llama", `,"attention_dropout":0.1,"attention_bias":true,"rope_scaling":{"type":"linear","factor":2}`},
		{"qwen2", ``},
		{"mistral", ``},
		{"modernbert", `,"attention_dropout":0.1,"mlp_dropout":0.1,"embedding_dropout":0.1,"classifier_dropout":0.1,"norm_bias":true`},
		{"modernbert", `,"classifier_pooling":"mean","local_attention":2`},
	} {
		t.Run(tc.kind+tc.extra, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m, err := New(tinyArchConfig(t, tc.kind, tc.extra), 7)
			if err != nil {
				t.Fatal(err)
			}
			perturb(m, rng)
			in := rightPadded(rng, 3, 9)
			labels := &Labels{Classes: []int{0, 2, 1}}
			state, _ := m.RNGState()
			lossAt := func() float64 {
				if err := m.SetRNGState(state); err != nil {
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
			checkGradients(t, m, rng, 3, lossAt)
		})
	}
}

// Inference (packed weights, fused residuals, one set of buffers, the last
// block on the pooled rows only) gives the training pass's logits, and a
// right-padded text's logits do not depend on its batch — over more tokens
// than the attention blocks and the sliding windows.
func TestArchInferenceMatchesTraining(t *testing.T) {
	for _, kind := range archKinds {
		rng := rand.New(rand.NewPCG(3, 4))
		m, err := New(tinyArchConfig(t, kind, ""), 11)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		in := rightPadded(rng, 3, 150)
		inference, err := m.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		// Llama, Qwen2 and Mistral run q, k and v as one concatenated
		// product at inference (nn.Concat), made again after the weights
		// change: the second round would fail if the first's were kept.
		_, separate := map[string]bool{"llama": true, "qwen2": true, "mistral": true}[kind]
		for round := 0; round < 2; round++ {
			if round == 1 {
				perturb(m, rng)
				m.WeightsChanged()
				if inference, err = m.Forward(in); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.net.(*prenormNet).blocks[0].inferQKV.get() != nil; got != separate {
				t.Errorf("%s: concatenated q, k, v at inference: %v, want %v", kind, got, separate)
			}
			training, _, err := m.ForwardTrain(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range inference {
				if d := math.Abs(float64(inference[i] - training[i])); d > 2e-5 {
					t.Errorf("%s round %d: logit %d: inference %g, training pass %g", kind, round, i, inference[i], training[i])
				}
			}
		}
		for i := 0; i < in.B; i++ {
			n := 0
			for _, v := range in.AttentionMask[i*in.T : (i+1)*in.T] {
				n += v
			}
			alone, err := m.Forward(&Batch{B: 1, T: n, InputIDs: in.InputIDs[i*in.T : i*in.T+n], AttentionMask: in.AttentionMask[i*in.T : i*in.T+n]})
			if err != nil {
				t.Fatal(err)
			}
			for j := range alone {
				if d := math.Abs(float64(alone[j] - inference[i*3+j])); d > 2e-5 {
					t.Errorf("%s: sequence %d logit %d alone %g, in batch %g", kind, i, j, alone[j], inference[i*3+j])
				}
			}
		}
	}
}

// A decoder checkpoint without a pad token classifies one text at a time,
// and refuses a batch of several with transformers' error.
func TestDecoderWithoutPadToken(t *testing.T) {
	for _, kind := range []string{"gpt2", "llama"} {
		cfg := tinyArchConfig(t, kind, `,"pad_token_id":null`)
		m, err := New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Forward(&Batch{B: 1, T: 3, InputIDs: []int{5, 6, 7}, AttentionMask: []int{1, 1, 1}}); err != nil {
			t.Fatalf("%s: one text without a pad token: %v", kind, err)
		}
		two := &Batch{B: 2, T: 2, InputIDs: []int{5, 6, 7, 8}, AttentionMask: []int{1, 1, 1, 1}}
		for _, run := range []func() error{
			func() error { _, err := m.Forward(two); return err },
			func() error { _, _, err := m.ForwardTrain(two, &Labels{Classes: []int{0, 1}}); return err },
		} {
			if err := run(); err == nil || !strings.Contains(err.Error(), "Cannot handle batch sizes > 1 if no padding token is defined") ||
				!strings.Contains(err.Error(), "pad_token_id") {
				t.Errorf("%s: two texts without a pad token: %v", kind, err)
			}
		}
	}
}

// Saved models load back in HF format with their own config keys, and a
// bare GPT2Model checkpoint (no "transformer." prefix, with the attn.bias
// buffers of older files) loads into the classifier, the score layer newly
// initialised.
func TestArchSaveLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kind := range archKinds {
		m, err := New(tinyArchConfig(t, kind, ""), 3)
		if err != nil {
			t.Fatal(err)
		}
		perturb(m, rng)
		dir := t.TempDir()
		if err := m.Save(dir, nil); err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		own := map[string]string{"gpt2": "n_embd", "llama": "rms_norm_eps", "qwen2": "num_key_value_heads",
			"mistral": "sliding_window", "modernbert": "global_attn_every_n_layers"}[kind]
		if _, ok := raw[own]; !ok {
			t.Errorf("%s: saved config.json lacks %q: %s", kind, own, b)
		}
		if _, ok := raw["hidden_dropout_prob"]; ok {
			t.Errorf("%s: saved config.json has BERT's hidden_dropout_prob", kind)
		}
		back, rep, err := Load(dir, 9)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Missing)+len(rep.Unexpected) != 0 || back.Architecture() != m.Architecture() {
			t.Fatalf("%s: reload: missing %v unexpected %v, architecture %s", kind, rep.Missing, rep.Unexpected, back.Architecture())
		}
		in := rightPadded(rng, 2, 7)
		want, _ := m.Forward(in)
		got, err := back.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: logits after save and load %v, before %v", kind, got, want)
		}
	}

	// A bare GPT2Model checkpoint.
	m, _ := New(tinyArchConfig(t, "gpt2", ""), 3)
	var tensors []*checkpoint.Tensor
	for _, p := range m.Params() {
		if strings.HasPrefix(p.Name, "transformer.") {
			tensors = append(tensors, &checkpoint.Tensor{Name: strings.TrimPrefix(p.Name, "transformer."), DType: "F32", Shape: p.Shape, Data: p.W})
		}
	}
	tensors = append(tensors, &checkpoint.Tensor{Name: "h.0.attn.bias", DType: "F32", Shape: []int{1, 1, 2, 2}, Data: make([]float32, 4)},
		&checkpoint.Tensor{Name: "h.1.attn.masked_bias", DType: "F32", Shape: []int{}, Data: []float32{-1e4}})
	cfg := *m.Config
	cfg.Architectures = []string{"GPT2Model"}
	dir := t.TempDir()
	if err := checkpoint.Save(dir, &cfg, tensors, nil); err != nil {
		t.Fatal(err)
	}
	back, rep, err := Load(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Missing, []string{"score.weight"}) || len(rep.Unexpected) != 0 {
		t.Fatalf("bare GPT2Model: missing %v, unexpected %v", rep.Missing, rep.Unexpected)
	}
	if w := back.Params()[0]; w.Name != "transformer.wte.weight" || !slices.Equal(w.W, m.Params()[0].W) {
		t.Fatalf("bare GPT2Model: %s not loaded", w.Name)
	}
	// New labels re-initialise score (no bias) only.
	_, rep, err = LoadForTraining(dir, []string{"x", "y"}, "", 1)
	if err != nil || len(rep.Mismatched) != 0 || !slices.Equal(rep.Missing, []string{"score.weight"}) {
		t.Fatalf("LoadForTraining: %v, missing %v mismatched %v", err, rep.Missing, rep.Mismatched)
	}
}

// Bad configs are refused with the field named.
func TestArchConfigErrors(t *testing.T) {
	for _, tc := range []struct{ kind, extra, want string }{
		{"llama", `,"rope_scaling":{"type":"yarn","factor":4}`, `rope_scaling type "yarn" is not supported`},
		{"llama", `,"num_key_value_heads":3`, "not a multiple of num_key_value_heads 3"},
		{"modernbert", `,"global_attn_every_n_layers":2,"layer_types":["full_attention","full_attention","full_attention"]`, "layer_types[1]"},
		{"modernbert", `,"classifier_pooling":"max"`, `classifier_pooling "max"`},
		{"gpt2", `,"activation_function":"mish"`, "activation_function"},
	} {
		js := tc.extra
		cfg, err := checkpoint.ParseConfig([]byte(map[string]string{
			"llama":      `{"model_type":"llama","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":2,"num_attention_heads":4`,
			"modernbert": `{"model_type":"modernbert","vocab_size":50,"hidden_size":16,"intermediate_size":23,"num_hidden_layers":3,"num_attention_heads":2`,
			"gpt2":       `{"model_type":"gpt2","vocab_size":50,"n_embd":16,"n_layer":1,"n_head":2`,
		}[tc.kind] + js + "}"))
		if err == nil {
			_, err = New(cfg, 1)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error saying %q", tc.kind, tc.extra, err, tc.want)
		}
	}
}
