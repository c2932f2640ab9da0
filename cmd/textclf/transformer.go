package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tokenizer"
)

// isClassicModel reports whether --model names a classic model (a
// directory whose config.json has a classic "arch", or a fastText .bin).
func isClassicModel(path string) bool {
	if strings.HasSuffix(path, ".bin") {
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return true
		}
	}
	cfg, err := classic.ReadConfig(path)
	return err == nil && classic.IsClassic(cfg.Arch)
}

// commandContext is the command's context, or a background one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// resolveModelDir turns a --model argument (directory or hub id) into a
// local directory, downloading into the HF cache when needed.
func resolveModelDir(ctx context.Context, arg string) (string, error) {
	dir, _, err := hub.ResolveModel(ctx, arg, "", hub.FromEnv())
	return dir, err
}

// runTransformerEval scores a transformer model on a labelled data file.
func runTransformerEval(cmd *cobra.Command, modelArg, dataPath string, opt data.Options) (*metrics.Report, error) {
	clf, err := loadClassifier(cmd, modelArg)
	if err != nil {
		return nil, err
	}
	ds, err := data.ReadFile(dataPath, opt)
	if err != nil {
		return nil, err
	}
	threshold, _ := cmd.Flags().GetFloat64("threshold")
	return clf.Evaluate(commandContext(cmd), ds, threshold)
}

// loadClassifier loads a transformer with the --max-length, --batch-size
// and --threads flags of the command (when it has them).
func loadClassifier(cmd *cobra.Command, modelArg string) (*textclf.Classifier, error) {
	ctx := commandContext(cmd)
	var opts textclf.Options
	fs := cmd.Flags()
	if fs.Lookup("max-length") != nil && fs.Changed("max-length") {
		opts.MaxLength, _ = fs.GetInt("max-length")
	}
	if fs.Lookup("batch-size") != nil && fs.Changed("batch-size") {
		opts.BatchSize, _ = fs.GetInt("batch-size")
	}
	if fs.Lookup("threads") != nil && fs.Changed("threads") {
		opts.Threads, _ = fs.GetInt("threads")
	}
	return textclf.Load(ctx, modelArg, opts)
}

// predictFlags are the pipeline options of `textclf predict` for transformers.
type predictFlags struct {
	topK      int
	all       bool
	function  string
	threshold float64
	format    string
	longText  string
	stride    int
}

func (p *predictFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.all, "all", false, "return every label, best first (transformer)")
	fs.StringVar(&p.function, "function", "", "softmax, sigmoid or none (default: sigmoid for multi-label or 1-label models, else softmax) (transformer)")
	fs.StringVar(&p.format, "format", "jsonl", "output format: jsonl, text or csv")
	fs.StringVar(&p.longText, "long-text", "truncate", "texts over --max-length: truncate, or window (overlapping windows, mean of their scores) (transformer)")
	fs.IntVar(&p.stride, "stride", 0, "tokens shared by consecutive windows with --long-text window (default max-length/8) (transformer)")
}

// transformerPrediction is one line of `textclf predict --format jsonl`.
type transformerPrediction struct {
	Text   string               `json:"text"`
	Label  string               `json:"label"`
	Score  float32              `json:"score"`
	Labels []string             `json:"labels,omitempty"`
	Scores []textclf.LabelScore `json:"scores"`
	Logits []float32            `json:"logits"`
}

// runTransformerPredict classifies the texts of args, of --data, or of
// stdin (one per line) as transformers' text-classification pipeline.
func runTransformerPredict(cmd *cobra.Command, modelArg string, texts []tokenizer.Input, p *predictFlags) error {
	ctx := commandContext(cmd)
	clf, err := loadClassifier(cmd, modelArg)
	if err != nil {
		return err
	}
	fn := clf.DefaultFunction()
	switch p.function {
	case "":
	case "softmax", "sigmoid", "none":
		fn = textclf.Function(p.function)
	default:
		return fmt.Errorf("--function must be softmax, sigmoid or none, got %q", p.function)
	}
	var preds []textclf.Prediction
	switch p.longText {
	case "truncate":
		preds, err = clf.ClassifyInputs(ctx, texts, fn)
	case "window":
		stride := p.stride
		if !cmd.Flags().Changed("stride") {
			stride = clf.MaxLength() / 8
		}
		preds, err = clf.ClassifyWindows(ctx, texts, stride, fn)
	default:
		return fmt.Errorf("--long-text must be truncate or window, got %q", p.longText)
	}
	if err != nil {
		return err
	}
	k := 1
	switch {
	case p.all:
		k = len(clf.Labels)
	case p.topK > 0:
		k = min(p.topK, len(clf.Labels))
	}
	multi := clf.Model.ProblemType == model.MultiLabel && fn == textclf.Sigmoid
	w := bufio.NewWriter(cmd.OutOrStdout())
	defer w.Flush()
	var cw *csv.Writer
	switch p.format {
	case "jsonl", "text":
	case "csv":
		cw = csv.NewWriter(w)
		if err := cw.Write([]string{"text", "label", "score"}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--format must be jsonl, text or csv, got %q", p.format)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, pr := range preds {
		out := transformerPrediction{Text: texts[i].Text, Label: pr.Label, Score: pr.Score, Scores: pr.Scores[:k], Logits: pr.Logits}
		if multi {
			out.Labels = []string{}
			for _, s := range pr.Scores {
				if float64(s.Score) >= p.threshold {
					out.Labels = append(out.Labels, s.Label)
				}
			}
		}
		switch p.format {
		case "jsonl":
			err = enc.Encode(out)
		case "text":
			label := out.Label
			if multi {
				label = strings.Join(out.Labels, ",")
			}
			_, err = fmt.Fprintf(w, "%s\t%.4f\t%s\n", label, out.Score, out.Text)
		case "csv":
			err = cw.Write([]string{out.Text, out.Label, strconv.FormatFloat(float64(out.Score), 'f', 6, 32)})
		}
		if err != nil {
			return err
		}
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

// readTextLines reads one text per line (stdin input of predict).
func readTextLines(r io.Reader) ([]tokenizer.Input, error) {
	var out []tokenizer.Input
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 64<<20)
	for sc.Scan() {
		out = append(out, tokenizer.Input{Text: strings.TrimSuffix(sc.Text(), "\r")})
	}
	return out, sc.Err()
}
