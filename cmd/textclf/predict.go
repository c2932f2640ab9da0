package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/builtin"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/tensor"
)

func newPredictCmd() *cobra.Command {
	var (
		cf       classifyFlags
		df       dataFlags
		dataPath string
		function string
		task     string
		write    textclf.WriteOptions
	)
	cmd := &cobra.Command{
		Use:   "predict [--model MODEL] [--data FILE] [TEXT ...]",
		Short: "Predict labels of texts given as arguments, in a file, or on stdin",
		Long: `Classifies the texts given as arguments, or the rows of --data, or one text per line of stdin,
with any model: a transformer (directory or hub id), a classic model directory, a fastText .bin
file or a built-in model (builtin:NAME; see textclf models). Without --model, builtin:sentiment:
English and Chinese sentiment, NEGATIVE or POSITIVE, each text sent to sentiment-zh if it has a
Han character and to sentiment-en otherwise. As transformers' text-classification pipeline: softmax scores (sigmoids for multi-label and
one-label models; classic models give their probabilities), the best label, or --top-k N / --all.
--format jsonl writes {"text","label","score","scores":[{"label","score"}...],"logits"} per input,
plus "labels" (those reaching --threshold) for multi-label models; --format text writes
labels<TAB>scores<TAB>text and --format csv text,label,score, several labels and scores joined by
commas (a multi-label model shows the labels reaching --threshold unless --top-k or --all is
given). Labels in --data are ignored.

--task fill-mask fills in the mask tokens ([MASK], <mask>) of each text with a masked language model
(textclf pretrain's output, or any BertForMaskedLM / RobertaForMaskedLM), as transformers' fill-mask
pipeline: one JSON line per text, the --top-k (default 5) proposals
[{"score","token","token_str","sequence"}...] of its mask, or a list of such lists, one per mask.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, err := readInputs(cmd, args, dataPath, df)
			if err != nil {
				return err
			}
			switch task {
			case "fill-mask":
				return runFillMask(cmd, cf, inputs, write, function)
			case "text-classification", "":
			default:
				return fmt.Errorf("--task %q: want text-classification or fill-mask", task)
			}
			pw, err := textclf.NewPredictionWriter(cmd.OutOrStdout(), write)
			if err != nil {
				return fmt.Errorf("--%w", err)
			}
			clf, err := cf.open(cmd)
			if err != nil {
				return err
			}
			opt, err := cf.options(cmd, clf)
			if err != nil {
				return err
			}
			info := clf.Info()
			if opt.Function, err = textclf.ParseFunction(function, ""); err != nil {
				return fmt.Errorf("--%w", err)
			}
			if opt.Function != "" && info.Function == textclf.None {
				return fmt.Errorf("--function: %s models give probabilities; it applies to transformers only", info.Kind)
			}
			opt.Progress = progressBar(cmd, "predict")
			preds, err := clf.ClassifyInputs(commandContext(cmd), inputs, opt)
			if err != nil {
				return err
			}
			for i, p := range preds {
				if err := pw.Write(inputs[i].Text, p); err != nil {
					return err
				}
			}
			return pw.Flush()
		},
	}
	fs := cmd.Flags()
	cf.defaultModel = textclf.BuiltinPrefix + builtin.Default
	cf.register(fs)
	df.register(fs)
	fs.StringVar(&dataPath, "data", "", "data file (labels optional; a .txt file is fastText format, one text per line)")
	fs.StringVar(&task, "task", "text-classification", "text-classification, or fill-mask (the mask tokens' most probable fillers)")
	fs.IntVar(&write.TopK, "top-k", 0, "show the k best labels with their scores (default 1; fill-mask: the k best tokens, default 5)")
	fs.BoolVar(&write.All, "all", false, "show every label, best first")
	fs.StringVar(&function, "function", "", "softmax, sigmoid or none (default: sigmoid for multi-label or 1-label transformers, else softmax)")
	fs.StringVar(&write.Format, "format", textclf.FormatJSONL, "output format: jsonl, text or csv")
	return cmd
}

// readInputs reads the texts of predict and explain: the arguments, the
// rows of --data, or one text per line of stdin.
func readInputs(cmd *cobra.Command, args []string, dataPath string, df dataFlags) ([]textclf.Input, error) {
	var inputs []textclf.Input
	var warnings []string
	switch {
	case len(args) > 0 && dataPath != "":
		return nil, errors.New("give texts as arguments or --data, not both")
	case len(args) > 0:
		for _, a := range args {
			inputs = append(inputs, textclf.Input{Text: a})
		}
	case dataPath != "":
		opt, err := df.options(true)
		if err != nil {
			return nil, err
		}
		ds, err := data.ReadFile(dataPath, opt)
		if err != nil {
			return nil, err
		}
		inputs, warnings = textclf.InputsOf(ds.Examples), ds.Warnings()
	default:
		var err error
		if inputs, warnings, err = readTextLines(cmd.InOrStdin()); err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
	}
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
	}
	return inputs, nil
}

// runFillMask writes the fill-mask proposals of each input as a JSON line:
// the list of its mask's proposals, or with several masks a list of lists.
func runFillMask(cmd *cobra.Command, cf classifyFlags, inputs []textclf.Input, write textclf.WriteOptions, function string) error {
	switch {
	case cf.model == "":
		return errors.New("--model is required")
	case write.All || function != "" || (write.Format != "" && write.Format != textclf.FormatJSONL):
		return errors.New("--task fill-mask writes JSON lines of its --top-k proposals: --all, --function and --format do not apply")
	case cf.dtype != "" && cf.dtype != "f32":
		return fmt.Errorf("--task fill-mask runs in f32: --dtype %s applies to text-classification", cf.dtype)
	}
	if cf.thread > 0 {
		tensor.SetThreads(cf.thread)
	}
	fm, err := textclf.OpenFillMask(commandContext(cmd), cf.model)
	if err != nil {
		return err
	}
	for _, w := range fm.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), w)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetEscapeHTML(false)
	for i, in := range inputs {
		if in.Pair != nil {
			return fmt.Errorf("input %d: fill-mask takes single texts, not pairs", i+1)
		}
		preds, err := fm.Fill(in.Text, write.TopK)
		if err != nil {
			return fmt.Errorf("input %d: %w", i+1, err)
		}
		var v any = preds
		if len(preds) == 1 {
			v = preds[0]
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}
