package checkpoint

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const golden = "../testdata/checkpoint"

type expectedTensor struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Sum    float64   `json:"sum"`
	Values []float64 `json:"values"`
}

// loadExpected reads expected.json, written by scripts/checkpoint/gen.py from torch's tensors.
func loadExpected(t testing.TB, dir string) map[string]expectedTensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Tensors map[string]expectedTensor `json:"tensors"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e.Tensors
}

func checkTensors(t *testing.T, got []*Tensor, want map[string]expectedTensor) {
	t.Helper()
	if len(got) != len(want) {
		names := []string{}
		for _, g := range got {
			names = append(names, g.Name)
		}
		t.Fatalf("%d tensors, want %d: %v", len(got), len(want), names)
	}
	for _, g := range got {
		e, ok := want[g.Name]
		if !ok {
			t.Fatalf("unexpected tensor %q", g.Name)
		}
		if g.DType != e.DType {
			t.Errorf("%s: dtype %s, want %s", g.Name, g.DType, e.DType)
		}
		if !slices.Equal(g.Shape, e.Shape) {
			t.Errorf("%s: shape %v, want %v", g.Name, g.Shape, e.Shape)
		}
		if len(g.Data) != len(e.Values) {
			t.Fatalf("%s: %d values, want %d", g.Name, len(g.Data), len(e.Values))
		}
		for i, v := range g.Data {
			if math.Float32bits(v) != math.Float32bits(float32(e.Values[i])) {
				t.Fatalf("%s[%d] = %v, want %v", g.Name, i, v, e.Values[i])
			}
		}
	}
}

func TestLoadWeightsGolden(t *testing.T) {
	cases := []struct{ dir, format string }{
		{"bert_f32", "safetensors"},
		{"bert_f16", "safetensors"},
		{"bert_bf16", "safetensors"},
		{"bert_sharded", "safetensors (sharded)"},
		{"bert_bin", "pytorch_model.bin"},
		{"bert_bin_sharded", "pytorch_model.bin (sharded)"},
		{"bert_both", "safetensors"}, // the .bin beside it holds zeros
		{"bert_base_model", "safetensors"},
		{"bert_pretraining_legacy", "pytorch_model.bin"},
		{"distilbert_f32", "safetensors"},
		{"roberta_bin_f16", "pytorch_model.bin"},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(golden, c.dir)
			w, err := LoadWeights(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if w.Format != c.format {
				t.Errorf("format %q, want %q", w.Format, c.format)
			}
			checkTensors(t, w.Tensors, loadExpected(t, dir))
		})
	}
}

func TestMaliciousPickleIsRefused(t *testing.T) {
	_, err := LoadWeights(filepath.Join(golden, "malicious_bin"))
	if err == nil || !strings.Contains(err.Error(), "posix.system is not allowed") {
		t.Fatalf("err = %v, want the os.system global refused", err)
	}
	if !strings.Contains(err.Error(), "pytorch_model.bin") {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadWeights(dir); err == nil || !strings.Contains(err.Error(), "no model.safetensors") {
		t.Errorf("empty dir: %v", err)
	}
	// A sharded index naming a missing shard.
	os.WriteFile(filepath.Join(dir, SafetensorsIndexName), []byte(`{"metadata":{},"weight_map":{"a":"model-1.safetensors"}}`), 0o644)
	if _, err := LoadWeights(dir); err == nil || !strings.Contains(err.Error(), "model-1.safetensors") {
		t.Errorf("missing shard: %v", err)
	}
	// Shard names must not leave the directory.
	os.WriteFile(filepath.Join(dir, SafetensorsIndexName), []byte(`{"metadata":{},"weight_map":{"a":"../x.safetensors"}}`), 0o644)
	if _, err := LoadWeights(dir); err == nil || !strings.Contains(err.Error(), "plain file name") {
		t.Errorf("path traversal: %v", err)
	}
	// A legacy (non-zip) pytorch_model.bin.
	d2 := t.TempDir()
	os.WriteFile(filepath.Join(d2, TorchName), []byte("\x80\x02legacy"), 0o644)
	if _, err := LoadWeights(d2); err == nil || !strings.Contains(err.Error(), "legacy") {
		t.Errorf("legacy bin: %v", err)
	}
	// Safetensors metadata naming an unknown framework, as transformers refuses.
	d4 := t.TempDir()
	f32 := []float32{1}
	ts := []*Tensor{{Name: "a", DType: "F32", Shape: []int{1}, Data: f32}}
	cfg, _ := ParseConfig([]byte(`{}`))
	Save(d4, cfg, ts, nil)
	raw, _ := os.ReadFile(filepath.Join(d4, SafetensorsName))
	os.WriteFile(filepath.Join(d4, SafetensorsName), []byte(strings.Replace(string(raw), `"format":"pt"`, `"format":"np"`, 1)), 0o644)
	if _, err := LoadWeights(d4); err == nil || !strings.Contains(err.Error(), `format "np"`) {
		t.Errorf("unknown format: %v", err)
	}
	// An index listing a tensor its shard lacks.
	d3 := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(golden, "bert_sharded", "model-00002-of-00002.safetensors"))
	os.WriteFile(filepath.Join(d3, "s.safetensors"), src, 0o644)
	os.WriteFile(filepath.Join(d3, SafetensorsIndexName), []byte(`{"weight_map":{"nope":"s.safetensors"}}`), 0o644)
	if _, err := LoadWeights(d3); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("index/shard disagreement: %v", err)
	}
}

func TestConfigBERT(t *testing.T) {
	c, err := LoadConfig(filepath.Join(golden, "bert_f32"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelType != "bert" || c.HiddenSize != 8 || c.NumHiddenLayers != 2 || c.NumAttentionHeads != 2 ||
		c.IntermediateSize != 16 || c.VocabSize != 40 || c.MaxPositionEmbeddings != 20 || c.TypeVocabSize != 2 {
		t.Errorf("dims: %+v", c)
	}
	if c.LayerNormEps != 1e-12 || c.HiddenAct != "gelu" || c.ClassifierDropout != nil || *c.PadTokenID != 0 {
		t.Errorf("fields: %+v", c)
	}
	if !slices.Equal(c.Labels, []string{"negative", "neutral", "positive"}) || c.Label2ID()["positive"] != 2 {
		t.Errorf("labels %v", c.Labels)
	}
	if c.ProblemType != "single_label_classification" || c.Architectures[0] != "BertForSequenceClassification" {
		t.Errorf("problem type %q, architectures %v", c.ProblemType, c.Architectures)
	}
	if c.BasePrefix() != "bert" {
		t.Errorf("prefix %q", c.BasePrefix())
	}
}

func TestConfigDistilBERTAndRoBERTa(t *testing.T) {
	d, err := LoadConfig(filepath.Join(golden, "distilbert_f32", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.HiddenSize != 8 || d.NumHiddenLayers != 2 || d.NumAttentionHeads != 2 || d.IntermediateSize != 16 ||
		d.TypeVocabSize != 0 || d.ClassifierDropout == nil || *d.ClassifierDropout != 0.2 || d.LayerNormEps != 1e-12 {
		t.Errorf("distilbert: %+v", d)
	}
	if d.ProblemType != "multi_label_classification" || d.BasePrefix() != "distilbert" || d.Labels[1] != "spam" {
		t.Errorf("distilbert labels/problem: %+v", d)
	}
	r, err := LoadConfig(filepath.Join(golden, "roberta_bin_f16"))
	if err != nil {
		t.Fatal(err)
	}
	if *r.PadTokenID != 1 || *r.BosTokenID != 0 || *r.EosTokenID != 2 || r.LayerNormEps != 1e-5 || r.TypeVocabSize != 1 ||
		r.BasePrefix() != "roberta" || r.NumLabels() != 2 || r.ProblemType != "" {
		t.Errorf("roberta: %+v", r)
	}
	x, err := ParseConfig([]byte(`{"model_type":"xlm-roberta","num_labels":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if x.BasePrefix() != "roberta" || *x.PadTokenID != 1 || x.HiddenSize != 768 || x.NumHiddenLayers != 12 ||
		!slices.Equal(x.Labels, []string{"LABEL_0", "LABEL_1", "LABEL_2"}) {
		t.Errorf("xlm-r defaults: %+v", x)
	}
	nn, _ := ParseConfig([]byte(`{"model_type":"distilbert","pad_token_id":null,"seq_classif_dropout":null}`))
	if nn.PadTokenID != nil || nn.ClassifierDropout != nil {
		t.Errorf("explicit nulls not kept: %+v", nn)
	}
	dd, _ := ParseConfig([]byte(`{"model_type":"distilbert"}`))
	if dd.NumHiddenLayers != 6 || dd.IntermediateSize != 3072 || dd.NumLabels() != 2 {
		t.Errorf("distilbert defaults: %+v", dd)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[]`, "config.json"},
		{`{"hidden_size":"big"}`, `"hidden_size"`},
		{`{"id2label":{"x":"a"}}`, `id2label key "x"`},
		{`{"id2label":{"0":"a","2":"b"}}`, `id2label key "2"`},
		{`{"hidden_size":10,"num_attention_heads":3}`, "multiple"},
		{`{"problem_type":"ranking"}`, "problem_type"},
		{`{"num_labels":-1}`, "num_labels"},
		{`{"num_hidden_layers":0}`, "num_hidden_layers"},
	} {
		if _, err := ParseConfig([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	for _, dir := range []string{"bert_f32", "distilbert_f32", "roberta_bin_f16"} {
		orig, _ := os.ReadFile(filepath.Join(golden, dir, "config.json"))
		c, err := ParseConfig(orig)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		json.Unmarshal(orig, &a)
		json.Unmarshal(out, &b)
		// Everything the file had is written back unchanged (bos/eos may be added).
		for k, v := range a {
			bv, _ := json.Marshal(b[k])
			av, _ := json.Marshal(v)
			if string(av) != string(bv) {
				t.Errorf("%s: key %q: %s, want %s", dir, k, bv, av)
			}
		}
		if strings.Contains(string(out), "hidden_size") == (dir == "distilbert_f32") {
			t.Errorf("%s: written with the wrong field names:\n%s", dir, out)
		}
	}
	// Changing labels updates id2label / label2id with string keys, and drops num_labels.
	c, _ := ParseConfig([]byte(`{"model_type":"bert","num_labels":5,"custom_field":[1,2]}`))
	c.Labels = []string{"neg", "pos"}
	c.ProblemType = "single_label_classification"
	c.Architectures = []string{"BertForSequenceClassification"}
	out, _ := c.MarshalJSON()
	var m map[string]any
	json.Unmarshal(out, &m)
	if m["id2label"].(map[string]any)["1"] != "pos" || m["label2id"].(map[string]any)["neg"] != 0.0 ||
		m["custom_field"] == nil || m["num_labels"] != nil || m["problem_type"] != "single_label_classification" {
		t.Errorf("written config: %s", out)
	}
}

func params(t *testing.T, dir string) []Param {
	var ps []Param
	for name, e := range loadExpected(t, filepath.Join(golden, dir)) {
		ps = append(ps, Param{Name: name, Shape: e.Shape})
	}
	return ps
}

func TestMapBareCheckpointIntoClassifier(t *testing.T) {
	w, err := LoadWeights(filepath.Join(golden, "bert_base_model"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := MapWeights(params(t, "bert_f32"), w.Tensors, MapOptions{BasePrefix: "bert"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Missing, []string{"classifier.bias", "classifier.weight"}) || len(res.Unexpected) != 0 {
		t.Errorf("missing %v unexpected %v", res.Missing, res.Unexpected)
	}
	warn := res.Warnings("tiny", "BertForSequenceClassification")
	if len(warn) != 1 || !strings.HasPrefix(warn[0], "Some weights of BertForSequenceClassification were not initialized from the model checkpoint at tiny and are newly initialized: [classifier.bias classifier.weight]") {
		t.Errorf("warnings %q", warn)
	}
	q := res.Tensors["bert.encoder.layer.1.attention.self.query.weight"]
	if q == nil || q != w.Get("encoder.layer.1.attention.self.query.weight") {
		t.Errorf("bert.encoder… not filled from encoder…")
	}
	if len(res.Tensors) != len(w.Tensors) {
		t.Errorf("%d mapped, want %d", len(res.Tensors), len(w.Tensors))
	}
}

func TestMapClassifierCheckpointIntoBareEncoder(t *testing.T) {
	cfg, w, err := Load(filepath.Join(golden, "bert_bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := MapWeights(params(t, "bert_base_model"), w.Tensors, MapOptions{BasePrefix: "bert"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 0 || !slices.Equal(res.Unexpected, []string{"classifier.bias", "classifier.weight"}) {
		t.Errorf("missing %v unexpected %v", res.Missing, res.Unexpected)
	}
	if res.Tensors["pooler.dense.bias"] != w.Get("bert.pooler.dense.bias") {
		t.Error("pooler not mapped")
	}
	warn := res.Warnings("x", "BertModel")
	if len(warn) != 1 || warn[0] != "Some weights of the model checkpoint at x were not used when initializing BertModel: [classifier.bias classifier.weight]" {
		t.Errorf("warnings %q", warn)
	}
	if cfg.BasePrefix() != "bert" {
		t.Errorf("config %+v", cfg)
	}
}

func TestMapLegacyPretrainingCheckpoint(t *testing.T) {
	w, err := LoadWeights(filepath.Join(golden, "bert_pretraining_legacy"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := MapWeights(params(t, "bert_f32"), w.Tensors, MapOptions{
		BasePrefix: "bert", Buffers: []string{"bert.embeddings.position_ids"}})
	if err != nil {
		t.Fatal(err)
	}
	wantUnexpected := []string{
		"cls.predictions.bias", "cls.predictions.decoder.weight",
		"cls.predictions.transform.LayerNorm.beta", "cls.predictions.transform.LayerNorm.gamma",
		"cls.predictions.transform.dense.bias", "cls.predictions.transform.dense.weight",
		"cls.seq_relationship.bias", "cls.seq_relationship.weight",
	}
	if !slices.Equal(res.Missing, []string{"classifier.bias", "classifier.weight"}) || !slices.Equal(res.Unexpected, wantUnexpected) {
		t.Errorf("missing %v\nunexpected %v", res.Missing, res.Unexpected)
	}
	if res.Tensors["bert.embeddings.LayerNorm.weight"] != w.Get("bert.embeddings.LayerNorm.gamma") ||
		res.Tensors["bert.encoder.layer.0.output.LayerNorm.bias"] != w.Get("bert.encoder.layer.0.output.LayerNorm.beta") {
		t.Error("gamma/beta not mapped to weight/bias")
	}
	// Without declaring the buffer, position_ids is reported as unused.
	res, _ = MapWeights(params(t, "bert_f32"), w.Tensors, MapOptions{BasePrefix: "bert", IgnoreUnexpected: []string{`^cls\.`}})
	if !slices.Equal(res.Unexpected, []string{"bert.embeddings.position_ids"}) {
		t.Errorf("unexpected %v", res.Unexpected)
	}
	// The tied decoder shares the word embeddings' storage and values.
	if !slices.Equal(w.Get("cls.predictions.decoder.weight").Data, w.Get("bert.embeddings.word_embeddings.weight").Data) {
		t.Error("tied tensor values differ")
	}
}

func TestMapShapeMismatch(t *testing.T) {
	w, _ := LoadWeights(filepath.Join(golden, "bert_f32"))
	defer w.Close()
	ps := params(t, "bert_f32")
	for i := range ps {
		if ps[i].Name == "classifier.weight" {
			ps[i].Shape = []int{5, 8}
		}
	}
	res, err := MapWeights(ps, w.Tensors, MapOptions{BasePrefix: "bert"})
	if err == nil || !strings.Contains(err.Error(), "classifier.weight: checkpoint [3 8], model [5 8]") {
		t.Fatalf("err = %v", err)
	}
	if len(res.Mismatched) != 1 || res.Tensors["classifier.weight"] != nil {
		t.Errorf("mismatched %v", res.Mismatched)
	}
}

func TestMapCorruptedBareCheckpoint(t *testing.T) {
	ts := []*Tensor{{Name: "embeddings.x", Shape: []int{1}, Data: []float32{1}}, {Name: "classifier.weight", Shape: []int{1}, Data: []float32{1}}}
	_, err := MapWeights([]Param{{"bert.embeddings.x", []int{1}}, {"classifier.weight", []int{1}}}, ts, MapOptions{BasePrefix: "bert"})
	if err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("err = %v", err)
	}
}

func TestSaveRoundTrip(t *testing.T) {
	src := filepath.Join(golden, "bert_f32")
	cfg, err := LoadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	w, err := LoadWeights(src)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tmp := t.TempDir()
	tok := filepath.Join(tmp, "vocab.txt")
	os.WriteFile(tok, []byte("[PAD]\n[UNK]\n"), 0o644)
	out := filepath.Join(tmp, "saved")
	if err := Save(out, cfg, w.Tensors, []string{tok}); err != nil {
		t.Fatal(err)
	}
	// The weights file is byte-identical to the one the reference layout produced.
	got, _ := os.ReadFile(filepath.Join(out, SafetensorsName))
	want, _ := os.ReadFile(filepath.Join(src, SafetensorsName))
	if string(got) != string(want) {
		t.Error("model.safetensors differs from the reference file")
	}
	w2, err := LoadWeights(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	checkTensors(t, w2.Tensors, loadExpected(t, src))
	cfg2, err := LoadConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg2.Labels, cfg.Labels) || cfg2.ProblemType != cfg.ProblemType || cfg2.HiddenSize != 8 {
		t.Errorf("config round trip: %+v", cfg2)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "vocab.txt")); string(b) != "[PAD]\n[UNK]\n" {
		t.Errorf("tokenizer file: %q", b)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 3 {
		t.Errorf("%d files in the saved dir (temporary files left?)", len(entries))
	}
	// A failing save (bad tensor) leaves the previous checkpoint untouched.
	bad := []*Tensor{{Name: "x", Shape: []int{2}, Data: []float32{1}}}
	if err := Save(out, cfg, bad, nil); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("err = %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(out, SafetensorsName)); string(again) != string(want) {
		t.Error("failed save damaged the existing weights")
	}
}
