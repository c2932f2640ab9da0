package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/tokenizer"
	"golang.org/x/term"
)

// classifyFlags are the options of eval and predict that say how a model is
// loaded and run.
type classifyFlags struct {
	model string
	// defaultModel is used when --model is not given (predict: the
	// built-in sentiment model); empty makes --model required.
	defaultModel                 string
	maxLength, batchSize, thread int
	threshold                    float64
	longText                     string
	stride                       int
	truncationDirection          string
	dtype                        string
}

func (f *classifyFlags) register(fs *pflag.FlagSet) {
	help := "model: transformer directory or hub id, classic model directory, fastText .bin file, or builtin:NAME (textclf models lists them)"
	if f.defaultModel != "" {
		help += " (default " + f.defaultModel + ")"
	}
	fs.StringVar(&f.model, "model", "", help)
	fs.IntVar(&f.maxLength, "max-length", 0, "truncate inputs to this many tokens (default: the model's limit; none for fastText)")
	fs.IntVar(&f.batchSize, "batch-size", textclf.DefaultBatchSize, "inputs per forward pass")
	fs.IntVar(&f.thread, "threads", 0, "compute threads (default: all cores)")
	fs.Float64Var(&f.threshold, "threshold", 0, "multi-label decision threshold (default: 0.5, or the classic model's)")
	fs.StringVar(&f.longText, "long-text", "truncate", "inputs over --max-length: truncate, or window (overlapping windows, mean of their scores)")
	fs.IntVar(&f.stride, "stride", 0, "tokens shared by consecutive windows with --long-text window (default max-length/8)")
	fs.StringVar(&f.truncationDirection, "truncation-direction", "right", "which end of a long input truncation cuts: right or left")
	registerDtype(fs, &f.dtype)
}

// registerDtype adds --dtype (transformers: f32, int8 or bf16).
func registerDtype(fs *pflag.FlagSet, dtype *string) {
	fs.StringVar(dtype, "dtype", "f32", "what a transformer's Linear layers run in: f32; int8 (quantized on load: int8 weights per output channel, inputs per row); or bf16 (weights and inputs rounded to bfloat16, exact products summed in float32, emulated with FMA on CPUs without AVX512_BF16); an int8 directory (textclf quantize) always runs in int8")
}

// open loads --model with the flags' options and prints the loading
// messages (weights newly initialised, …) on stderr.
func (f *classifyFlags) open(cmd *cobra.Command) (*textclf.Classifier, error) {
	if f.model == "" {
		f.model = f.defaultModel
	}
	if f.model == "" {
		return nil, errors.New("--model is required")
	}
	clf, err := textclf.Open(commandContext(cmd), f.model, textclf.Options{MaxLength: f.maxLength, BatchSize: f.batchSize, Threads: f.thread, Dtype: f.dtype})
	if err != nil {
		return nil, err
	}
	for _, w := range clf.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), w)
	}
	return clf, nil
}

// options turns the flags into classification options for clf.
func (f *classifyFlags) options(cmd *cobra.Command, clf *textclf.Classifier) (textclf.ClassifyOptions, error) {
	opt := textclf.ClassifyOptions{Threshold: f.threshold}
	switch f.longText {
	case "truncate":
	case "window":
		opt.Windows, opt.Stride = true, f.stride
		if !cmd.Flags().Changed("stride") {
			opt.Stride = clf.MaxLength() / 8
		}
	default:
		return opt, fmt.Errorf("--long-text must be truncate or window, got %q", f.longText)
	}
	switch f.truncationDirection {
	case "right":
	case "left":
		opt.TruncateLeft = true
	default:
		return opt, fmt.Errorf("--truncation-direction must be right or left, got %q", f.truncationDirection)
	}
	if opt.Windows && opt.TruncateLeft {
		return opt, errors.New("--long-text window reads the whole input: --truncation-direction does not apply")
	}
	return opt, nil
}

// progressBar returns a progress callback drawing a bar on stderr when it
// is a terminal, else nil.
func progressBar(cmd *cobra.Command, what string) func(done, total int) {
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set(done)
		if done == total {
			_ = bar.Finish()
		}
	}
}

// readTextLines reads one text per line (stdin input of predict). Invalid
// UTF-8 is replaced by U+FFFD as in data files (data.Read), and the
// warning names the lines.
func readTextLines(r io.Reader) ([]textclf.Input, []string, error) {
	var out []textclf.Input
	var invalid []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 64<<20)
	for sc.Scan() {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if !utf8.ValidString(text) {
			text = tokenizer.ToValidUTF8(text)
			invalid = append(invalid, strconv.Itoa(len(out)+1))
		}
		out = append(out, textclf.Input{Text: text})
	}
	var warnings []string
	if len(invalid) > 0 {
		more := ""
		if len(invalid) > 10 {
			more, invalid = fmt.Sprintf(" and %d more", len(invalid)-10), invalid[:10]
		}
		warnings = append(warnings, fmt.Sprintf("stdin: invalid UTF-8 replaced by U+FFFD on line %s%s", strings.Join(invalid, ", "), more))
	}
	return out, warnings, sc.Err()
}
