package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/textclf/textclf/nn"
)

// embeddings sums word, position and (except DistilBERT) token type
// embeddings, then LayerNorm and dropout (BertEmbeddings, RobertaEmbeddings,
// DistilBERT's Embeddings).
type embeddings struct {
	word, position, tokenType *nn.Embedding // tokenType is nil for DistilBERT
	ln                        *nn.LayerNorm
	dropout                   nn.Dropout
	// paddingIdx >= 0 makes position ids count from paddingIdx+1 over real
	// tokens, as RoBERTa's create_position_ids_from_input_ids.
	paddingIdx int
}

type embeddingActs struct {
	positionIDs, typeIDs []int
	sum                  []float32 // LN input [n, C]
	mean, rstd           []float32
	dropMask             []float32
}

func (e *embeddings) params() []*nn.Param {
	ps := append(e.word.Params(), e.position.Params()...)
	if e.tokenType != nil {
		ps = append(ps, e.tokenType.Params()...)
	}
	return append(ps, e.ln.Params()...)
}

// positionIDs returns the position id of every token of a [B, T] batch.
func (e *embeddings) positionIDs(ids []int, b, t int) []int {
	pos := make([]int, b*t)
	for i := 0; i < b; i++ {
		count := 0
		for j := 0; j < t; j++ {
			if e.paddingIdx < 0 {
				pos[i*t+j] = j
				continue
			}
			// RoBERTa: cumsum of non-padding tokens, offset by padding_idx.
			if ids[i*t+j] != e.paddingIdx {
				count++
				pos[i*t+j] = count + e.paddingIdx
			} else {
				pos[i*t+j] = e.paddingIdx
			}
		}
	}
	return pos
}

// forward writes the embeddings of batch into out [B*T, C].
func (e *embeddings) forward(a *embeddingActs, out []float32, in *Batch, rng *rand.Rand) error {
	n := in.B * in.T
	if len(in.InputIDs) != n {
		return fmt.Errorf("batch: %d input ids for %d×%d tokens", len(in.InputIDs), in.B, in.T)
	}
	if in.T > e.position.Num {
		return fmt.Errorf("batch: sequences of %d tokens exceed max_position_embeddings %d", in.T, e.position.Num)
	}
	a.positionIDs = in.PositionIDs
	if a.positionIDs == nil {
		a.positionIDs = e.positionIDs(in.InputIDs, in.B, in.T)
	} else if len(a.positionIDs) != n {
		return fmt.Errorf("batch: %d position ids for %d tokens", len(a.positionIDs), n)
	}
	clear(a.sum)
	if err := e.word.AddForward(a.sum, in.InputIDs); err != nil {
		return err
	}
	if err := e.position.AddForward(a.sum, a.positionIDs); err != nil {
		return err
	}
	if e.tokenType != nil {
		a.typeIDs = in.TokenTypeIDs
		if a.typeIDs == nil {
			a.typeIDs = make([]int, n)
		}
		if len(a.typeIDs) != n {
			return fmt.Errorf("batch: %d token type ids for %d tokens", len(a.typeIDs), n)
		}
		if err := e.tokenType.AddForward(a.sum, a.typeIDs); err != nil {
			return err
		}
	}
	e.ln.Forward(out, a.mean, a.rstd, a.sum, n)
	if rng != nil {
		e.dropout.Forward(out, a.dropMask, rng)
	}
	return nil
}

// backward accumulates the table gradients from dOut [B*T, C] (modified).
func (e *embeddings) backward(a *embeddingActs, dOut []float32, in *Batch, norms []float64) {
	n := in.B * in.T
	e.dropout.Backward(dOut, a.dropMask)
	dSum := make([]float32, len(a.sum))
	if norms != nil {
		// Each example's squared gradient norms instead of the gradients.
		e.ln.AddSampleGradNormSq(norms, dOut, a.sum, a.mean, a.rstd, n)
		e.ln.BackwardInput(dSum, dOut, a.sum, a.mean, a.rstd, n)
		e.word.AddSampleGradNormSq(norms, dSum, in.InputIDs)
		e.position.AddSampleGradNormSq(norms, dSum, a.positionIDs)
		if e.tokenType != nil {
			e.tokenType.AddSampleGradNormSq(norms, dSum, a.typeIDs)
		}
		return
	}
	e.ln.Backward(dSum, dOut, a.sum, a.mean, a.rstd, n)
	e.word.Backward(dSum, in.InputIDs)
	e.position.Backward(dSum, a.positionIDs)
	if e.tokenType != nil {
		e.tokenType.Backward(dSum, a.typeIDs)
	}
}
