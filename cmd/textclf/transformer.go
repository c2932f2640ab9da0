package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/train"
)

// transformerTrainFlags are the flags of `textclf train` that only the
// transformer path has (the Trainer's options).
type transformerTrainFlags struct {
	model, scheduler, problemType, classWeights, metric, resume string
	weightDecay, warmupRatio, maxGradNorm                       float64
	warmupSteps, gradAccum, evalSteps, saveSteps, patience      int
	logSteps                                                    int
}

func (f *transformerTrainFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "pretrained model directory or hub id (transformer)")
	fs.Float64Var(&f.weightDecay, "weight-decay", 0, "AdamW weight decay, not applied to biases and LayerNorm weights (transformer)")
	fs.IntVar(&f.warmupSteps, "warmup-steps", 0, "linear warmup steps (transformer)")
	fs.Float64Var(&f.warmupRatio, "warmup-ratio", 0, "warmup as a fraction of the training steps (transformer)")
	fs.StringVar(&f.scheduler, "lr-scheduler", "linear", "learning-rate schedule: linear, cosine or constant (transformer)")
	fs.Float64Var(&f.maxGradNorm, "max-grad-norm", 1.0, "gradient clipping by global norm, 0 to disable (transformer)")
	fs.IntVar(&f.gradAccum, "grad-accum", 1, "gradient accumulation steps (transformer)")
	fs.StringVar(&f.problemType, "problem-type", "", "single_label_classification, multi_label_classification or regression (default: from the data)")
	fs.StringVar(&f.classWeights, "class-weights", "", "auto (balanced) or w1,w2,... for the cross-entropy (transformer)")
	fs.IntVar(&f.evalSteps, "eval-steps", 0, "evaluate every N steps (default: each epoch) (transformer)")
	fs.IntVar(&f.saveSteps, "save-steps", 0, "checkpoint every N steps (default: at each evaluation, or each epoch) (transformer)")
	fs.IntVar(&f.patience, "early-stopping-patience", 0, "stop after N evaluations without improvement (transformer)")
	fs.StringVar(&f.metric, "metric", "accuracy", "metric choosing the best model: accuracy, f1 or loss (transformer)")
	fs.StringVar(&f.resume, "resume", "", "continue from a checkpoint directory; --resume alone takes the latest in --output (transformer)")
	fs.Lookup("resume").NoOptDefVal = "latest"
	fs.IntVar(&f.logSteps, "logging-steps", 50, "log the training loss every N steps (transformer)")
}

// transformerTrainConfig builds the Trainer's configuration from the flags,
// with the Trainer's defaults for those the user did not set.
func transformerTrainConfig(cmd *cobra.Command, f *transformerTrainFlags, df *dataFlags) (train.Config, error) {
	fs := cmd.Flags()
	getF := func(name string, def float64) float64 {
		if fs.Changed(name) {
			v, _ := fs.GetFloat64(name)
			return v
		}
		return def
	}
	getI := func(name string, def int) int {
		if fs.Changed(name) {
			v, _ := fs.GetInt(name)
			return v
		}
		return def
	}
	trainPath, _ := fs.GetString("train")
	evalPath, _ := fs.GetString("eval")
	output, _ := fs.GetString("output")
	seed, _ := fs.GetUint64("seed")
	noShuffle, _ := fs.GetBool("no-shuffle")
	if f.model == "" || trainPath == "" || output == "" {
		return train.Config{}, errors.New("--model, --train and --output are required")
	}
	opt, err := df.options(false)
	if err != nil {
		return train.Config{}, err
	}
	dir, err := resolveModelDir(commandContext(cmd), f.model)
	if err != nil {
		return train.Config{}, err
	}
	cfg := train.Config{
		Model: dir, Train: trainPath, Eval: evalPath, Output: output, Data: opt,
		Epochs: float64(getI("epochs", 3)), BatchSize: getI("batch-size", 8), LR: getF("lr", 5e-5),
		WeightDecay: f.weightDecay, WarmupSteps: f.warmupSteps, WarmupRatio: f.warmupRatio, Scheduler: f.scheduler,
		MaxGradNorm: f.maxGradNorm, GradAccum: f.gradAccum, Seed: seed, MaxLength: getI("max-length", 128),
		NoShuffle: noShuffle, ProblemType: f.problemType, ClassWeights: f.classWeights, EvalSteps: f.evalSteps,
		SaveSteps: f.saveSteps, Patience: f.patience, Metric: f.metric, LogSteps: f.logSteps, Progress: cmd.ErrOrStderr(),
	}
	if fs.Changed("dropout") {
		d, _ := fs.GetFloat64("dropout")
		cfg.Dropout = &d
	}
	if fs.Changed("threads") {
		n, _ := fs.GetInt("threads")
		tensor.SetThreads(n)
	}
	return cfg, nil
}

// commandContext is the command's context, or a background one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// runTransformerTrain fine-tunes a transformer.
func runTransformerTrain(cmd *cobra.Command, f *transformerTrainFlags, df *dataFlags) error {
	cfg, err := transformerTrainConfig(cmd, f, df)
	if err != nil {
		return err
	}
	ctx, output := commandContext(cmd), cfg.Output
	if f.resume != "" {
		cfg.Resume = f.resume
		if f.resume == "latest" {
			if cfg.Resume = train.LatestCheckpoint(output); cfg.Resume == "" {
				return fmt.Errorf("--resume: no checkpoint-* directory in %s", output)
			}
		}
	}
	res, err := train.Train(ctx, cfg)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), w)
	}
	st := res.State
	msg := fmt.Sprintf("trained %d steps (%.2f epochs); model saved to %s", st.GlobalStep, st.Epoch, output)
	if st.BestMetric != nil {
		msg += fmt.Sprintf(" (best eval %s %.4f at step %d)", cfg.Metric, *st.BestMetric, st.BestStep)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), msg)
	return nil
}

// resolveModelDir turns a --model argument (directory or hub id) into a
// local directory, downloading into the HF cache when needed.
func resolveModelDir(ctx context.Context, arg string) (string, error) {
	dir, _, err := hub.ResolveModel(ctx, arg, "", hub.FromEnv())
	return dir, err
}
