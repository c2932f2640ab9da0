package tune

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A log line that is not a trial of the space is an error naming the
// file and line; NaN intermediate values survive as null.
func TestTrialLogErrors(t *testing.T) {
	space := synthSpace()
	good := `{"number":0,"state":"pruned","params":{"lr":0.1,"dim":10,"n":2,"c":3},"intermediate":[{"step":1,"value":null}],"start":"2026-01-01T00:00:00Z","seconds":1,"sampler":"random"}` + "\n"
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{good + `{"number":2,"state":"complete","value":1,"params":{"lr":0.1,"dim":10,"n":2,"c":3}}` + "\n", "t.jsonl:2: trial number 2, want 1"},
		{good + `{"number":1,"state":"complete","params":{"lr":0.1,"dim":10,"n":2,"c":3}}` + "\n", "t.jsonl:2: trial 1 is complete but has no value"},
		{good + `{"number":1,"state":"done","params":{}}` + "\n", `unknown state "done"`},
		{good + `{"number":1,"state":"failed","params":{"lr":9,"dim":10,"n":2,"c":3}}` + "\n", "lr = 9 is outside the search space"},
		{good + `{"number":1,"state":"failed","params":{"width":1}}` + "\n", `parameter "width" is not in the search space`},
		{good + `{"number":1,"state":"complete","value":1,"params":{"lr":0.1}}` + "\n", "has 1 parameters, the search space 4"},
		{good + "not json\n", "t.jsonl:2:"},
	} {
		path := filepath.Join(dir, "t.jsonl")
		os.WriteFile(path, []byte(c.text), 0o644)
		if _, err := ReadTrials(path, space); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	path := filepath.Join(dir, "ok.jsonl")
	os.WriteFile(path, []byte(good), 0o644)
	trials, err := ReadTrials(path, space)
	if err != nil || len(trials) != 1 || !math.IsNaN(trials[0].Intermediate[0].Value) || trials[0].Params["dim"] != 10 {
		t.Fatalf("%+v %v", trials, err)
	}
}

func FuzzParseTrials(f *testing.F) {
	f.Add([]byte(`{"number":0,"state":"complete","value":0.5,"params":{"lr":0.1,"dim":10,"n":2,"c":3},"intermediate":[{"step":1,"value":null}],"start":"2026-01-01T00:00:00Z","seconds":1,"sampler":"random"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		space := synthSpace()
		trials, keep, err := parseTrials(b, "fuzz", space)
		if err != nil {
			return
		}
		if keep > len(b) {
			t.Fatalf("keep %d beyond %d bytes", keep, len(b))
		}
		for i, tr := range trials {
			if tr.Number != i {
				t.Fatalf("trial %d numbered %d", i, tr.Number)
			}
			for _, p := range space {
				if v, ok := tr.Params[p.Name]; ok {
					if _, ok := p.Value(v); !ok {
						t.Fatalf("trial %d: %s = %v outside the space", i, p.Name, v)
					}
				}
			}
		}
	})
}
