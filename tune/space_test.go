package tune

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const spaceFile = `{
  "lr": {"type": "float", "low": 0.01, "high": 5, "log": true},
  "epochs": {"type": "int", "low": 1, "high": 100, "log": true},
  "bucket": {"type": "int", "low": 0, "high": 100, "step": 10},
  "minn": {"type": "categorical", "choices": [0, 2, 3]},
  "loss": {"type": "categorical", "choices": ["softmax", "hs"]}
}`

func TestParseSpaceKeepsOrderAndRoundTrips(t *testing.T) {
	s, err := ParseSpace([]byte(spaceFile), "space.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"lr", "epochs", "bucket", "minn", "loss"}) {
		t.Fatalf("names %v", got)
	}
	want := Param{Name: "epochs", Kind: Int, Low: 1, High: 100, Log: true}
	if !reflect.DeepEqual(s[1], want) {
		t.Errorf("epochs %+v, want %+v", s[1], want)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSpace(b, "marshalled")
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %v %+v, want %+v", err, back, s)
	}
	// The flag form of each parameter parses back to it.
	for _, p := range s {
		q, err := ParseParam(p.String())
		if err != nil || !reflect.DeepEqual(q, p) {
			t.Errorf("%s: %v %+v", p.String(), err, q)
		}
	}
}

func TestSpaceErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, "empty search space"},
		{`[]`, "JSON object of parameters"},
		{`{"lr": {"type": "float", "low": 1, "high": 0.1}}`, "s.json:1: parameter \"lr\": bad range: low 1 is above high 0.1"},
		{"{\n\"a\": {\"type\": \"int\", \"low\": 1, \"high\": 5},\n\"lr\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": true}}", "s.json:3: parameter \"lr\": a log-scale range must start above 0"},
		{`{"n": {"type": "int", "low": 1.5, "high": 5}}`, "whole numbers"},
		{`{"n": {"type": "int", "low": 0, "high": 5, "step": 2}}`, "not a multiple of step 2"},
		{`{"n": {"type": "int", "low": 1, "high": 50, "log": true, "step": 2}}`, "log scale and a step"},
		{`{"n": {"type": "int", "low": 1}}`, `needs "low" and "high"`},
		{`{"n": {"type": "gauss", "low": 1, "high": 2}}`, `unknown type "gauss"`},
		{`{"n": {"low": 1, "high": 2}}`, "no type"},
		{`{"n": {"type": "int", "low": 1, "high": 2, "lgo": true}}`, `unknown field "lgo"`},
		{`{"c": {"type": "categorical", "choices": []}}`, "no choices"},
		{`{"c": {"type": "categorical", "choices": [1, 1]}}`, "appears twice"},
		{`{"c": {"type": "categorical", "choices": [true]}}`, "neither a number nor a string"},
		{`{"c": {"type": "categorical", "choices": [1], "low": 0}}`, "has choices, not low"},
		{`{"a": {"type": "int", "low": 1, "high": 2}, "a": {"type": "int", "low": 1, "high": 3}}`, "appears twice"},
		{`{"a b": {"type": "int", "low": 1, "high": 2}}`, "parameter name"},
		{`{"a": {"type": "int", "low": 1, "high": 2}} x`, "text after"},
		{`{"a": {"type": "int", "low": 1, "high": 2}`, "s.json"},
	} {
		_, err := ParseSpace([]byte(c.in), "s.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"lr", "want NAME="},
		{"lr=float:1", "want float:LOW:HIGH"},
		{"lr=float:a:1", "low \"a\" is not a number"},
		{"lr=float:1:0.5", "bad range"},
		{"lr=float:0:1:cubic", "unknown option"},
		{"n=int:1:10:step=x", "not a positive step"},
		{"c=categorical:", "no choices"},
		{"x=normal:0:1", "unknown type"},
	} {
		if _, err := ParseParam(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
	p, err := ParseParam("batch-size=choice:16,32,x")
	if err != nil || !reflect.DeepEqual(p.Choices, []any{16.0, 32.0, "x"}) {
		t.Errorf("choices %v %v", p.Choices, err)
	}
}

// CheckSpace refuses, before any training, names the arch does not tune,
// values its training does not take and kinds that do not fit.
func TestCheckSpaceForArchs(t *testing.T) {
	for _, arch := range []string{ArchTransformer, "fasttext", "textcnn", "bilstm"} {
		s, err := DefaultSpace(arch)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSpace(arch, s); err != nil {
			t.Errorf("%s: default space refused: %v", arch, err)
		}
	}
	for _, c := range []struct{ arch, param, want string }{
		{"fasttext", "learning-rate=float:0.1:1", `unknown parameter "learning-rate" for --arch fasttext (it tunes bucket, dim, epochs, loss, lr, lr-update-rate, maxn, min-count, minn, seed, word-ngrams)`},
		{"fasttext", "hidden=int:1:4", `unknown parameter "hidden"`},
		{"transformer", "dim=int:1:4", `unknown parameter "dim"`},
		{"fasttext", "dim=int:0:100", `parameter "dim": bad range: 0 is outside [1, +Inf]`},
		{"fasttext", "lr=float:0:1", `bad range: 0 is outside (0, +Inf]`},
		{"textcnn", "dropout=float:0:1", `bad range: 1 is outside [0, 1)`},
		{"transformer", "warmup-ratio=float:0:2", "outside [0, 1]"},
		{"fasttext", "epochs=float:1:10", "whole numbers: give it as int"},
		{"fasttext", "epochs=categorical:1,2.5", "whole numbers, not 2.5"},
		{"fasttext", "loss=categorical:softmax,ns", "choice ns is not one of softmax, hs, ova"},
		{"bilstm", "pool=int:1:2", "give it as categorical"},
		{"textcnn", "batch-size=categorical:16,big", `takes numbers, not "big"`},
		{"lstm", "lr=float:0.1:1", `unknown arch "lstm"`},
	} {
		p, err := ParseParam(c.param)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSpace(c.arch, Space{p}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want %q", c.arch, c.param, err, c.want)
		}
	}
}

func FuzzParseSpace(f *testing.F) {
	f.Add([]byte(spaceFile))
	f.Add([]byte(`{"a": {"type": "int", "low": 1, "high": 2, "step": 1}}`))
	f.Add([]byte(`{"c": {"type": "categorical", "choices": ["x", 1e308]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpace(b, "fuzz")
		if err != nil {
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("parsed space fails Check: %v", err)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSpace(out, "again")
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip of %s: %v", out, err)
		}
	})
}

func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"lr=float:1e-6:1e-4:log", "n=int:0:100:step=10", "c=categorical:a,1,2.5", "x=float:0:1:step=0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseParam(spec)
		if err != nil {
			return
		}
		if err := p.Check(); err != nil {
			t.Fatalf("%q parsed to an invalid parameter: %v", spec, err)
		}
	})
}
