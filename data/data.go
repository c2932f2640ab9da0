package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/textclf/textclf/tokenizer"
)

// Format is the layout of a data file.
type Format string

// The formats Read understands. FormatAuto picks one from the file's
// extension (.csv, .tsv/.tab, .jsonl/.ndjson/.json, .txt/.ft).
const (
	FormatAuto     Format = ""
	FormatCSV      Format = "csv"
	FormatTSV      Format = "tsv"
	FormatJSONL    Format = "jsonl"
	FormatFastText Format = "fasttext"
)

// Header says whether a CSV/TSV file starts with a header row.
type Header string

// Header modes: HeaderAuto treats the first row as a header when it names
// the text column (or, by default, "text"/"sentence") or the label column,
// in any case ("Label" and "LABEL" name the column "label").
const (
	HeaderAuto Header = ""
	HeaderYes  Header = "yes"
	HeaderNo   Header = "no"
)

// Options says how to read a data file. The zero value reads the usual
// layouts: columns "text" (or "sentence") and "label".
type Options struct {
	// Format overrides the format detected from the file's extension.
	Format Format
	// TextColumn names the text column (default "text", then "sentence").
	// In a headerless CSV/TSV file it may be a 0-based column index.
	TextColumn string
	// TextPairColumn names an optional second text column (sentence pairs).
	TextPairColumn string
	// LabelColumn names the label column (default "label"). In a headerless
	// CSV/TSV file it may be a 0-based column index.
	LabelColumn string
	// LabelSep, when not empty, splits a CSV/TSV label cell into several
	// labels (multi-label rows).
	LabelSep string
	// Header says whether CSV/TSV files have a header row.
	Header Header
	// Unlabelled accepts rows without a label (prediction input).
	Unlabelled bool
	// LabelNames, when not empty, names the labels of index-labelled data
	// (as THUCNews' class.txt): label i of the file reads as LabelNames[i],
	// a label that is not an index of the list is an error, and the label
	// map keeps the list's order (see BuildLabelMap).
	LabelNames []string
}

// Example is one row of a data file.
type Example struct {
	// Text is the text to classify.
	Text string
	// TextPair is the second text of a pair, or "".
	TextPair string
	// Labels holds the row's label names (one, several, or none when
	// Options.Unlabelled allows it). Integer labels are kept as their decimal
	// string.
	Labels []string
	// Line is the 1-based line of the row in its file.
	Line int
}

// Dataset is the content of one data file.
type Dataset struct {
	// Path is the file the examples came from.
	Path string
	// Examples are the rows, in file order.
	Examples []Example
	// MultiLabel is true when any row has more than one label or labels were
	// given as lists.
	MultiLabel bool
	// LabelNames is Options.LabelNames when it was given: every label of
	// the data set, in id order.
	LabelNames []string
	// InvalidUTF8 lists the lines whose invalid UTF-8 was replaced by
	// U+FFFD (see Read).
	InvalidUTF8 []int
}

// DetectFormat returns the format that a file name's extension implies.
func DetectFormat(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(path, ".gz")))
	switch ext {
	case ".csv":
		return FormatCSV, nil
	case ".tsv", ".tab":
		return FormatTSV, nil
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL, nil
	case ".txt", ".ft", ".fasttext", ".train", ".valid", ".test":
		return FormatFastText, nil
	}
	return "", fmt.Errorf("%s: cannot tell the data format from the extension %q; give it (csv, tsv, jsonl, fasttext)", path, ext)
}

// ParseFormat checks a format name given on the command line.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case FormatAuto, "auto":
		return FormatAuto, nil
	case FormatCSV, FormatTSV, FormatJSONL, FormatFastText:
		return Format(strings.ToLower(s)), nil
	case "json", "ndjson":
		return FormatJSONL, nil
	case "ft":
		return FormatFastText, nil
	}
	return "", fmt.Errorf("unknown data format %q (want csv, tsv, jsonl or fasttext)", s)
}

// ReadFile reads a data file.
func ReadFile(path string, opt Options) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format := opt.Format
	if format == FormatAuto {
		if format, err = DetectFormat(path); err != nil {
			return nil, err
		}
	}
	return Read(f, path, format, opt)
}

// Read reads data in the given format from r; name is used in errors.
// Invalid UTF-8 in a row is replaced by U+FFFD, one for each maximal
// invalid subsequence, as HF tokenizers' Python and Node bindings decode
// their input (and as textclf's tokenizer treats any text); the lines are
// listed in InvalidUTF8 and named by Warnings.
func Read(r io.Reader, name string, format Format, opt Options) (*Dataset, error) {
	ds := &Dataset{Path: name}
	var err error
	switch format {
	case FormatCSV:
		err = readDelimited(r, ds, ',', opt)
	case FormatTSV:
		err = readDelimited(r, ds, '\t', opt)
	case FormatJSONL:
		err = readJSONL(r, ds, opt)
	case FormatFastText:
		err = readFastText(r, ds, opt)
	default:
		err = fmt.Errorf("%s: unknown data format %q", name, format)
	}
	if err != nil {
		return nil, err
	}
	if len(opt.LabelNames) > 0 {
		if err := ds.nameLabels(opt.LabelNames); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// nameLabels replaces index labels by their names.
func (ds *Dataset) nameLabels(names []string) error {
	ds.LabelNames = names
	for i := range ds.Examples {
		ex := &ds.Examples[i]
		for j, l := range ex.Labels {
			k, err := strconv.Atoi(l)
			if err != nil || k < 0 || k >= len(names) {
				return fmt.Errorf("%s:%d: label %q is not an index of the %d label names (0 to %d)", ds.Path, ex.Line, l, len(names), len(names)-1)
			}
			ex.Labels[j] = names[k]
		}
	}
	return nil
}

// ReadLabelNames reads label names, one a line, as THUCNews' class.txt
// lists them: line i names label i. Trailing empty lines are ignored; an
// empty line between names, a repeated name or no name at all is an error.
func ReadLabelNames(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n \t"), "\n")
	seen := map[string]int{}
	var names []string
	for i, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case l == "" && len(lines) == 1:
			return nil, fmt.Errorf("%s: no label names", path)
		case l == "":
			return nil, fmt.Errorf("%s:%d: empty label name", path, i+1)
		case seen[l] > 0:
			return nil, fmt.Errorf("%s:%d: label name %q already on line %d", path, i+1, l, seen[l])
		}
		seen[l] = i + 1
		names = append(names, l)
	}
	return names, nil
}

// Warnings describes what in the data set is likely a mistake but not an
// error: lines whose invalid UTF-8 was replaced, labels that only one
// example has (a header row read as data, a typo), which a model cannot
// learn and a stratified split cannot divide.
func (ds *Dataset) Warnings() []string {
	var out []string
	if n := len(ds.InvalidUTF8); n > 0 {
		lines := make([]string, 0, min(n, 10))
		for _, l := range ds.InvalidUTF8[:min(n, 10)] {
			lines = append(lines, strconv.Itoa(l))
		}
		more := ""
		if n > 10 {
			more = fmt.Sprintf(" and %d more", n-10)
		}
		out = append(out, fmt.Sprintf("%s: invalid UTF-8 replaced by U+FFFD on line %s%s", ds.Path, strings.Join(lines, ", "), more))
	}
	count := map[string]int{}
	first := map[string]int{}
	var order []string
	for _, ex := range ds.Examples {
		for _, l := range ex.Labels {
			if count[l] == 0 {
				first[l] = ex.Line
				order = append(order, l)
			}
			count[l]++
		}
	}
	for _, l := range order {
		if count[l] == 1 {
			out = append(out, fmt.Sprintf("%s: label %q has a single example (line %d)", ds.Path, l, first[l]))
		}
	}
	return out
}

// LabelPrefix marks a label in a fastText-format line.
const LabelPrefix = "__label__"

func readFastText(r io.Reader, ds *Dataset, opt Options) error {
	return eachLine(r, ds.Path, func(line int, s string) error {
		s = ds.validUTF8(s, line)
		var labels, words []string
		for _, w := range strings.Fields(s) {
			if strings.HasPrefix(w, LabelPrefix) {
				if len(w) == len(LabelPrefix) {
					return fmt.Errorf("%s:%d: empty label %q", ds.Path, line, w)
				}
				labels = append(labels, w[len(LabelPrefix):])
			} else {
				words = append(words, w)
			}
		}
		if len(labels) == 0 && !opt.Unlabelled {
			if len(ds.Examples) == 0 {
				return fmt.Errorf("%s:%d: no %sX label in the line: the file is read as fastText format; if it has tab- or comma-separated columns, give --data-format tsv or csv", ds.Path, line, LabelPrefix)
			}
			return fmt.Errorf("%s:%d: no %sX label in the line", ds.Path, line, LabelPrefix)
		}
		if len(labels) > 1 {
			ds.MultiLabel = true
		}
		ds.Examples = append(ds.Examples, Example{Text: strings.Join(words, " "), Labels: labels, Line: line})
		return nil
	})
}

// eachLine calls fn with each line of r that is not blank (its number,
// counting from 1, and its text without the line ending), up to the first
// error.
func eachLine(r io.Reader, path string, fn func(line int, s string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<28)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		if err := fn(line, s); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return nil
}

func readJSONL(r io.Reader, ds *Dataset, opt Options) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<28)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			b = []byte(ds.validUTF8(string(b), line))
		}
		ex, multi, err := parseJSONLine(b, opt)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", ds.Path, line, err)
		}
		ex.Line = line
		ds.MultiLabel = ds.MultiLabel || multi
		ds.Examples = append(ds.Examples, ex)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", ds.Path, line+1, err)
	}
	return nil
}

// parseJSONLine reads the example of one JSONL line (not blank); multi
// says its labels were given as a list.
func parseJSONLine(b []byte, opt Options) (ex Example, multi bool, err error) {
	textCols := []string{opt.TextColumn}
	if opt.TextColumn == "" {
		textCols = []string{"text", "sentence"}
	}
	labelCol := opt.LabelColumn
	if labelCol == "" {
		labelCol = "label"
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return ex, false, fmt.Errorf("not a JSON object: %v", err)
	}
	found := false
	for _, c := range textCols {
		if raw, ok := obj[c]; ok {
			if err := json.Unmarshal(raw, &ex.Text); err != nil {
				return ex, false, fmt.Errorf("field %q is not a string", c)
			}
			found = true
			break
		}
	}
	if !found {
		return ex, false, fmt.Errorf("no text field (%s)", strings.Join(textCols, " or "))
	}
	if opt.TextPairColumn != "" {
		raw, ok := obj[opt.TextPairColumn]
		if !ok {
			return ex, false, fmt.Errorf("no text pair field %q", opt.TextPairColumn)
		}
		if err := json.Unmarshal(raw, &ex.TextPair); err != nil {
			return ex, false, fmt.Errorf("field %q is not a string", opt.TextPairColumn)
		}
	}
	raw, ok := obj[labelCol]
	if !ok || string(raw) == "null" {
		if !opt.Unlabelled {
			return ex, false, fmt.Errorf("no label field %q", labelCol)
		}
		return ex, false, nil
	}
	labels, isList, err := jsonLabels(raw)
	if err != nil {
		return ex, false, fmt.Errorf("field %q: %v", labelCol, err)
	}
	ex.Labels = labels
	return ex, isList, nil
}

// jsonLabels reads a label given as a string, an integer, or a list of them.
func jsonLabels(raw json.RawMessage) ([]string, bool, error) {
	var list []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, false, err
		}
		out := make([]string, 0, len(list))
		for _, item := range list {
			s, err := jsonScalarLabel(item)
			if err != nil {
				return nil, false, err
			}
			out = append(out, s)
		}
		return out, true, nil
	}
	s, err := jsonScalarLabel(raw)
	if err != nil {
		return nil, false, err
	}
	return []string{s}, false, nil
}

func jsonScalarLabel(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("empty label")
		}
		return s, nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return string(n), nil
		}
		return "", fmt.Errorf("label %s is not an integer", n)
	}
	if string(raw) == "true" || string(raw) == "false" {
		return string(raw), nil
	}
	return "", fmt.Errorf("label %s is not a string, an integer or a list", truncate(string(raw), 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validUTF8 is s with invalid UTF-8 replaced by U+FFFD (see Read), noting
// the line.
func (ds *Dataset) validUTF8(s string, line int) string {
	if utf8.ValidString(s) {
		return s
	}
	if n := len(ds.InvalidUTF8); n == 0 || ds.InvalidUTF8[n-1] != line {
		ds.InvalidUTF8 = append(ds.InvalidUTF8, line)
	}
	return tokenizer.ToValidUTF8(s)
}

// readTSVRows splits lines on tabs; TSV has no quoting, so quotes are plain
// characters and a row never spans lines.
func readTSVRows(r io.Reader, path string) (rows [][]string, lines []int, err error) {
	err = eachLine(r, path, func(line int, s string) error {
		rows = append(rows, strings.Split(s, "\t"))
		lines = append(lines, line)
		return nil
	})
	return rows, lines, err
}

func readCSVRows(r io.Reader, path string) (rows [][]string, lines []int, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("%s:%d: %v", path, pe.Line, pe.Err)
			}
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		rows = append(rows, rec)
		lines = append(lines, line)
	}
	return rows, lines, nil
}

func readDelimited(r io.Reader, ds *Dataset, sep rune, opt Options) error {
	var rows [][]string
	var lines []int
	var err error
	if sep == '\t' {
		rows, lines, err = readTSVRows(r, ds.Path)
	} else {
		rows, lines, err = readCSVRows(r, ds.Path)
	}
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	textIdx, pairIdx, labelIdx, start, err := resolveColumns(ds.Path, rows, opt)
	if err != nil {
		return err
	}
	cols := columns{text: textIdx, pair: pairIdx, label: labelIdx}
	for i := start; i < len(rows); i++ {
		rec := rows[i]
		for j := range rec {
			rec[j] = ds.validUTF8(rec[j], lines[i])
		}
		ex, multi, err := cols.example(rec, opt)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", ds.Path, lines[i], err)
		}
		ex.Line = lines[i]
		ds.MultiLabel = ds.MultiLabel || multi
		ds.Examples = append(ds.Examples, ex)
	}
	return nil
}

// columns are the indexes of the text, pair and label columns of a CSV/TSV
// file (-1 when absent).
type columns struct{ text, pair, label int }

// example reads the example of one CSV/TSV row; multi says its label cell
// was split by opt.LabelSep.
func (c columns) example(rec []string, opt Options) (ex Example, multi bool, err error) {
	need := max(c.text, c.pair, c.label)
	if c.label < 0 || opt.Unlabelled {
		need = max(c.text, c.pair)
	}
	if need >= len(rec) {
		return ex, false, fmt.Errorf("row has %d columns, want at least %d", len(rec), need+1)
	}
	if !utf8.ValidString(rec[c.text]) {
		return ex, false, errors.New("text is not valid UTF-8")
	}
	ex.Text = rec[c.text]
	if c.pair >= 0 {
		ex.TextPair = rec[c.pair]
	}
	if c.label < 0 || c.label >= len(rec) {
		return ex, false, nil
	}
	cell := strings.TrimSpace(rec[c.label])
	switch {
	case cell == "":
		if !opt.Unlabelled {
			return ex, false, errors.New("empty label")
		}
	case opt.LabelSep != "":
		for _, l := range strings.Split(cell, opt.LabelSep) {
			if l = strings.TrimSpace(l); l != "" {
				ex.Labels = append(ex.Labels, l)
			}
		}
		multi = true
	default:
		ex.Labels = []string{cell}
	}
	return ex, multi, nil
}

// resolveColumns finds the text, pair and label column indexes (-1 when
// absent) and the first data row.
func resolveColumns(path string, rows [][]string, opt Options) (text, pair, label, start int, err error) {
	first := rows[0]
	colIndex := func(name string) int {
		for i, c := range first {
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")), name) {
				return i
			}
		}
		return -1
	}
	textNames := []string{opt.TextColumn}
	if opt.TextColumn == "" {
		textNames = []string{"text", "sentence"}
	}
	labelName := opt.LabelColumn
	if labelName == "" {
		labelName = "label"
	}
	header := opt.Header == HeaderYes
	if opt.Header == HeaderAuto {
		for _, n := range append(textNames, labelName) {
			if colIndex(n) >= 0 {
				header = true
			}
		}
	}
	if header {
		text = -1
		for _, n := range textNames {
			if text = colIndex(n); text >= 0 {
				break
			}
		}
		if text < 0 {
			if len(first) == 2 && colIndex(labelName) >= 0 {
				text = 1 - colIndex(labelName)
			} else {
				return 0, 0, 0, 0, fmt.Errorf("%s:1: no text column %s in the header %q", path, strings.Join(textNames, " or "), first)
			}
		}
		label = colIndex(labelName)
		if label < 0 && !opt.Unlabelled {
			if len(first) == 2 {
				label = 1 - text
			} else {
				return 0, 0, 0, 0, fmt.Errorf("%s:1: no label column %q in the header %q", path, labelName, first)
			}
		}
		pair = -1
		if opt.TextPairColumn != "" {
			if pair = colIndex(opt.TextPairColumn); pair < 0 {
				return 0, 0, 0, 0, fmt.Errorf("%s:1: no text pair column %q in the header %q", path, opt.TextPairColumn, first)
			}
		}
		return text, pair, label, 1, nil
	}
	// Headerless: columns are 0-based indexes, or guessed for two columns.
	index := func(s, what string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s: headerless file: %s column %q must be a 0-based index", path, what, s)
		}
		return n, nil
	}
	text, label, pair = -1, -1, -1
	if opt.TextColumn != "" {
		if text, err = index(opt.TextColumn, "text"); err != nil {
			return
		}
	}
	if opt.LabelColumn != "" {
		if label, err = index(opt.LabelColumn, "label"); err != nil {
			return
		}
	}
	if opt.TextPairColumn != "" {
		if pair, err = index(opt.TextPairColumn, "text pair"); err != nil {
			return
		}
	}
	if text < 0 || (label < 0 && !opt.Unlabelled) {
		if len(first) == 1 && opt.Unlabelled {
			return 0, -1, -1, 0, nil
		}
		if len(first) != 2 {
			return 0, 0, 0, 0, fmt.Errorf("%s: headerless file with %d columns: give --text-column and --label-column as 0-based indexes", path, len(first))
		}
		switch {
		case text >= 0:
			label = 1 - text
		case label >= 0:
			text = 1 - label
		default:
			// The label column is the one with fewer distinct values.
			label = 1
			if distinct(rows, 0) < distinct(rows, 1) {
				label = 0
			}
			text = 1 - label
		}
	}
	return text, pair, label, 0, nil
}

func distinct(rows [][]string, col int) int {
	seen := map[string]bool{}
	for _, r := range rows {
		if col < len(r) {
			seen[r[col]] = true
		}
	}
	return len(seen)
}
