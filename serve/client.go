package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/textclf/textclf"
)

// root answers POST /, where two kinds of clients post. TEI's send
// /predict's body. The Hugging Face Inference clients (huggingface_hub's
// InferenceClient.text_classification, the npm package
// @huggingface/inference's textClassification, given the server's URL as
// their model or endpointUrl) send the Inference API's text-classification
// request, {"inputs": "text", "parameters": {"top_k": k,
// "function_to_apply": "sigmoid"|"softmax"|"none"}}, and take the first
// element of the answer as the input's labels, so they need a list of
// lists even for one string, where TEI answers a flat list. The body tells
// them apart:
//
//   - with "parameters" (huggingface_hub always sends it): the Inference
//     API's request (predictClient);
//   - else with a field only TEI has (truncate, truncation_direction,
//     raw_scores), or with "inputs" a list (TEI's pair ["text", "pair"] or
//     batch [["t1"], ["t2", "pair"]]): TEI's /predict;
//   - else, {"inputs": "text"} alone (what the npm client sends without
//     parameters): the Inference API's request. TEI's clients get TEI's
//     flat list for it at /predict.
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := s.readPredictRequest(w, r)
	if req == nil {
		return
	}
	inputs := bytes.TrimSpace(req.Inputs)
	if req.Parameters == nil && (len(req.teiFields()) > 0 || len(inputs) > 0 && inputs[0] == '[') {
		s.predictTEI(w, r, req, start)
		return
	}
	s.predictClient(w, r, req, start)
}

// clientParameters are the Inference API's text-classification parameters.
type clientParameters struct {
	// TopK keeps the best TopK labels of each input; nil keeps all.
	TopK *int `json:"top_k"`
	// FunctionToApply turns the model's outputs into scores: "sigmoid",
	// "softmax" or "none"; "" is the model's default.
	FunctionToApply string `json:"function_to_apply"`
}

// predictClient answers the Inference API's text-classification request:
// for each input, its labels with their scores, best first — a list of
// lists, even for one input, as the Inference API and the clients have it.
func (s *Server) predictClient(w http.ResponseWriter, r *http.Request, req *predictRequest, start time.Time) {
	inputs, batch, err := parseClientInputs(req.Inputs)
	method := methodName(batch)
	s.m.requests.WithLabelValues(method).Inc()
	var params clientParameters
	var fn textclf.Function
	if err == nil {
		params, fn, err = s.clientOptions(req)
	}
	if err != nil {
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, err.Error(), typeValidation})
		return
	}
	res := s.classify(w, r, inputs, textclf.EncodeOptions{Truncate: s.cfg.AutoTruncate}, fn, start)
	if res == nil {
		return
	}
	answers := res.ranked
	if params.TopK != nil {
		for i, ranked := range answers {
			answers[i] = ranked[:min(*params.TopK, len(ranked))]
		}
	}
	s.succeed(w, method, res)
	writeJSON(w, http.StatusOK, answers)
}

// clientOptions reads the parameters of an Inference API request, which
// must not have TEI's fields too, and the function they ask for.
func (s *Server) clientOptions(req *predictRequest) (clientParameters, textclf.Function, error) {
	if tei := req.teiFields(); len(tei) > 0 {
		return clientParameters{}, "", fmt.Errorf("the body has the Inference API's `parameters` and TEI's `%s`: "+
			"post TEI's fields without `parameters`, or to /predict", strings.Join(tei, "`, `"))
	}
	params, err := parseClientParameters(req.Parameters)
	if err != nil {
		return params, "", err
	}
	fn, err := s.clientFunction(params.FunctionToApply)
	return params, fn, err
}

// clientFunction reads function_to_apply. A model whose outputs are
// probabilities already (a classic model: ModelInfo.Function is None)
// takes only "none": a softmax or sigmoid of probabilities would be scores
// of nothing.
func (s *Server) clientFunction(name string) (textclf.Function, error) {
	fn, err := textclf.ParseFunction(strings.ToLower(name), s.modelInfo.Function)
	if err != nil {
		return "", fmt.Errorf("parameters.function_to_apply: %w", err)
	}
	if s.modelInfo.Function == textclf.None && fn != textclf.None {
		return "", fmt.Errorf("parameters.function_to_apply %q: the %s model's outputs are probabilities already, not logits; leave it out or use \"none\"",
			name, s.modelInfo.Kind)
	}
	return fn, nil
}

// parseClientParameters reads "parameters": null or an object with top_k
// and function_to_apply, nothing else.
func parseClientParameters(raw json.RawMessage) (clientParameters, error) {
	var p clientParameters
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p, nil
	}
	if raw[0] != '{' {
		return p, errors.New("parameters: want an object {\"top_k\": int, \"function_to_apply\": string}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("parameters: %v (text classification takes top_k and function_to_apply)",
			strings.TrimPrefix(err.Error(), "json: "))
	}
	if p.TopK != nil && *p.TopK < 1 {
		return p, fmt.Errorf("parameters.top_k must be at least 1, got %d", *p.TopK)
	}
	return p, nil
}

const clientInputsWant = `a string, {"text": string, "text_pair": string}, or a list of them`

// parseClientInputs reads "inputs" as the text-classification pipeline
// does: a text, a pair {"text", "text_pair"}, or a list of texts and pairs
// (a batch).
func parseClientInputs(raw json.RawMessage) (inputs []textclf.Input, batch bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, errors.New("missing field `inputs`")
	}
	if raw[0] != '[' {
		in, err := parseClientInput(raw)
		if err != nil {
			return nil, false, fmt.Errorf("inputs: %w", err)
		}
		return []textclf.Input{in}, false, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false, fmt.Errorf("inputs: want %s", clientInputsWant)
	}
	if len(items) == 0 {
		return nil, false, fmt.Errorf("inputs: empty list; want %s", clientInputsWant)
	}
	inputs = make([]textclf.Input, len(items))
	for i, it := range items {
		if inputs[i], err = parseClientInput(bytes.TrimSpace(it)); err != nil {
			return nil, false, fmt.Errorf("inputs[%d]: %w", i, err)
		}
	}
	return inputs, true, nil
}

// parseClientInput reads one input: a string or {"text", "text_pair"}.
func parseClientInput(raw json.RawMessage) (textclf.Input, error) {
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return textclf.Input{}, err
		}
		return textclf.Input{Text: text}, nil
	case len(raw) > 0 && raw[0] == '{':
		var pair struct {
			Text     *string `json:"text"`
			TextPair *string `json:"text_pair"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pair); err != nil || pair.Text == nil {
			return textclf.Input{}, errors.New(`want {"text": string, "text_pair": string}`)
		}
		return textclf.Input{Text: *pair.Text, Pair: pair.TextPair}, nil
	}
	return textclf.Input{}, fmt.Errorf("want %s", clientInputsWant)
}
