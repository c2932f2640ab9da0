package classic

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/textclf/textclf/tensor"
)

// What the fastText-style classifier, word2vec and the TextCNN/BiLSTM
// vocabulary share: counting words, Hogwild training and the logistic update
// of an output row.

// countWords counts the tokens of docs and lists the distinct ones in the
// order they first appear.
func countWords(docs [][]string) (counts map[string]int64, order []string) {
	counts = map[string]int64{}
	for _, d := range docs {
		for _, w := range d {
			if counts[w] == 0 {
				order = append(order, w)
			}
			counts[w]++
		}
	}
	return counts, order
}

// sortByCount sorts words most frequent first, keeping the order of words
// with equal counts.
func sortByCount(words []string, counts map[string]int64) {
	slices.SortStableFunc(words, func(a, b string) int { return cmp.Compare(counts[b], counts[a]) })
}

// hogwild trains on examples 0…n-1 with threads workers that share the
// weights without locks, as fastText and word2vec do: worker t starts at
// example t·n/threads and goes round the examples until the workers have
// together done stop units of work (tokens), counted in done (which may
// start above zero, to run a training of budget units in parts, an epoch
// each). step(t, i, progress) trains worker t on example i, where progress
// (done/budget, in [0, 1)) drives the learning-rate decay, and returns the
// units example i counts. A worker adds its units to done, the shared
// count, once it holds more than publishEvery of them (fastText's
// lrUpdateRate; 0 publishes after every example), and when it stops.
func hogwild(threads, n int, budget, stop, publishEvery int64, done *atomic.Int64, step func(t, i int, progress float64) int64) {
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			i := t * n / threads
			var local int64
			defer func() { done.Add(local) }()
			for done.Load() < stop {
				local += step(t, i, float64(done.Load())/float64(budget))
				if local > publishEvery {
					done.Add(local)
					local = 0
				}
				if i++; i == n {
					i = 0
				}
			}
		}(t)
	}
	wg.Wait()
}

// sgdRow is the update of one output row of a linear layer on hidden
// vector h with step alpha (the learning rate times the error of the row's
// output): it adds alpha·row to grad, the gradient of h, then alpha·h to
// the row.
func sgdRow(alpha float32, row, h, grad []float32) {
	tensor.AxpySerial(alpha, row, grad)
	tensor.AxpySerial(alpha, h, row)
}

// binaryLogistic is fastText's logistic update of an output row towards
// label given the hidden vector h, with fastText's table sigmoid; word2vec's
// negative sampling updates the same way. It accumulates the gradient of h
// in grad and returns the probability the row gave label true.
func binaryLogistic(row, h, grad []float32, label bool, lr float32) float32 {
	score := ftSigmoid(tensor.Dot(row, h))
	var y float32
	if label {
		y = 1
	}
	sgdRow(lr*(y-score), row, h, grad)
	return score
}
