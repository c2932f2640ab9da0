package main

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
)

// dataFlags are the data-reading flags shared by train, eval and predict.
type dataFlags struct {
	format, textCol, pairCol, labelCol, labelSep, header string
}

func (d *dataFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.format, "data-format", "auto", "data format: auto (from the extension), csv, tsv, jsonl or fasttext")
	fs.StringVar(&d.textCol, "text-column", "", "text column (default text, then sentence; a 0-based index in headerless files)")
	fs.StringVar(&d.pairCol, "text-pair-column", "", "second text column, for sentence pairs")
	fs.StringVar(&d.labelCol, "label-column", "", "label column (default label; a 0-based index in headerless files)")
	fs.StringVar(&d.labelSep, "label-sep", "", "separator of several labels in one CSV/TSV cell (multi-label)")
	fs.StringVar(&d.header, "header", "auto", "CSV/TSV header row: auto, yes or no")
}

func (d *dataFlags) options(unlabelled bool) (data.Options, error) {
	f, err := data.ParseFormat(d.format)
	if err != nil {
		return data.Options{}, err
	}
	var h data.Header
	switch d.header {
	case "auto", "":
	case "yes":
		h = data.HeaderYes
	case "no":
		h = data.HeaderNo
	default:
		return data.Options{}, fmt.Errorf("--header must be auto, yes or no, got %q", d.header)
	}
	return data.Options{Format: f, TextColumn: d.textCol, TextPairColumn: d.pairCol, LabelColumn: d.labelCol, LabelSep: d.labelSep, Header: h, Unlabelled: unlabelled}, nil
}

func newTrainCmd() *cobra.Command {
	var (
		df               dataFlags
		arch, trainPath  string
		evalPath, output string
		epochs, threads  int
		batchSize        int
		lr               float64
		seed             uint64
		segment          string
		lower, noShuffle bool
		threshold        float64
		ft               = classic.DefaultFastTextConfig()
		nn               = classic.DefaultNNConfig()
		vectors          string
		freeze           bool
		tf               transformerTrainFlags
	)
	cmd := &cobra.Command{
		Use:   "train --arch ARCH --train FILE --output DIR",
		Short: "Fine-tune a transformer, or train a classic classifier (fasttext, textcnn, bilstm)",
		Long: `Trains a classifier on a labelled data file and saves it as a directory with config.json
and its weights. --arch transformer (the default) fine-tunes --model (a BERT, RoBERTa, XLM-R or
DistilBERT checkpoint directory or hub id) with the HF Trainer's defaults (3 epochs, batch 8,
lr 5e-5, linear schedule, max grad norm 1, max length 128) and saves it in HF format.
--arch fasttext is a fastText-style bag of word and char n-grams trained
with Hogwild SGD (flags named after fastText's); textcnn (Kim 2014) and bilstm are trained
with Adam, optionally over pretrained word vectors (--vectors).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !classic.IsClassic(arch) {
				if arch == "transformer" || arch == "" {
					return runTransformerTrain(cmd, &tf, &df)
				}
				return fmt.Errorf("unknown --arch %q (want transformer, fasttext, textcnn or bilstm)", arch)
			}
			if trainPath == "" || output == "" {
				return errors.New("--train and --output are required")
			}
			opt, err := df.options(false)
			if err != nil {
				return err
			}
			ds, err := data.ReadFile(trainPath, opt)
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if !fl.Changed("epochs") && arch != classic.ArchFastText {
				epochs = 10
			}
			if !fl.Changed("lr") && arch != classic.ArchFastText {
				lr = 1e-3
			}
			if fl.Changed("dim") {
				nn.Dim = ft.Dim
			}
			if fl.Changed("min-count") {
				nn.MinCount = ft.MinCount
			}
			nn.Freeze = freeze
			cfg := classic.TrainConfig{
				Arch:      arch,
				Segmenter: classic.Segmenter{Mode: segment, Lower: lower},
				FastText:  ft,
				NN:        nn,
				Train:     classic.TrainOptions{Epochs: epochs, LR: lr, Threads: threads, Seed: seed, Log: cmd.ErrOrStderr()},
				Threshold: threshold,
				Vectors:   vectors,
				BatchSize: batchSize,
				NoShuffle: noShuffle,
			}
			if evalPath != "" {
				if cfg.Valid, err = data.ReadFile(evalPath, opt); err != nil {
					return err
				}
			}
			start := time.Now()
			m, err := classic.Train(ds, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "trained %s on %d examples, %d labels in %s\n", arch, len(ds.Examples), len(m.Config.Labels), time.Since(start).Round(time.Millisecond))
			start = time.Now()
			if err := m.Save(output); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "saved %s in %s\n", output, time.Since(start).Round(time.Millisecond))
			if cfg.Valid != nil {
				rep, err := evaluate(m, cfg.Valid)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "eval %s: accuracy %.4f  macro F1 %.4f\n", evalPath, rep.Accuracy, rep.Macro.F1)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	df.register(fs)
	tf.register(fs)
	fs.StringVar(&arch, "arch", "transformer", "model: transformer, fasttext, textcnn or bilstm")
	fs.StringVar(&trainPath, "train", "", "training data file")
	fs.StringVar(&evalPath, "eval", "", "evaluation data file (transformer: evaluated during training, best model kept; classic: scored after training)")
	fs.StringVar(&output, "output", "", "directory to save the model into")
	fs.IntVar(&epochs, "epochs", 5, "passes over the training data (transformer default 3, classic NN 10)")
	fs.Float64Var(&lr, "lr", 0.1, "learning rate (transformer default 5e-5; fasttext: initial SGD rate; textcnn/bilstm default 1e-3 for Adam)")
	fs.IntVar(&threads, "threads", runtime.NumCPU(), "worker threads")
	fs.IntVar(&batchSize, "batch-size", 32, "mini-batch size (transformer default 8; textcnn, bilstm)")
	fs.Uint64Var(&seed, "seed", 42, "random seed")
	fs.BoolVar(&noShuffle, "no-shuffle", false, "keep the file's order in consecutive batches, no length bucketing (transformer, textcnn, bilstm)")
	fs.StringVar(&segment, "segment", classic.SegmentWords, "word segmentation: words (punctuation split, CJK as characters), whitespace, or zh-words (Chinese words with gse)")
	fs.BoolVar(&lower, "lower", false, "lower-case texts before segmentation")
	fs.Float64Var(&threshold, "threshold", 0.5, "multi-label decision threshold")
	fs.IntVar(&ft.Dim, "dim", ft.Dim, "embedding size")
	fs.IntVar(&ft.WordNgrams, "word-ngrams", ft.WordNgrams, "max length of word n-grams (fasttext)")
	fs.IntVar(&ft.Minn, "minn", ft.Minn, "min length of char n-grams (fasttext)")
	fs.IntVar(&ft.Maxn, "maxn", ft.Maxn, "max length of char n-grams, 0 for none (fasttext)")
	fs.IntVar(&ft.Bucket, "bucket", ft.Bucket, "number of hash buckets for n-grams (fasttext)")
	fs.IntVar(&ft.MinCount, "min-count", ft.MinCount, "minimal number of word occurrences")
	fs.StringVar(&ft.Loss, "loss", ft.Loss, "loss: softmax, hs or ova (fasttext; multi-label data switches softmax to ova)")
	fs.IntVar(&ft.LRUpdateRate, "lr-update-rate", ft.LRUpdateRate, "tokens between learning-rate updates (fasttext)")
	fs.StringVar(&vectors, "vectors", "", "word vectors (word2vec .bin/.txt, GloVe, fastText .vec) initialising the embeddings (textcnn, bilstm)")
	fs.BoolVar(&freeze, "freeze-vectors", false, "keep the pretrained embeddings fixed (textcnn, bilstm)")
	fs.IntVar(&nn.Filters, "filters", nn.Filters, "filters per width (textcnn)")
	fs.IntSliceVar(&nn.Widths, "filter-widths", nn.Widths, "filter widths (textcnn)")
	fs.IntVar(&nn.Hidden, "hidden", nn.Hidden, "LSTM hidden size per direction (bilstm)")
	fs.StringVar(&nn.Pool, "pool", nn.Pool, "pooling over time: max or mean (bilstm)")
	fs.Float64Var(&nn.Dropout, "dropout", nn.Dropout, "dropout (transformer: when given, overrides the config's hidden and attention dropout; textcnn, bilstm: before the output layer, default 0.5)")
	fs.IntVar(&nn.MaxLen, "max-length", nn.MaxLen, "truncate texts to this many tokens (transformer default 128; textcnn, bilstm)")
	return cmd
}
