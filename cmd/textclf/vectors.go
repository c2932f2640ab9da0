package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/classic"
)

const vectorsLong = `Inspects word vectors as fastText's tools do, reading queries from standard input:

  nn          each word read: its --k nearest words by cosine similarity (fastText's nn)
  analogies   each line "A B C": the --k words nearest to A − B + C (fastText's analogies)
  word        each word read: "word v1 … vdim" (fastText's print-word-vectors)
  sentence    each line: its vector (fastText's print-sentence-vectors)

--model is any vector file textclf reads: a fastText model file (.bin or .ftz; supervised,
skipgram or cbow), a .vec/.txt file (word2vec or fastText text, GloVe) or a word2vec binary
file. Models with char n-grams (fastText's, or textclf word2vec --maxn N) give unseen words
vectors from their n-grams, other files give them zeros. A sentence vector is, for a supervised
fastText model, the mean of the rows its classifier sees; otherwise the mean of its words' unit
vectors.`

func newVectorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vectors nn|analogies|word|sentence --model FILE",
		Short: "Nearest neighbours, analogies, word and sentence vectors (fastText's vector tools)",
		Long:  vectorsLong,
		Args:  cobra.NoArgs,
	}
	var model string
	var k int
	load := func() (*classic.Vectors, error) {
		if model == "" {
			return nil, errors.New("--model is required")
		}
		return classic.ReadWordVectors(model)
	}
	sub := func(use, short string, needK bool, run func(v *classic.Vectors, in *bufio.Scanner, out *bufio.Writer) error) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " --model FILE",
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if needK && k < 1 {
					return fmt.Errorf("--k must be at least 1, got %d", k)
				}
				v, err := load()
				if err != nil {
					return err
				}
				sc := bufio.NewScanner(cmd.InOrStdin())
				sc.Buffer(make([]byte, 1<<16), 1<<26)
				out := bufio.NewWriter(cmd.OutOrStdout())
				err = run(v, sc, out)
				if ferr := out.Flush(); err == nil {
					err = ferr
				}
				if err == nil {
					err = sc.Err()
				}
				return err
			},
		}
		c.Flags().StringVar(&model, "model", "", "vector file: fastText .bin/.ftz, .vec/.txt, GloVe or word2vec binary")
		if needK {
			c.Flags().IntVar(&k, "k", 10, "number of words to print")
		}
		return c
	}
	printNeighbors := func(out io.Writer, ns []classic.Neighbor) {
		for _, n := range ns {
			fmt.Fprintf(out, "%s %s\n", n.Word, strconv.FormatFloat(float64(n.Similarity), 'g', 6, 32))
		}
	}
	printVector := func(out *bufio.Writer, x []float32) {
		for _, v := range x {
			out.WriteString(strconv.FormatFloat(float64(v), 'g', 5, 32))
			out.WriteByte(' ')
		}
		out.WriteByte('\n')
	}
	cmd.AddCommand(
		sub("nn", "Print the nearest neighbours of each word read", true, func(v *classic.Vectors, in *bufio.Scanner, out *bufio.Writer) error {
			in.Split(bufio.ScanWords)
			for in.Scan() {
				printNeighbors(out, v.NearestWords(in.Text(), k))
			}
			return nil
		}),
		sub("analogies", "Print the words nearest to A − B + C for each line \"A B C\"", true, func(v *classic.Vectors, in *bufio.Scanner, out *bufio.Writer) error {
			for line := 1; in.Scan(); line++ {
				fs := strings.Fields(in.Text())
				if len(fs) == 0 {
					continue
				}
				if len(fs) != 3 {
					return fmt.Errorf("line %d: %d words, want three (A B C for A − B + C)", line, len(fs))
				}
				printNeighbors(out, v.Analogies(fs[0], fs[1], fs[2], k))
			}
			return nil
		}),
		sub("word", "Print the vector of each word read", false, func(v *classic.Vectors, in *bufio.Scanner, out *bufio.Writer) error {
			in.Split(bufio.ScanWords)
			for in.Scan() {
				out.WriteString(in.Text())
				out.WriteByte(' ')
				printVector(out, v.WordVector(in.Text()))
			}
			return nil
		}),
		sub("sentence", "Print the vector of each line read", false, func(v *classic.Vectors, in *bufio.Scanner, out *bufio.Writer) error {
			for in.Scan() {
				printVector(out, v.SentenceVector(strings.Fields(in.Text())))
			}
			return nil
		}),
	)
	return cmd
}
