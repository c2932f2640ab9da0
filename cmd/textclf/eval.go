package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
)

// loadModel loads a saved model directory, choosing the path by the arch in
// its config.json, or a fastText .bin file.
func loadModel(dir string) (*classic.Classifier, error) {
	if dir == "" {
		return nil, errors.New("--model is required")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() && strings.HasSuffix(dir, ".bin") {
		return classic.ReadFastTextBin(dir) // a model saved by fastText itself
	}
	cfg, err := classic.ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if !classic.IsClassic(cfg.Arch) {
		return nil, fmt.Errorf("model %s: arch %q is not a classic model", dir, cfg.Arch)
	}
	return classic.Load(dir)
}

// evaluate scores a model on a labelled dataset.
func evaluate(m *classic.Classifier, ds *data.Dataset) (*metrics.Report, error) {
	lm, err := data.NewLabelMap(m.Config.Labels)
	if err != nil {
		return nil, err
	}
	prep, err := classic.Prepare(ds, lm, m.Config.Segmenter)
	if err != nil {
		return nil, err
	}
	scores := make([][]float32, len(prep.Docs))
	for i, d := range prep.Docs {
		scores[i] = m.ScoresTokens(d)
	}
	if m.Config.MultiLabel {
		return metrics.MultiLabel(m.Config.Labels, prep.Labels, scores, m.Config.Threshold)
	}
	gold := make([]int, len(scores))
	pred := make([]int, len(scores))
	for i, s := range scores {
		if len(prep.Labels[i]) != 1 {
			ex := ds.Examples[i]
			return nil, fmt.Errorf("%s:%d: %d labels for a single-label model", ds.Path, ex.Line, len(prep.Labels[i]))
		}
		gold[i] = prep.Labels[i][0]
		pred[i] = metrics.Argmax(s)
	}
	return metrics.Classification(m.Config.Labels, gold, pred)
}

func newEvalCmd() *cobra.Command {
	var (
		df                 dataFlags
		modelDir, dataPath string
		reportDir, format  string
	)
	cmd := &cobra.Command{
		Use:   "eval --model DIR --data FILE",
		Short: "Evaluate a model: accuracy, precision/recall/F1, confusion matrix",
		Args:  cobra.NoArgs,
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
			var rep *metrics.Report
			if modelDir != "" && !isClassicModel(modelDir) {
				if rep, err = runTransformerEval(cmd, modelDir, dataPath, opt); err != nil {
					return err
				}
			} else {
				m, err := loadModel(modelDir)
				if err != nil {
					return err
				}
				ds, err := data.ReadFile(dataPath, opt)
				if err != nil {
					return err
				}
				if rep, err = evaluate(m, ds); err != nil {
					return err
				}
			}
			if reportDir != "" {
				title := fmt.Sprintf("%s on %s", filepath.Base(filepath.Clean(modelDir)), filepath.Base(dataPath))
				if err := rep.WriteReportDir(reportDir, title); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "report written to %s\n", filepath.Join(reportDir, "report.html"))
			}
			if format == "json" {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	df.register(cmd.Flags())
	cmd.Flags().StringVar(&modelDir, "model", "", "model directory or hub id (transformer), saved classic model directory, or a fastText .bin model")
	cmd.Flags().Float64("threshold", 0.5, "multi-label decision threshold (transformer)")
	cmd.Flags().Int("max-length", 0, "truncate inputs to this many tokens (transformer; default: the model's limit)")
	cmd.Flags().Int("batch-size", 16, "inputs per forward pass (transformer)")
	cmd.Flags().Int("threads", 0, "compute threads (default: all cores)")
	cmd.Flags().StringVar(&dataPath, "data", "", "labelled data file")
	cmd.Flags().StringVar(&reportDir, "report", "", "directory to write report.html and report.json into")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
