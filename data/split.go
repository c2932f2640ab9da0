package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// byLabel returns the example indices of ds grouped by their first label
// (labels in sorted order), each group shuffled with a generator seeded
// by seed.
func byLabel(ds *Dataset, seed uint64) [][]int {
	groups := map[string][]int{}
	for i, ex := range ds.Examples {
		key := ""
		if len(ex.Labels) > 0 {
			key = ex.Labels[0]
		}
		groups[key] = append(groups[key], i)
	}
	labels := make([]string, 0, len(groups))
	for l := range groups {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	rng := rand.New(rand.NewPCG(seed, 0xcf))
	out := make([][]int, len(labels))
	for i, l := range labels {
		idx := groups[l]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		out[i] = idx
	}
	return out
}

// StratifiedFolds deals the example indices of ds into k folds keeping the
// label proportions: the indices of each label (its first label) are
// shuffled with seed and dealt round-robin, continuing where the previous
// label stopped so fold sizes differ by at most one.
func StratifiedFolds(ds *Dataset, k int, seed uint64) ([][]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("need at least 2 folds, got %d", k)
	}
	if len(ds.Examples) < k {
		return nil, fmt.Errorf("%s: %d examples cannot make %d folds", ds.Path, len(ds.Examples), k)
	}
	folds := make([][]int, k)
	next := 0
	for _, idx := range byLabel(ds, seed) {
		for _, i := range idx {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	return folds, nil
}

// StratifiedSplit holds out a fraction of ds (0 < fraction < 1) keeping the
// label proportions, as a validation set: round(fraction·n) examples taken
// evenly from the examples grouped by first label and shuffled with seed.
// Both parts keep the file order and the label names.
func StratifiedSplit(ds *Dataset, fraction float64, seed uint64) (rest, heldOut *Dataset, err error) {
	n := len(ds.Examples)
	nHeld := int(math.Round(fraction * float64(n)))
	if !(fraction > 0 && fraction < 1) || nHeld < 1 || nHeld >= n {
		return nil, nil, fmt.Errorf("%s: cannot hold out a fraction %g of %d examples (want 0 < fraction < 1 leaving at least one example on each side)", ds.Path, fraction, n)
	}
	held := make([]bool, n)
	pos := 0
	for _, idx := range byLabel(ds, seed) {
		for _, i := range idx {
			// Example pos of the label-grouped order is held out when the
			// running quota floor((pos+1)·nHeld/n) grows: nHeld in all,
			// spread evenly over every label.
			held[i] = (pos+1)*nHeld/n > pos*nHeld/n
			pos++
		}
	}
	rest = &Dataset{Path: ds.Path, MultiLabel: ds.MultiLabel, LabelNames: ds.LabelNames}
	heldOut = &Dataset{Path: ds.Path + " (validation split)", MultiLabel: ds.MultiLabel, LabelNames: ds.LabelNames}
	for i, ex := range ds.Examples {
		if held[i] {
			heldOut.Examples = append(heldOut.Examples, ex)
		} else {
			rest.Examples = append(rest.Examples, ex)
		}
	}
	return rest, heldOut, nil
}

// Head returns a data set with the first n examples of ds (all of them when
// n is 0 or at least their number), as the Trainer's max_train_samples.
func (ds *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= len(ds.Examples) {
		return ds
	}
	out := *ds
	out.Examples = slices.Clip(ds.Examples[:n])
	return &out
}
