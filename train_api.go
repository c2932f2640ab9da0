package textclf

import (
	"context"

	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/train"
)

// TrainConfig configures Train; see train.Config for every field. A zero
// field takes the default of transformers' Trainer, as `textclf train`
// does (train.DefaultConfig lists them: 3 epochs, batch 8, lr 5e-5,
// gradient clipping at norm 1, …); turning clipping off is explicit
// (MaxGradNorm: train.NoClipping).
type TrainConfig = train.Config

// Train fine-tunes a pretrained model (a directory or a hub id in
// cfg.Model; or a new model of cfg.ModelConfig) on labelled data and saves
// it in HF format to cfg.Output, as `textclf train` does. cfg.Progress, when
// set, hears of every step and evaluation (package progress shows them on
// a terminal); package plot draws the curves of the result's log.
func Train(ctx context.Context, cfg TrainConfig) (*train.Result, error) {
	var err error
	for _, ref := range []*string{&cfg.Model, &cfg.Tokenizer} {
		if *ref == "" {
			continue
		}
		if *ref, _, err = hub.ResolveModel(ctx, *ref, "", hub.FromEnv()); err != nil {
			return nil, err
		}
	}
	return train.Train(ctx, cfg)
}
