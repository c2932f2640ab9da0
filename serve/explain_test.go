package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/textclf/textclf"
)

// POST /explain answers the library's explanation, with /predict's limits
// and errors, counted in /metrics.
func TestExplain(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{MaxLength: 12})
	s := newTestServer(t, clf.Model, Config{MaxConcurrentRequests: 4})
	h := s.Handler()
	text := "a great film"
	code, b := do(t, h, "POST", "/explain", `{"inputs": "a great film", "target": "positive", "steps": 12}`)
	if code != 200 {
		t.Fatalf("POST /explain: %d %s", code, b)
	}
	var got textclf.Explanation
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want, err := clf.Explain(context.Background(), text, textclf.ExplainOptions{Target: "positive", Steps: 12})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("POST /explain:\n got %+v\nwant %+v", got, want)
	}
	// A label id as target, the default steps and method.
	code, b = do(t, h, "POST", "/explain", `{"inputs": "a great film", "target": 0}`)
	if code != 200 || json.Unmarshal(b, &got) != nil || got.Label != "negative" || got.Steps != 50 || got.Method != "gausslegendre" {
		t.Fatalf("target 0: %d %s", code, b)
	}
	// Truncation: too long without truncate is /predict's 413; with it the
	// explanation covers the first 12 tokens.
	long := strings.Repeat("word ", 30)
	code, b = do(t, h, "POST", "/explain", fmt.Sprintf(`{"inputs": %q, "steps": 4}`, long))
	errorBody(t, code, b, 413, "validation")
	code, b = do(t, h, "POST", "/explain", fmt.Sprintf(`{"inputs": %q, "steps": 4, "truncate": true}`, long))
	if code != 200 || json.Unmarshal(b, &got) != nil || len(got.Tokens) != 12 {
		t.Fatalf("truncate: %d %s", code, b)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"inputs": ""}`, "inputs: empty text"},
		{`{"inputs": "   "}`, "inputs: empty text"},
		{`{"inputs": ["a", "b"]}`, "inputs: want a string (one text to explain)"},
		{`{}`, "inputs: want a string (one text to explain)"},
		{`{"inputs": "x", "target": "great"}`, `target "great" is not a label of the model (labels: negative, neutral, positive)`},
		{`{"inputs": "x", "target": 7}`, `target 7 is not a label of the model (labels: negative, neutral, positive)`},
		{`{"inputs": "x", "target": true}`, "target: want a label name or a label id"},
		{`{"inputs": "x", "steps": 0}`, "steps must be in [1, 1000], got 0"},
		{`{"inputs": "x", "steps": -2}`, "steps must be in [1, 1000], got -2"},
		{`{"inputs": "x", "steps": 5000}`, "steps must be in [1, 1000], got 5000"},
		{`{"inputs": "x", "method": "riemann_trapezoid", "steps": 1}`, "steps must be at least 2 for riemann_trapezoid, got 1"},
		{`{"inputs": "x", "method": "lime"}`, `method must be gausslegendre, riemann_trapezoid or occlusion, got "lime"`},
		{`{"inputs": "x", "truncation_direction": "Up"}`, `truncation_direction must be "Left" or "Right", got "Up"`},
		{`{"inputs": `, ""},
	} {
		code, b := do(t, h, "POST", "/explain", tc.body)
		msg := errorBody(t, code, b, 422, "validation")
		if tc.want != "" && msg != tc.want {
			t.Errorf("%s: %q, want %q", tc.body, msg, tc.want)
		}
	}
	// 429 beyond --max-concurrent-requests inputs in the server.
	s.acquire(4)
	code, b = do(t, h, "POST", "/explain", `{"inputs": "x", "steps": 2}`)
	errorBody(t, code, b, 429, "overloaded")
	s.release(4)
	if n := testutil.ToFloat64(s.m.requests.WithLabelValues("explain")); n != 19 {
		t.Errorf("te_request_count{method=explain} = %g, want 19", n)
	}
	if n := testutil.ToFloat64(s.m.success.WithLabelValues("explain")); n != 3 {
		t.Errorf("te_request_success{method=explain} = %g, want 3", n)
	}
}

// A classic model is explained by occlusion through the server too.
func TestExplainClassic(t *testing.T) {
	_, dir := trainClassic(t, false)
	clf := loadTiny(t, dir, textclf.Options{})
	h := newTestServer(t, clf.Model, Config{}).Handler()
	code, b := do(t, h, "POST", "/explain", `{"inputs": "the good film"}`)
	var got textclf.Explanation
	if code != 200 || json.Unmarshal(b, &got) != nil || got.Method != "occlusion" || len(got.Words) != 3 {
		t.Fatalf("POST /explain: %d %s", code, b)
	}
	code, b = do(t, h, "POST", "/explain", `{"inputs": "the good film", "method": "gausslegendre"}`)
	if msg := errorBody(t, code, b, 422, "validation"); !strings.Contains(msg, "integrated gradients need a transformer") {
		t.Fatalf("integrated gradients on a classic model: %s", msg)
	}
}

// GET / is the web page, self-contained; /docs renders /openapi.json,
// which describes every route the server registers; /health and /ping stay.
func TestPageAndOpenAPI(t *testing.T) {
	h := newTestServer(t, newFake(), Config{ModelID: "fake/model"}).Handler()
	for path, want := range map[string]string{"/": `id="run"`, "/docs": `fetch("/openapi.json")`} {
		code, b := do(t, h, "GET", path, "")
		if code != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET %s: %d, no %q", path, code, want)
		}
		// No external resources: nothing is loaded from another origin.
		if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(string(b)); m != "" {
			t.Fatalf("GET %s loads %s", path, m)
		}
	}
	for _, path := range []string{"/health", "/ping"} {
		if code, b := do(t, h, "GET", path, ""); code != 200 || len(b) != 0 {
			t.Fatalf("GET %s: %d %q", path, code, b)
		}
	}
	code, b := do(t, h, "GET", "/openapi.json", "")
	var spec struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas   map[string]json.RawMessage `json:"schemas"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if code != 200 || json.Unmarshal(b, &spec) != nil || spec.OpenAPI != "3.1.0" || spec.Info.Version != textclf.Version ||
		spec.Info.Title != "textclf serve: fake/model" {
		t.Fatalf("GET /openapi.json: %d %.300s", code, b)
	}
	// Every route registered in the package's sources is described, and
	// every description is of a registered route.
	registered := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	pattern := regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllStringSubmatch(string(src), -1) {
			registered[strings.ToLower(m[1])+" "+strings.TrimSuffix(m[2], "{$}")] = true
		}
	}
	described := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			described[method+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range registered {
		if !described[r] {
			missing = append(missing, r)
		}
	}
	for r := range described {
		if !registered[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(registered) < 12 || len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes registered %d; not in /openapi.json: %v; described but not registered: %v", len(registered), missing, extra)
	}
	// Every reference resolves.
	for _, ref := range regexp.MustCompile(`"\$ref":"#/components/(schemas|responses)/([A-Za-z]+)"`).FindAllStringSubmatch(string(b), -1) {
		if (ref[1] == "schemas" && spec.Components.Schemas[ref[2]] == nil) || (ref[1] == "responses" && spec.Components.Responses[ref[2]] == nil) {
			t.Errorf("unresolved reference %s", ref[0])
		}
	}
}

// FuzzExplainRequest: any body gets an answer with a status of the
// documented ones, never a panic.
//
//	go test ./serve -run - -fuzz FuzzExplainRequest
func FuzzExplainRequest(f *testing.F) {
	for _, seed := range []string{`{"inputs": "a b c"}`, `{"inputs": "x", "target": 1, "steps": 3, "method": "occlusion"}`,
		`{"inputs": "x", "target": "b", "truncate": true, "truncation_direction": "Left"}`, `{"inputs": ["x"]}`, `[]`, `{"inputs": "` + strings.Repeat("w ", 40) + `"}`} {
		f.Add(seed)
	}
	clf, err := textclf.Open(context.Background(), tinyBERT, textclf.Options{MaxLength: 16})
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(clf.Model, Config{Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		code, b := do(t, h, "POST", "/explain", body)
		switch code {
		case 200:
			var e textclf.Explanation
			if err := json.Unmarshal(b, &e); err != nil || len(e.Attributions) != len(e.Tokens) {
				t.Fatalf("200 with %s", b)
			}
		case 413, 422, 429:
			errorBody(t, code, b, code, "validation")
		default:
			t.Fatalf("status %d: %s", code, b)
		}
	})
}
