package data

import (
	"math/rand/v2"
	"sort"
)

// BucketFactor is how many batches' worth of examples are sorted by length
// together when bucketing: larger wastes less padding but mixes less.
const BucketFactor = 50

// Batches splits example indexes 0..len(lengths)-1 into batches of at most
// batchSize. With shuffle, examples are shuffled, then sorted by length
// inside windows of BucketFactor batches so each batch holds examples of
// similar length, and the batch order is shuffled. Without shuffle (the
// --no-shuffle mode) the batches are consecutive runs in file order.
func Batches(lengths []int, batchSize int, shuffle bool, rng *rand.Rand) [][]int {
	n := len(lengths)
	if batchSize < 1 {
		batchSize = 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if shuffle {
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		win := batchSize * BucketFactor
		for lo := 0; lo < n; lo += win {
			hi := min(lo+win, n)
			part := idx[lo:hi]
			sort.SliceStable(part, func(a, b int) bool { return lengths[part[a]] < lengths[part[b]] })
		}
	}
	var out [][]int
	for lo := 0; lo < n; lo += batchSize {
		out = append(out, idx[lo:min(lo+batchSize, n)])
	}
	if shuffle {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// MaxPadding bounds the padding of an inference batch (InferenceBatches):
// its padded tokens (inputs × longest) are at most this many times its real
// tokens, since a batch of mixed lengths padded to its longest wastes most
// of its compute.
const MaxPadding = 1.25

// InferenceBatches splits example indexes 0..len(lengths)-1 into batches to
// run together at inference: sorted by length, a batch grows while it has
// fewer than maxInputs examples and its size × longest stays within
// MaxPadding × its real tokens.
func InferenceBatches(lengths []int, maxInputs int) [][]int {
	order := make([]int, len(lengths))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lengths[order[a]] < lengths[order[b]] })
	var batches [][]int
	var cur []int
	real := 0
	for _, j := range order {
		l := lengths[j]
		if len(cur) > 0 && (len(cur) >= maxInputs || float64((len(cur)+1)*l) > MaxPadding*float64(real+l)) {
			batches = append(batches, cur)
			cur, real = nil, 0
		}
		cur = append(cur, j)
		real += l
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}
