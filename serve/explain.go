package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/textclf/textclf"
	"github.com/textclf/textclf/explain"
)

// explainRequest is the body of POST /explain.
type explainRequest struct {
	// Inputs is the text to explain.
	Inputs json.RawMessage `json:"inputs"`
	// Target is the label to explain, by name or id (default: the
	// predicted one).
	Target json.RawMessage `json:"target"`
	// Steps is the number of points of integrated gradients (default 50).
	Steps *int `json:"steps"`
	// Method is gausslegendre, riemann_trapezoid or occlusion (default:
	// gausslegendre for transformers, occlusion for other models).
	Method *string `json:"method"`
	// Truncate and TruncationDirection are /predict's.
	Truncate            *bool   `json:"truncate"`
	TruncationDirection *string `json:"truncation_direction"`
}

// maxExplainSteps bounds the steps of one request: each costs a forward and
// backward pass.
const maxExplainSteps = 1000

// explain answers POST /explain: the attribution of one text's prediction
// to its tokens (textclf.Explanation), with /predict's limits and errors.
func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.m.requests.WithLabelValues("explain").Inc()
	invalid := func(format string, args ...any) {
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, fmt.Sprintf(format, args...), typeValidation})
	}
	var req explainRequest
	if e := s.decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e)
		return
	}
	var text string
	if raw := bytes.TrimSpace(req.Inputs); len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &text) != nil {
		invalid("inputs: want a string (one text to explain)")
		return
	}
	if strings.TrimSpace(text) == "" {
		invalid("inputs: empty text")
		return
	}
	var opt textclf.ExplainOptions
	if t := bytes.TrimSpace(req.Target); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		var name string
		var id int
		switch {
		case json.Unmarshal(t, &name) == nil:
			opt.Target = name
		case json.Unmarshal(t, &id) == nil:
			opt.Target = strconv.Itoa(id)
		default:
			invalid("target: want a label name or a label id")
			return
		}
		if !isLabel(s.modelInfo.Labels, opt.Target) {
			invalid("target %s is not a label of the model (labels: %s)", t, strings.Join(s.modelInfo.Labels, ", "))
			return
		}
	}
	if req.Method != nil {
		opt.Method = *req.Method
	}
	if req.Steps != nil {
		if *req.Steps <= 0 || *req.Steps > maxExplainSteps {
			invalid("steps must be in [1, %d], got %d", maxExplainSteps, *req.Steps)
			return
		}
		opt.Steps = *req.Steps
	}
	switch opt.Method {
	case "", explain.Occlusion:
	case explain.GaussLegendre, explain.RiemannTrapezoid:
		steps := opt.Steps
		if steps == 0 {
			steps = explain.DefaultSteps
		}
		if _, _, err := explain.Quadrature(opt.Method, steps); err != nil {
			invalid("%v", err)
			return
		}
	default:
		invalid("method must be %s, %s or %s, got %q", explain.GaussLegendre, explain.RiemannTrapezoid, explain.Occlusion, opt.Method)
		return
	}
	trunc, err := s.truncation(req.Truncate, req.TruncationDirection)
	if err != nil {
		invalid("%v", err)
		return
	}
	truncate := trunc.Truncate
	opt.TruncateLeft = trunc.TruncateLeft
	// The text's length, counted within the tokenization bounds of /predict
	// (a too-long input only up to 8 × the max length).
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	maxLen := s.modelInfo.MaxLength
	enc, err := s.encode(ctx, textclf.Input{Text: text}, textclf.EncodeOptions{Context: ctx, Truncate: truncate,
		TruncateLeft: trunc.TruncateLeft, StopAfter: 8 * maxLen})
	if err != nil {
		s.fail(w, r, tokenizeError(err))
		return
	}
	if maxLen > 0 && enc.Len() > maxLen {
		given := strconv.Itoa(enc.Len())
		if enc.Len() > 8*maxLen {
			given = "more than " + strconv.Itoa(8*maxLen)
		}
		s.fail(w, r, &apiError{http.StatusRequestEntityTooLarge, typeValidation,
			fmt.Sprintf("`inputs` must have less than %d tokens. Given: %s", maxLen, given), typeValidation})
		return
	}
	if !s.acquire(1) {
		s.fail(w, r, errOverloaded)
		return
	}
	defer s.release(1)
	// Explanations run one at a time: each uses every core, and integrated
	// gradients keep a pass's activations for its backward pass.
	select {
	case s.explaining <- struct{}{}:
		defer func() { <-s.explaining }()
	case <-r.Context().Done():
		return // the client is gone
	}
	n := enc.Len()
	if maxLen := s.modelInfo.MaxLength; maxLen > 0 {
		n = min(n, maxLen)
	}
	s.m.inputLength.Observe(float64(n))
	e, err := s.clf.Explain(r.Context(), text, opt)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client is gone
		}
		// What the checks above let through and Explain refuses is the
		// text itself (no token left to attribute, say).
		s.fail(w, r, &apiError{http.StatusUnprocessableEntity, typeValidation, err.Error(), typeValidation})
		return
	}
	s.m.duration.Observe(time.Since(start).Seconds())
	s.m.success.WithLabelValues("explain").Inc()
	w.Header().Set("x-compute-type", "cpu")
	w.Header().Set("x-compute-time", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	writeJSON(w, http.StatusOK, e)
}

// isLabel reports whether target names a label or is a label id.
func isLabel(labels []string, target string) bool {
	for _, l := range labels {
		if l == target {
			return true
		}
	}
	id, err := strconv.Atoi(target)
	return err == nil && id >= 0 && id < len(labels)
}
