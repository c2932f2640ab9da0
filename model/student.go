package model

import (
	"fmt"
	"maps"

	"github.com/textclf/textclf/nn"
)

// EveryOtherLayer builds a student of a BERT-family teacher as DistilBERT
// was initialised (Sanh et al. 2019, from every other layer of BERT): the
// teacher's config with ⌈N/2⌉ of its N layers, the embeddings copied, the
// teacher's layers 0, 2, 4, … copied into the student's layers 0, 1, 2, …,
// and BERT's pooler copied (RoBERTa's and DistilBERT's dense layer before
// the output belongs to their classification head). The classification
// head is new, initialised with seed as New does, for the labels and
// problem type given. It returns the student and, for each student weight
// copied, the name of the teacher's weight it came from.
func EveryOtherLayer(teacher *Model, labels []string, problemType string, seed uint64) (*Model, map[string]string, error) {
	switch {
	case teacher.net != nil || teacher.mlm != nil:
		return nil, nil, fmt.Errorf("every-other-layer student: the teacher is a %s model; the initialisation takes a BERT-family classifier (bert, roberta, xlm-roberta, camembert, distilbert)", teacher.Config.ModelType)
	case teacher.dtype != "":
		return nil, nil, fmt.Errorf("every-other-layer student: the teacher's weights are %s; give its float32 checkpoint", teacher.dtype)
	case len(teacher.layers) < 2:
		return nil, nil, fmt.Errorf("every-other-layer student: the teacher has %d layer(s); a student of every other layer needs at least 2", len(teacher.layers))
	}
	cfg := *teacher.Config
	cfg.Raw = maps.Clone(cfg.Raw)
	delete(cfg.Raw, "textclf_differential_privacy") // the student's training is its own
	cfg.NumHiddenLayers = (len(teacher.layers) + 1) / 2
	cfg.Labels, cfg.ProblemType = append([]string(nil), labels...), problemType
	student, err := New(&cfg, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("every-other-layer student: %w", err)
	}
	// The teacher's name of each student weight outside the head.
	src := map[string]string{}
	add := func(s, t []string) {
		for i := range s {
			src[s[i]] = t[i]
		}
	}
	add(paramNames(student.emb.params()), paramNames(teacher.emb.params()))
	for i, l := range student.layers {
		add(paramNames(l.params()), paramNames(teacher.layers[2*i].params()))
	}
	if student.prefix != "roberta" && student.prefix != "distilbert" {
		pooler := student.head.dense.Params()
		add(paramNames(pooler), paramNames(teacher.head.dense.Params()))
	}
	byName := map[string][]float32{}
	for _, p := range teacher.params {
		byName[p.Name] = p.W
	}
	for _, p := range student.params {
		name, ok := src[p.Name]
		if !ok {
			continue
		}
		w := byName[name]
		if len(w) != len(p.W) {
			return nil, nil, fmt.Errorf("every-other-layer student: %s has %d values, the teacher's %s %d", p.Name, len(p.W), name, len(w))
		}
		copy(p.W, w)
	}
	student.WeightsChanged()
	return student, src, nil
}

func paramNames(ps []*nn.Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}
