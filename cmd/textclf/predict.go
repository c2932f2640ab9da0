package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"sort"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/data"
)

// labelScore is one label's score in predict output.
type labelScore struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// prediction is one line of `textclf predict` output.
type prediction struct {
	Text   string       `json:"text"`
	Label  any          `json:"label"`
	Score  float32      `json:"score"`
	Scores []labelScore `json:"scores"`
}

func newPredictCmd() *cobra.Command {
	var (
		df                 dataFlags
		modelDir, dataPath string
		topK               int
	)
	cmd := &cobra.Command{
		Use:   "predict --model DIR --data FILE",
		Short: "Predict labels, one JSON object per line",
		Long: `Writes one JSON line per input row: {"text","label","score","scores":[{"label","score"}...]},
scores sorted best first. For multi-label models "label" is the list of labels whose score
reaches the model's threshold and "score" the best score. Labels in the input are ignored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataPath == "" {
				return errors.New("--data is required")
			}
			m, err := loadModel(modelDir)
			if err != nil {
				return err
			}
			opt, err := df.options(true)
			if err != nil {
				return err
			}
			ds, err := data.ReadFile(dataPath, opt)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, ex := range ds.Examples {
				s, err := m.Scores(ex.Text, ex.TextPair)
				if err != nil {
					return err
				}
				ls := make([]labelScore, len(s))
				for i, v := range s {
					ls[i] = labelScore{m.Config.Labels[i], v}
				}
				sort.SliceStable(ls, func(a, b int) bool { return ls[a].Score > ls[b].Score })
				p := prediction{Text: ex.Text, Label: ls[0].Label, Score: ls[0].Score, Scores: ls}
				if topK > 0 && topK < len(ls) {
					p.Scores = ls[:topK]
				}
				if m.Config.MultiLabel {
					chosen := []string{}
					for _, l := range ls {
						if float64(l.Score) >= m.Config.Threshold {
							chosen = append(chosen, l.Label)
						}
					}
					p.Label = chosen
				}
				if err := enc.Encode(p); err != nil {
					return err
				}
			}
			return w.Flush()
		},
	}
	df.register(cmd.Flags())
	cmd.Flags().StringVar(&modelDir, "model", "", "saved model directory (or a fastText .bin model)")
	cmd.Flags().StringVar(&dataPath, "data", "", "data file (labels optional; a .txt file is fastText format, one text per line)")
	cmd.Flags().IntVar(&topK, "top-k", 0, "keep only the k best scores (0: all)")
	return cmd
}
