package main

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/tokenizer"
)

// newTokenizerCmd is the `textclf tokenizer` command group.
func newTokenizerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokenizer",
		Short: "Build tokenizers (see also `textclf tokenize`)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTokenizerTrainCmd())
	return cmd
}

func newTokenizerTrainCmd() *cobra.Command {
	def := tokenizer.DefaultWordPieceTrainerConfig()
	var (
		corpora         []string
		output          string
		cfg             = def
		stripAccents    string
		initialAlphabet string
	)
	cmd := &cobra.Command{
		Use:   "train --corpus FILE... --output DIR",
		Short: "Train a BERT WordPiece tokenizer (HF's BertWordPieceTokenizer.train) on text files",
		Long: `Counts the words of every line of the corpus files (BertNormalizer, then
BertPreTokenizer), learns a WordPiece vocabulary with HF tokenizers' WordPieceTrainer
(the BPE merge loop with the "##" continuing-subword prefix) and writes DIR/tokenizer.json
(HF's BertWordPieceTokenizer pipeline, with TemplateProcessing [CLS] $A [SEP]) and
DIR/vocab.txt (with transformers' tokenizer_config.json and special_tokens_map.json).
The defaults are BertWordPieceTokenizer.train's. The directory loads in HF
tokenizers/transformers and in textclf (--tokenizer DIR).

The vocabulary is the special tokens, the alphabet (by code point), the "##c"
continuing characters, then one token per merge (most frequent pair first).
Unlike HF, whose "##c" ids come in a random hash order from run to run, the result is
deterministic; a vocabulary size below what the alphabet needs is an error (HF
silently returns the larger vocabulary).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := append(slices.Clone(corpora), args...)
			if len(files) == 0 {
				return fmt.Errorf("--corpus is required")
			}
			if output == "" {
				return fmt.Errorf("--output is required")
			}
			if st, err := os.Stat(output); err == nil && !st.IsDir() {
				return fmt.Errorf("--output %s is a file, not a directory", output)
			}
			switch stripAccents {
			case "auto":
				cfg.StripAccents = nil
			case "true", "false":
				b := stripAccents == "true"
				cfg.StripAccents = &b
			default:
				return fmt.Errorf("--strip-accents must be auto, true or false, got %q", stripAccents)
			}
			cfg.InitialAlphabet = []rune(initialAlphabet)
			if !slices.Contains(cfg.SpecialTokens, cfg.UnkToken) {
				return fmt.Errorf("--unk-token %q must be one of --special-tokens %q", cfg.UnkToken, cfg.SpecialTokens)
			}
			tr, err := tokenizer.NewWordPieceTrainer(cfg)
			if err != nil {
				return err
			}
			start := time.Now()
			ctx := cmd.Context()
			for _, f := range files {
				if err := tr.FeedFile(ctx, f); err != nil {
					return err
				}
			}
			res, err := tr.Train(ctx)
			if err != nil {
				return fmt.Errorf("%w (corpus: %d files, %d distinct words)", err, len(files), tr.Words())
			}
			if err := res.Save(output); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (tokenizer.json, vocab.txt, tokenizer_config.json, special_tokens_map.json): %d tokens (%d merges) from %d distinct words in %.1fs\n",
				output, len(res.Vocab), res.Merges, tr.Words(), time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&corpora, "corpus", nil, "corpus text file, one text per line (repeatable; positional arguments are corpus files too)")
	f.StringVar(&output, "output", "", "directory to write tokenizer.json, vocab.txt, tokenizer_config.json and special_tokens_map.json into (created if needed)")
	f.IntVar(&cfg.VocabSize, "vocab-size", def.VocabSize, "vocabulary size, special tokens and alphabet included")
	f.IntVar(&cfg.MinFrequency, "min-frequency", def.MinFrequency, "stop merging at the first pair seen fewer times (HF's WordPieceTrainer default is 0)")
	f.IntVar(&cfg.LimitAlphabet, "limit-alphabet", def.LimitAlphabet, "keep at most this many characters, the most frequent (0: all)")
	f.StringVar(&initialAlphabet, "initial-alphabet", "", "characters kept in the alphabet even if the corpus lacks them")
	f.StringSliceVar(&cfg.SpecialTokens, "special-tokens", def.SpecialTokens, "special tokens, first in the vocabulary in this order")
	f.StringVar(&cfg.UnkToken, "unk-token", def.UnkToken, "unknown token (one of --special-tokens)")
	f.StringVar(&cfg.ContinuingSubwordPrefix, "prefix", def.ContinuingSubwordPrefix, "continuing-subword prefix")
	f.BoolVar(&cfg.Lowercase, "lowercase", def.Lowercase, "lower-case the text")
	f.StringVar(&stripAccents, "strip-accents", "auto", "strip accents: auto (as --lowercase), true or false")
	f.BoolVar(&cfg.HandleChineseChars, "chinese-chars", def.HandleChineseChars, "split CJK characters into words of their own")
	f.BoolVar(&cfg.CleanText, "clean-text", def.CleanText, "drop control characters, make every whitespace a space")
	return cmd
}
