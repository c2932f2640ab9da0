package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	tmodel "github.com/textclf/textclf/model"
	"github.com/textclf/textclf/train"
)

// loadFastTextModel reads a fastText-style model: a classic model directory
// or a model file saved by fastText (.bin, .ftz).
func loadFastTextModel(path string) (*classic.Classifier, error) {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return classic.ReadFastTextBin(path)
	}
	return classic.Load(path)
}

func newQuantizeCmd() *cobra.Command {
	var (
		model, output, trainPath string
		dtype                    string
		df                       dataFlags
		cfg                      = classic.DefaultQuantizeConfig()
	)
	cmd := &cobra.Command{
		Use:   "quantize --model FT_DIR|model.bin|TRANSFORMER_DIR --output DIR|FILE.ftz",
		Short: "Compress a fastText-style model as fastText's quantize does (.ftz), or a transformer to int8 or bf16",
		Long: `A transformer directory (or hub id) is written as an int8 directory (--dtype int8, the default):
every Linear layer's weights int8 per output channel (symmetric, |q| <= 63) with their float32
scales ("<name>_scale") in model.safetensors, quantization_config in config.json, the tokenizer
files copied. textclf loads it like any model and runs its Linear layers in int8 (inputs
quantized per row at run time); embeddings, layer norms and attention stay float32. With
--dtype bf16 the Linear layers' weights are written as BF16 tensors (rounded to nearest even)
and config.json says torch_dtype "bfloat16": those weights in half the bytes, a checkpoint transformers loads as
it is; textclf runs it in bf16 with --dtype bf16 (the BF16 weights packed straight from the file,
about a third of the float32 model's peak memory) and loads it as float32 (exactly) otherwise. The fastText
options do not apply.

Otherwise, compresses a fastText-style model (a directory written by train --arch fasttext, or a model
file saved by fastText) with fastText's quantize: --cutoff keeps the input rows (words and
n-grams) of largest norm, --retrain fine-tunes them on --train first, and the input matrix is
product-quantized in --dsub-value sub-vectors (256 centroids each, learnt by k-means), with the
norms quantized apart under --qnorm and the output matrix too under --qout. The result is in
fastText's .ftz format: --output FILE.ftz writes that file (fastText's predict and test read it),
any other --output a model directory (config.json, keeping the segmentation, and model.ftz).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model == "" || output == "" {
				return errors.New("--model and --output are required")
			}
			if loc, err := textclf.Locate(commandContext(cmd), model, ""); err == nil && loc.Kind == textclf.SourceTransformer {
				if trainPath != "" || cmd.Flags().Changed("retrain") || cmd.Flags().Changed("qout") {
					return errors.New("--train, --retrain and --qout are fastText options; a transformer is quantized to int8 without them")
				}
				return quantizeTransformer(cmd, loc.Path, output, dtype)
			}
			if cmd.Flags().Changed("dtype") {
				return errors.New("--dtype applies to transformers; a fastText-style model is product-quantized")
			}
			c, err := loadFastTextModel(model)
			if err != nil {
				return err
			}
			if trainPath != "" {
				opt, err := df.options(false)
				if err != nil {
					return err
				}
				if cfg.Data, err = data.ReadFile(trainPath, opt); err != nil {
					return err
				}
			} else if cfg.Retrain {
				return errors.New("--retrain needs --train, the data to retrain on")
			}
			cfg.Train.Log = cmd.ErrOrStderr()
			start := time.Now()
			if err := c.Quantize(cfg); err != nil {
				return fmt.Errorf("%s: %w", model, err)
			}
			if strings.HasSuffix(output, ".ftz") {
				err = c.WriteFastText(output)
			} else {
				err = c.Save(output)
				output = filepath.Join(output, classic.FastTextFile)
			}
			if err != nil {
				return err
			}
			st, err := os.Stat(output)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "quantized %s in %s: %s, %d bytes\n", model, time.Since(start).Round(time.Millisecond), output, st.Size())
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&model, "model", "", "fastText-style model (a textclf model directory or a fastText .bin file), or a transformer directory or hub id (written in int8)")
	fs.StringVar(&output, "output", "", "output: a FILE.ftz, or a model directory")
	fs.StringVar(&dtype, "dtype", tmodel.DtypeInt8, "what a transformer's Linear weights are written in: int8 or bf16")
	fs.IntVar(&cfg.Cutoff, "cutoff", cfg.Cutoff, "number of words and n-grams to keep, by norm (0: all)")
	fs.BoolVar(&cfg.Retrain, "retrain", cfg.Retrain, "fine-tune the kept rows on --train after the cutoff")
	fs.BoolVar(&cfg.QNorm, "qnorm", cfg.QNorm, "quantize the norms of the rows separately")
	fs.BoolVar(&cfg.QOut, "qout", cfg.QOut, "quantize the output matrix too (at least 256 labels)")
	fs.IntVar(&cfg.DSub, "dsub", cfg.DSub, "size of each sub-vector; must divide the dimension")
	fs.StringVar(&trainPath, "train", "", "training data for --retrain")
	df.register(fs)
	fs.IntVar(&cfg.Train.Epochs, "epochs", cfg.Train.Epochs, "retraining epochs")
	fs.Float64Var(&cfg.Train.LR, "lr", cfg.Train.LR, "retraining learning rate")
	fs.IntVar(&cfg.Train.Threads, "threads", cfg.Train.Threads, "threads for retraining and k-means")
	fs.Uint64Var(&cfg.Train.Seed, "seed", cfg.Train.Seed, "random seed of the retraining")
	return cmd
}

// quantizeTransformer writes the int8 or bf16 form of the transformer in dir
// to output (model.Model.SetDtype, then Save with the tokenizer files).
func quantizeTransformer(cmd *cobra.Command, dir, output, dtype string) error {
	if dtype != tmodel.DtypeInt8 && dtype != tmodel.DtypeBF16 {
		return fmt.Errorf("--dtype %q: a transformer is written in int8 or bf16", dtype)
	}
	if strings.HasSuffix(output, ".ftz") {
		return fmt.Errorf("--output %s: a transformer is quantized into a model directory, not a .ftz file", output)
	}
	start := time.Now()
	m, rep, err := tmodel.Load(dir, 42)
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), w)
	}
	if m.Dtype() == tmodel.DtypeInt8 {
		return fmt.Errorf("%s is already int8: give its float32 checkpoint", dir)
	}
	files, err := checkpoint.ReadFiles(train.TokenizerFiles(dir))
	if err != nil {
		return err
	}
	if err := m.SetDtype(dtype); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if err := m.SaveFiles(output, files); err != nil {
		return err
	}
	weights := filepath.Join(output, checkpoint.SafetensorsName)
	st, err := os.Stat(weights)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "quantized %s to %s in %s: %s, %d bytes\n", dir, dtype, time.Since(start).Round(time.Millisecond), weights, st.Size())
	return nil
}
