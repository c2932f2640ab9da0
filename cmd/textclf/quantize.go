package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
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
		df                       dataFlags
		cfg                      = classic.DefaultQuantizeConfig()
	)
	cmd := &cobra.Command{
		Use:   "quantize --model FT_DIR|model.bin --output DIR|FILE.ftz",
		Short: "Compress a fastText-style model as fastText's quantize does (.ftz)",
		Long: `Compresses a fastText-style model (a directory written by train --arch fasttext, or a model
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
	fs.StringVar(&model, "model", "", "fastText-style model: a textclf model directory or a fastText .bin file")
	fs.StringVar(&output, "output", "", "output: a FILE.ftz, or a model directory")
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
