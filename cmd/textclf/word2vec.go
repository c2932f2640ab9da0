package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/classic"
)

func newWord2VecCmd() *cobra.Command {
	var (
		corpus, output string
		segment        string
		lower          bool
		cfg            = classic.DefaultWord2VecConfig()
	)
	cmd := &cobra.Command{
		Use:   "word2vec --corpus FILE --output FILE.vec|FILE.bin",
		Short: "Train word vectors: skip-gram or CBOW, with fastText's char n-grams",
		Long: `Trains word vectors on a plain-text corpus (one sentence or document per line), segmented
as classic models segment text, as fastText's skipgram and cbow commands do: negative sampling,
sub-sampling of frequent words, and with --maxn N (fastText: --minn 3 --maxn 6) each word's vector
is the mean of its own and its char n-grams' vectors, which gives vectors to unseen words too.
--output PREFIX.bin writes, as fastText does, a fastText model file (fastText's nn, analogies
and print-word-vectors read it, and so do textclf vectors and train --vectors) and PREFIX.vec;
any other name a .vec text file alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if corpus == "" || output == "" {
				return errors.New("--corpus and --output are required")
			}
			seg := classic.Segmenter{Mode: segment, Lower: lower}
			if err := seg.Check(); err != nil {
				return err
			}
			f, err := os.Open(corpus)
			if err != nil {
				return err
			}
			defer f.Close()
			var sents [][]string
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<16), 1<<28)
			for line := 1; sc.Scan(); line++ {
				toks, err := seg.Segment(sc.Text())
				if err != nil {
					return fmt.Errorf("%s:%d: %w", corpus, line, err)
				}
				if len(toks) > 0 {
					sents = append(sents, toks)
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("%s: %w", corpus, err)
			}
			cfg.Log = cmd.ErrOrStderr()
			v, err := classic.TrainWord2Vec(sents, cfg)
			if err != nil {
				return err
			}
			if prefix, ok := strings.CutSuffix(output, ".bin"); ok {
				// As fastText's -output PREFIX: the model and PREFIX.vec.
				if err := v.WriteFastText(output); err != nil {
					return err
				}
				output = prefix + ".vec"
			}
			return classic.WriteVectorsText(output, v)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&corpus, "corpus", "", "text corpus, one sentence per line")
	fs.StringVar(&output, "output", "", "output: PREFIX.bin (fastText model file and PREFIX.vec) or a .vec text file")
	fs.StringVar(&cfg.Model, "model", cfg.Model, "skipgram or cbow")
	fs.IntVar(&cfg.Minn, "minn", cfg.Minn, "min length of char n-grams")
	fs.IntVar(&cfg.Maxn, "maxn", cfg.Maxn, "max length of char n-grams, 0 for none (fastText: 6)")
	fs.IntVar(&cfg.Bucket, "bucket", cfg.Bucket, "number of hash buckets for char n-grams")
	fs.StringVar(&segment, "segment", classic.SegmentWords, "word segmentation: words, whitespace, zh-words or en-words (see textclf train --help)")
	fs.BoolVar(&lower, "lower", false, "lower-case the corpus")
	fs.IntVar(&cfg.Dim, "dim", cfg.Dim, "vector size")
	fs.IntVar(&cfg.Window, "window", cfg.Window, "max context window")
	fs.IntVar(&cfg.Negative, "negative", cfg.Negative, "negative samples per context word")
	fs.IntVar(&cfg.MinCount, "min-count", cfg.MinCount, "minimal word count")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "passes over the corpus")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "initial learning rate")
	fs.Float64Var(&cfg.Sample, "sample", cfg.Sample, "sub-sampling threshold of frequent words (0: off)")
	fs.IntVar(&cfg.Threads, "threads", runtime.NumCPU(), "worker threads")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	return cmd
}
