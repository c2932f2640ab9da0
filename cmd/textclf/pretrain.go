package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/train"
)

const pretrainLong = `Pretrains a BERT-family encoder as a masked language model, as transformers' run_mlm.py:
--corpus text files (one document per line, or --blank-line-documents) are tokenized with their
special tokens, concatenated and cut into blocks of --max-length tokens; each batch is masked anew
as DataCollatorForLanguageModeling does (--mlm-probability of the tokens, of which 80 % become the
mask token, 10 % a random token, 10 % stay; special tokens and padding never), or by whole words
(--whole-word-mask: WordPiece ## pieces join their word; --chinese-words: Chinese words of the
zh-words segmentation too). The model is new, of --config (a preset: bert-tiny, bert-mini,
bert-small, bert-medium, minilm, bert-base; or a config.json) with --tokenizer, or --model (a
checkpoint to pretrain further, with its tokenizer). The Trainer's flags are those of textclf
train. --validation-split of the blocks (or --eval files) is held out and scored by its masked
tokens' loss, accuracy and perplexity in metrics.jsonl; the best model (lowest loss, --metric) is
saved in --output as BertForMaskedLM, which textclf train --model fine-tunes and
textclf predict --task fill-mask reads.`

// pretrainFlags are the flags of `textclf pretrain`: the Trainer's, bound
// to a trainFlags, and the corpus and masking ones.
type pretrainFlags struct {
	trainFlags
	corpus, evalCorpus []string
	mlm                train.MLMConfig
}

func newPretrainCmd() *cobra.Command {
	f := &pretrainFlags{}
	cmd := &cobra.Command{
		Use:   "pretrain --corpus FILE (--config PRESET --tokenizer DIR | --model DIR) --output DIR",
		Short: "Pretrain a BERT-family encoder as a masked language model on text files",
		Long:  pretrainLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			if fs.Changed("problem-type") || fs.Changed("class-weights") {
				return errors.New("--problem-type and --class-weights do not apply to pretraining")
			}
			switch {
			case len(f.corpus) == 0:
				return errors.New("--corpus is required")
			case f.model == "" && f.modelConfig == "":
				return errors.New("give --config PRESET|config.json (with --tokenizer) or --model CHECKPOINT")
			case f.output == "":
				return errors.New("--output is required")
			}
			f.trainPath, f.data.format, f.data.header = f.corpus[0], "auto", "auto"
			cfg, err := f.transformerConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.DP, err = f.privacy(fs); err != nil || cfg.DP != nil {
				return errors.New("DP-SGD does not apply to pretraining")
			}
			if !fs.Changed("metric") {
				cfg.Metric = "loss"
			}
			mlm := f.mlm
			mlm.Corpus, mlm.EvalCorpus = f.corpus, f.evalCorpus
			cfg.MLM = &mlm
			cfg.Train = ""
			if len(f.evalCorpus) > 0 && fs.Changed("validation-split") {
				return errors.New("give --eval or --validation-split, not both")
			}
			if len(f.evalCorpus) == 0 && cfg.ValidationSplit == 0 {
				cfg.ValidationSplit = train.NoValidation // --validation-split 0: hold nothing out
			}
			return runTrainer(cmd, cfg, train.Pretrain)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&f.corpus, "corpus", nil, "text files to pretrain on (repeat the flag or separate by commas)")
	fs.StringSliceVar(&f.evalCorpus, "eval", nil, "held-out text files, scored during training (instead of --validation-split)")
	fs.Float64Var(&f.validationSplit, "validation-split", 0.05, "without --eval, hold out this fraction of the blocks (0: none)")
	f.registerRun(fs)
	for name, usage := range map[string]string{
		"max-train-samples": "train on the first N blocks only (0: all)",
		"epochs":            "passes over the corpus",
		"lr":                "AdamW peak learning rate",
		"batch-size":        "blocks per training batch",
		"seed":              "random seed (initialisation, block order, masks)",
		"no-shuffle":        "keep the corpus order of the blocks",
		"max-length":        "tokens per block (group_texts' block size; at most the model's positions)",
		"dropout":           "overrides the config's hidden and attention dropout",
	} {
		fs.Lookup(name).Usage = usage
	}
	f.registerTransformer(fs, false)
	if err := applyArchDefaults(fs, archTransformer); err != nil {
		panic(err) // the Trainer's defaults are the program's own
	}
	for _, name := range []string{"problem-type", "class-weights"} {
		fs.Lookup(name).Hidden = true
	}
	fs.Lookup("metric").DefValue = "loss"
	fs.Lookup("metric").Usage = "metric choosing the best model: loss or accuracy"
	fs.Lookup("config").Usage = fmt.Sprintf("pretrain a new model of a preset shape (%s) or a config.json, with --tokenizer", "bert-tiny, bert-mini, bert-small, bert-medium, minilm, bert-base")
	fs.Lookup("model").Usage = "checkpoint directory or hub id to pretrain further (continued pretraining), with its tokenizer"
	return cmd
}
