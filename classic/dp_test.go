package classic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/privacy"
)

// A DP-SGD step's gradient is the sum over the batch of each example's own
// gradient, scaled by Opacus' clip factor, divided by the expected batch
// size (no noise here), for every parameter and the embedding rows.
func TestStepDPClipsEachExample(t *testing.T) {
	for _, arch := range []string{ArchTextCNN, ArchBiLSTM} {
		t.Run(arch, func(t *testing.T) {
			m := smallModel(t, arch, false, PoolMax)
			ids := [][]int32{{1, 2, 3}, {4, 4, 5, 1}, {2}, {3, 1, 2, 5, 5}}
			labels := [][]int{{0}, {2}, {1}, {2}}
			// Each example's gradients alone.
			var norms []float64
			var alone []*grads
			for i := range ids {
				g := m.newGrads()
				m.lossGrad(ids[i], labels[i], nil, g)
				var sq float64
				for _, d := range g.dense {
					for _, v := range d {
						sq += float64(v) * float64(v)
					}
				}
				for _, r := range g.emb {
					for _, v := range r {
						sq += float64(v) * float64(v)
					}
				}
				norms, alone = append(norms, math.Sqrt(sq)), append(alone, g)
			}
			clip := slices.Sorted(slices.Values(norms))[1] // some examples are clipped, some not
			plan := &privacy.Plan{Config: privacy.Config{MaxGradNorm: clip, Delta: 1e-5}, SampleRate: 0.5, ExpectedBatchSize: 3}
			opt := newAdam(0, m.params()) // learning rate 0: the weights stay as they are
			workers := []*grads{m.newGrads(), m.newGrads()}
			wrng := []*rand.Rand{rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 2))}
			batch := []int{0, 1, 3}
			m.stepDP(plan, 1, 0, batch, ids, labels, opt, workers, wrng)
			check := func(name string, got []float32, want func(g *grads) []float32) {
				t.Helper()
				for j := range got {
					var sum float64
					for _, i := range batch {
						if w := want(alone[i]); w != nil {
							sum += min(1, clip/(norms[i]+1e-6)) * float64(w[j])
						}
					}
					if e := sum / 3; math.Abs(float64(got[j])-e) > 1e-6+1e-5*math.Abs(e) {
						t.Fatalf("%s[%d]: %g, want %g", name, j, got[j], e)
					}
				}
			}
			for _, p := range m.params()[1:] {
				check(p.Name, p.Grad, func(g *grads) []float32 { return g.dense[p] })
			}
			for id := range 6 {
				row := m.Emb.Grad[id*m.Config.Dim : (id+1)*m.Config.Dim]
				check(fmt.Sprint("embedding row ", id), row, func(g *grads) []float32 { return g.emb[int32(id)] })
			}
		})
	}
}

// Training with DP-SGD records the plan and the ε spent in the model's
// config; fasttext refuses it.
func TestTrainDP(t *testing.T) {
	ds := &data.Dataset{Path: "mem"}
	for i := range 60 {
		w := []string{"good", "great", "bad", "awful"}[i%4]
		ds.Examples = append(ds.Examples, data.Example{Text: "the " + w + " film", Labels: []string{map[string]string{"good": "pos", "great": "pos", "bad": "neg", "awful": "neg"}[w]}, Line: i + 1})
	}
	cfg, err := DefaultTrainConfig(ArchTextCNN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NN.Dim, cfg.NN.Filters, cfg.Train.Epochs, cfg.Train.Threads, cfg.BatchSize = 8, 4, 2, 2, 10
	cfg.DP = &privacy.Config{Epsilon: 8, MaxGradNorm: 1}
	m, err := Train(ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Config.Privacy
	if p == nil || p.Epsilon > 8 || p.Epsilon < 7.99 || p.SampleRate != 1.0/6 || p.Steps != 12 || p.Delta != 1.0/60 {
		t.Fatalf("privacy record %+v", p)
	}
	cfg.Arch = ArchFastText
	if _, err := Train(ds, cfg); err == nil || !strings.Contains(err.Error(), "not fasttext") {
		t.Fatalf("fasttext with DP: %v", err)
	}
}
