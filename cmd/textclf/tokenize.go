package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/tokenizer"
)

// tokenizeOutput is one line of `textclf tokenize`.
type tokenizeOutput struct {
	IDs           []int    `json:"ids"`
	TypeIDs       []int    `json:"type_ids"`
	Tokens        []string `json:"tokens"`
	AttentionMask []int    `json:"attention_mask"`
	Offsets       [][2]int `json:"offsets"`
}

func newTokenizeCmd() *cobra.Command {
	var (
		path       string
		pairs      bool
		maxLength  int
		truncation string
		noSpecial  bool
	)
	cmd := &cobra.Command{
		Use:   "tokenize --tokenizer PATH",
		Short: "Tokenize stdin, one text per line, into JSON lines as HF tokenizers does",
		Long: `Reads one text per line from stdin (with --pairs: text<TAB>pair) and writes one JSON
object per line: {"ids","type_ids","tokens","attention_mask","offsets"}. Offsets are
code point offsets into the line. PATH is a tokenizer.json file or a directory holding
tokenizer.json, vocab.txt (BERT) or vocab.json+merges.txt (GPT-2/RoBERTa).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("--tokenizer is required")
			}
			tk, err := tokenizer.Load(path)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("truncation") && maxLength <= 0 {
				return fmt.Errorf("--truncation needs --max-length")
			}
			if maxLength < 0 {
				return fmt.Errorf("--max-length must be positive, got %d", maxLength)
			}
			if maxLength > 0 {
				strategy := tokenizer.TruncationStrategy(truncation)
				switch strategy {
				case tokenizer.LongestFirst, tokenizer.OnlyFirst, tokenizer.OnlySecond:
				default:
					return fmt.Errorf("--truncation must be longest_first, only_first or only_second, got %q", truncation)
				}
				tk.Truncation = &tokenizer.Truncation{MaxLength: maxLength, Strategy: strategy, Direction: tokenizer.TruncateRight}
			}
			return tokenizeLines(cmd.InOrStdin(), cmd.OutOrStdout(), tk, pairs, !noSpecial)
		},
	}
	cmd.Flags().StringVar(&path, "tokenizer", "", "tokenizer.json file or tokenizer directory")
	cmd.Flags().BoolVar(&pairs, "pairs", false, "each line is text<TAB>pair")
	cmd.Flags().IntVar(&maxLength, "max-length", 0, "truncate to this many tokens, special tokens included")
	cmd.Flags().StringVar(&truncation, "truncation", string(tokenizer.LongestFirst), "truncation strategy: longest_first, only_first or only_second")
	cmd.Flags().BoolVar(&noSpecial, "no-special-tokens", false, "do not add the special tokens ([CLS], <s>, ...)")
	return cmd
}

func tokenizeLines(in io.Reader, out io.Writer, tk *tokenizer.Tokenizer, pairs, addSpecial bool) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadString('\n')
		if line == "" && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("stdin: %w", err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		var e tokenizer.Encoding
		var encErr error
		if pairs {
			text, pair, ok := strings.Cut(line, "\t")
			if !ok {
				return fmt.Errorf("stdin line %d: --pairs needs text<TAB>pair", lineNo)
			}
			e, encErr = tk.EncodePair(text, pair, addSpecial)
		} else {
			e, encErr = tk.Encode(line, addSpecial)
		}
		if encErr != nil {
			return fmt.Errorf("stdin line %d: %w", lineNo, encErr)
		}
		out := tokenizeOutput{IDs: orEmpty(e.IDs), TypeIDs: orEmpty(e.TypeIDs), Tokens: orEmpty(e.Tokens),
			AttentionMask: orEmpty(e.AttentionMask), Offsets: orEmpty(e.Offsets)}
		if err := enc.Encode(out); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// orEmpty makes a nil slice an empty one, so that JSON shows [] as HF does.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
