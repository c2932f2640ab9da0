// Command textclf-beam classifies the texts of files on Apache Beam with a
// textclf model and writes JSONL shards PREFIX-SSSSS-of-NNNNN.jsonl, one
// line per text as textclf predict --format jsonl --all writes it, and the
// lines that could not be classified to PREFIX.failed-00000-of-00001.jsonl.
//
//	textclf-beam --input 'docs/*.txt' --output out/pred --model MODEL [--runner prism|flink|spark|dataflow|universal ...]
//
// It runs on Prism, Beam's Go runner, in this process by default; the
// runners' own flags (--endpoint, --environment_type, --project, --region,
// --temp_location, …) are Beam's. The same binary is the worker of a
// distributed runner.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	textclfbeam "github.com/textclf/textclf/beam"
)

// jobFlags registers the command's flags on fs (Beam's own are on the
// default flag set too).
func jobFlags(fs *flag.FlagSet) *textclfbeam.Job {
	j := &textclfbeam.Job{}
	fs.StringVar(&j.Input, "input", "", "glob of the input files (text: one text a line; .jsonl, .csv, .tsv: the text field or column)")
	fs.StringVar(&j.Output, "output", "", "prefix of the output shards PREFIX-SSSSS-of-NNNNN.jsonl")
	fs.StringVar(&j.DeadLetters, "dead-letters", "", "prefix of the dead-letter shard (default: PREFIX.failed)")
	fs.IntVar(&j.NumShards, "num-shards", 1, "number of output shards")
	fs.StringVar(&j.Read.Format, "format", textclfbeam.FormatAuto, "input format: auto (by extension), text, jsonl, csv or tsv")
	fs.StringVar(&j.Read.TextColumn, "text-column", "", "text field (JSONL) or column (CSV/TSV; a 0-based index without header) (default text, then sentence)")
	fs.StringVar(&j.Read.Header, "header", "auto", "CSV/TSV header row: auto, yes or no")
	c := &j.Classify
	fs.StringVar(&c.Model, "model", "", "model: directory, fastText .bin file, hub id or builtin: name (on every worker)")
	fs.StringVar(&c.Revision, "revision", "", "hub revision of a hub id (default main)")
	fs.StringVar(&c.ModelID, "model-id", "", "the model's name in the metrics and results (default --model)")
	fs.IntVar(&c.MaxLength, "max-length", 0, "most tokens per input (default: the model's limit)")
	fs.IntVar(&c.BatchSize, "batch-size", 16, "inputs per forward pass")
	fs.IntVar(&c.MinBatchSize, "min-batch-size", 512, "elements of the first batch a worker gathers from a bundle (each next batch doubles, up to --max-batch-size)")
	fs.IntVar(&c.MaxBatchSize, "max-batch-size", 512, "most elements of a batch (each batch doubles up to it)")
	fs.IntVar(&c.Threads, "threads", 0, "compute threads per worker process (default: all cores)")
	fs.StringVar(&c.LongText, "long-text", textclfbeam.Truncate, "inputs over --max-length: truncate, window (mean of overlapping windows) or reject (to the dead letters)")
	fs.IntVar(&c.Stride, "stride", 0, "tokens shared by consecutive windows with --long-text window (default max-length/8)")
	fs.StringVar(&c.Function, "function", "", "softmax, sigmoid or none (default: the model's, as textclf predict)")
	return j
}

func main() {
	job := jobFlags(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `Usage: textclf-beam --input GLOB --output PREFIX --model MODEL [flags]

Classifies the texts of the files matching --input with a textclf model on Apache Beam, and writes
PREFIX-SSSSS-of-NNNNN.jsonl (one {"text","label","score","scores",...} line per text, as textclf
predict --format jsonl --all) and the dead letters (lines that could not be read or classified, with
the reason) to PREFIX.failed-00000-of-00001.jsonl. Runs on Prism in this process by default:
--runner flink|spark|universal --endpoint HOST:PORT for a portable job server, --runner dataflow
--project P --region R --temp_location gs://... for Dataflow.

Flags (the textclf flags, then Beam's):
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	beam.Init() // a worker started by a distributed runner runs here and exits
	if err := run(context.Background(), *job, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "textclf-beam:", err)
		os.Exit(1)
	}
}

// run checks the job, builds its pipeline and runs it with the --runner
// flag's runner (default prism), then prints the files and the metrics.
func run(ctx context.Context, job textclfbeam.Job, log io.Writer) error {
	if job.Input == "" || job.Output == "" || job.Classify.Model == "" {
		return fmt.Errorf("--input, --output and --model are required (see --help)")
	}
	start := time.Now()
	files, err := job.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "textclf-beam: %d input files, model %s loaded in %.1fs\n", len(files), job.Classify.Model, time.Since(start).Seconds())
	p, s := beam.NewPipelineWithRoot()
	if err := job.Build(s); err != nil {
		return err
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return err
	}
	if res != nil {
		printMetrics(log, res.Metrics())
	}
	fmt.Fprintf(log, "textclf-beam: done in %.1fs\n", time.Since(start).Seconds())
	return nil
}

// printMetrics writes the RunInference metrics of the job.
func printMetrics(w io.Writer, m metrics.Results) {
	q := m.Query(func(r metrics.SingleResult) bool { return r.Namespace() == textclfbeam.DefaultMetricsNamespace })
	var lines []string
	for _, c := range q.Counters() {
		lines = append(lines, fmt.Sprintf("%s %d", c.Key.Name, c.Result()))
	}
	for _, d := range q.Distributions() {
		v := d.Result()
		mean := 0.0
		if v.Count > 0 {
			mean = float64(v.Sum) / float64(v.Count)
		}
		lines = append(lines, fmt.Sprintf("%s count %d mean %.1f min %d max %d", d.Key.Name, v.Count, mean, v.Min, v.Max))
	}
	sort.Strings(lines)
	fmt.Fprintln(w, "textclf-beam: metrics:", strings.Join(lines, "; "))
}
