package serve

import (
	"encoding/json"
	"testing"
)

func TestParsePredictInputs(t *testing.T) {
	cases := []struct {
		in    string
		n     int
		batch bool
		pairs int
		bad   bool
	}{
		{in: `"a"`, n: 1},
		{in: `["a"]`, n: 1},
		{in: `["a", "b"]`, n: 1, pairs: 1},
		{in: `[["a"], ["b", "c"], ["d"]]`, n: 3, batch: true, pairs: 1},
		{in: `[["a", "b"]]`, n: 1, batch: true, pairs: 1},
		{in: `["a", "b", "c"]`, bad: true},
		{in: `[]`, bad: true},
		{in: `[[]]`, bad: true},
		{in: `[["a", "b", "c"]]`, bad: true},
		{in: `[["a"], "b"]`, bad: true},
		{in: `[1]`, bad: true},
		{in: `{"a": 1}`, bad: true},
		{in: `null`, bad: true},
		{in: ``, bad: true},
	}
	for _, c := range cases {
		got, batch, err := parsePredictInputs(json.RawMessage(c.in))
		if c.bad {
			if err == nil {
				t.Errorf("%s: no error, got %+v", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		pairs := 0
		for _, in := range got {
			if in.Pair != nil {
				pairs++
			}
		}
		if len(got) != c.n || batch != c.batch || pairs != c.pairs {
			t.Errorf("%s: %d inputs (batch %v, %d pairs), want %d (batch %v, %d pairs)", c.in, len(got), batch, pairs, c.n, c.batch, c.pairs)
		}
	}
	got, _, _ := parsePredictInputs(json.RawMessage(`[["x", "y"]]`))
	if got[0].Text != "x" || *got[0].Pair != "y" {
		t.Errorf("pair read as %q / %q", got[0].Text, *got[0].Pair)
	}
}

// FuzzParsePredictInputs checks that any body either fails cleanly or
// gives at least one input, and one unless it is a batch.
func FuzzParsePredictInputs(f *testing.F) {
	for _, s := range []string{`"a"`, `["a","b"]`, `[["a"],["b","c"]]`, `[]`, `[[`, `[["a"],1]`, `"\u00e9"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, batch, err := parsePredictInputs(b)
		if err != nil {
			return
		}
		if len(in) == 0 || (!batch && len(in) != 1) {
			t.Fatalf("%q: %d inputs, batch %v", b, len(in), batch)
		}
		texts, tb, err := parseTokenizeInputs(b)
		if err == nil && !tb && len(texts) != 1 {
			t.Fatalf("%q: tokenize read %d texts", b, len(texts))
		}
	})
}

// FuzzPredictHandler sends arbitrary bodies to /predict and /tokenize:
// every answer is a success or one of TEI's JSON errors.
func FuzzPredictHandler(f *testing.F) {
	for _, s := range []string{`{"inputs":"a b"}`, `{"inputs":[["a"],["b","c"]],"raw_scores":true}`,
		`{"inputs":"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15","truncate":true}`, `{"inputs":[]}`, `{`, `null`} {
		f.Add([]byte(s))
	}
	s, err := New(newFake(), Config{Logger: quiet, MaxClientBatchSize: 4})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/predict", "/tokenize"} {
			code, b := do(t, h, "POST", path, string(body))
			if code == 200 {
				var v any
				if err := json.Unmarshal(b, &v); err != nil {
					t.Fatalf("%s %q: 200 with a body that is not JSON: %q", path, body, b)
				}
				continue
			}
			var e struct {
				Error     string `json:"error"`
				ErrorType string `json:"error_type"`
			}
			if json.Unmarshal(b, &e) != nil || e.Error == "" || e.ErrorType == "" {
				t.Fatalf("%s %q: status %d, body %q", path, body, code, b)
			}
			switch code {
			case 400, 413, 422:
			default:
				t.Fatalf("%s %q: status %d (%s)", path, body, code, b)
			}
		}
	})
}
