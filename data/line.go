package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
)

// LineParser reads the examples of a CSV, TSV or JSONL file one line at a
// time, for readers that see the lines of a file in no particular order
// and without their numbers (the workers of a Beam pipeline). It reads a
// line as Read reads it in a whole file, except that a CSV record must fit
// on one line (a quoted field spanning lines is an error) and a row equal to
// the file's header row is taken as the header.
type LineParser struct {
	format Format
	opt    Options
	cols   columns
	header string // the header row, "" when the file has none
}

// NewLineParser returns a parser of the lines of the file path in format
// (csv, tsv or jsonl), whose first line that is not blank is first: for
// CSV and TSV, the columns are found in it as Read finds them in the first
// row (a header row, or in a headerless file the column indexes of opt; a
// headerless file of two columns needs opt.TextColumn or opt.LabelColumn,
// since the guess Read makes from all rows cannot be made from one).
func NewLineParser(path string, format Format, first string, opt Options) (*LineParser, error) {
	p := &LineParser{format: format, opt: opt}
	switch format {
	case FormatJSONL:
		return p, nil
	case FormatCSV, FormatTSV:
	default:
		return nil, fmt.Errorf("%s: line parser: format %q is not csv, tsv or jsonl", path, format)
	}
	first = strings.TrimRight(first, "\r")
	rec, err := p.split(first)
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", path, err)
	}
	text, pair, label, start, err := resolveColumns(path, [][]string{rec}, opt)
	if err != nil {
		return nil, err
	}
	if start == 0 && len(rec) == 2 && opt.TextColumn == "" && opt.LabelColumn == "" {
		return nil, fmt.Errorf("%s: headerless file with 2 columns: give the text column's 0-based index (read line by line, the label column cannot be guessed from the values)", path)
	}
	p.cols = columns{text: text, pair: pair, label: label}
	if start == 1 {
		p.header = first
	}
	return p, nil
}

// Parse reads one line (without its line ending). ok is false for a blank
// line and for the header row, which hold no example.
func (p *LineParser) Parse(line string) (ex Example, ok bool, err error) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" || (p.header != "" && line == p.header) {
		return ex, false, nil
	}
	if p.format == FormatJSONL {
		ex, _, err = parseJSONLine([]byte(line), p.opt)
		return ex, err == nil, err
	}
	rec, err := p.split(line)
	if err != nil {
		return ex, false, err
	}
	ex, _, err = p.cols.example(rec, p.opt)
	return ex, err == nil, err
}

// split cuts a CSV or TSV line into its cells.
func (p *LineParser) split(line string) ([]string, error) {
	if p.format == FormatTSV {
		return strings.Split(line, "\t"), nil
	}
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("CSV: %w (a record must fit on one line)", err)
	}
	return rec, nil
}
