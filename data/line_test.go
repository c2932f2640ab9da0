package data

import (
	"reflect"
	"strings"
	"testing"
)

// parseLines reads content line by line with a LineParser, in reverse
// order (a Beam worker sees the lines in any order), and returns the
// examples in file order with the errors by line number.
func parseLines(t *testing.T, format Format, content string, opt Options) ([]Example, map[int]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	p, err := NewLineParser("f", format, lines[0], opt)
	if err != nil {
		t.Fatalf("NewLineParser: %v", err)
	}
	got := make([]*Example, len(lines))
	errs := map[int]string{}
	for i := len(lines) - 1; i >= 0; i-- {
		ex, ok, err := p.Parse(lines[i])
		switch {
		case err != nil:
			errs[i+1] = err.Error()
		case ok:
			ex.Line = i + 1
			got[i] = &ex
		}
	}
	var out []Example
	for _, e := range got {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out, errs
}

// TestLineParserMatchesRead checks that reading a file line by line gives
// the examples Read gives for the whole file.
func TestLineParserMatchesRead(t *testing.T) {
	cases := []struct {
		name    string
		format  Format
		content string
		opt     Options
	}{
		{"csv header", FormatCSV, "label,text\npos,\"a, quoted \"\"cell\"\"\"\n\nneg,plain\r\n,no label\n", Options{Unlabelled: true}},
		{"csv header text only", FormatCSV, "\ufeffText\nfirst\nsecond\n", Options{Unlabelled: true}},
		{"csv pair", FormatCSV, "premise,hypothesis,label\na,b,1\nc,d,0\n", Options{TextColumn: "premise", TextPairColumn: "hypothesis"}},
		{"csv headerless index", FormatCSV, "x,0,first text\ny,1,second text\n", Options{TextColumn: "2", Unlabelled: true}},
		{"tsv header", FormatTSV, "label\tsentence\n1\t\"quotes\" stay\n0\tb\n", Options{}},
		{"tsv headerless one column", FormatTSV, "only text\nmore text\n", Options{Unlabelled: true}},
		{"jsonl", FormatJSONL, "{\"text\": \"a\", \"label\": \"x\"}\n\n{\"sentence\": \"b\"}\n{\"text\": \"c\", \"label\": [\"x\", 2]}\n", Options{Unlabelled: true}},
		{"jsonl column", FormatJSONL, "{\"review\": \"good\", \"stars\": 5}\n{\"review\": \"bad\"}\n", Options{TextColumn: "review", LabelColumn: "stars", Unlabelled: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := Read(strings.NewReader(c.content), "f", c.format, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			got, errs := parseLines(t, c.format, c.content, c.opt)
			if len(errs) > 0 {
				t.Fatalf("errors %v", errs)
			}
			if !reflect.DeepEqual(got, ds.Examples) {
				t.Errorf("line by line:\n%+v\nRead:\n%+v", got, ds.Examples)
			}
		})
	}
}

// TestLineParserErrors checks that a bad line is an error of that line
// alone, saying what is wrong, and that a bad header is an error of the
// parser.
func TestLineParserErrors(t *testing.T) {
	content := "text,label\nok,1\n\"spans\nlines\",0\nshort\nbad \xff utf8,1\n"
	got, errs := parseLines(t, FormatCSV, content, Options{})
	if len(got) != 1 || got[0].Text != "ok" {
		t.Errorf("examples %+v, want the one good row", got)
	}
	want := map[int]string{3: "a record must fit on one line", 4: "a record must fit on one line", 5: "at least 2", 6: "not valid UTF-8"}
	for line, sub := range want {
		if !strings.Contains(errs[line], sub) {
			t.Errorf("line %d: error %q, want it to mention %q", line, errs[line], sub)
		}
	}
	if len(errs) != 4 {
		t.Errorf("errors %v, want 4", errs)
	}
	_, errs = parseLines(t, FormatJSONL, "{\"text\": 1}\n[1]\n{\"label\": \"x\"}\n", Options{Unlabelled: true})
	for line, sub := range map[int]string{1: `field "text" is not a string`, 2: "not a JSON object", 3: "no text field"} {
		if !strings.Contains(errs[line], sub) {
			t.Errorf("jsonl line %d: error %q, want it to mention %q", line, errs[line], sub)
		}
	}
	if _, err := NewLineParser("f.csv", FormatCSV, "a,b,c", Options{Unlabelled: true}); err == nil || !strings.Contains(err.Error(), "headerless file with 3 columns") {
		t.Errorf("headerless 3 columns: error %v", err)
	}
	if _, err := NewLineParser("f.tsv", FormatTSV, "a\tb", Options{Unlabelled: true}); err == nil || !strings.Contains(err.Error(), "give the text column's 0-based index") {
		t.Errorf("headerless 2 columns: error %v", err)
	}
	if _, err := NewLineParser("f.txt", FormatFastText, "x", Options{}); err == nil || !strings.Contains(err.Error(), "not csv, tsv or jsonl") {
		t.Errorf("fasttext: error %v", err)
	}
}

// FuzzLineParser checks that no line makes the parser panic, and that a
// file whose lines all parse gives Read's examples.
func FuzzLineParser(f *testing.F) {
	f.Add("text,label\n\"a,b\",1\nc,2\n", uint8(0))
	f.Add("label\tsentence\n1\tx\n", uint8(1))
	f.Add("{\"text\":\"a\"}\n{\"text\":\"\\u00e9\",\"label\":[1]}\n", uint8(2))
	f.Fuzz(func(t *testing.T, content string, which uint8) {
		format := []Format{FormatCSV, FormatTSV, FormatJSONL}[int(which)%3]
		opt := Options{Unlabelled: true}
		lines := strings.Split(content, "\n")
		first := ""
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				first = l
				break
			}
		}
		p, err := NewLineParser("f", format, first, opt)
		if err != nil {
			return
		}
		var got []Example
		for _, l := range lines {
			ex, ok, err := p.Parse(l)
			if err != nil {
				return
			}
			if ok {
				got = append(got, ex)
			}
		}
		if strings.Contains(content, "\r") {
			return // lines lose a trailing \r (CRLF files); Read keeps a lone one
		}
		ds, err := Read(strings.NewReader(content), "f", format, opt)
		if err != nil {
			return // Read sees the whole file: a header repeated as data, quotes across lines
		}
		for i := range ds.Examples {
			ds.Examples[i].Line = 0
		}
		if len(got) == len(ds.Examples) && len(got) > 0 && !reflect.DeepEqual(got, ds.Examples) {
			t.Errorf("line by line %+v, Read %+v", got, ds.Examples)
		}
	})
}
