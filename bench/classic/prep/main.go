// Command prep writes the benchmark splits in fastText format, segmented
// once by textclf's classic segmentation, so that fastText and textclf train
// on exactly the same tokens: SST-2 train→dev; THUCNews test→dev (Chinese as
// characters); SMS spam with a fixed 80/20 split.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
)

func main() {
	datasets := flag.String("datasets", "../shared/datasets", "datasets directory")
	out := flag.String("out", "bench-data", "output directory")
	flag.Parse()
	if err := run(*datasets, *out); err != nil {
		fmt.Fprintln(os.Stderr, "prep:", err)
		os.Exit(1)
	}
}

func write(path string, exs []data.Example, names map[string]string) error {
	seg := classic.Segmenter{Mode: classic.SegmentWords}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, ex := range exs {
		toks, err := seg.Segment(ex.Text)
		if err != nil {
			return err
		}
		l := ex.Labels[0]
		if n, ok := names[l]; ok {
			l = n
		}
		fmt.Fprintf(w, "__label__%s %s\n", l, strings.Join(toks, " "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func run(dir, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	read := func(p string, opt data.Options) (*data.Dataset, error) {
		return data.ReadFile(filepath.Join(dir, p), opt)
	}
	tsv := data.Options{Format: data.FormatTSV}
	// SST-2
	tr, err := read("sst2/train.tsv", tsv)
	if err != nil {
		return err
	}
	dv, err := read("sst2/dev.tsv", tsv)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(out, "sst2.train.txt"), tr.Examples, nil); err != nil {
		return err
	}
	if err := write(filepath.Join(out, "sst2.dev.txt"), dv.Examples, nil); err != nil {
		return err
	}
	// THUCNews: headerless text<TAB>label-index; names from class.txt.
	classes, err := os.ReadFile(filepath.Join(dir, "thucnews/class.txt"))
	if err != nil {
		return err
	}
	names := map[string]string{}
	for i, c := range strings.Fields(string(classes)) {
		names[fmt.Sprint(i)] = c
	}
	th := data.Options{Format: data.FormatTSV, Header: data.HeaderNo, TextColumn: "0", LabelColumn: "1"}
	tr, err = read("thucnews/test.txt", th)
	if err != nil {
		return err
	}
	dv, err = read("thucnews/dev.txt", th)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(out, "thucnews.train.txt"), tr.Examples, names); err != nil {
		return err
	}
	if err := write(filepath.Join(out, "thucnews.dev.txt"), dv.Examples, names); err != nil {
		return err
	}
	// SMS spam: fixed 80/20 split of a seeded shuffle.
	sms, err := read("sms_spam/SMSSpamCollection", data.Options{Format: data.FormatTSV, TextColumn: "SMS", LabelColumn: "Label"})
	if err != nil {
		return err
	}
	exs := sms.Examples
	rng := rand.New(rand.NewPCG(2024, 1))
	rng.Shuffle(len(exs), func(i, j int) { exs[i], exs[j] = exs[j], exs[i] })
	cut := len(exs) * 8 / 10
	if err := write(filepath.Join(out, "sms.train.txt"), exs[:cut], nil); err != nil {
		return err
	}
	return write(filepath.Join(out, "sms.dev.txt"), exs[cut:], nil)
}
