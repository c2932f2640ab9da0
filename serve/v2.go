package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/textclf/textclf/builtin"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/textclf/textclf"
)

// The Open Inference Protocol (KServe's V2 protocol, spoken by KServe and
// Triton clients) over the same batcher and limits as /predict. The model
// takes one input tensor, text (BYTES, shape [n]), and answers three
// output tensors: label (BYTES [n]), score (FP32 [n]) and scores (FP32
// [n, labels], in id2label order).

// Names and types of the v2 tensors.
const (
	v2Input    = "text"
	v2Label    = "label"
	v2Score    = "score"
	v2Scores   = "scores"
	v2Bytes    = "BYTES"
	v2FP32     = "FP32"
	v2Platform = "textclf"
)

// v2Tensor is a tensor of a v2 request or response (its $request_input,
// $response_output and $metadata_tensor objects).
type v2Tensor struct {
	Name       string          `json:"name"`
	Datatype   string          `json:"datatype"`
	Shape      []int64         `json:"shape"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Data       any             `json:"data,omitempty"`
}

// v2InferRequest is the $inference_request object. KServe's Python client
// also sends model_name.
type v2InferRequest struct {
	ID         string          `json:"id"`
	ModelName  string          `json:"model_name"`
	Parameters json.RawMessage `json:"parameters"`
	Inputs     []struct {
		Name       string          `json:"name"`
		Datatype   string          `json:"datatype"`
		Shape      []int64         `json:"shape"`
		Parameters json.RawMessage `json:"parameters"`
		Data       json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

// v2Parameters are the request parameters textclf reads; others are
// ignored, as the protocol lets a server do.
type v2Parameters struct {
	Truncate            *bool   `json:"truncate"`
	TruncationDirection *string `json:"truncation_direction"`
	RawScores           *bool   `json:"raw_scores"`
}

// v2InferResponse is the $inference_response object.
type v2InferResponse struct {
	ModelName string     `json:"model_name"`
	ID        string     `json:"id,omitempty"`
	Outputs   []v2Tensor `json:"outputs"`
}

// ServedModelName is the model's name in the v2 routes
// (/v2/models/{name}/…): Config.ServedModelName, else the base name of
// Config.ModelID (the model directory's, a hub id's NAME, a built-in
// model's NAME), else "model".
func (s *Server) ServedModelName() string {
	if s.cfg.ServedModelName != "" {
		return s.cfg.ServedModelName
	}
	name := filepath.Base(strings.TrimRight(strings.TrimPrefix(s.cfg.ModelID, builtin.Prefix), `/\`))
	if name == "." || name == "/" || name == "" {
		return "model"
	}
	return strings.TrimSuffix(name, ".bin")
}

// registerV2 adds the Open Inference Protocol routes to mux.
func (s *Server) registerV2(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/health/live", s.v2Live)
	mux.HandleFunc("GET /v2/health/ready", s.v2Ready)
	mux.HandleFunc("GET /v2", s.v2ServerMetadata)
	mux.HandleFunc("GET /v2/models/{name}", s.v2ModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.v2ModelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.v2Infer)
}

// v2Error answers a v2 error: {"error": msg} (the protocol's error object;
// error_type is TEI's, as on the other routes).
func (s *Server) v2Error(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.fail(w, r, &apiError{status, typeValidation, msg, typeValidation})
}

// ready reports whether the server takes requests: not draining
// (Config.DrainDelay) nor shut down.
func (s *Server) ready() bool {
	s.b.mu.RLock()
	defer s.b.mu.RUnlock()
	return !s.b.closed && !s.draining.Load()
}

func (s *Server) v2Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) v2Ready(w http.ResponseWriter, _ *http.Request) {
	status := http.StatusOK
	if !s.ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]bool{"ready": status == http.StatusOK})
}

func (s *Server) v2ServerMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "textclf", "version": textclf.Version, "extensions": []string{}})
}

// v2Model checks the {name} of a model route; when it is not the served
// model it answers 404 and returns false.
func (s *Server) v2Model(w http.ResponseWriter, r *http.Request) bool {
	if name := r.PathValue("name"); name != s.ServedModelName() {
		s.fail(w, r, &apiError{http.StatusNotFound, typeValidation,
			fmt.Sprintf("model %q not found: this server serves %q", name, s.ServedModelName()), "not_found"})
		return false
	}
	return true
}

func (s *Server) v2ModelMetadata(w http.ResponseWriter, r *http.Request) {
	if !s.v2Model(w, r) {
		return
	}
	n := int64(len(s.modelInfo.Labels))
	writeJSON(w, http.StatusOK, map[string]any{
		"name":     s.ServedModelName(),
		"platform": v2Platform + "_" + s.modelInfo.Kind,
		"inputs":   []v2Tensor{{Name: v2Input, Datatype: v2Bytes, Shape: []int64{-1}}},
		"outputs": []v2Tensor{
			{Name: v2Label, Datatype: v2Bytes, Shape: []int64{-1}},
			{Name: v2Score, Datatype: v2FP32, Shape: []int64{-1}},
			{Name: v2Scores, Datatype: v2FP32, Shape: []int64{-1, n}},
		},
	})
}

func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	if !s.v2Model(w, r) {
		return
	}
	status := http.StatusOK
	if !s.ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"name": s.ServedModelName(), "ready": status == http.StatusOK})
}

// v2Infer answers POST /v2/models/{name}/infer.
func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.m.requests.WithLabelValues("infer").Inc()
	if !s.v2Model(w, r) {
		return
	}
	if r.Header.Get("Inference-Header-Content-Length") != "" {
		s.v2Error(w, r, http.StatusBadRequest, "binary tensor data is not supported: send the data in the JSON body (binary_data=False)")
		return
	}
	var req v2InferRequest
	if e := s.decodeBody(w, r, &req); e != nil {
		if e.status == http.StatusUnprocessableEntity { // malformed JSON: the protocol's 400
			e.status = http.StatusBadRequest
		}
		s.fail(w, r, e)
		return
	}
	texts, opt, fn, outputs, err := s.v2Parse(&req)
	if err != nil {
		s.v2Error(w, r, http.StatusBadRequest, err.Error())
		return
	}
	inputs := make([]textclf.Input, len(texts))
	for i, t := range texts {
		inputs[i] = textclf.Input{Text: t}
	}
	res := s.classify(w, r, inputs, opt, fn, start)
	if res == nil {
		return
	}
	labels := s.modelInfo.Labels
	id := make(map[string]int, len(labels))
	for i, l := range labels {
		id[l] = i
	}
	n, k := len(texts), len(labels)
	best, bestScore, all := make([]string, n), make([]float32, n), make([]float32, n*k)
	for i, ranked := range res.ranked {
		best[i], bestScore[i] = ranked[0].Label, ranked[0].Score
		for _, ls := range ranked {
			all[i*k+id[ls.Label]] = ls.Score
		}
	}
	tensors := map[string]v2Tensor{
		v2Label:  {Name: v2Label, Datatype: v2Bytes, Shape: []int64{int64(n)}, Data: best},
		v2Score:  {Name: v2Score, Datatype: v2FP32, Shape: []int64{int64(n)}, Data: bestScore},
		v2Scores: {Name: v2Scores, Datatype: v2FP32, Shape: []int64{int64(n), int64(k)}, Data: all},
	}
	resp := v2InferResponse{ModelName: s.ServedModelName(), ID: req.ID}
	for _, name := range outputs {
		resp.Outputs = append(resp.Outputs, tensors[name])
	}
	s.succeed(w, "infer", res)
	writeJSON(w, http.StatusOK, resp)
}

// v2Parse checks a v2 request and returns its texts, how to tokenize and
// score them, and the names of the outputs to answer.
func (s *Server) v2Parse(req *v2InferRequest) (texts []string, opt textclf.EncodeOptions, fn textclf.Function, outputs []string, err error) {
	if req.ModelName != "" && req.ModelName != s.ServedModelName() {
		return nil, opt, fn, nil, fmt.Errorf("model_name %q is not the served model %q", req.ModelName, s.ServedModelName())
	}
	if len(req.Inputs) != 1 {
		return nil, opt, fn, nil, fmt.Errorf("inputs: want one tensor %q (BYTES, shape [n]), got %d", v2Input, len(req.Inputs))
	}
	in := req.Inputs[0]
	switch {
	case in.Name != v2Input:
		return nil, opt, fn, nil, fmt.Errorf("inputs[0]: unknown input %q; the model's input is %q (BYTES, shape [n])", in.Name, v2Input)
	case in.Datatype != v2Bytes:
		return nil, opt, fn, nil, fmt.Errorf("input %q: datatype %q, want %q", in.Name, in.Datatype, v2Bytes)
	case len(in.Shape) == 0 || len(in.Shape) > 2 || (len(in.Shape) == 2 && in.Shape[1] != 1) || in.Shape[0] < 1:
		return nil, opt, fn, nil, fmt.Errorf("input %q: shape %v, want [n] (or [n, 1]) with n ≥ 1", in.Name, in.Shape)
	}
	if texts, err = v2Strings(in.Data); err != nil {
		return nil, opt, fn, nil, fmt.Errorf("input %q: data: %w", in.Name, err)
	}
	if int64(len(texts)) != in.Shape[0] {
		return nil, opt, fn, nil, fmt.Errorf("input %q: shape %v holds %d elements, data has %d", in.Name, in.Shape, in.Shape[0], len(texts))
	}
	opt.Truncate = s.cfg.AutoTruncate
	fn = s.modelInfo.Function
	if p := bytes.TrimSpace(req.Parameters); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		var params v2Parameters
		if err := json.Unmarshal(p, &params); err != nil {
			return nil, opt, fn, nil, fmt.Errorf("parameters: %v", err)
		}
		if params.Truncate != nil {
			opt.Truncate = *params.Truncate
		}
		if d := params.TruncationDirection; d != nil {
			switch strings.ToLower(*d) {
			case "right":
			case "left":
				opt.TruncateLeft = true
			default:
				return nil, opt, fn, nil, fmt.Errorf("parameters: truncation_direction must be \"left\" or \"right\", got %q", *d)
			}
		}
		if params.RawScores != nil && *params.RawScores {
			fn = textclf.None
		}
	}
	seen := map[string]bool{}
	for i, o := range req.Outputs {
		switch o.Name {
		case v2Label, v2Score, v2Scores:
		default:
			return nil, opt, fn, nil, fmt.Errorf("outputs[%d]: unknown output %q; the model's outputs are %q, %q and %q", i, o.Name, v2Label, v2Score, v2Scores)
		}
		if !seen[o.Name] {
			seen[o.Name] = true
			outputs = append(outputs, o.Name)
		}
	}
	if len(outputs) == 0 {
		outputs = []string{v2Label, v2Score, v2Scores}
	}
	return texts, opt, fn, outputs, nil
}

// v2Strings reads BYTES tensor data: strings, flat or nested in arrays
// (row-major, as the protocol allows).
func v2Strings(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("missing (binary tensor data is not supported)")
	}
	var out []string
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("element %d is %s, want a string (BYTES)", len(out), jsonKind(x))
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if _, ok := v.([]any); !ok {
		return nil, fmt.Errorf("want an array of strings, got %s", jsonKind(v))
	}
	return out, walk(v)
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}
