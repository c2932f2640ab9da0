package model

import (
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/internal/golden"
)

// mlmCase is an entry of testdata/model/cases-mlm.json
// (scripts/model/gen_mlm.py).
type mlmCase struct {
	Name      string   `json:"name"`
	SavedKeys []string `json:"saved_keys"`
}

func mlmCases(t *testing.T) []mlmCase {
	t.Helper()
	var index struct {
		Cases []mlmCase `json:"cases"`
	}
	golden.ReadJSON(t, filepath.Join(modelData, "cases-mlm.json"), &index)
	if len(index.Cases) < 3 {
		t.Fatalf("only %d masked LM cases", len(index.Cases))
	}
	return index.Cases
}

// TestGoldenMaskedLM checks BertForMaskedLM and RobertaForMaskedLM against
// the PyTorch reference: every position's vocabulary logits, the loss over
// the masked tokens (-100 ignored), every gradient (the tied decoder's
// included in the word embeddings'), the fill-mask top 5 at each [MASK], and
// that saving writes exactly the keys save_pretrained writes.
func TestGoldenMaskedLM(t *testing.T) {
	for _, c := range mlmCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join(modelData, c.Name)
			m, rep, err := LoadMaskedLM(dir, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Missing) != 0 || len(rep.Unexpected) != 0 {
				t.Fatalf("loading reported missing %v, unexpected %v", rep.Missing, rep.Unexpected)
			}
			if !m.IsMaskedLM() || !strings.HasSuffix(m.Architecture(), "ForMaskedLM") {
				t.Fatalf("architecture %s", m.Architecture())
			}
			g := golden.Open(t, filepath.Join(dir, "golden.safetensors"))
			ids, shape := g.Ints(t, "input_ids")
			mask, _ := g.Ints(t, "attention_mask")
			types, _ := g.Ints(t, "token_type_ids")
			labels, _ := g.Ints(t, "labels")
			in := &Batch{B: shape[0], T: shape[1], InputIDs: ids, AttentionMask: mask, TokenTypeIDs: types}
			v := m.Config.VocabSize
			want := g.Floats(t, "logits")

			logits, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			compareAbs(t, "logits (inference, every position)", logits, want, 1e-4)

			trainLogits, loss, err := m.ForwardTrain(in, &Labels{Classes: labels})
			if err != nil {
				t.Fatal(err)
			}
			var rows []float32
			for i, y := range labels {
				if y != IgnoreIndex {
					rows = append(rows, want[i*v:(i+1)*v]...)
				}
			}
			compareAbs(t, "logits (training, masked positions)", trainLogits, rows, 1e-4)
			if wantLoss := g.Floats(t, "loss")[0]; math.Abs(float64(loss-wantLoss)) > 1e-4 {
				t.Errorf("loss %g, PyTorch %g", loss, wantLoss)
			}
			m.ZeroGrad()
			if err := m.Backward(nil); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range m.Params() {
				names = append(names, p.Name)
				compareRelNorm(t, "grad."+p.Name, p.Grad, g.Floats(t, "grad."+p.Name), 1e-4)
			}
			// Every gradient of the reference is one of the model's.
			for _, n := range g.F.Names() {
				if p, ok := strings.CutPrefix(n, "grad."); ok && !slices.Contains(names, p) {
					t.Errorf("PyTorch has a gradient for %s, the model no such parameter", p)
				}
			}

			// The fill-mask pipeline's top 5 at each [MASK].
			maskRows, _ := g.Ints(t, "topk.rows")
			topIDs, _ := g.Ints(t, "topk.ids")
			topScores := g.Floats(t, "topk.scores")
			k := len(topIDs) / len(maskRows)
			ml, err := m.MaskedLMLogits(in, maskRows)
			if err != nil {
				t.Fatal(err)
			}
			for i := range maskRows {
				got := TopK(ml[i*v:(i+1)*v], k)
				for j, p := range got {
					if p.ID != topIDs[i*k+j] || math.Abs(float64(p.Score-topScores[i*k+j])) > 1e-5 {
						t.Errorf("mask %d: top %d is %d (%.6f), PyTorch %d (%.6f)", i, j, p.ID, p.Score, topIDs[i*k+j], topScores[i*k+j])
					}
				}
			}

			// Saved as save_pretrained saves it: no tied copies, no pooler.
			out := t.TempDir()
			if err := m.Save(out, nil); err != nil {
				t.Fatal(err)
			}
			saved, err := checkpoint.LoadConfig(out)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(saved.Architectures, []string{m.Architecture()}) {
				t.Errorf("saved architectures %v", saved.Architectures)
			}
			w, err := checkpoint.LoadWeights(out)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var got []string
			for n := range w.Map() {
				got = append(got, n)
			}
			sort.Strings(got)
			wantKeys := slices.Clone(c.SavedKeys)
			sort.Strings(wantKeys)
			if !slices.Equal(got, wantKeys) {
				t.Errorf("saved keys %v, save_pretrained writes %v", got, wantKeys)
			}
		})
	}
}

// TestMaskedLMCheckpointStartsClassifier loads a masked LM directory as a
// classifier for fine-tuning: the encoder from the checkpoint, pooler and
// classifier newly initialised with transformers' notice, the MLM head
// reported unused.
func TestMaskedLMCheckpointStartsClassifier(t *testing.T) {
	dir := filepath.Join(modelData, "bert-mlm")
	m, rep, err := LoadForTraining(dir, []string{"neg", "pos"}, SingleLabel, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.IsMaskedLM() || m.Architecture() != "BertForSequenceClassification" {
		t.Fatalf("got %s", m.Architecture())
	}
	wantMissing := []string{"bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"}
	missing := slices.Clone(rep.Missing)
	sort.Strings(missing)
	if !slices.Equal(missing, wantMissing) {
		t.Errorf("missing %v, want %v", missing, wantMissing)
	}
	if len(rep.Unexpected) != 5 || !strings.HasPrefix(rep.Unexpected[0], "cls.predictions.") {
		t.Errorf("unexpected %v, want the 5 cls.predictions tensors", rep.Unexpected)
	}
	notice := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(notice, "newly initialized") || !strings.Contains(notice, "classifier.weight") {
		t.Errorf("warnings %q lack the newly initialized notice", notice)
	}
	mlm, _, err := LoadMaskedLM(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if strings.Contains(p.Name, "encoder.layer.1.output.dense.weight") {
			for _, q := range mlm.Params() {
				if q.Name == p.Name && !slices.Equal(p.W, q.W) {
					t.Errorf("%s not taken from the checkpoint", p.Name)
				}
			}
		}
	}
}

func TestNewMaskedLMRefusesDistilBERT(t *testing.T) {
	cfg, err := checkpoint.LoadConfig(filepath.Join(modelData, "distilbert-single-label"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMaskedLM(cfg, 1); err == nil || !strings.Contains(err.Error(), "distilbert") {
		t.Errorf("got %v, want a refusal naming distilbert", err)
	}
}
