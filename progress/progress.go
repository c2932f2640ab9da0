// Package progress shows a training run on a terminal: a progress bar of
// the steps with the loss and learning rate, and a line above it for each
// warning, evaluation and checkpoint. It implements train.Progress; it is
// a package of its own so that the training library does not link a
// terminal library.
package progress

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/textclf/textclf/train"
)

// Training is a train.Progress writing to a terminal (or any writer).
type Training struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last int // the last step shown
}

// NewTraining returns a Training writing to w.
func NewTraining(w io.Writer) *Training { return &Training{w: w} }

// Warning prints "warning: msg" above the bar.
func (t *Training) Warning(msg string) { t.println("warning: " + msg) }

// Step advances the bar, made at the first step (at the step resumed from)
// and anew when a run starts again (the folds of cross-validation).
func (t *Training) Step(s train.StepInfo) {
	if t.bar != nil && (s.Step <= t.last || t.bar.IsFinished()) {
		t.Close()
	}
	t.last = s.Step
	if t.bar == nil {
		t.bar = progressbar.NewOptions(s.MaxSteps,
			progressbar.OptionSetWriter(t.w),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("step"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200_000_000),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(t.w) }),
		)
		_ = t.bar.Set(s.Step - 1)
	}
	t.bar.Describe(fmt.Sprintf("epoch %.2f loss %.4f lr %.2e", s.Epoch, s.Loss, s.LR))
	_ = t.bar.Set(s.Step)
}

// Evaluated prints the scores of an evaluation above the bar.
func (t *Training) Evaluated(e train.EvalInfo) {
	t.println(FormatEval(e))
}

// Saved prints the checkpoint written above the bar.
func (t *Training) Saved(dir string) { t.println("checkpoint " + dir) }

// Close ends the bar's line, finished or not (an interrupted run).
func (t *Training) Close() {
	if t.bar != nil && !t.bar.IsFinished() {
		_ = t.bar.Exit()
	}
	t.bar = nil
}

// println prints a line where the bar is; the bar redraws below it at the
// next step.
func (t *Training) println(line string) {
	if t.bar != nil {
		_ = t.bar.Clear()
	}
	fmt.Fprintln(t.w, line)
}

// FormatEval is the line of an evaluation: step, epoch, the scores by name
// and whether it is the best so far, e.g.
// "eval step 40 (epoch 2.00): accuracy 0.8750  f1 0.8701  loss 0.3120  (best)".
func FormatEval(e train.EvalInfo) string {
	names := make([]string, 0, len(e.Scores))
	for name := range e.Scores {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "eval step %d (epoch %.2f):", e.Step, e.Epoch)
	for _, name := range names {
		fmt.Fprintf(&b, " %s %.4f ", name, e.Scores[name])
	}
	if e.Best {
		b.WriteString(" (best)")
	}
	return strings.TrimRight(b.String(), " ")
}
