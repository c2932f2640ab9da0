package data

import (
	"strings"
	"testing"

	"github.com/textclf/textclf/tokenizer"
)

// Invalid UTF-8 in any format is replaced by U+FFFD (one per maximal
// invalid subsequence, as HF's bindings decode input), and the warning
// names the lines.
func TestInvalidUTF8Replaced(t *testing.T) {
	bad := "caf\xc3 au lait \xff\xfe!"
	want := tokenizer.ToValidUTF8(bad)
	if want != "caf\uFFFD au lait \uFFFD\uFFFD!" {
		t.Fatalf("ToValidUTF8 gives %q", want)
	}
	for _, tc := range []struct {
		format Format
		data   string
	}{
		{FormatTSV, "text\tlabel\ngood\tpos\n" + bad + "\tneg\n"},
		{FormatCSV, "text,label\ngood,pos\n\"" + bad + "\",neg\n"},
		{FormatJSONL, `{"text": "good", "label": "pos"}` + "\n" + `{"text": "` + bad + `", "label": "neg"}` + "\n"},
		{FormatFastText, "__label__pos good\n__label__neg " + bad + "\n"},
	} {
		ds, err := Read(strings.NewReader(tc.data), "f", tc.format, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if got := ds.Examples[1].Text; got != want {
			t.Errorf("%s: text %q, want %q", tc.format, got, want)
		}
		if ds.Examples[0].Text != "good" || len(ds.InvalidUTF8) != 1 || ds.InvalidUTF8[0] != ds.Examples[1].Line {
			t.Errorf("%s: lines %v", tc.format, ds.InvalidUTF8)
		}
		if w := ds.Warnings(); len(w) == 0 || !strings.Contains(w[0], "f: invalid UTF-8 replaced by U+FFFD on line ") {
			t.Errorf("%s: warnings %q", tc.format, w)
		}
	}
}
