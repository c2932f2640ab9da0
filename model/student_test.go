package model

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/textclf/textclf/nn"
)

// The every-other-layer student holds the teacher's embeddings, its layers
// 0, 2, 4, … and BERT's pooler, value for value, under the names of the
// student's layers 0, 1, 2, …; its head is new.
func TestEveryOtherLayer(t *testing.T) {
	layerRE := regexp.MustCompile(`\.layer\.(\d+)\.`)
	for _, tc := range []struct {
		modelType     string
		layers, want  int
		layersKey     string
		pooler        bool
		headDense     string
		headNotCopied []string
	}{
		{"bert", 4, 2, "num_hidden_layers", true, "bert.pooler.dense.weight", []string{"classifier.weight", "classifier.bias"}},
		{"roberta", 3, 2, "num_hidden_layers", false, "classifier.dense.weight", []string{"classifier.dense.weight", "classifier.out_proj.weight"}},
		{"distilbert", 6, 3, "n_layers", false, "pre_classifier.weight", []string{"pre_classifier.weight", "classifier.weight"}},
	} {
		t.Run(tc.modelType, func(t *testing.T) {
			teacher, err := New(tinyConfig(t, tc.modelType, 3, fmt.Sprintf(`,%q:%d`, tc.layersKey, tc.layers)), 1)
			if err != nil {
				t.Fatal(err)
			}
			perturb(teacher, rand.New(rand.NewPCG(3, 4))) // biases and LayerNorms differ from their initial values
			student, src, err := EveryOtherLayer(teacher, []string{"a", "b"}, SingleLabel, 9)
			if err != nil {
				t.Fatal(err)
			}
			if len(student.layers) != tc.want || student.Config.NumHiddenLayers != tc.want {
				t.Fatalf("%d layers (config %d), want %d", len(student.layers), student.Config.NumHiddenLayers, tc.want)
			}
			if student.NumLabels != 2 || teacher.NumLabels != 3 {
				t.Fatalf("student %d labels, teacher %d", student.NumLabels, teacher.NumLabels)
			}
			teacherW := map[string][]float32{}
			for _, p := range teacher.Params() {
				teacherW[p.Name] = p.W
			}
			copied := 0
			for _, p := range student.Params() {
				// The expected source, from the name alone.
				want := layerRE.ReplaceAllStringFunc(p.Name, func(m string) string {
					i, _ := strconv.Atoi(layerRE.FindStringSubmatch(m)[1])
					return fmt.Sprintf(".layer.%d.", 2*i)
				})
				isHead := strings.HasPrefix(p.Name, "classifier") || strings.HasPrefix(p.Name, "pre_classifier") || (strings.Contains(p.Name, "pooler") && !tc.pooler)
				got, ok := src[p.Name]
				switch {
				case isHead && ok:
					t.Errorf("%s copied from %s: the head is new", p.Name, got)
				case isHead:
					if w := teacherW[p.Name]; len(w) == len(p.W) && len(p.W) > 1 && slices.Equal(w, p.W) {
						t.Errorf("%s equals the teacher's", p.Name)
					}
				case !ok:
					t.Errorf("%s not copied", p.Name)
				case got != want:
					t.Errorf("%s copied from %s, want %s", p.Name, got, want)
				case !slices.Equal(teacherW[want], p.W):
					t.Errorf("%s differs from the teacher's %s", p.Name, want)
				default:
					copied++
				}
			}
			if copied != len(src) {
				t.Errorf("%d weights checked, %d copied", copied, len(src))
			}
			if _, ok := src[tc.headDense]; ok != tc.pooler {
				t.Errorf("%s copied: %v, want %v", tc.headDense, ok, tc.pooler)
			}
			// The student runs, and the teacher is untouched.
			in := randomBatch(rand.New(rand.NewPCG(5, 6)), 2, 5, 50, 1)
			if logits, err := student.Forward(in); err != nil || len(logits) != 4 {
				t.Fatalf("student forward: %v, %d logits", err, len(logits))
			}
			if len(teacher.layers) != tc.layers {
				t.Fatalf("teacher has %d layers now", len(teacher.layers))
			}
		})
	}
}

func TestEveryOtherLayerRefuses(t *testing.T) {
	one, err := New(tinyConfig(t, "bert", 2, `,"num_hidden_layers":1`), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := EveryOtherLayer(one, []string{"a", "b"}, SingleLabel, 1); err == nil || !strings.Contains(err.Error(), "1 layer(s)") {
		t.Errorf("a 1-layer teacher: %v", err)
	}
	gpt2, err := New(tinyArchConfig(t, "gpt2", ""), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := EveryOtherLayer(gpt2, []string{"a", "b"}, SingleLabel, 1); err == nil || !strings.Contains(err.Error(), "teacher is a gpt2 model") {
		t.Errorf("a GPT-2 teacher: %v", err)
	}
}

// With teacher logits in the labels, ForwardTrain's loss and logit
// gradient are nn.SoftTargets' on its logits, and Backward's parameter
// gradients are the finite-difference slopes of that loss.
func TestDistillLossThroughModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, err := New(tinyConfig(t, "bert", 3, ""), 2)
	if err != nil {
		t.Fatal(err)
	}
	perturb(m, rng)
	in := randomBatch(rng, 3, 6, 50, 1)
	labels := &Labels{Classes: []int{2, 0, 1}, Teacher: []float32{1, -1, 0.5, 0, 2, -2, 0.3, 0.3, -1}}
	if _, _, err := m.ForwardTrain(in, labels); err == nil || !strings.Contains(err.Error(), "without a distillation loss") {
		t.Fatalf("teacher logits without Model.Distill: %v", err)
	}
	m.Distill = &nn.SoftTargets{Loss: nn.DistillKL, Temperature: 2, Alpha: 0.7}
	logits, loss, err := m.ForwardTrain(in, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(logits))
	wantLoss, err := m.Distill.Batch(want, logits, labels.Teacher, labels.Classes, 3)
	if err != nil {
		t.Fatal(err)
	}
	if loss != wantLoss || !slices.Equal(m.LossGradient(), want) {
		t.Fatalf("loss %g, gradient %v; SoftTargets %g, %v", loss, m.LossGradient(), wantLoss, want)
	}
	m.ZeroGrad()
	if err := m.Backward(nil); err != nil {
		t.Fatal(err)
	}
	lossAt := func() float64 {
		_, l, err := m.ForwardTrain(in, labels)
		if err != nil {
			t.Fatal(err)
		}
		return float64(l)
	}
	checkGradients(t, m, rng, 3, lossAt)
}
