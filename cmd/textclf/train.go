package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/plot"
	"github.com/textclf/textclf/train"
)

const trainLong = `Trains a classifier on a labelled data file and saves it as a directory with config.json
and its weights. --arch transformer (the default) fine-tunes --model (a BERT, RoBERTa, XLM-R or
DistilBERT checkpoint directory or hub id) with the defaults of transformers' Trainer and saves it
in HF format; --config PRESET|config.json trains one from random weights instead. --arch fasttext
is a fastText-style bag of word and char n-grams trained with Hogwild SGD (flags named after
fastText's); textcnn (Kim 2014) and bilstm are trained with Adam, optionally over pretrained word
vectors (--vectors). A flag that does not apply to the arch is an error.`

func newTrainCmd() *cobra.Command { return newTrainCommand(&trainFlags{}) }

// newTrainCommand is `textclf train` with its flags bound to f.
func newTrainCommand(f *trainFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train [--arch ARCH] --train FILE --output DIR",
		Short: "Fine-tune a transformer, or train a classic classifier (fasttext, textcnn, bilstm)",
		Long:  trainLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveArchFlags(cmd.Flags(), f.arch); err != nil {
				return err
			}
			if f.arch == archTransformer {
				return runTransformerTrain(cmd, f)
			}
			return runClassicTrain(cmd, f, func(ds *data.Dataset, cfg classic.TrainConfig) (*classic.Classifier, int, error) {
				m, err := classic.Train(ds, cfg)
				return m, len(ds.Examples), err
			})
		},
	}
	fs := cmd.Flags()
	f.registerCommon(fs, false)
	f.registerTransformer(fs, false)
	f.registerClassic(fs)
	setArchHelp(cmd, f, archTransformer, func(arch string) string {
		return trainLong + fmt.Sprintf("\n\nThe flags below are those of --arch %s, with its defaults; `textclf train --arch ARCH --help` lists another arch's.", arch)
	})
	return cmd
}

// setArchHelp gives the flags of cmd the defaults of arch, and makes its
// help list the flags of the --arch given, with its defaults, under the
// text long returns for that arch.
func setArchHelp(cmd *cobra.Command, f *trainFlags, arch string, long func(arch string) string) {
	if err := applyArchDefaults(cmd.Flags(), arch); err != nil {
		panic(err) // the defaults are the program's own
	}
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		if err := applyArchDefaults(c.Flags(), f.arch); err != nil {
			fmt.Fprintln(c.ErrOrStderr(), err)
		}
		c.Long = long(f.arch)
		if p := c.Parent(); p != nil {
			p.HelpFunc()(c, args)
		}
	})
}

// runClassicTrain trains a fasttext, textcnn or bilstm model with fit
// (classic.Train, or distillation from a teacher), which returns the model
// and the number of examples it was trained on.
func runClassicTrain(cmd *cobra.Command, f *trainFlags, fit func(*data.Dataset, classic.TrainConfig) (*classic.Classifier, int, error)) error {
	if f.trainPath == "" || f.output == "" {
		return errors.New("--train and --output are required")
	}
	cfg, err := f.classicConfig(f.arch, cmd.Flags())
	if err != nil {
		return err
	}
	cfg.Train.Log = cmd.ErrOrStderr()
	ds, valid, evalName, err := readTrainEval(cmd, f)
	if err != nil {
		return err
	}
	cfg.Valid = valid
	start := time.Now()
	// Each epoch's record, as the transformer's metrics.jsonl lines (step:
	// examples trained on).
	var history []train.LogEntry
	cfg.Train.OnEpoch = func(e classic.EpochLog) {
		loss, lr := e.Loss, e.LR
		history = append(history, train.LogEntry{Step: int(e.Examples), Epoch: float64(e.Epoch), Loss: &loss, LR: &lr, Eval: e.Eval, Seconds: time.Since(start).Seconds()})
	}
	m, examples, err := fit(ds, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "trained %s on %d examples, %d labels in %s\n", f.arch, examples, len(m.Config.Labels), time.Since(start).Round(time.Millisecond))
	if p := m.Config.Privacy; p != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "DP-SGD spent ε %.4g at δ %g (noise multiplier %.4g, sample rate %.4g)\n", p.Epsilon, p.Delta, p.NoiseMultiplier, p.SampleRate)
	}
	start = time.Now()
	if err := m.Save(f.output); err != nil {
		return err
	}
	if err := writeClassicLog(f.output, history); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "saved %s in %s\n", f.output, time.Since(start).Round(time.Millisecond))
	if cfg.Valid != nil {
		rep, err := evaluate(m, cfg.Valid)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "eval %s: accuracy %.4f  macro F1 %.4f\n", evalName, rep.Accuracy, rep.Macro.F1)
	}
	return nil
}

// readTrainEval reads --train, and --eval or the --validation-split of
// --train (seeded by --seed), and keeps the first --max-train-samples
// training examples; evalName names the evaluation data.
func readTrainEval(cmd *cobra.Command, f *trainFlags) (ds, valid *data.Dataset, evalName string, err error) {
	opt, err := f.data.options(false)
	if err != nil {
		return nil, nil, "", err
	}
	if ds, err = data.ReadFile(f.trainPath, opt); err != nil {
		return nil, nil, "", err
	}
	for _, w := range ds.Warnings() {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
	}
	evalName = f.evalPath
	switch {
	case f.evalPath != "" && f.validationSplit > 0:
		return nil, nil, "", errors.New("give --eval or --validation-split, not both")
	case f.evalPath != "":
		if valid, err = data.ReadFile(f.evalPath, opt); err != nil {
			return nil, nil, "", err
		}
	case f.validationSplit > 0:
		if ds, valid, err = data.StratifiedSplit(ds, f.validationSplit, f.seed); err != nil {
			return nil, nil, "", fmt.Errorf("--validation-split: %w", err)
		}
		evalName = valid.Path
	}
	return ds.Head(f.maxTrainSamples), valid, evalName, nil
}

// writeClassicLog writes a classic run's epoch records into dir as the
// transformer's trainer does: metrics.jsonl, one JSON record a line, and
// training_curves.png.
func writeClassicLog(dir string, history []train.LogEntry) error {
	if err := atomicfile.Write(filepath.Join(dir, "metrics.jsonl"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, e := range history {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, "metrics.jsonl"), err)
	}
	return plot.TrainingCurves(filepath.Join(dir, "training_curves.png"), history, "accuracy")
}
