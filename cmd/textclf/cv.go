package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/progress"
	"github.com/textclf/textclf/train"
)

func newCVCmd() *cobra.Command {
	var (
		f      trainFlags
		folds  int
		format string
	)
	cmd := &cobra.Command{
		Use:   "cv --folds K --model DIR --train FILE --output DIR",
		Short: "Stratified K-fold cross-validation of transformer fine-tuning",
		Long: `Splits --train into K folds keeping the label proportions, fine-tunes --model on K-1 folds and
evaluates on the remaining one, K times (models in OUTPUT/fold-i), and prints each fold's best
evaluation scores with their mean ± standard deviation. Training flags and defaults are those of
train --arch transformer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, got %q", format)
			}
			cfg, err := f.transformerConfig(cmd)
			if err != nil {
				return err
			}
			cfg.Progress = progress.NewTraining(cmd.ErrOrStderr())
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
	f.registerCommon(fs, true)
	f.registerTransformer(fs, true)
	fs.IntVar(&folds, "folds", 5, "number of folds")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	if err := applyArchDefaults(fs, archTransformer); err != nil {
		panic(err) // the transformer's defaults are the program's own
	}
	return cmd
}
