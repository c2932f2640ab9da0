package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/train"
)

func newCVCmd() *cobra.Command {
	var (
		df     dataFlags
		tf     transformerTrainFlags
		folds  int
		format string
	)
	cmd := &cobra.Command{
		Use:   "cv --folds K --model DIR --train FILE --output DIR",
		Short: "Stratified K-fold cross-validation of transformer fine-tuning",
		Long: `Splits --train into K folds keeping the label proportions, fine-tunes --model on K-1 folds and
evaluates on the remaining one, K times (models in OUTPUT/fold-i), and prints each fold's best
evaluation scores with their mean ± standard deviation. Training flags are those of train.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, got %q", format)
			}
			cfg, err := transformerTrainConfig(cmd, &tf, &df)
			if err != nil {
				return err
			}
			if cfg.Eval != "" {
				return fmt.Errorf("cv evaluates on held-out folds: --eval is not used")
			}
			res, err := train.CrossValidate(commandContext(cmd), cfg, folds)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			names := make([]string, 0, len(res.Mean))
			for n := range res.Mean {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, f := range res.Folds {
				fmt.Fprintf(out, "fold %d (%d train, %d eval):", f.Fold, f.Train, f.Eval)
				for _, n := range names {
					fmt.Fprintf(out, "  %s %.4f", n, f.Scores[n])
				}
				fmt.Fprintln(out)
			}
			for _, n := range names {
				fmt.Fprintf(out, "%-9s %.4f ± %.4f\n", n, res.Mean[n], res.Std[n])
			}
			return nil
		},
	}
	fs := cmd.Flags()
	df.register(fs)
	tf.register(fs)
	fs.IntVar(&folds, "folds", 5, "number of folds")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	fs.String("train", "", "labelled data file to split into folds")
	fs.String("eval", "", "not used by cv")
	fs.String("output", "", "directory for the fold models")
	fs.Int("epochs", 3, "passes over the training folds")
	fs.Float64("lr", 5e-5, "peak learning rate")
	fs.Int("batch-size", 8, "examples per batch")
	fs.Uint64("seed", 42, "random seed (fold split, initialisation, order)")
	fs.Bool("no-shuffle", false, "keep the file's order in consecutive batches")
	fs.Int("max-length", 128, "truncate inputs to this many tokens")
	fs.Float64("dropout", 0.1, "override hidden and attention dropout")
	fs.Int("threads", 0, "compute threads (default: all cores)")
	return cmd
}
