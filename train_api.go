package textclf

import (
	"context"

	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/train"
)

// TrainConfig configures Train; see train.Config for every field and
// train.Config.Defaults for the Trainer's defaults.
type TrainConfig = train.Config

// Train fine-tunes a pretrained model (a directory or a hub id in
// cfg.Model) on labelled data and saves it in HF format to cfg.Output, as
// `textclf train` does.
func Train(ctx context.Context, cfg TrainConfig) (*train.Result, error) {
	dir, _, err := hub.ResolveModel(ctx, cfg.Model, "", hub.FromEnv())
	if err != nil {
		return nil, err
	}
	cfg.Model = dir
	return train.Train(ctx, cfg)
}
