package classic

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/privacy"
	"github.com/textclf/textclf/tensor"
)

// adam holds Adam's moments for every parameter.
type adam struct {
	lr, b1, b2, eps float64
	step            int
	m, v            map[*nn.Param][]float32
}

func newAdam(lr float64, ps []*nn.Param) *adam {
	a := &adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-8, m: map[*nn.Param][]float32{}, v: map[*nn.Param][]float32{}}
	for _, p := range ps {
		a.m[p] = make([]float32, len(p.W))
		a.v[p] = make([]float32, len(p.W))
	}
	return a
}

// update applies one Adam step to p.W[lo:hi] with gradient g (len hi-lo).
func (a *adam) update(p *nn.Param, lo int, g []float32) {
	c1 := 1 - math.Pow(a.b1, float64(a.step))
	c2 := 1 - math.Pow(a.b2, float64(a.step))
	lr := float32(a.lr * math.Sqrt(c2) / c1)
	b1, b2, eps := float32(a.b1), float32(a.b2), float32(a.eps)
	m, v, w := a.m[p][lo:lo+len(g)], a.v[p][lo:lo+len(g)], p.W[lo:lo+len(g)]
	for i, gi := range g {
		m[i] = b1*m[i] + (1-b1)*gi
		v[i] = b2*v[i] + (1-b2)*gi*gi
		w[i] -= lr * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
	}
}

// buildVocab returns UNK followed by the words seen at least minCount times,
// most frequent first.
func buildVocab(docs [][]string, minCount int) []string {
	counts, order := countWords(docs)
	words := []string{UNK}
	for _, w := range order {
		if counts[w] >= int64(max(minCount, 1)) && w != UNK {
			words = append(words, w)
		}
	}
	sortByCount(words[1:], counts)
	return words
}

// withVectorWords appends to the vocabulary words the first n words of
// vecs (all for n < 0) that it lacks, in the vectors' order.
func withVectorWords(words []string, vecs *Vectors, n int) []string {
	if n < 0 || n > len(vecs.Words) {
		n = len(vecs.Words)
	}
	have := make(map[string]bool, len(words))
	for _, w := range words {
		have[w] = true
	}
	for _, w := range vecs.Words[:n] {
		if !have[w] {
			words = append(words, w)
			have[w] = true
		}
	}
	return words
}

// trainNN trains a TextCNN or BiLSTM with Adam on mini-batches, examples
// of a batch spread over Threads workers.
func trainNN(cfg TrainConfig, c *Classifier, p *Prepared, lm *data.LabelMap) (*NNModel, error) {
	nc := cfg.NN
	nc.MultiLabel = c.Config.MultiLabel
	words := buildVocab(p.Docs, nc.MinCount)
	var vecs *Vectors
	if cfg.Vectors != "" {
		var err error
		if vecs, err = ReadWordVectors(cfg.Vectors); err != nil {
			return nil, err
		}
		nc.Dim = vecs.Dim
		words = withVectorWords(words, vecs, cfg.VectorsWords)
	} else if cfg.VectorsWords != 0 {
		return nil, errors.New("VectorsWords needs Vectors (--vectors-words needs --vectors)")
	}
	m, err := newNNModel(nc, cfg.Arch, words, lm.Len(), cfg.Train.Seed)
	if err != nil {
		return nil, err
	}
	log := cfg.Train.Log
	if vecs != nil {
		found := 0
		for i, w := range words {
			if v := vecs.Vector(w); v != nil {
				copy(m.Emb.W[i*nc.Dim:(i+1)*nc.Dim], v)
				found++
			}
		}
		if log != nil {
			fmt.Fprintf(log, "vectors %s: %d of %d vocabulary words found (dim %d)\n", cfg.Vectors, found, len(words), nc.Dim)
		}
	}
	ids := make([][]int32, len(p.Docs))
	lengths := make([]int, len(p.Docs))
	for i, d := range p.Docs {
		ids[i] = m.ids(d)
		lengths[i] = len(ids[i])
	}
	dist := cfg.Train.Distill
	if dist != nil {
		if cfg.DP != nil {
			return nil, errDistillDP
		}
		if nc.MultiLabel {
			return nil, errors.New("distillation trains single-label models")
		}
		if err := dist.check(len(p.Docs), lm.Len()); err != nil {
			return nil, err
		}
	}
	threads := max(cfg.Train.Threads, 1)
	bs := cfg.BatchSize
	if bs < 1 {
		bs = 32
	}
	lr := cfg.Train.LR
	if lr <= 0 {
		lr = 1e-3
	}
	ps := m.params()
	opt := newAdam(lr, ps)
	rng := rand.New(rand.NewPCG(cfg.Train.Seed, 11))
	workers := make([]*grads, threads)
	wrng := make([]*rand.Rand, threads)
	for t := range workers {
		workers[t] = m.newGrads()
		wrng[t] = rand.New(rand.NewPCG(cfg.Train.Seed, uint64(100+t)))
	}
	losses := make([]float64, threads)
	var valid *Prepared
	if cfg.Valid != nil {
		if valid, err = Prepare(cfg.Valid, lm, c.Config.Segmenter); err != nil {
			return nil, err
		}
	}
	epochs := max(cfg.Train.Epochs, 1)
	var dp *privacy.Plan
	stepsPer := (len(ids) + bs - 1) / bs
	if cfg.DP != nil {
		if dp, err = privacy.NewPlan(*cfg.DP, len(ids), bs, epochs*stepsPer); err != nil {
			return nil, err
		}
		c.Config.Privacy = &PrivacyRecord{Plan: dp}
	}
	for epoch := 1; epoch <= epochs; epoch++ {
		start := time.Now()
		var total float64
		if dp != nil {
			for s := range stepsPer {
				if ctx := cfg.Train.Context; ctx != nil && ctx.Err() != nil {
					return nil, fmt.Errorf("%s: training stopped in epoch %d: %w", cfg.Arch, epoch, ctx.Err())
				}
				step := (epoch-1)*stepsPer + s
				total += m.stepDP(dp, cfg.Train.Seed, step, dp.Batch(cfg.Train.Seed, step, len(ids)), ids, p.Labels, opt, workers, wrng)
			}
			c.Config.Privacy.Epsilon = dp.Epsilon(epoch * stepsPer)
			if log != nil {
				fmt.Fprintf(log, "epoch %d: DP-SGD ε %.4g (δ %g)\n", epoch, c.Config.Privacy.Epsilon, dp.Delta)
			}
		}
		for _, batch := range data.Batches(lengths, bs, !cfg.NoShuffle, rng) {
			if ctx := cfg.Train.Context; ctx != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("%s: training stopped in epoch %d: %w", cfg.Arch, epoch, ctx.Err())
			}
			if dp != nil {
				break
			}
			var wg sync.WaitGroup
			for t := 0; t < threads; t++ {
				lo, hi := t*len(batch)/threads, (t+1)*len(batch)/threads
				if lo == hi {
					continue
				}
				wg.Add(1)
				go func(t int, part []int) {
					defer wg.Done()
					g := workers[t]
					for _, d := range g.dense {
						clear(d)
					}
					clear(g.emb)
					losses[t] = 0
					mask := m.dropoutMask()
					for _, i := range part {
						m.fillDropoutMask(mask, wrng[t])
						var teacher []float32
						if dist != nil {
							teacher = dist.Teacher[i]
						}
						losses[t] += m.lossGradSoft(ids[i], p.Labels[i], dist, teacher, mask, g)
					}
				}(t, batch[lo:hi])
			}
			wg.Wait()
			// Reduce the workers' gradients into Grad (mean over the
			// batch) and step.
			opt.step++
			scale := 1 / float32(len(batch))
			used := min(threads, len(batch))
			for _, pr := range ps[1:] {
				pr.AllocGrad()
				copy(pr.Grad, workers[0].dense[pr])
				for t := 1; t < used; t++ {
					tensor.Axpy(1, workers[t].dense[pr], pr.Grad)
				}
				tensor.Scale(scale, pr.Grad)
				opt.update(pr, 0, pr.Grad)
			}
			if !nc.Freeze {
				rows := map[int32][]float32{}
				for t := 0; t < used; t++ {
					for id, r := range workers[t].emb {
						if acc, ok := rows[id]; ok {
							tensor.AxpySerial(1, r, acc)
						} else {
							rows[id] = r
						}
					}
				}
				// Lazy (sparse) Adam: only the rows this batch touched move.
				for id, r := range rows {
					tensor.ScaleSerial(scale, r)
					opt.update(m.Emb, int(id)*nc.Dim, r)
				}
			}
			for t := 0; t < used; t++ {
				total += losses[t]
			}
		}
		var eval map[string]float64
		if valid != nil && (log != nil || cfg.Train.OnEpoch != nil) {
			eval = evalScores(m.Scores, c.Config.MultiLabel, c.Config.Threshold, valid)
		}
		if log != nil {
			fmt.Fprintf(log, "epoch %d: loss %.4f (%s)", epoch, total/float64(len(ids)), time.Since(start).Round(time.Millisecond))
			if eval != nil {
				fmt.Fprintf(log, "  eval accuracy %.4f  loss %.4f", eval["accuracy"], eval["loss"])
			}
			fmt.Fprintln(log)
		}
		if cfg.Train.OnEpoch != nil {
			cfg.Train.OnEpoch(EpochLog{Epoch: epoch, Examples: int64(epoch) * int64(len(ids)), Loss: total / float64(len(ids)), LR: cfg.Train.LR, Eval: eval})
		}
		if cfg.EpochEnd != nil {
			c.nn = m
			if err := cfg.EpochEnd(epoch, c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// stepDP takes one DP-SGD step (Opacus' semantics) on batch, the step's
// Poisson batch: each example's gradient is computed alone and clipped to
// the plan's norm (its dense gradients and its embedding rows, unless the
// table is frozen), the workers' sums are added, noised and divided by the
// expected batch size (plan.Privatize; the embedding table's noise covers
// every row, so that its update is dense), and Adam steps. It returns the
// batch's summed loss.
func (m *NNModel) stepDP(plan *privacy.Plan, seed uint64, step int, batch []int, ids [][]int32, labels [][]int, opt *adam,
	workers []*grads, wrng []*rand.Rand) float64 {
	threads := len(workers)
	losses := make([]float64, threads)
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := t*len(batch)/threads, (t+1)*len(batch)/threads
		g := workers[t]
		for _, d := range g.dense {
			clear(d)
		}
		clear(g.emb)
		wg.Add(1)
		go func(part []int) {
			defer wg.Done()
			one := m.newGrads() // one example's gradients
			mask := m.dropoutMask()
			for _, i := range part {
				for _, d := range one.dense {
					clear(d)
				}
				clear(one.emb)
				m.fillDropoutMask(mask, wrng[t])
				losses[t] += m.lossGrad(ids[i], labels[i], mask, one)
				var sq float64
				for _, d := range one.dense {
					sq += float64(tensor.Dot(d, d))
				}
				for _, r := range one.emb {
					sq += float64(tensor.Dot(r, r))
				}
				f := float32(plan.ClipFactor(math.Sqrt(sq)))
				for p, d := range one.dense {
					tensor.AxpySerial(f, d, g.dense[p])
				}
				for id, r := range one.emb {
					tensor.AxpySerial(f, r, g.embRow(id, len(r)))
				}
			}
		}(batch[lo:hi])
	}
	wg.Wait()
	opt.step++
	ps := m.params()
	sums := make([][]float32, 0, len(ps))
	for _, pr := range ps[1:] {
		pr.AllocGrad()
		clear(pr.Grad)
		for _, g := range workers {
			tensor.Axpy(1, g.dense[pr], pr.Grad)
		}
		sums = append(sums, pr.Grad)
	}
	if !m.Config.Freeze {
		m.Emb.AllocGrad()
		clear(m.Emb.Grad)
		for _, g := range workers {
			for id, r := range g.emb {
				tensor.AxpySerial(1, r, m.Emb.Grad[int(id)*m.Config.Dim:])
			}
		}
		sums = append(sums, m.Emb.Grad)
	}
	plan.Privatize(sums, seed, step)
	for _, pr := range ps[1:] {
		opt.update(pr, 0, pr.Grad)
	}
	if !m.Config.Freeze {
		opt.update(m.Emb, 0, m.Emb.Grad)
	}
	var total float64
	for _, l := range losses {
		total += l
	}
	return total
}

// dropoutMask is a buffer for the dropout mask of the pooled features, nil
// without dropout.
func (m *NNModel) dropoutMask() []float32 {
	if m.Config.Dropout <= 0 {
		return nil
	}
	return make([]float32, m.features())
}

// fillDropoutMask draws a dropout mask (already scaled by 1/(1-p)) into mask.
func (m *NNModel) fillDropoutMask(mask []float32, rng *rand.Rand) {
	keep := float32(1 / (1 - m.Config.Dropout))
	for k := range mask {
		mask[k] = 0
		if rng.Float64() >= m.Config.Dropout {
			mask[k] = keep
		}
	}
}
