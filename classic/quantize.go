package classic

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/nn"
)

// QuantizeConfig holds the options of fastText's quantize command.
type QuantizeConfig struct {
	// Cutoff is the number of input rows (words and n-grams) kept, those of
	// largest norm, EOS always (fastText's -cutoff; 0 keeps them all).
	Cutoff int
	// Retrain fine-tunes the kept rows on Data before they are quantized
	// (-retrain; only with a cutoff, as in fastText).
	Retrain bool
	// QNorm quantizes the rows' norms apart from their directions (-qnorm).
	QNorm bool
	// QOut quantizes the output matrix too, in 2-value sub-vectors (-qout;
	// it needs at least 256 labels).
	QOut bool
	// DSub is the size of the sub-vectors the input rows are cut into
	// (-dsub, default 2); it must divide the dimension.
	DSub int
	// Data is the training data for Retrain.
	Data *data.Dataset
	// Train holds the epochs, learning rate, threads and seed of the
	// retraining (fastText's quantize defaults: 5 epochs at lr 0.05), and
	// the threads of the k-means.
	Train TrainOptions
}

// DefaultQuantizeConfig returns fastText's quantize defaults: no cutoff,
// no retraining, norms and output not quantized, 2-value sub-vectors, and
// for retraining 5 epochs at lr 0.05 on all cores.
func DefaultQuantizeConfig() QuantizeConfig {
	d, _ := DefaultTrainConfig(ArchFastText)
	return QuantizeConfig{DSub: 2, Train: TrainOptions{Epochs: 5, LR: 0.05, Threads: d.Train.Threads, Seed: d.Train.Seed}}
}

// Quantize compresses a fastText-style model as fastText's quantize does:
// it keeps the Cutoff input rows of largest norm (pruning the vocabulary
// and the n-gram buckets), optionally retrains them, then replaces the input
// matrix (and with QOut the output matrix) by product-quantizer codes. The
// model then saves as a fastText .ftz file and can no longer be trained.
func (c *Classifier) Quantize(cfg QuantizeConfig) error {
	m := c.ft
	if m == nil {
		return fmt.Errorf("quantize: only fastText-style models can be quantized (this is %s)", c.Config.Arch)
	}
	if m.qin != nil {
		return errors.New("quantize: the model is already quantized")
	}
	d := m.Config.Dim
	if cfg.DSub < 1 || d%cfg.DSub != 0 {
		return fmt.Errorf("quantize: --dsub %d does not divide the dimension %d (divisors: %s)", cfg.DSub, d, divisors(d))
	}
	if cfg.Cutoff < 0 {
		return fmt.Errorf("quantize: --cutoff must not be negative, got %d", cfg.Cutoff)
	}
	pruning := cfg.Cutoff > 0 && cfg.Cutoff < m.inRows()
	if cfg.Retrain && pruning && cfg.Data == nil {
		return errors.New("quantize: --retrain needs the training data (--train)")
	}
	rows := m.inRows()
	if pruning {
		rows = cfg.Cutoff
	}
	if rows < pqKsub {
		return fmt.Errorf("quantize: the input matrix keeps %d rows, fewer than the %d the product quantizer needs (raise --cutoff)", rows, pqKsub)
	}
	if cfg.QOut && m.outRows() < pqKsub {
		return fmt.Errorf("quantize: --qout needs at least %d output rows, the model has %d labels", pqKsub, m.outRows())
	}
	var prep *Prepared
	if cfg.Retrain && pruning {
		lm, err := data.NewLabelMap(c.Config.Labels)
		if err != nil {
			return err
		}
		if prep, err = Prepare(cfg.Data, lm, c.Config.Segmenter); err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
	}
	if pruning {
		if err := m.prune(m.selectRows(cfg.Cutoff)); err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
		if prep != nil {
			if err := m.Train(prep.Docs, prep.Labels, cfg.Train); err != nil {
				return fmt.Errorf("quantize: retrain: %w", err)
			}
		}
	}
	qin, err := quantizeMatrix(m.In.W, m.inRows(), d, cfg.DSub, cfg.QNorm, cfg.Train.Threads)
	if err != nil {
		return fmt.Errorf("quantize: input matrix: %w", err)
	}
	if cfg.QOut {
		if m.qout, err = quantizeMatrix(m.Out.W, m.outRows(), d, 2, cfg.QNorm, cfg.Train.Threads); err != nil {
			return fmt.Errorf("quantize: output matrix: %w", err)
		}
		m.Out = nil
	}
	m.qin, m.In = qin, nil
	return m.init()
}

// divisors lists the divisors of n.
func divisors(n int) string {
	var ds []string
	for i := 1; i <= n; i++ {
		if n%i == 0 {
			ds = append(ds, fmt.Sprint(i))
		}
	}
	return strings.Join(ds, ", ")
}

// selectRows returns the cutoff input rows of largest norm, EOS first, as
// fastText's selectEmbeddings.
func (m *FastText) selectRows(cutoff int) []int32 {
	d := m.Config.Dim
	n := m.inRows()
	norms := make([]float64, n)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
		norms[i] = l2norm(m.In.W[i*d : (i+1)*d])
	}
	eos := int32(-1)
	if id, ok := m.wordIndex[EOS]; ok {
		eos = id
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		switch {
		case a == eos:
			return -1
		case b == eos:
			return 1
		}
		return cmp.Compare(norms[b], norms[a])
	})
	return idx[:cutoff]
}

// prune keeps the input rows idx as fastText's Dictionary::prune: the
// words among them in vocabulary order, then the n-gram rows in the order
// of idx, their buckets mapped to their new rows.
func (m *FastText) prune(idx []int32) error {
	nw := int32(len(m.Words))
	var words, ngrams []int32
	for _, i := range idx {
		if i < nw {
			words = append(words, i)
		} else {
			ngrams = append(ngrams, i)
		}
	}
	slices.Sort(words)
	d := m.Config.Dim
	in := nn.NewParam("input", len(words)+len(ngrams), d)
	newWords := make([]string, len(words))
	var counts []int64
	if m.WordCounts != nil {
		counts = make([]int64, len(words))
	}
	for j, i := range words {
		newWords[j] = m.Words[i]
		if counts != nil {
			counts[j] = m.WordCounts[i]
		}
		copy(in.W[j*d:(j+1)*d], m.In.W[int(i)*d:int(i+1)*d])
	}
	// Buckets already pruned map through the old index.
	bucketOf := map[int32]int32{}
	if m.pruned != nil {
		for b, r := range m.pruned {
			bucketOf[r] = b
		}
	}
	pruned := make(map[int32]int32, len(ngrams))
	for j, i := range ngrams {
		row := i - nw
		b := row
		if m.pruned != nil {
			b = bucketOf[row]
		}
		pruned[b] = int32(j)
		copy(in.W[(len(words)+j)*d:(len(words)+j+1)*d], m.In.W[int(i)*d:int(i+1)*d])
	}
	m.Words, m.WordCounts, m.In, m.pruned = newWords, counts, in, pruned
	return m.init()
}
