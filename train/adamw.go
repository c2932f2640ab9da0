package train

import (
	"math"
	"strings"

	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/tensor"
)

// AdamWConfig holds AdamW's hyper-parameters; zero Beta1, Beta2 and Eps take
// PyTorch's defaults 0.9, 0.999 and 1e-8.
type AdamWConfig struct {
	LR, WeightDecay, Beta1, Beta2, Eps float64
}

// AdamW is torch.optim.AdamW (decoupled weight decay, bias-corrected
// moments), with the Trainer's parameter groups: no weight decay on biases
// and LayerNorm weights.
type AdamW struct {
	Config AdamWConfig
	// LR is the learning rate of the next Step (schedules change it).
	LR     float64
	params []*nn.Param
	decay  []bool
	m, v   [][]float32
	step   int
}

// NewAdamW makes an optimizer over params.
func NewAdamW(params []*nn.Param, cfg AdamWConfig) *AdamW {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	o := &AdamW{Config: cfg, LR: cfg.LR, params: params}
	for _, p := range params {
		o.decay = append(o.decay, DecaysWeight(p.Name))
		o.m = append(o.m, make([]float32, p.Size()))
		o.v = append(o.v, make([]float32, p.Size()))
	}
	return o
}

// DecaysWeight reports whether the Trainer applies weight decay to a
// parameter: not to biases nor to LayerNorm weights.
func DecaysWeight(name string) bool {
	lower := strings.ToLower(name)
	return !strings.HasSuffix(lower, "bias") && !strings.Contains(lower, "layernorm") && !strings.Contains(lower, "layer_norm")
}

// Steps is the number of steps taken.
func (o *AdamW) Steps() int { return o.step }

// Step updates every parameter from its gradient.
func (o *AdamW) Step() {
	o.step++
	c := o.Config
	bc1 := 1 - math.Pow(c.Beta1, float64(o.step))
	bc2 := 1 - math.Pow(c.Beta2, float64(o.step))
	stepSize := float32(o.LR / bc1)
	invBc2Sqrt := float32(1 / math.Sqrt(bc2))
	b1, b2, eps := float32(c.Beta1), float32(c.Beta2), float32(c.Eps)
	for i, p := range o.params {
		if p.Grad == nil {
			continue
		}
		decay := float32(1)
		if o.decay[i] && c.WeightDecay != 0 {
			decay = float32(1 - o.LR*c.WeightDecay)
		}
		w, g, m, v := p.W, p.Grad, o.m[i], o.v[i]
		tensor.ParallelFor(len(w), 1<<14, func(lo, hi int) {
			adamwUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], decay, b1, b2, eps, stepSize, invBc2Sqrt)
		})
	}
}

// adamwUpdate is one AdamW step on a chunk: decoupled decay, moment
// updates, w -= stepSize·m / (√v/√(1-β₂ᵗ) + ε). One pass reads each value
// once (the loop is memory- and latency-bound).
func adamwUpdate(w, g, m, v []float32, decay, b1, b2, eps, stepSize, invBc2Sqrt float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	c1, c2 := 1-b1, 1-b2
	for j := 0; j < n; j++ {
		gj := g[j]
		mj := b1*m[j] + c1*gj
		vj := b2*v[j] + c2*gj*gj
		m[j], v[j] = mj, vj
		w[j] = w[j]*decay - stepSize*mj/(float32(math.Sqrt(float64(vj)))*invBc2Sqrt+eps)
	}
}

// State returns the moment buffers (for checkpoints), in parameter order.
func (o *AdamW) State() (step int, m, v [][]float32) { return o.step, o.m, o.v }

// SetState restores what State returned.
func (o *AdamW) SetState(step int, m, v [][]float32) {
	o.step = step
	for i := range o.m {
		copy(o.m[i], m[i])
		copy(o.v[i], v[i])
	}
}
