package textclfbeam

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/textclf/textclf/data"
)

// Input formats of ReadOptions.Format.
const (
	FormatAuto  = "auto"  // by extension: .jsonl/.ndjson/.json, .csv, .tsv/.tab, else text
	FormatText  = "text"  // one text a line, as textclf predict reads stdin
	FormatJSONL = "jsonl" // one JSON object a line, the text in a field
	FormatCSV   = "csv"   // comma-separated, a record a line, the text in a column
	FormatTSV   = "tsv"   // tab-separated, the text in a column
)

// ReadOptions say how ReadTexts finds the text of a line.
type ReadOptions struct {
	// Format is one of the Format constants ("" is FormatAuto).
	Format string `json:"format,omitempty"`
	// TextColumn names the text field of JSONL or column of CSV/TSV
	// (default text, then sentence), or its 0-based index in a headerless
	// file.
	TextColumn string `json:"text_column,omitempty"`
	// Header says whether CSV/TSV files start with a header row: auto
	// (default: when the first row names the text column), yes or no.
	Header string `json:"header,omitempty"`
}

func init() {
	register.DoFn5x0[context.Context, string, string, func(string, string), func(string, DeadLetter)](&parseFn{})
	register.Emitter2[string, string]()
	register.Emitter2[string, DeadLetter]()
}

// formatOf is the format of the file name under opt.
func (o ReadOptions) formatOf(name string) (string, error) {
	switch o.Format {
	case "", FormatAuto:
	case FormatText, FormatJSONL, FormatCSV, FormatTSV:
		return o.Format, nil
	default:
		return "", fmt.Errorf("format must be auto, text, jsonl, csv or tsv, got %q", o.Format)
	}
	switch strings.ToLower(path.Ext(strings.TrimSuffix(name, ".gz"))) {
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	case ".tsv", ".tab":
		return FormatTSV, nil
	}
	return FormatText, nil
}

// dataOptions are the options of data.LineParser.
func (o ReadOptions) dataOptions() (data.Options, error) {
	opt := data.Options{TextColumn: o.TextColumn, Unlabelled: true}
	switch o.Header {
	case "", "auto":
	case "yes":
		opt.Header = data.HeaderYes
	case "no":
		opt.Header = data.HeaderNo
	default:
		return opt, fmt.Errorf("header must be auto, yes or no, got %q", o.Header)
	}
	return opt, nil
}

// ReadTexts reads the texts of the files matching glob with Beam's textio
// (gzip files by their .gz extension): every line of a text file, the
// text field of each JSONL line, the text column of each CSV/TSV row, as
// textclf predict reads them (stdin for text files, --data for the
// others). It returns a PCollection<KV<string, string>> of file names and
// texts, and a PCollection<KV<string, DeadLetter>> of the lines that hold
// no readable text (a JSONL line that is not an object, a CSV row with too
// few columns, a CSV record spanning lines, …). A CSV/TSV file's columns
// are found in its first line; blank lines of CSV, TSV and JSONL files are
// skipped, and so is a row equal to the header. CheckInputs finds the
// errors of glob and of the files' first lines before a pipeline runs.
func ReadTexts(s beam.Scope, glob string, opt ReadOptions) (texts, deadLetters beam.PCollection) {
	s = s.Scope("textclf.ReadTexts")
	if _, err := opt.dataOptions(); err != nil {
		panic(err)
	}
	if _, err := opt.formatOf(""); err != nil {
		panic(err)
	}
	lines := textio.ReadWithFilename(s, glob, textio.ReadAutoCompression())
	return beam.ParDo2(s, &parseFn{Opt: opt}, lines)
}

// CheckInputs lists the files matching glob and checks the first line of
// each CSV/TSV file (its columns), so that a glob matching nothing or a
// file without the text column is an error before any work starts.
func CheckInputs(ctx context.Context, glob string, opt ReadOptions) ([]string, error) {
	dopt, err := opt.dataOptions()
	if err != nil {
		return nil, err
	}
	fsys, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", glob, err)
	}
	defer fsys.Close()
	files, err := fsys.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", glob, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input %s: no file matches", glob)
	}
	for _, f := range files {
		if _, err := newParser(ctx, fsys, f, opt, dopt); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// newParser returns the line parser of file (nil for a text file).
func newParser(ctx context.Context, fsys filesystem.Interface, file string, opt ReadOptions, dopt data.Options) (*data.LineParser, error) {
	format, err := opt.formatOf(file)
	if err != nil || format == FormatText {
		return nil, err
	}
	first := ""
	if format != FormatJSONL {
		if first, err = firstLine(ctx, fsys, file); err != nil {
			return nil, err
		}
	}
	return data.NewLineParser(file, data.Format(format), first, dopt)
}

// firstLine reads the first line of file that is not blank.
func firstLine(ctx context.Context, fsys filesystem.Interface, file string) (string, error) {
	rc, err := fsys.OpenRead(ctx, file)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var r io.Reader = rc
	if strings.HasSuffix(file, ".gz") {
		gz, err := gzip.NewReader(rc)
		if err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		defer gz.Close()
		r = gz
	}
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadString('\n')
		if strings.TrimSpace(line) != "" {
			return strings.TrimRight(line, "\r\n"), nil
		}
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
	}
}

// parseFn turns (file, line) into (file, text), or a dead letter.
type parseFn struct {
	Opt ReadOptions `json:"opt"`

	parsers map[string]*data.LineParser
	errs    map[string]error // files whose first line cannot be read
}

// ProcessElement reads the text of one line of file.
func (f *parseFn) ProcessElement(ctx context.Context, file, line string, emit func(string, string), dead func(string, DeadLetter)) {
	format, _ := f.Opt.formatOf(file) // checked by ReadTexts
	if format == FormatText {
		emit(file, strings.TrimSuffix(line, "\r"))
		return
	}
	p, err := f.parser(ctx, file)
	if err != nil {
		dead(file, DeadLetter{Input: line, Error: err.Error()})
		return
	}
	ex, ok, err := p.Parse(line)
	switch {
	case err != nil:
		dead(file, DeadLetter{Input: line, Error: err.Error()})
	case ok:
		emit(file, ex.Text)
	}
}

// parser returns the line parser of file, reading its first line once per
// DoFn instance.
func (f *parseFn) parser(ctx context.Context, file string) (*data.LineParser, error) {
	if p, ok := f.parsers[file]; ok {
		return p, nil
	}
	if err, ok := f.errs[file]; ok {
		return nil, err
	}
	if f.parsers == nil {
		f.parsers, f.errs = map[string]*data.LineParser{}, map[string]error{}
	}
	p, err := func() (*data.LineParser, error) {
		dopt, err := f.Opt.dataOptions()
		if err != nil {
			return nil, err
		}
		fsys, err := filesystem.New(ctx, file)
		if err != nil {
			return nil, err
		}
		defer fsys.Close()
		return newParser(ctx, fsys, file, f.Opt, dopt)
	}()
	if err != nil {
		f.errs[file] = err
		return nil, err
	}
	f.parsers[file] = p
	return p, nil
}
