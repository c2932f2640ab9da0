package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/train"
)

const distillLong = `Trains a student on the soft targets of a teacher: any single-label classifier textclf opens
(--teacher: a transformer directory or hub id, a classic model directory, a fastText .bin file or
builtin:NAME). The student is classic (--arch fasttext, textcnn or bilstm; default fasttext) or a
transformer (--arch transformer): a new model of --config PRESET|config.json (its tokenizer from
--tokenizer, else the transformer teacher's), a pretrained --model, or --init-from-teacher, which
makes it of every other layer of a BERT-family teacher as DistilBERT was (half the layers: the
embeddings, the teacher's layers 0, 2, 4, … and BERT's pooler copied; a new classification head),
trained with textclf train's Trainer (AdamW, schedule, checkpoints, metrics.jsonl, --eval).
Each example's loss is alpha·soft + (1−alpha)·CE(hard label), soft being
T²·KL(softmax(teacher/T) ‖ softmax(student/T)) (--distill-loss kl, Hinton et al., T=2 as
DistilBERT) or the mean squared error between the logits (--distill-loss mse, Tang et al. 2019).
A classic teacher's probabilities serve as logits through their logarithm. The teacher's logits
are computed once and cached in --teacher-cache (default OUTPUT.teacher-logits, beside the output),
reused while the teacher's files and the texts are the same. --teacher repeated makes an ensemble:
the soft targets are then the logarithms of the mean of the teachers' probabilities (the teachers
must have the same labels in the same order). --unlabeled FILE adds texts (one a
line, or any data file; labels ignored) that the teacher labels: its logits are their soft
targets, its best label their hard one. The other flags are textclf train's for the student's arch.`

func newDistillCmd() *cobra.Command {
	f := &trainFlags{}
	var (
		teachers                 []string
		unlabeled, loss, cache   string
		temperature, alpha       float64
		teacherLen, teacherBatch int
		initFromTeacher          bool
	)
	// distillConfig is the distillation of the flags, for the student's
	// training data.
	distillConfig := func(cmd *cobra.Command, ds *data.Dataset) (textclf.DistillConfig, error) {
		dc := textclf.DistillConfig{
			Teacher: teachers[0], Teachers: teachers[1:], TeacherOptions: textclf.Options{Threads: f.threads, MaxLength: teacherLen, BatchSize: teacherBatch},
			Train: ds, Loss: loss, Temperature: temperature, Alpha: alpha, Cache: cache,
			Progress: progressBar(cmd, "teacher"),
		}
		if unlabeled != "" {
			opt, err := f.data.options(true)
			if err != nil {
				return dc, err
			}
			if dc.Unlabeled, err = data.ReadFile(unlabeled, opt); err != nil {
				return dc, fmt.Errorf("--unlabeled: %w", err)
			}
		}
		return dc, nil
	}
	report := func(cmd *cobra.Command, res *textclf.DistillResult) {
		from := "computed"
		if res.CacheHit {
			from = "read from"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "teacher logits %s %s; the teacher agrees with %.2f%% of the training labels; %d training examples (labelled and unlabelled)\n",
			from, cache, 100*res.TeacherAgreement, res.Examples)
	}
	cmd := &cobra.Command{
		Use:   "distill --teacher MODEL --train FILE --output DIR [--arch fasttext|textcnn|bilstm|transformer]",
		Short: "Knowledge distillation: train a smaller model (classic or transformer) on a teacher's soft targets",
		Long:  distillLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveArchFlags(cmd.Flags(), f.arch); err != nil {
				return err
			}
			if len(teachers) == 0 || slices.Contains(teachers, "") {
				return errors.New("--teacher is required")
			}
			if cache == "" && f.output != "" {
				cache = f.output + ".teacher-logits"
			}
			if f.arch != archTransformer {
				if initFromTeacher {
					return fmt.Errorf("--init-from-teacher makes a transformer student: it does not apply to --arch %s", f.arch)
				}
				return runClassicTrain(cmd, f, func(ds *data.Dataset, cfg classic.TrainConfig) (*classic.Classifier, int, error) {
					dc, err := distillConfig(cmd, ds)
					if err != nil {
						return nil, 0, err
					}
					dc.Student = cfg
					res, err := textclf.Distill(commandContext(cmd), dc)
					if err != nil {
						return nil, 0, err
					}
					report(cmd, res)
					return res.Student, res.Examples, nil
				})
			}
			if f.trainPath == "" || f.output == "" {
				return errors.New("--train and --output are required")
			}
			if !initFromTeacher && f.model == "" && f.modelConfig == "" {
				return errors.New("--arch transformer: give one student: --config PRESET|config.json, --model DIR or --init-from-teacher")
			}
			cfg, err := f.trainerConfig(cmd)
			if err != nil {
				return err
			}
			cfg.EveryOtherLayer = initFromTeacher
			ds, valid, _, err := readTrainEval(cmd, f)
			if err != nil {
				return err
			}
			cfg.ValidationSplit, cfg.Eval = 0, "" // read (or split off) above
			dc, err := distillConfig(cmd, ds)
			if err != nil {
				return err
			}
			dc.Eval = valid
			return runTrainer(cmd, cfg, func(ctx context.Context, cfg train.Config) (*train.Result, error) {
				dc.Transformer = &cfg
				res, err := textclf.Distill(ctx, dc)
				if err != nil {
					return nil, err
				}
				report(cmd, res)
				return res.Trained, nil
			})
		},
	}
	fs := cmd.Flags()
	f.registerCommon(fs, false)
	f.registerTransformer(fs, false)
	f.registerClassic(fs)
	fs.Lookup("arch").DefValue, f.arch = classic.ArchFastText, classic.ArchFastText
	fs.Lookup("arch").Usage = "student: fasttext, textcnn, bilstm or transformer (the help lists the flags of the arch given)"
	fs.StringArrayVar(&teachers, "teacher", nil, "teacher model: directory, hub id, fastText .bin file or builtin:NAME; repeated, an ensemble (the mean of the teachers' probabilities)")
	fs.BoolVar(&initFromTeacher, "init-from-teacher", false, "--arch transformer: the student is every other layer of the teacher, a BERT-family transformer (DistilBERT's initialisation; a new head)")
	fs.StringVar(&unlabeled, "unlabeled", "", "file of more texts for the teacher to label (one a line, or a data file)")
	fs.StringVar(&loss, "distill-loss", classic.DistillKL, "soft-target loss: kl (T²·KL on softened distributions) or mse (on logits)")
	fs.Float64Var(&temperature, "temperature", classic.DefaultTemperature, "softmax temperature T of the kl loss")
	fs.Float64Var(&alpha, "alpha", 0.5, "weight of the soft-target loss; 1-alpha weighs the hard labels")
	fs.StringVar(&cache, "teacher-cache", "", "file of the teacher's logits, reused while teacher and texts are unchanged (default OUTPUT.teacher-logits)")
	fs.IntVar(&teacherLen, "teacher-max-length", 0, "truncate the teacher's inputs to this many tokens (default: the teacher's limit)")
	fs.IntVar(&teacherBatch, "teacher-batch-size", textclf.DefaultBatchSize, "inputs per forward pass of the teacher")
	setArchHelp(cmd, f, classic.ArchFastText, func(arch string) string {
		return distillLong + fmt.Sprintf("\n\nThe student's flags below are those of --arch %s, with its defaults.", arch)
	})
	return cmd
}
