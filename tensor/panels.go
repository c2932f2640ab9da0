package tensor

import (
	"errors"
	"fmt"
)

// panelWidth is the number of columns (output channels) of a packed weight
// panel of the int8 and bf16 kernels, their width: 16.
const panelWidth = 16

// panelSet holds the packed panels of a weight matrix of the int8 and bf16
// kernels (16 output channels each, size elements), or reads them in place
// from the panel sets it was joined from (joinPanels).
type panelSet[T any] struct {
	packed []T
	size   int
	// parts, when not nil, hold the panels instead of packed: panel p is
	// parts[i]'s panel p − partPanel[i] for the last i with partPanel[i] ≤ p.
	parts     []*panelSet[T]
	partPanel []int
}

// panel returns panel p.
func (s *panelSet[T]) panel(p int) []T {
	if s.parts != nil {
		i := len(s.partPanel) - 1
		for s.partPanel[i] > p {
			i--
		}
		return s.parts[i].panel(p - s.partPanel[i])
	}
	return s.packed[p*s.size : (p+1)*s.size]
}

// joinPanels returns the panel set that reads the panels of sets one after
// another, in place; first[i] is the index of sets[i]'s first panel in the
// result.
func joinPanels[T any](sets []*panelSet[T], first []int) panelSet[T] {
	return panelSet[T]{size: sets[0].size, parts: sets, partPanel: first}
}

// joinPlan checks the shapes [n, k] of weights to join into one [Σ n, k]:
// they must share k. It returns Σ n, k, and whether every part but the last
// fills whole panels of 16 rows, so that the joined weights can read the
// parts' panels in place.
func joinPlan[W interface{ Dims() (n, k int) }](ws []W) (n, k int, whole bool, err error) {
	if len(ws) == 0 {
		return 0, 0, false, errors.New("no weights to join")
	}
	_, k = ws[0].Dims()
	whole = true
	for i, w := range ws {
		wn, wk := w.Dims()
		if wk != k {
			return 0, 0, false, fmt.Errorf("weights %d are [%d, %d], not [·, %d]", i, wn, wk, k)
		}
		whole = whole && (i == len(ws)-1 || wn%panelWidth == 0)
		n += wn
	}
	return n, k, whole, nil
}

// maxPanelRows is the most rows a panel kernel computes in one call: 12
// (AVX512-VNNI int8), 6 for the AVX2 and Go ones.
const maxPanelRows = 12

// panelBlocks runs a panel kernel over the weight panels p0…p1-1 of a
// product y [m, n] (row stride ldy), rowBlock rows of the input at a time,
// then applies ep to each finished block. kernel(i, rows, p, dst, ld, bias)
// stores rows (≤ mr ≤ maxPanelRows) rows from row i of panel p's 16
// columns, plus bias, to dst (row stride ld); a last, partial panel goes
// through a tile, and its bias is padded with zeros.
func panelBlocks(be *backend, m, n, mr, rowBlock int, bias, y []float32, ldy int, ep *Epilogue, p0, p1 int,
	kernel func(i, rows, p int, dst []float32, ld int, bias []float32)) {
	var tile [maxPanelRows * panelWidth]float32
	var zero, biasTile [panelWidth]float32
	j0, j1 := p0*panelWidth, min(p1*panelWidth, n)
	for i0 := 0; i0 < m; i0 += rowBlock {
		mc := min(rowBlock, m-i0)
		for p := p0; p < p1; p++ {
			j := p * panelWidth
			cols := min(panelWidth, n-j)
			b := zero[:]
			if bias != nil {
				if cols == panelWidth {
					b = bias[j : j+panelWidth]
				} else {
					copy(biasTile[:], bias[j:j+cols])
					b = biasTile[:]
				}
			}
			for i := i0; i < i0+mc; i += mr {
				rows := min(mr, i0+mc-i)
				dst, ld := y[i*ldy+j:], ldy
				if cols < panelWidth {
					dst, ld = tile[:], panelWidth
				}
				kernel(i, rows, p, dst, ld, b)
				if cols < panelWidth {
					for r := 0; r < rows; r++ {
						copy(y[(i+r)*ldy+j:(i+r)*ldy+j+cols], tile[r*panelWidth:r*panelWidth+cols])
					}
				}
			}
		}
		ep.apply(be.avx2, y, ldy, i0, j0, mc, j1-j0)
	}
}

// checkPanelProduct checks the operands of a product y [m, n] = x·Wᵀ
// (x [m, k], or stored transposed [k, m] for Trans) of the panel kernels
// (LinearInt8, LinearBF16), panicking on a bad shape as Sgemm does, and
// reports whether there is anything to compute.
func checkPanelProduct(name string, transX Transpose, m int, x []float32, ldx int, w interface{ Dims() (n, k int) }, y []float32, ldy int, ep *Epilogue) bool {
	checkTrans(name, "transX", transX)
	if m < 0 {
		panic("tensor: " + name + ": negative m")
	}
	n, k := w.Dims()
	checkOp("x", transX, x, m, k, ldx)
	checkMat("y", y, m, n, ldy)
	ep.check(m, n, ldy)
	return m > 0 && n > 0
}

// splitEpilogue separates the bias of ep, which the panel kernels add, from
// the rest (residual, activation), which panelBlocks applies; rest is nil
// when nothing is left.
func splitEpilogue(ep *Epilogue) (bias []float32, rest *Epilogue) {
	if ep == nil {
		return nil, nil
	}
	if ep.Residual != nil || ep.Act != NoActivation {
		r := *ep
		r.Bias = nil
		rest = &r
	}
	return ep.Bias, rest
}
