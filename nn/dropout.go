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
	// One 64-bit draw gives two 32-bit uniforms, compared with P·2³².
	threshold := uint32(min(float64(d.P)*(1<<32), (1<<32)-1))
	var bits uint64
	for i := range x {
		if i%2 == 0 {
			bits = rng.Uint64()
		} else {
			bits >>= 32
		}
		if uint32(bits) < threshold {
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
