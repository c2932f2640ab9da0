package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/textclf/textclf"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestServer(t *testing.T, m textclf.Model, cfg Config) *Server {
	t.Helper()
	cfg.Logger = quiet
	s, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// do sends a request to h and returns the status and body.
func do(t *testing.T, h http.Handler, method, path, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// errorBody checks a TEI error answer.
func errorBody(t *testing.T, status int, body []byte, wantStatus int, wantType string) string {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d (body %s)", status, wantStatus, body)
	}
	var e struct {
		Error     string `json:"error"`
		ErrorType string `json:"error_type"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if e.ErrorType != wantType || e.Error == "" {
		t.Fatalf("error %+v, want type %q and a message", e, wantType)
	}
	return e.Error
}

// expected is the answer of the fake model to a text: softmax scores, or
// the logits with raw.
func expected(text string, raw bool) []prediction {
	if raw {
		return expectedWith(text, textclf.None)
	}
	return expectedWith(text, textclf.Softmax)
}

// expectedWith is the answer of the fake model to a text with fn.
func expectedWith(text string, fn textclf.Function) []prediction {
	scores := textclf.ApplyFunction(fakeLogits(text), fn)
	p := make([]prediction, len(scores))
	for i, s := range scores {
		p[i] = prediction{Score: s, Label: []string{"a", "b", "c"}[i]}
	}
	sort.SliceStable(p, func(a, b int) bool { return p[a].Score > p[b].Score })
	return p
}

func samePredictions(t *testing.T, got, want []prediction, tol float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	for i := range got {
		d := got[i].Score - want[i].Score
		if got[i].Label != want[i].Label || d > tol || d < -tol {
			t.Fatalf("prediction %d: %+v, want %+v (all: %+v vs %+v)", i, got[i], want[i], got, want)
		}
	}
}

func TestPredictShapes(t *testing.T) {
	s := newTestServer(t, newFake(), Config{})
	h := s.Handler()
	// A single text and a pair answer one list, best first.
	for _, body := range []string{`{"inputs": "one two"}`, `{"inputs": ["one two"]}`} {
		code, b := do(t, h, "POST", "/predict", body)
		if code != 200 {
			t.Fatalf("%s: %d %s", body, code, b)
		}
		var got []prediction
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		samePredictions(t, got, expected("one two", false), 0)
	}
	code, b := do(t, h, "POST", "/predict", `{"inputs": ["first", "second"], "raw_scores": true}`)
	var single []prediction
	if code != 200 || json.Unmarshal(b, &single) != nil {
		t.Fatalf("pair: %d %s", code, b)
	}
	samePredictions(t, single, expected("first", true), 0) // the fake scores the first text
	// A batch of singles and pairs answers a list of lists, in order.
	req := httptest.NewRequest("POST", "/predict", strings.NewReader(`{"inputs": [["x y"], ["q", "pair"], ["zz top"]]}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	// TEI's headers: 2+2, 1+1+2 and 2+2 tokens; 3+1+4+6 characters.
	if rec.Header().Get("x-compute-tokens") != "12" || rec.Header().Get("x-compute-characters") != "14" ||
		rec.Header().Get("x-inference-time") == "" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", rec.Header())
	}
	code, b = rec.Code, rec.Body.Bytes()
	var batch [][]prediction
	if code != 200 || json.Unmarshal(b, &batch) != nil || len(batch) != 3 {
		t.Fatalf("batch: %d %s", code, b)
	}
	for i, text := range []string{"x y", "q", "zz top"} {
		samePredictions(t, batch[i], expected(text, false), 0)
	}
}

func TestErrorCodes(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, Config{MaxClientBatchSize: 2, PayloadLimit: 200})
	h := s.Handler()
	cases := []struct {
		name, path, body string
		status           int
		kind             string
	}{
		{"malformed JSON", "/predict", `{"inputs": `, 422, "validation"},
		{"no inputs", "/predict", `{}`, 422, "validation"},
		{"number input", "/predict", `{"inputs": 3}`, 422, "validation"},
		{"three strings", "/predict", `{"inputs": ["a", "b", "c"]}`, 422, "validation"},
		{"empty batch", "/predict", `{"inputs": []}`, 422, "validation"},
		{"bad batch item", "/predict", `{"inputs": [["a"], "b"]}`, 422, "validation"},
		{"batch too large", "/predict", `{"inputs": [["a"], ["b"], ["c"]]}`, 413, "validation"},
		{"input too long", "/predict", `{"inputs": "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"}`, 413, "validation"},
		{"payload too large", "/predict", `{"inputs": "` + strings.Repeat("x", 300) + `"}`, 413, "validation"},
		{"tokenize malformed", "/tokenize", `[`, 422, "validation"},
		{"tokenize empty batch", "/tokenize", `{"inputs": []}`, 400, "empty"},
		{"tokenize batch too large", "/tokenize", `{"inputs": ["a", "b", "c"]}`, 413, "validation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, b := do(t, h, "POST", c.path, c.body)
			errorBody(t, code, b, c.status, c.kind)
		})
	}
	// A long input passes with truncate.
	if code, b := do(t, h, "POST", "/predict", `{"inputs": "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "truncate": true}`); code != 200 {
		t.Fatalf("truncate: %d %s", code, b)
	}
	// Tokenizer errors are 422 "tokenizer".
	f.encodeErr = fmt.Errorf("bad text")
	code, b := do(t, h, "POST", "/predict", `{"inputs": "x"}`)
	if msg := errorBody(t, code, b, 422, "tokenizer"); !strings.Contains(msg, "bad text") {
		t.Fatalf("tokenizer error message %q", msg)
	}
	f.encodeErr = nil
	// Inference failures are 424 "backend", and so are NaN scores.
	f.fail = errFake
	code, b = do(t, h, "POST", "/predict", `{"inputs": "x"}`)
	if msg := errorBody(t, code, b, 424, "backend"); !strings.Contains(msg, errFake.Error()) {
		t.Fatalf("backend error message %q", msg)
	}
	f.fail, f.nan = nil, true
	code, b = do(t, h, "POST", "/predict", `{"inputs": "x"}`)
	errorBody(t, code, b, 424, "backend")
	f.nan = false
	// Wrong methods and paths.
	if code, _ := do(t, h, "GET", "/predict", ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /predict: %d", code)
	}
	if code, _ := do(t, h, "GET", "/nothing", ""); code != http.StatusNotFound {
		t.Fatalf("GET /nothing: %d", code)
	}
	// After Close, health and predict say unhealthy.
	s.Close()
	code, b = do(t, h, "GET", "/health", "")
	errorBody(t, code, b, 503, "unhealthy")
	code, b = do(t, h, "POST", "/predict", `{"inputs": "x"}`)
	errorBody(t, code, b, 503, "unhealthy")
}

func TestAutoTruncate(t *testing.T) {
	h := newTestServer(t, newFake(), Config{AutoTruncate: true}).Handler()
	long := `"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"`
	if code, b := do(t, h, "POST", "/predict", `{"inputs": `+long+`}`); code != 200 {
		t.Fatalf("auto-truncate: %d %s", code, b)
	}
	code, b := do(t, h, "POST", "/predict", `{"inputs": `+long+`, "truncate": false}`)
	errorBody(t, code, b, 413, "validation")
}

func TestOverloaded(t *testing.T) {
	f := newFake()
	f.gate, f.entered = make(chan struct{}), make(chan int, 10)
	s := newTestServer(t, f, Config{MaxConcurrentRequests: 2})
	h := s.Handler()
	done := make(chan int)
	go func() {
		code, _ := do(t, h, "POST", "/predict", `{"inputs": [["a"], ["b"]]}`)
		done <- code
	}()
	<-f.entered // two inputs admitted: no room for a third
	code, b := do(t, h, "POST", "/predict", `{"inputs": "c"}`)
	errorBody(t, code, b, 429, "overloaded")
	// The batcher may run the two admitted inputs as one batch or as two
	// (whether "b" is queued before "a"'s batch starts): open the gate for
	// every batch until the request is answered.
	released := make(chan struct{})
	go func() {
		for {
			select {
			case f.gate <- struct{}{}:
			case <-released:
				return
			}
		}
	}()
	code = <-done
	close(released)
	if code != 200 {
		t.Fatalf("admitted request: %d", code)
	}
	// The inputs are released: a new request passes.
	go func() { f.gate <- struct{}{} }()
	if code, b := do(t, h, "POST", "/predict", `{"inputs": "c"}`); code != 200 {
		t.Fatalf("after release: %d %s", code, b)
	}
	if got := testutil.ToFloat64(s.m.failures.WithLabelValues("overloaded")); got != 1 {
		t.Fatalf("te_request_failure{err=overloaded} = %g, want 1", got)
	}
}

// TestDynamicBatching blocks the model on a first batch, queues inputs from
// many clients, and checks that the next batches take them in order within
// the input and token bounds, and that each client gets its own answer.
func TestDynamicBatching(t *testing.T) {
	f := newFake()
	f.gate, f.entered = make(chan struct{}), make(chan int, 100)
	// Budget 20 tokens: inputs of 4 tokens ("w<i> x" and two special
	// tokens) go 5 to a batch (5×4=20, 6×4=24), under max 8 requests; an
	// input of 10 tokens does not join three others (4×10=40) but takes one
	// (2×10=20).
	s := newTestServer(t, f, Config{MaxBatchTokens: 20, MaxBatchRequests: 8})
	h := s.Handler()
	type answer struct {
		text string
		code int
		got  []prediction
	}
	answers := make(chan answer, 100)
	ask := func(text string) {
		code, b := do(t, h, "POST", "/predict", fmt.Sprintf(`{"inputs": %q}`, text))
		var got []prediction
		_ = json.Unmarshal(b, &got)
		answers <- answer{text, code, got}
	}
	go ask("first")
	<-f.entered // the batcher is busy with "first"
	var texts []string
	for i := 0; i < 13; i++ {
		texts = append(texts, fmt.Sprintf("w%d x", i))
	}
	texts = append(texts, "1 2 3 4 5 6 7 8", "last x")
	for _, text := range texts {
		go ask(text)
		// Queue in a known order: wait until this input is queued.
		deadline := time.Now().Add(10 * time.Second)
		for testutil.ToFloat64(s.m.queueSize) < float64(len(texts[:indexOf(texts, text)+1])) {
			if time.Now().After(deadline) {
				t.Fatal("input not queued")
			}
			time.Sleep(time.Millisecond)
		}
	}
	go func() {
		for range f.entered {
			f.gate <- struct{}{}
		}
	}()
	f.gate <- struct{}{} // release "first"
	for range len(texts) + 1 {
		a := <-answers
		if a.code != 200 {
			t.Fatalf("%q: status %d", a.text, a.code)
		}
		samePredictions(t, a.got, expected(a.text, false), 0)
	}
	close(f.entered)
	batches := f.seenBatches()
	// The last batch, {"1 2 3 4 5 6 7 8", "last x"}, runs as two forward
	// passes, shortest first: padding 4 tokens to 10 would waste most of it.
	want := [][]string{{"first"}, texts[0:5], texts[5:10], texts[10:13], {"last x"}, {"1 2 3 4 5 6 7 8"}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Fatalf("batches %q, want %q", batches, want)
	}
	if got := testutil.ToFloat64(s.m.queueSize); got != 0 {
		t.Fatalf("queue size %g after all answers", got)
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestBatchingOff(t *testing.T) {
	f := newFake()
	h := newTestServer(t, f, Config{MaxBatchRequests: 1}).Handler()
	code, b := do(t, h, "POST", "/predict", `{"inputs": [["a"], ["b c"], ["d"]]}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	for _, batch := range f.seenBatches() {
		if len(batch) != 1 {
			t.Fatalf("batch of %d with batching off", len(batch))
		}
	}
	if n := len(f.seenBatches()); n != 3 {
		t.Fatalf("%d batches for 3 inputs", n)
	}
}

func TestConcurrentClientsFake(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(newTestServer(t, f, Config{MaxBatchRequests: 16}).Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				text := fmt.Sprintf("client %d request %d %s", c, i, strings.Repeat("z", c))
				got, err := postPredict(srv.URL, text)
				if err != nil {
					errs <- err
					return
				}
				want := expected(text, false)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					errs <- fmt.Errorf("%q: got %v, want %v", text, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func postPredict(url, text string) ([]prediction, error) {
	body, _ := json.Marshal(map[string]string{"inputs": text})
	resp, err := http.Post(url+"/predict", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var got []prediction
	return got, json.Unmarshal(b, &got)
}

// serveUntilCancelled runs Serve for a server of m on a loopback port
// until cancel is called; served receives Serve's error.
func serveUntilCancelled(t *testing.T, m textclf.Model, cfg Config) (url string, cancel func(), served <-chan error) {
	t.Helper()
	cfg.Logger = quiet
	s, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, done
}

func TestGracefulShutdown(t *testing.T) {
	f := newFake()
	f.gate, f.entered = make(chan struct{}), make(chan int, 1)
	url, cancel, served := serveUntilCancelled(t, f, Config{DrainDelay: -1})
	type result struct {
		got []prediction
		err error
	}
	inflight := make(chan result, 1)
	go func() {
		got, err := postPredict(url, "in flight")
		inflight <- result{got, err}
	}()
	<-f.entered // the request is being computed
	cancel()    // as SIGTERM does
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.gate <- struct{}{}
	r := <-inflight
	if r.err != nil {
		t.Fatalf("in-flight request failed: %v", r.err)
	}
	samePredictions(t, r.got, expected("in flight", false), 0)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := postPredict(url, "late"); err == nil {
		t.Fatal("a request after shutdown succeeded")
	}
}

func TestInfoHealthMetrics(t *testing.T) {
	s := newTestServer(t, newFake(), Config{ModelID: "org/fake", MaxBatchTokens: 100, MaxBatchRequests: 7, MaxClientBatchSize: 5, MaxConcurrentRequests: 9})
	h := s.Handler()
	code, b := do(t, h, "GET", "/info", "")
	if code != 200 {
		t.Fatalf("info: %d", code)
	}
	var info map[string]any
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"model_id": "org/fake", "max_batch_tokens": 100.0, "max_batch_requests": 7.0,
		"max_client_batch_size": 5.0, "max_concurrent_requests": 9.0, "max_input_length": 16.0,
		"auto_truncate": false, "model_dtype": "float32", "model_kind": "fake"}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("info %s = %v, want %v", k, info[k], v)
		}
	}
	mt, _ := json.Marshal(info["model_type"])
	if string(mt) != `{"classifier":{"id2label":{"0":"a","1":"b","2":"c"},"label2id":{"a":0,"b":1,"c":2}}}` {
		t.Errorf("model_type %s", mt)
	}
	for _, path := range []string{"/health", "/", "/ping"} {
		if code, _ := do(t, h, "GET", path, ""); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
	}
	// SageMaker's alias of /predict, and the root, which answers one text as
	// the Inference API does: a list of lists.
	code, b = do(t, h, "POST", "/invocations", `{"inputs": "via alias"}`)
	var flat []prediction
	if code != 200 || json.Unmarshal(b, &flat) != nil {
		t.Fatalf("POST /invocations: %d %s", code, b)
	}
	samePredictions(t, flat, expected("via alias", false), 0)
	code, b = do(t, h, "POST", "/", `{"inputs": "via alias"}`)
	var nested [][]prediction
	if code != 200 || json.Unmarshal(b, &nested) != nil || len(nested) != 1 {
		t.Fatalf("POST /: %d %s", code, b)
	}
	samePredictions(t, nested[0], expected("via alias", false), 0)
	do(t, h, "POST", "/predict", `{"inputs": "x"}`)
	do(t, h, "POST", "/predict", `{"inputs": [["x"], ["y"]]}`)
	do(t, h, "POST", "/predict", `{"inputs": [["x"], ["y"], ["z"], ["w"], ["v"], ["u"]]}`)
	code, b = do(t, h, "GET", "/metrics", "")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	text := string(b)
	for _, line := range []string{
		`te_request_count{method="single"} 3`,
		`te_request_count{method="batch"} 2`,
		`te_request_success{method="batch"} 1`,
		`te_request_failure{err="batch_size"} 1`,
		`te_request_duration_count 4`,
		`te_request_tokenization_duration_count 4`,
		`te_request_queue_duration_count 4`,
		`te_request_inference_duration_count 4`,
		`te_request_input_length_count 5`,
		`te_batch_next_size_sum 5`,
		`te_queue_size 0`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
}

func TestNewRejectsSmallTokenBudget(t *testing.T) {
	if _, err := New(newFake(), Config{MaxBatchTokens: 8, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "max input length 16") {
		t.Fatalf("New with a budget under the input length: %v", err)
	}
}
