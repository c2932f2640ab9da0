package data

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func texts(ds *Dataset) []string {
	var out []string
	for _, e := range ds.Examples {
		out = append(out, e.Text)
	}
	return out
}

func labels(ds *Dataset) [][]string {
	var out [][]string
	for _, e := range ds.Examples {
		out = append(out, e.Labels)
	}
	return out
}

func TestFormats(t *testing.T) {
	cases := []struct {
		name, content string
		opt           Options
		texts         []string
		labels        [][]string
		lines         []int
		multi         bool
	}{
		{"a.csv", "text,label\n\"hello, world\",pos\nbad day,neg\n", Options{}, []string{"hello, world", "bad day"}, [][]string{{"pos"}, {"neg"}}, []int{2, 3}, false},
		{"a.tsv", "label\tsentence\n0\tit 's \"fine\"\n1\tgreat\n", Options{}, []string{"it 's \"fine\"", "great"}, [][]string{{"0"}, {"1"}}, []int{2, 3}, false},
		{"a.jsonl", "{\"text\":\"x y\",\"label\":3}\n\n{\"text\":\"z\",\"label\":[\"a\",\"b\"]}\n", Options{}, []string{"x y", "z"}, [][]string{{"3"}, {"a", "b"}}, []int{1, 3}, true},
		{"a.txt", "__label__a __label__b hi there\nplain __label__c\n", Options{}, []string{"hi there", "plain"}, [][]string{{"a", "b"}, {"c"}}, []int{1, 2}, true},
		// Headerless: the label column is the one with fewer distinct values.
		{"h.tsv", "体育 新闻 一\t3\n财经 新闻 二\t3\n娱乐 三\t1\n", Options{}, []string{"体育 新闻 一", "财经 新闻 二", "娱乐 三"}, [][]string{{"3"}, {"3"}, {"1"}}, []int{1, 2, 3}, false},
		{"h.csv", "x,a|b\ny,c\n", Options{TextColumn: "0", LabelColumn: "1", LabelSep: "|", Header: HeaderNo}, []string{"x", "y"}, [][]string{{"a", "b"}, {"c"}}, []int{1, 2}, true},
		{"p.csv", "premise,hypothesis,gold\na,b,yes\n", Options{TextColumn: "premise", TextPairColumn: "hypothesis", LabelColumn: "gold"}, []string{"a"}, [][]string{{"yes"}}, []int{2}, false},
		// Format overridden: a .data file read as TSV.
		{"x.data", "label\ttext\nham\thi\n", Options{Format: FormatTSV}, []string{"hi"}, [][]string{{"ham"}}, []int{2}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := ReadFile(writeFile(t, c.name, c.content), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(texts(ds), c.texts) {
				t.Errorf("texts %q, want %q", texts(ds), c.texts)
			}
			if !reflect.DeepEqual(labels(ds), c.labels) {
				t.Errorf("labels %q, want %q", labels(ds), c.labels)
			}
			for i, e := range ds.Examples {
				if e.Line != c.lines[i] {
					t.Errorf("row %d line %d, want %d", i, e.Line, c.lines[i])
				}
			}
			if ds.MultiLabel != c.multi {
				t.Errorf("multi-label %v, want %v", ds.MultiLabel, c.multi)
			}
		})
	}
	if ds, _ := ReadFile(writeFile(t, "p.csv", "premise,hypothesis,gold\na,b,yes\n"), Options{TextColumn: "premise", TextPairColumn: "hypothesis", LabelColumn: "gold"}); ds.Examples[0].TextPair != "b" {
		t.Errorf("text pair %q, want b", ds.Examples[0].TextPair)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"a.jsonl", "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\"}\n", "a.jsonl:2: no label field"},
		{"b.jsonl", "{\"text\":\"a\",\"label\":1}\n{oops\n", "b.jsonl:2: not a JSON object"},
		{"c.jsonl", "{\"text\":\"a\",\"label\":1.5}\n", "c.jsonl:1: field \"label\": label 1.5 is not an integer"},
		{"d.txt", "__label__a x\nno label here\n", "d.txt:2: no __label__X label"},
		{"e.csv", "text,label\na,b\nc\n", "e.csv:3: row has 1 columns, want at least 2"},
		{"f.csv", "text,label\n\"a,b\n", "f.csv:2:"},
		{"g.csv", "x,y,z\n1,2,3\n", "g.csv: headerless file with 3 columns"},
		{"h.csv", "text,label\na,\n", "h.csv:2: empty label"},
		{"i.xml", "<a/>", "cannot tell the data format"},
	}
	for _, c := range cases {
		_, err := ReadFile(writeFile(t, c.name, c.content), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestUnlabelled(t *testing.T) {
	ds, err := ReadFile(writeFile(t, "u.txt", "just text\n__label__x more\n"), Options{Unlabelled: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Examples) != 2 || ds.Examples[0].Labels != nil || ds.Examples[1].Labels[0] != "x" {
		t.Fatalf("got %+v", ds.Examples)
	}
}

func TestLabelMap(t *testing.T) {
	ds := &Dataset{Path: "f", Examples: []Example{{Labels: []string{"10"}}, {Labels: []string{"2"}}, {Labels: []string{"10", "1"}}}}
	m := BuildLabelMap(ds)
	if !reflect.DeepEqual(m.Names, []string{"1", "2", "10"}) {
		t.Fatalf("integer labels in order %q", m.Names)
	}
	ds2 := &Dataset{Path: "g", Examples: []Example{{Labels: []string{"spam"}}, {Labels: []string{"ham"}}, {Labels: []string{"x"}, Line: 7}}}
	m2 := BuildLabelMap(&Dataset{Examples: ds2.Examples[:2]})
	if !reflect.DeepEqual(m2.Names, []string{"ham", "spam"}) {
		t.Fatalf("names %q", m2.Names)
	}
	if ids, err := m2.IDs(ds2, ds2.Examples[0]); err != nil || ids[0] != 1 {
		t.Fatalf("IDs %v %v", ids, err)
	}
	if _, err := m2.IDs(ds2, ds2.Examples[2]); err == nil || !strings.Contains(err.Error(), "g:7: unknown label \"x\"") {
		t.Fatalf("unknown label error %v", err)
	}
	if _, err := NewLabelMap([]string{"a", "a"}); err == nil {
		t.Fatal("duplicate labels accepted")
	}
}

func TestBatches(t *testing.T) {
	lengths := make([]int, 1000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range lengths {
		lengths[i] = 1 + rng.IntN(100)
	}
	// No shuffle: consecutive runs in file order.
	b := Batches(lengths, 32, false, nil)
	next := 0
	for _, batch := range b {
		for _, i := range batch {
			if i != next {
				t.Fatalf("no-shuffle batch out of order: %d, want %d", i, next)
			}
			next++
		}
	}
	if next != 1000 || len(b) != 32 {
		t.Fatalf("covered %d in %d batches", next, len(b))
	}
	// Shuffled and bucketed: every index once, and less padding than random.
	b = Batches(lengths, 32, true, rand.New(rand.NewPCG(3, 4)))
	seen := make([]bool, len(lengths))
	pad := 0
	for _, batch := range b {
		mx := 0
		for _, i := range batch {
			if seen[i] {
				t.Fatalf("index %d twice", i)
			}
			seen[i] = true
			mx = max(mx, lengths[i])
		}
		for _, i := range batch {
			pad += mx - lengths[i]
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("index %d missing", i)
		}
	}
	randomPad := 0
	for lo := 0; lo < len(lengths); lo += 32 {
		mx := 0
		hi := min(lo+32, len(lengths))
		for _, l := range lengths[lo:hi] {
			mx = max(mx, l)
		}
		for _, l := range lengths[lo:hi] {
			randomPad += mx - l
		}
	}
	if pad*5 > randomPad {
		t.Fatalf("bucketed padding %d not well below unbucketed %d", pad, randomPad)
	}
}

func FuzzRead(f *testing.F) {
	f.Add("text,label\na,b\n", 0)
	f.Add("label\tsentence\n1\tx\n", 1)
	f.Add("{\"text\":\"a\",\"label\":[1,2]}\n", 2)
	f.Add("__label__a b c\n", 3)
	formats := []Format{FormatCSV, FormatTSV, FormatJSONL, FormatFastText}
	f.Fuzz(func(t *testing.T, s string, k int) {
		if k < 0 {
			k = -k
		}
		ds, err := Read(strings.NewReader(s), "fuzz", formats[k%4], Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, e := range ds.Examples {
			if len(e.Labels) == 0 {
				t.Fatalf("labelled read returned a row without labels: %+v", e)
			}
		}
	})
}

func TestTSVQuotesArePlain(t *testing.T) {
	// A quote opening a TSV field must not swallow the following lines.
	ds, err := ReadFile(writeFile(t, "q.tsv", "label\ttext\nham\t\"Hi there\nspam\tWin \"now\nham\tok\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"\"Hi there", "Win \"now", "ok"}
	if !reflect.DeepEqual(texts(ds), want) {
		t.Fatalf("texts %q, want %q", texts(ds), want)
	}
}

// A header is recognised whatever its case (the SMS Spam Collection's is
// "Label<TAB>SMS"), and so are the column names given as options.
func TestHeaderIsCaseInsensitive(t *testing.T) {
	ds, err := ReadFile(writeFile(t, "sms.tsv", "Label\tSMS\nham\tsee you soon\nspam\tWIN a prize now\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(texts(ds), []string{"see you soon", "WIN a prize now"}) || !reflect.DeepEqual(labels(ds), [][]string{{"ham"}, {"spam"}}) {
		t.Fatalf("texts %q labels %q: the header was read as a row", texts(ds), labels(ds))
	}
	ds, err = ReadFile(writeFile(t, "c.csv", "Review,Rating,Source\ngood,5,web\n"), Options{TextColumn: "review", LabelColumn: "RATING"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Examples[0].Text != "good" || ds.Examples[0].Labels[0] != "5" {
		t.Fatalf("got %+v", ds.Examples)
	}
}

// A .txt file without __label__ is probably TSV or CSV: the error says how
// to read it so.
func TestFastTextErrorHintsTSV(t *testing.T) {
	_, err := ReadFile(writeFile(t, "train.txt", "a headline\t3\nanother one\t1\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "train.txt:1: no __label__X label") || !strings.Contains(err.Error(), "--data-format tsv") {
		t.Fatalf("error %v, want the line and a --data-format tsv hint", err)
	}
}

func TestLabelNames(t *testing.T) {
	names, err := ReadLabelNames(writeFile(t, "class.txt", "finance\nrealty\r\nstocks\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{"finance", "realty", "stocks"}) {
		t.Fatalf("names %q", names)
	}
	ds, err := ReadFile(writeFile(t, "d.tsv", "a\t2\nb\t0\nc\t2\n"), Options{Header: HeaderNo, LabelNames: names})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(labels(ds), [][]string{{"stocks"}, {"finance"}, {"stocks"}}) {
		t.Fatalf("labels %q", labels(ds))
	}
	// The map keeps the file's order and every name, with or without examples.
	if m := BuildLabelMap(ds); !reflect.DeepEqual(m.Names, names) {
		t.Fatalf("label map %q, want %q", m.Names, names)
	}
	_, err = ReadFile(writeFile(t, "e.tsv", "a\t1\nb\t3\n"), Options{Header: HeaderNo, LabelNames: names})
	if err == nil || !strings.Contains(err.Error(), "e.tsv:2: label \"3\"") {
		t.Fatalf("out-of-range index: %v", err)
	}
	_, err = ReadFile(writeFile(t, "f.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\n"), Options{LabelNames: names})
	if err == nil || !strings.Contains(err.Error(), "f.jsonl:1: label \"x\"") {
		t.Fatalf("non-index label: %v", err)
	}
	for _, bad := range []string{"a\na\n", "a\n\nb\n", ""} {
		if _, err := ReadLabelNames(writeFile(t, "bad.txt", bad)); err == nil {
			t.Errorf("label names %q accepted", bad)
		}
	}
}

func TestWarningsNameSingleExampleLabels(t *testing.T) {
	ds := &Dataset{Path: "d.tsv", Examples: []Example{{Labels: []string{"a"}, Line: 1}, {Labels: []string{"b"}, Line: 2}, {Labels: []string{"a"}, Line: 3}, {Labels: []string{"c", "a"}, Line: 4}}}
	w := ds.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], `label "b" has a single example (line 2)`) || !strings.Contains(w[1], `label "c" has a single example (line 4)`) {
		t.Fatalf("warnings %q", w)
	}
}

func TestStratifiedFolds(t *testing.T) {
	ds := &Dataset{}
	for i := 0; i < 30; i++ {
		label := "a"
		if i%3 == 0 {
			label = "b" // 10 b, 20 a
		}
		ds.Examples = append(ds.Examples, Example{Text: fmt.Sprint(i), Labels: []string{label}})
	}
	folds, err := StratifiedFolds(ds, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for i, f := range folds {
		b := 0
		for _, idx := range f {
			if ds.Examples[idx].Labels[0] == "b" {
				b++
			}
		}
		if len(f) != 6 || b != 2 {
			t.Errorf("fold %d: %d examples with %d of label b, want 6 with 2", i, len(f), b)
		}
		all = append(all, f...)
	}
	sort.Ints(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("folds do not partition the examples: %v", all)
		}
	}
	again, _ := StratifiedFolds(ds, 5, 7)
	if fmt.Sprint(again) != fmt.Sprint(folds) {
		t.Error("the same seed gave different folds")
	}
	if _, err := StratifiedFolds(ds, 31, 1); err == nil {
		t.Error("31 folds of 30 examples were accepted")
	}
}

func TestStratifiedSplit(t *testing.T) {
	ds := &Dataset{Path: "d.tsv", LabelNames: []string{"a", "b"}}
	for i := 0; i < 40; i++ {
		label := "a"
		if i%4 == 0 {
			label = "b" // 10 b, 30 a
		}
		ds.Examples = append(ds.Examples, Example{Text: fmt.Sprint(i), Labels: []string{label}, Line: i + 1})
	}
	train, held, err := StratifiedSplit(ds, 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	count := func(d *Dataset, l string) (n int) {
		for _, e := range d.Examples {
			if e.Labels[0] == l {
				n++
			}
		}
		return n
	}
	if len(held.Examples) != 8 || count(held, "b") != 2 || len(train.Examples) != 32 || count(train, "b") != 8 {
		t.Fatalf("held out %d (%d b), kept %d (%d b); want 8 (2 b) and 32 (8 b)", len(held.Examples), count(held, "b"), len(train.Examples), count(train, "b"))
	}
	seen := map[int]bool{}
	for _, d := range []*Dataset{train, held} {
		for i, e := range d.Examples {
			if seen[e.Line] || (i > 0 && e.Line < d.Examples[i-1].Line) {
				t.Fatalf("line %d twice or out of file order", e.Line)
			}
			seen[e.Line] = true
		}
		if !reflect.DeepEqual(d.LabelNames, ds.LabelNames) {
			t.Errorf("%s lost the label names", d.Path)
		}
	}
	again, _, _ := StratifiedSplit(ds, 0.2, 3)
	if !reflect.DeepEqual(again.Examples, train.Examples) {
		t.Error("the same seed gave another split")
	}
	for _, f := range []float64{0, 1, -0.5, 0.001} {
		if _, _, err := StratifiedSplit(ds, f, 3); err == nil {
			t.Errorf("fraction %g accepted", f)
		}
	}
}
