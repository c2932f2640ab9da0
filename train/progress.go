package train

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// progress shows steps, loss, learning rate, speed and ETA.
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer, total, done int) *progress {
	if w == nil {
		return &progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("training"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200_000_000),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	_ = bar.Set(done)
	return &progress{bar: bar}
}

func (p *progress) update(step int, loss, lr float64) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("loss %.4f lr %.2e", loss, lr))
	_ = p.bar.Set(step)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
