package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
)

// evaluate scores a classic model just trained on a labelled dataset.
func evaluate(m *classic.Classifier, ds *data.Dataset) (*metrics.Report, error) {
	clf := textclf.NewClassifier(textclf.NewClassic(m, 0, ""), textclf.Options{})
	return clf.Evaluate(context.Background(), ds, textclf.ClassifyOptions{})
}

func newEvalCmd() *cobra.Command {
	var (
		cf                classifyFlags
		df                dataFlags
		dataPath          string
		reportDir, format string
	)
	cmd := &cobra.Command{
		Use:   "eval --model MODEL --data FILE",
		Short: "Evaluate a model: accuracy, precision/recall/F1, confusion matrix",
		Long: `Scores any model (a transformer directory or hub id, a classic model directory or a fastText
.bin file) on a labelled data file: accuracy, precision, recall and F1 per class and averaged, the
confusion matrix; for multi-label models subset accuracy and per-label scores at --threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, got %q", format)
			}
			if dataPath == "" {
				return errors.New("--data is required")
			}
			opt, err := df.options(false)
			if err != nil {
				return err
			}
			ds, err := data.ReadFile(dataPath, opt)
			if err != nil {
				return err
			}
			for _, w := range ds.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			clf, err := cf.open(cmd)
			if err != nil {
				return err
			}
			copt, err := cf.options(cmd, clf)
			if err != nil {
				return err
			}
			copt.Progress = progressBar(cmd, "eval")
			rep, err := clf.Evaluate(commandContext(cmd), ds, copt)
			if err != nil {
				return err
			}
			if reportDir != "" {
				title := fmt.Sprintf("%s on %s", filepath.Base(filepath.Clean(cf.model)), filepath.Base(dataPath))
				if err := rep.WriteReportDir(reportDir, title); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "report written to %s\n", filepath.Join(reportDir, "report.html"))
			}
			if format == "json" {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	df.register(fs)
	fs.StringVar(&dataPath, "data", "", "labelled data file")
	fs.StringVar(&reportDir, "report", "", "directory to write report.html and report.json into")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
