package nn

import "math/rand/v2"

// Dropout is inverted dropout: in training each value is zeroed with
// probability P and the others scaled by 1/(1-P); in inference it is the
// identity.
type Dropout struct {
	P float32
}

// Forward applies dropout to x in place, drawing from rng, and records the
// per-value scale (0 or 1/(1-P)) in mask (len(x)) for Backward. With P == 0 it
// does nothing and mask is left alone.
func (d Dropout) Forward(x, mask []float32, rng *rand.Rand) {
	if d.P <= 0 {
		return
	}
	keep := 1 / (1 - d.P)
	for i := range x {
		if rng.Float32() < d.P {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
		x[i] *= mask[i]
	}
}

// Backward scales dy in place by the mask of Forward.
func (d Dropout) Backward(dy, mask []float32) {
	if d.P <= 0 {
		return
	}
	for i := range dy {
		dy[i] *= mask[i]
	}
}
