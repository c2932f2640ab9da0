package textclfbeam

import (
	"context"
	"sync"
	"time"

	"github.com/textclf/textclf"
)

// combiner runs the batches of the DoFn instances of a process that share
// a model, one forward run at a time: a batch's forward passes already use
// all the process's threads. The batches that arrive while one runs wait,
// and the next run takes all of them (with the same options) as one input
// list, so that the classifier sorts them together by length and cuts
// fuller, less padded forward passes: Prism runs many small bundles at
// once, whose own batches are small.
type combiner struct {
	mu      sync.Mutex
	pending []*request
	running bool
}

// request is one DoFn batch waiting for its run.
type request struct {
	inputs []textclf.Input
	opt    textclf.ClassifyOptions
	preds  []textclf.Prediction
	err    error
	took   time.Duration // the run that classified it
	done   chan struct{}
}

// sameOptions reports whether two batches can run as one.
func sameOptions(a, b textclf.ClassifyOptions) bool {
	return a.Function == b.Function && a.Threshold == b.Threshold && a.TruncateLeft == b.TruncateLeft &&
		a.Windows == b.Windows && a.Stride == b.Stride
}

// classify classifies inputs with clf, in a run of its own or together
// with the batches of other DoFn instances waiting at the same time. A
// failed run of several batches is retried batch by batch, so that a batch
// gets only its own error.
// It also returns how long the run took (not the wait before it).
func (c *combiner) classify(ctx context.Context, clf *textclf.Classifier, inputs []textclf.Input, opt textclf.ClassifyOptions) ([]textclf.Prediction, time.Duration, error) {
	r := &request{inputs: inputs, opt: opt, done: make(chan struct{})}
	c.mu.Lock()
	c.pending = append(c.pending, r)
	if c.running {
		c.mu.Unlock()
		<-r.done
		return r.preds, r.took, r.err
	}
	c.running = true
	for len(c.pending) > 0 {
		// Take the first pending batch and those with its options.
		first := c.pending[0]
		var group, rest []*request
		for _, p := range c.pending {
			if sameOptions(p.opt, first.opt) {
				group = append(group, p)
			} else {
				rest = append(rest, p)
			}
		}
		c.pending = rest
		c.mu.Unlock()
		run(ctx, clf, group)
		c.mu.Lock()
	}
	c.running = false
	c.mu.Unlock()
	<-r.done // answered by this goroutine's own run
	return r.preds, r.took, r.err
}

// run classifies a group of batches as one input list and answers each.
func run(ctx context.Context, clf *textclf.Classifier, group []*request) {
	var all []textclf.Input
	for _, r := range group {
		all = append(all, r.inputs...)
	}
	start := time.Now()
	preds, err := clf.ClassifyInputs(ctx, all, group[0].opt)
	took := time.Since(start)
	if err != nil && len(group) > 1 {
		for _, r := range group {
			start := time.Now()
			r.preds, r.err = clf.ClassifyInputs(ctx, r.inputs, r.opt)
			r.took = time.Since(start)
			close(r.done)
		}
		return
	}
	for _, r := range group {
		n := len(r.inputs)
		if err == nil {
			r.preds, preds = preds[:n:n], preds[n:]
		}
		r.err, r.took = err, took
		close(r.done)
	}
}
