package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/explain"
)

func newExplainCmd() *cobra.Command {
	var (
		cf       classifyFlags
		df       dataFlags
		dataPath string
		format   string
		opt      textclf.ExplainOptions
	)
	cmd := &cobra.Command{
		Use:   "explain --model MODEL [--target LABEL] [--steps 50] [--method gausslegendre|riemann_trapezoid|occlusion] [--format jsonl|html] [TEXT ...]",
		Short: "Attribute predictions to the tokens of their texts (integrated gradients, occlusion)",
		Long: `Explains the prediction of each text given as an argument, row of --data or line of stdin.
A transformer is explained by integrated gradients following Captum's LayerIntegratedGradients on the
embeddings output (bert.embeddings, roberta.embeddings, distilbert.embeddings): the baseline is the
text with every token that is not special replaced by the pad token ([CLS] [PAD] ... [SEP]), same
positions and token types; the explained output is the softmax probability of the target label
(sigmoid for multi-label and one-label models); --steps points of --method, run --internal-batch-size
sequences per pass. Classic models (fasttext, textcnn, bilstm) are explained by leave-one-out
occlusion: a word's score is the drop of the probability without it.
--format jsonl writes per text {"text","label","probability","baseline_probability","predicted",
"scores","method","steps","tokens","offsets","special","attributions","normalized","delta","words"}:
attributions are the raw per-token scores (special tokens included), normalized their values divided
by their L2 norm, delta = sum(attributions) - (F(text) - F(baseline)), words the word-level sums
(word pieces merged). --format html writes a self-contained page like Captum's visualize_text.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "jsonl", "html":
			default:
				return fmt.Errorf("--format must be jsonl or html, got %q", format)
			}
			if cmd.Flags().Changed("steps") && opt.Steps <= 0 {
				return fmt.Errorf("--steps must be positive, got %d", opt.Steps)
			}
			if opt.InternalBatchSize < 0 {
				return fmt.Errorf("--internal-batch-size must not be negative, got %d", opt.InternalBatchSize)
			}
			inputs, err := readInputs(cmd, args, dataPath, df)
			if err != nil {
				return err
			}
			for i, in := range inputs {
				if in.Pair != nil {
					return fmt.Errorf("input %d: explain takes single texts, not sentence pairs", i+1)
				}
			}
			clf, err := cf.open(cmd)
			if err != nil {
				return err
			}
			switch cf.truncationDirection {
			case "right":
			case "left":
				opt.TruncateLeft = true
			default:
				return fmt.Errorf("--truncation-direction must be right or left, got %q", cf.truncationDirection)
			}
			if !cmd.Flags().Changed("steps") {
				opt.Steps = 0 // the method's default
			}
			progress := progressBar(cmd, "explain")
			out := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			var all []textclf.Explanation
			for i, in := range inputs {
				e, err := clf.Explain(commandContext(cmd), in.Text, opt)
				if err != nil {
					return fmt.Errorf("input %d: %w", i+1, err)
				}
				if format == "html" {
					all = append(all, e)
				} else if err := enc.Encode(e); err != nil {
					return err
				}
				if progress != nil {
					progress(i+1, len(inputs))
				}
			}
			if format == "html" {
				if len(all) == 0 {
					return errors.New("no texts to explain")
				}
				if err := explain.WriteHTML(out, all); err != nil {
					return err
				}
			}
			return out.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cf.model, "model", "", "model: transformer directory or hub id, classic model directory, or fastText .bin file")
	fs.IntVar(&cf.maxLength, "max-length", 0, "truncate inputs to this many tokens (default: the model's limit; none for fastText)")
	fs.IntVar(&cf.batchSize, "batch-size", textclf.DefaultBatchSize, "inputs per forward pass (occlusion)")
	fs.IntVar(&cf.thread, "threads", 0, "compute threads (default: all cores)")
	fs.StringVar(&cf.truncationDirection, "truncation-direction", "right", "which end of a long input truncation cuts: right or left")
	df.register(fs)
	fs.StringVar(&dataPath, "data", "", "data file (labels ignored; a .txt file is fastText format, one text per line)")
	fs.StringVar(&opt.Target, "target", "", "label to explain, by name or id (default: the predicted label)")
	fs.IntVar(&opt.Steps, "steps", explain.DefaultSteps, "points of the path integral (integrated gradients)")
	fs.StringVar(&opt.Method, "method", "", "gausslegendre or riemann_trapezoid (integrated gradients, transformers), or occlusion (default: gausslegendre for transformers, occlusion for classic models)")
	fs.IntVar(&opt.InternalBatchSize, "internal-batch-size", 0, fmt.Sprintf("sequences per forward and backward pass of integrated gradients (default: as many steps as fit %d padded tokens)", explain.DefaultPassTokens))
	fs.StringVar(&format, "format", "jsonl", "output format: jsonl or html")
	return cmd
}
