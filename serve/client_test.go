package serve

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf"
)

// postRoot posts body to / and decodes a list of lists of labels.
func postRoot(t *testing.T, s *Server, body string) [][]prediction {
	t.Helper()
	code, b := do(t, s.Handler(), "POST", "/", body)
	var got [][]prediction
	if code != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("POST / %s: %d %s", body, code, b)
	}
	return got
}

// The root answers the Inference API's request as the Hugging Face clients
// read it: a list of lists of {label, score}, best first, cut at top_k,
// scored with function_to_apply.
func TestRootClientRequests(t *testing.T) {
	s := newTestServer(t, newFake(), Config{})
	text := "one two"
	all := expected(text, false)
	for _, c := range []struct {
		body string
		want [][]prediction
	}{
		// What the npm client sends without parameters, and huggingface_hub's.
		{`{"inputs": "one two"}`, [][]prediction{all}},
		{`{"inputs": "one two", "parameters": {}}`, [][]prediction{all}},
		{`{"inputs": "one two", "parameters": null}`, [][]prediction{all}},
		{`{"inputs": "one two", "parameters": {"top_k": null}}`, [][]prediction{all}},
		{`{"inputs": "one two", "parameters": {"top_k": 1}}`, [][]prediction{all[:1]}},
		{`{"inputs": "one two", "parameters": {"top_k": 2}}`, [][]prediction{all[:2]}},
		{`{"inputs": "one two", "parameters": {"top_k": 9}}`, [][]prediction{all}},
		{`{"inputs": "one two", "parameters": {"function_to_apply": "none"}}`, [][]prediction{expectedWith(text, textclf.None)}},
		{`{"inputs": "one two", "parameters": {"function_to_apply": "sigmoid", "top_k": 2}}`,
			[][]prediction{expectedWith(text, textclf.Sigmoid)[:2]}},
		{`{"inputs": "one two", "parameters": {"function_to_apply": "SOFTMAX"}}`, [][]prediction{all}},
		// The pipeline's pair and batch forms (the fake scores the first text).
		{`{"inputs": {"text": "one two", "text_pair": "three"}}`, [][]prediction{all}},
		{`{"inputs": ["x y", {"text": "one two", "text_pair": "p"}, "zz"], "parameters": {"top_k": 1}}`,
			[][]prediction{expected("x y", false)[:1], all[:1], expected("zz", false)[:1]}},
	} {
		got := postRoot(t, s, c.body)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d answers, want %d", c.body, len(got), len(c.want))
		}
		for i := range got {
			samePredictions(t, got[i], c.want[i], 1e-6)
		}
	}
	// The answer has TEI's headers, and counts in TEI's metrics.
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"inputs": "a b c", "parameters": {}}`))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("x-compute-tokens") != "5" || rec.Header().Get("x-compute-characters") != "5" {
		t.Fatalf("%d, headers %v", rec.Code, rec.Header())
	}
}

// The root keeps TEI's answers for bodies only TEI sends: a list as inputs,
// or one of TEI's fields, without "parameters".
func TestRootTEIRequests(t *testing.T) {
	h := newTestServer(t, newFake(), Config{}).Handler()
	for _, c := range []struct {
		body string
		want []prediction
	}{
		{`{"inputs": ["first", "second"]}`, expected("first", false)},
		{`{"inputs": ["only"]}`, expected("only", false)},
		{`{"inputs": "one two", "raw_scores": true}`, expected("one two", true)},
		{`{"inputs": "one two", "raw_scores": false}`, expected("one two", false)},
		{`{"inputs": "one two", "truncate": false}`, expected("one two", false)},
		{`{"inputs": "one two", "truncation_direction": "Left"}`, expected("one two", false)},
	} {
		code, b := do(t, h, "POST", "/", c.body)
		var got []prediction
		if code != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("%s: %d %s", c.body, code, b)
		}
		samePredictions(t, got, c.want, 0)
	}
	code, b := do(t, h, "POST", "/", `{"inputs": [["x y"], ["q", "pair"]]}`)
	var batch [][]prediction
	if code != 200 || json.Unmarshal(b, &batch) != nil || len(batch) != 2 {
		t.Fatalf("batch: %d %s", code, b)
	}
	samePredictions(t, batch[0], expected("x y", false), 0)
	samePredictions(t, batch[1], expected("q", false), 0)
}

func TestRootClientErrors(t *testing.T) {
	h := newTestServer(t, newFake(), Config{MaxClientBatchSize: 2}).Handler()
	for _, c := range []struct {
		body, want string
		status     int
	}{
		{`{"inputs": "x", "parameters": {"top_k": 0}}`, "top_k must be at least 1, got 0", 422},
		{`{"inputs": "x", "parameters": {"top_k": 1.5}}`, "parameters:", 422},
		{`{"inputs": "x", "parameters": {"function_to_apply": "tanh"}}`, `function_to_apply: function must be softmax, sigmoid or none, got "tanh"`, 422},
		{`{"inputs": "x", "parameters": {"truncation": true}}`, `unknown field "truncation"`, 422},
		{`{"inputs": "x", "parameters": "top_k=1"}`, "parameters: want an object", 422},
		{`{"inputs": "x", "parameters": {}, "raw_scores": true, "truncate": true}`, "TEI's `truncate`, `raw_scores`", 422},
		{`{"inputs": 42, "parameters": {}}`, "inputs: want a string", 422},
		{`{"parameters": {}}`, "missing field `inputs`", 422},
		{`{"inputs": [], "parameters": {}}`, "inputs: empty list", 422},
		{`{"inputs": [{"txt": "a"}], "parameters": {}}`, `inputs[0]: want {"text"`, 422},
		{`{"inputs": {"text_pair": "a"}}`, `inputs: want {"text"`, 422},
		{`{"inputs": ["a", "b", "c"], "parameters": {}}`, "batch size 3 > maximum allowed batch size 2", 413},
	} {
		code, b := do(t, h, "POST", "/", c.body)
		if msg := errorBody(t, code, b, c.status, "validation"); !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q, want %q", c.body, msg, c.want)
		}
	}
}

// A classic model's outputs are probabilities: function_to_apply "none" (or
// none given) answers them, "softmax" and "sigmoid" are refused.
func TestRootClientClassic(t *testing.T) {
	c, dir := trainClassic(t, false)
	s := newTestServer(t, textclf.NewClassic(c, 0, dir), Config{})
	scores, err := c.Scores("a good film", "")
	if err != nil {
		t.Fatal(err)
	}
	best := slices.Index(scores, slices.Max(scores))
	for _, body := range []string{`{"inputs": "a good film", "parameters": {"top_k": 1}}`,
		`{"inputs": "a good film", "parameters": {"top_k": 1, "function_to_apply": "none"}}`} {
		got := postRoot(t, s, body)
		if len(got) != 1 || len(got[0]) != 1 || got[0][0].Label != c.Config.Labels[best] || got[0][0].Score != scores[best] {
			t.Fatalf("%s: %+v, want %s %g", body, got, c.Config.Labels[best], scores[best])
		}
	}
	for _, fn := range []string{"softmax", "sigmoid"} {
		code, b := do(t, s.Handler(), "POST", "/", `{"inputs": "a good film", "parameters": {"function_to_apply": "`+fn+`"}}`)
		if msg := errorBody(t, code, b, 422, "validation"); !strings.Contains(msg, "fasttext model's outputs are probabilities") {
			t.Fatalf("%s: %q", fn, msg)
		}
	}
}
