package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/textclf/textclf"
)

// v2Answer is a decoded $inference_response.
type v2Answer struct {
	ModelName string `json:"model_name"`
	ID        string `json:"id"`
	Outputs   []struct {
		Name     string          `json:"name"`
		Datatype string          `json:"datatype"`
		Shape    []int64         `json:"shape"`
		Data     json.RawMessage `json:"data"`
	} `json:"outputs"`
}

// decodeV2 decodes a successful v2 answer into its tensors by name.
func decodeV2(t *testing.T, status int, body []byte) (v2Answer, map[string]json.RawMessage) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var a v2Answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	data := map[string]json.RawMessage{}
	for _, o := range a.Outputs {
		data[o.Name] = o.Data
	}
	return a, data
}

// TestV2KServeAndTritonClients posts the bodies KServe's Python client
// (InferRequest.to_rest: id, model_name, inputs without parameters) and
// Triton's HTTP client (binary_data=False: parameters on inputs and
// outputs) send, and checks the three outputs against the fake model.
func TestV2KServeAndTritonClients(t *testing.T) {
	s := newTestServer(t, newFake(), Config{ModelID: "/models/sst2-model/"})
	h := s.Handler()
	if s.ServedModelName() != "sst2-model" {
		t.Fatalf("served model name %q, want the directory's base name", s.ServedModelName())
	}
	if b := newTestServer(t, newFake(), Config{ModelID: "builtin:sentiment-en"}); b.ServedModelName() != "sentiment-en" {
		t.Fatalf("served model name %q, want the built-in model's name", b.ServedModelName())
	}
	texts := []string{"I loved it", "a b c d", "héllo wörld"}
	kserve := `{"id": "5b7a3f1e-0c7e-4f0e-9d54-1a2b3c4d5e6f", "model_name": "sst2-model", "inputs": [{"name": "text", "shape": [3], "datatype": "BYTES", "data": ["I loved it", "a b c d", "héllo wörld"]}]}`
	triton := `{"inputs":[{"name":"text","shape":[3,1],"datatype":"BYTES","parameters":{"binary_data":false},"data":[["I loved it"],["a b c d"],["héllo wörld"]]}],"outputs":[{"name":"scores","parameters":{"binary_data":false}},{"name":"label","parameters":{"binary_data":false}}],"parameters":{"binary_data_output":false}}`
	for name, body := range map[string]string{"kserve": kserve, "triton": triton} {
		t.Run(name, func(t *testing.T) {
			status, answer := do(t, h, "POST", "/v2/models/sst2-model/infer", body)
			a, data := decodeV2(t, status, answer)
			if a.ModelName != "sst2-model" {
				t.Errorf("model_name %q", a.ModelName)
			}
			if name == "kserve" && a.ID != "5b7a3f1e-0c7e-4f0e-9d54-1a2b3c4d5e6f" {
				t.Errorf("id %q, want the request's", a.ID)
			}
			var names []string
			for _, o := range a.Outputs {
				names = append(names, fmt.Sprintf("%s %s %v", o.Name, o.Datatype, o.Shape))
			}
			wantNames := []string{"label BYTES [3]", "score FP32 [3]", "scores FP32 [3 3]"}
			if name == "triton" {
				wantNames = []string{"scores FP32 [3 3]", "label BYTES [3]"} // the outputs asked for, in their order
			}
			if fmt.Sprint(names) != fmt.Sprint(wantNames) {
				t.Errorf("outputs %v, want %v", names, wantNames)
			}
			var labels []string
			var scores []float32
			if err := json.Unmarshal(data["label"], &labels); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data["scores"], &scores); err != nil {
				t.Fatal(err)
			}
			for i, text := range texts {
				soft := textclf.ApplyFunction(fakeLogits(text), textclf.Softmax)
				for j := range soft {
					if d := math.Abs(float64(scores[i*3+j] - soft[j])); d > 1e-6 {
						t.Errorf("%q: scores[%d] %v, want %v (id2label order)", text, j, scores[i*3:i*3+3], soft)
					}
				}
				if best := expected(text, false)[0]; labels[i] != best.Label {
					t.Errorf("%q: label %q, want %q", text, labels[i], best.Label)
				}
			}
			if name == "kserve" {
				var best []float32
				json.Unmarshal(data["score"], &best)
				for i, text := range texts {
					if want := expected(text, false)[0].Score; best[i] != want {
						t.Errorf("%q: score %v, want %v", text, best[i], want)
					}
				}
			}
		})
	}
	// raw_scores gives the logits, as on /predict.
	status, answer := do(t, h, "POST", "/v2/models/sst2-model/infer",
		`{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["x y"]}],"parameters":{"raw_scores":true},"outputs":[{"name":"scores"}]}`)
	_, data := decodeV2(t, status, answer)
	var raw []float32
	json.Unmarshal(data["scores"], &raw)
	if fmt.Sprint(raw) != fmt.Sprint(fakeLogits("x y")) {
		t.Errorf("raw scores %v, want the logits %v", raw, fakeLogits("x y"))
	}
}

// TestV2Metadata checks the health, server and model metadata routes.
func TestV2Metadata(t *testing.T) {
	s := newTestServer(t, newFake(), Config{ModelID: "org/name", ServedModelName: "clf"})
	h := s.Handler()
	cases := []struct{ path, want string }{
		{"/v2/health/live", `{"live":true}`},
		{"/v2/health/ready", `{"ready":true}`},
		{"/v2/models/clf/ready", `{"name":"clf","ready":true}`},
		{"/v2/models/clf", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[-1]}],"name":"clf","outputs":[{"name":"label","datatype":"BYTES","shape":[-1]},{"name":"score","datatype":"FP32","shape":[-1]},{"name":"scores","datatype":"FP32","shape":[-1,3]}],"platform":"textclf_fake"}`},
		{"/v2", `{"extensions":[],"name":"textclf","version":"` + textclf.Version + `"}`},
	}
	for _, c := range cases {
		status, body := do(t, h, "GET", c.path, "")
		if status != 200 || strings.TrimSpace(string(body)) != c.want {
			t.Errorf("GET %s: %d %s, want 200 %s", c.path, status, body, c.want)
		}
	}
	status, body := do(t, h, "GET", "/v2/models/name", "")
	if msg := errorBody(t, status, body, 404, typeValidation); !strings.Contains(msg, `"clf"`) {
		t.Errorf("unknown model: %q, want the served name", msg)
	}
	s.Close()
	for _, p := range []string{"/v2/health/ready", "/v2/models/clf/ready"} {
		if status, body := do(t, h, "GET", p, ""); status != 503 || !strings.Contains(string(body), `"ready":false`) {
			t.Errorf("GET %s while shutting down: %d %s, want 503 ready false", p, status, body)
		}
	}
}

// TestV2BadRequests checks that malformed v2 requests are 400s whose
// message names the field, and the limits of /predict apply.
func TestV2BadRequests(t *testing.T) {
	h := newTestServer(t, newFake(), Config{ModelID: "m", MaxClientBatchSize: 2}).Handler()
	in := func(name, datatype, shape, data string) string {
		return fmt.Sprintf(`{"inputs":[{"name":%q,"datatype":%q,"shape":%s,"data":%s}]}`, name, datatype, shape, data)
	}
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"datatype", in("text", "FP32", "[1]", "[1.5]"), 400, `datatype "FP32", want "BYTES"`},
		{"shape count", in("text", "BYTES", "[2]", `["a"]`), 400, "shape [2] holds 2 elements, data has 1"},
		{"shape rank", in("text", "BYTES", "[1,1,1]", `["a"]`), 400, "want [n] (or [n, 1])"},
		{"shape columns", in("text", "BYTES", "[1,2]", `["a","b"]`), 400, "want [n] (or [n, 1])"},
		{"shape zero", in("text", "BYTES", "[0]", `[]`), 400, "n ≥ 1"},
		{"shape type", in("text", "BYTES", `"2"`, `["a","b"]`), 400, "malformed JSON body"},
		{"input name", in("input_ids", "BYTES", "[1]", `["a"]`), 400, `unknown input "input_ids"`},
		{"two inputs", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]},{"name":"text","datatype":"BYTES","shape":[1],"data":["b"]}]}`, 400, "got 2"},
		{"no inputs", `{"inputs":[]}`, 400, "got 0"},
		{"number data", in("text", "BYTES", "[2]", `["a", 3]`), 400, "element 1 is a number"},
		{"no data", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}}]}`, 400, "binary tensor data is not supported"},
		{"malformed", `{"inputs": [`, 400, "malformed JSON body"},
		{"output", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"logits"}]}`, 400, `unknown output "logits"`},
		{"model_name", `{"model_name":"other","inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}]}`, 400, `model_name "other"`},
		{"direction", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"parameters":{"truncation_direction":"up"}}`, 400, "truncation_direction"},
		{"batch size", in("text", "BYTES", "[3]", `["a","b","c"]`), 413, "maximum allowed batch size 2"},
		{"too long", in("text", "BYTES", "[1]", `["`+strings.Repeat("w ", 20)+`"]`), 413, "less than 16 tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, h, "POST", "/v2/models/m/infer", c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d (%s)", status, c.status, body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, c.want) {
				t.Errorf("error %s, want {\"error\": ...%s...}", body, c.want)
			}
		})
	}
	req := httptest.NewRequest("POST", "/v2/models/m/infer", strings.NewReader(`{"inputs":[]}xxxx`))
	req.Header.Set("Inference-Header-Content-Length", "13")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "binary tensor data is not supported") {
		t.Errorf("binary request: %d %s", rec.Code, rec.Body)
	}
	if status, body := do(t, h, "POST", "/v2/models/other/infer", in("text", "BYTES", "[1]", `["a"]`)); status != 404 {
		t.Errorf("unknown model: %d %s, want 404", status, body)
	}
	// truncate as on /predict: the long input passes.
	status, body := do(t, h, "POST", "/v2/models/m/infer",
		`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["`+strings.Repeat("w ", 20)+`"]}],"parameters":{"truncate":true}}`)
	if status != 200 {
		t.Errorf("truncate: %d %s", status, body)
	}
}

// TestV2MatchesPredictConcurrently runs 64 clients against tiny-bert, each
// posting the same texts to /v2/models/{name}/infer and /predict: the v2
// scores equal /predict's within 1e-6, whatever the batches they shared.
func TestV2MatchesPredictConcurrently(t *testing.T) {
	clf := loadTiny(t, tinyBERT, textclf.Options{BatchSize: 64})
	srv := httptest.NewServer(newTestServer(t, clf.Model, Config{ModelID: tinyBERT}).Handler())
	defer srv.Close()
	texts := []string{"the movie was great", "an awful, boring film!", "meh", "这是一个示例文本", "I would watch it again and again"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for c := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- compareV2Predict(srv.URL, texts[c%len(texts):], c)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// compareV2Predict posts texts to both routes and compares the scores.
func compareV2Predict(url string, texts []string, client int) error {
	body, _ := json.Marshal(map[string]any{"id": fmt.Sprint(client),
		"inputs": []map[string]any{{"name": "text", "datatype": "BYTES", "shape": []int{len(texts)}, "data": texts}}})
	resp, err := http.Post(url+"/v2/models/tiny-bert/infer", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	var a v2Answer
	err = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(a.Outputs) != 3 || a.ID != fmt.Sprint(client) {
		return fmt.Errorf("client %d: v2 answer %d %+v %v", client, resp.StatusCode, a, err)
	}
	var scores []float32
	json.Unmarshal(a.Outputs[2].Data, &scores)
	batch := make([][]string, len(texts))
	for i, s := range texts {
		batch[i] = []string{s}
	}
	body, _ = json.Marshal(map[string]any{"inputs": batch})
	resp, err = http.Post(url+"/predict", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	var preds [][]prediction
	err = json.NewDecoder(resp.Body).Decode(&preds)
	resp.Body.Close()
	if err != nil || len(preds) != len(texts) {
		return fmt.Errorf("client %d: /predict answer %v", client, err)
	}
	id := map[string]int{"negative": 0, "neutral": 1, "positive": 2} // tiny-bert's id2label
	for i := range texts {
		for _, p := range preds[i] {
			id := id[p.Label]
			if d := math.Abs(float64(scores[i*3+id] - p.Score)); d > 1e-6 {
				return fmt.Errorf("client %d, %q, %s: v2 %v, /predict %v", client, texts[i], p.Label, scores[i*3+id], p.Score)
			}
		}
	}
	return nil
}

// FuzzV2Infer posts arbitrary bodies to /v2/models/m/infer: the server
// never panics, answers 200 or a 4xx with a JSON error, and a 200 holds one
// label per text.
func FuzzV2Infer(f *testing.F) {
	f.Add(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["a b","c"]}]}`)
	f.Add(`{"id":"1","model_name":"m","inputs":[{"name":"text","datatype":"BYTES","shape":[1,1],"data":[["x"]]}],"outputs":[{"name":"score"}],"parameters":{"truncate":true}}`)
	f.Add(`{"inputs":[{"name":"text","datatype":"FP32","shape":[1],"data":[1]}]}`)
	s, err := New(newFake(), Config{ModelID: "m", Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		status, answer := do(t, h, "POST", "/v2/models/m/infer", body)
		if status == 200 {
			var a v2Answer
			if err := json.Unmarshal(answer, &a); err != nil || len(a.Outputs) == 0 {
				t.Fatalf("200 with %s", answer)
			}
			return
		}
		var e struct{ Error string }
		if status < 400 || status >= 500 || json.Unmarshal(answer, &e) != nil || e.Error == "" {
			t.Fatalf("status %d body %s for %q", status, answer, body)
		}
	})
}
