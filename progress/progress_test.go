package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/textclf/textclf/train"
)

func TestTrainingPrintsEvaluationsAndWarnings(t *testing.T) {
	var out bytes.Buffer
	var p train.Progress = NewTraining(&out)
	p.Warning("classifier.weight is newly initialized")
	p.Step(train.StepInfo{Step: 1, MaxSteps: 4, Epoch: 0.5, Loss: 0.69, LR: 5e-5})
	p.Evaluated(train.EvalInfo{Step: 2, Epoch: 1, Scores: map[string]float64{"loss": 0.5, "accuracy": 0.75, "f1": 0.7}, Best: true})
	p.Saved("out/checkpoint-2")
	p.(*Training).Close()
	s := out.String()
	for _, want := range []string{
		"warning: classifier.weight is newly initialized\n",
		"eval step 2 (epoch 1.00): accuracy 0.7500  f1 0.7000  loss 0.5000  (best)\n",
		"checkpoint out/checkpoint-2\n",
		"/4, ", // the bar
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		t.Error("Close left the bar's line open")
	}
}
