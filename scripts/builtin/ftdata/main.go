// Command ftdata writes a labelled TSV file of scripts/builtin/prep.py
// (header label<TAB>text) in fastText's format, segmented by textclf's
// classic segmentation, so that Debian's fasttext binary trains on exactly
// the tokens textclf's models see:
//
//	go run ./scripts/builtin/ftdata [-segment words|zh-words|en-words] IN.tsv OUT.txt
//
// Each line becomes "__label__NAME tok tok …"; the output is written
// through a temporary file renamed into place.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/internal/atomicfile"
)

func main() {
	segment := flag.String("segment", classic.SegmentWords, "segmentation: words (CJK as characters), zh-words or en-words")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: ftdata [-segment MODE] IN.tsv OUT.txt")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), classic.Segmenter{Mode: *segment}); err != nil {
		fmt.Fprintln(os.Stderr, "ftdata:", err)
		os.Exit(1)
	}
}

func run(in, out string, seg classic.Segmenter) error {
	if err := seg.Check(); err != nil {
		return err
	}
	ds, err := data.ReadFile(in, data.Options{Format: data.FormatTSV})
	if err != nil {
		return err
	}
	return atomicfile.Write(out, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		for i, ex := range ds.Examples {
			toks, err := seg.Segment(ex.Text)
			if err != nil {
				return fmt.Errorf("%s: example %d: %w", in, i+1, err)
			}
			if len(ex.Labels) != 1 || strings.ContainsAny(ex.Labels[0], " \t") {
				return fmt.Errorf("%s: example %d: want one label without spaces, got %q", in, i+1, ex.Labels)
			}
			fmt.Fprintf(w, "__label__%s %s\n", ex.Labels[0], strings.Join(toks, " "))
		}
		return w.Flush()
	})
}
