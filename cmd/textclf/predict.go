package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/tokenizer"
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
		pf                 predictFlags
	)
	cmd := &cobra.Command{
		Use:   "predict --model DIR|HUB_ID [--data FILE] [TEXT ...]",
		Short: "Predict labels, one JSON object per line",
		Long: `Classifies texts given as arguments, or the rows of --data, or one text per line of stdin.
Writes one JSON line per input: {"text","label","score","scores":[{"label","score"}...]}, scores
sorted best first. Transformers follow transformers' text-classification pipeline: softmax (or
sigmoid for multi-label and 1-label models), the best label by default, --top-k N or --all for
more, "logits" too, and "labels" over --threshold for multi-label models. For classic multi-label
models "label" is the list of labels whose score reaches the model's threshold. Labels in the
input are ignored.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if modelDir != "" && !isClassicModel(modelDir) {
				pf.topK = topK
				pf.threshold, _ = cmd.Flags().GetFloat64("threshold")
				var inputs []tokenizer.Input
				switch {
				case len(args) > 0 && dataPath != "":
					return errors.New("give texts as arguments or --data, not both")
				case len(args) > 0:
					for _, a := range args {
						inputs = append(inputs, tokenizer.Input{Text: a})
					}
				case dataPath != "":
					opt, err := df.options(true)
					if err != nil {
						return err
					}
					ds, err := data.ReadFile(dataPath, opt)
					if err != nil {
						return err
					}
					inputs = textclf.InputsOf(ds.Examples)
				default:
					var err error
					if inputs, err = readTextLines(cmd.InOrStdin()); err != nil {
						return fmt.Errorf("stdin: %w", err)
					}
				}
				return runTransformerPredict(cmd, modelDir, inputs, &pf)
			}
			if len(args) > 0 {
				return errors.New("classic models read their texts from --data")
			}
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
	cmd.Flags().IntVar(&topK, "top-k", 0, "keep only the k best scores (classic: 0 keeps all; transformer: default 1)")
	pf.register(cmd.Flags())
	cmd.Flags().Float64("threshold", 0.5, "multi-label decision threshold (transformer)")
	cmd.Flags().Int("max-length", 0, "truncate inputs to this many tokens (transformer; default: the model's limit)")
	cmd.Flags().Int("batch-size", 16, "inputs per forward pass (transformer)")
	cmd.Flags().Int("threads", 0, "compute threads (default: all cores)")
	return cmd
}
