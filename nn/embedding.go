package nn

import "fmt"

// Embedding is a lookup table [num, dim].
type Embedding struct {
	Num, Dim int
	Weight   *Param
}

// NewEmbedding makes an Embedding whose table is named prefix.weight.
func NewEmbedding(prefix string, num, dim int) *Embedding {
	return &Embedding{Num: num, Dim: dim, Weight: NewParam(prefix+".weight", num, dim)}
}

// Params lists the table.
func (e *Embedding) Params() []*Param { return []*Param{e.Weight} }

// AddForward adds the rows ids[i] of the table to y [len(ids), dim]. An id
// out of range is an error naming it.
func (e *Embedding) AddForward(y []float32, ids []int) error {
	for i, id := range ids {
		if id < 0 || id >= e.Num {
			return fmt.Errorf("%s: id %d at position %d is outside [0, %d)", e.Weight.Name, id, i, e.Num)
		}
		row := e.Weight.W[id*e.Dim : (id+1)*e.Dim]
		out := y[i*e.Dim : (i+1)*e.Dim]
		for j, v := range row {
			out[j] += v
		}
	}
	return nil
}

// Backward adds dy [len(ids), dim] to the gradient rows of ids.
func (e *Embedding) Backward(dy []float32, ids []int) {
	for i, id := range ids {
		g := e.Weight.Grad[id*e.Dim : (id+1)*e.Dim]
		for j, v := range dy[i*e.Dim : (i+1)*e.Dim] {
			g[j] += v
		}
	}
}
