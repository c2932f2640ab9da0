package model

import (
	"sync/atomic"

	"github.com/textclf/textclf/nn"
)

// joinedLinear holds Linear layers that read one input joined into one
// product for inference (nn.Concat: q, k and v side by side, float32 or
// int8), made by the first inference pass after the weights changed and
// dropped when they change (Model.WeightsChanged, which training and
// Quantize call), so that it never holds stale weights. Concurrent
// inference passes may both make it; either result is right.
type joinedLinear struct{ p atomic.Pointer[nn.Linear] }

// get returns the joined layer, or nil when it is not made.
func (j *joinedLinear) get() *nn.Linear { return j.p.Load() }

// join returns the joined layer of ls, making it unless it exists, or nil
// where nn.Concat refuses them (inference then runs them apart).
func (j *joinedLinear) join(name string, ls ...*nn.Linear) *nn.Linear {
	if c := j.p.Load(); c != nil {
		return c
	}
	c, err := nn.Concat(name, ls...)
	if err != nil {
		return nil
	}
	j.p.Store(c)
	return c
}

// drop forgets the joined layer: the weights it copied have changed.
func (j *joinedLinear) drop() { j.p.Store(nil) }
