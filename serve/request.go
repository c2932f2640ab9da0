package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/textclf/textclf"
)

// predictRequest is the body of POST /predict (TEI's PredictRequest) and of
// POST / (also the Inference API's text-classification request).
type predictRequest struct {
	Inputs json.RawMessage `json:"inputs"`
	// Truncate defaults to the server's AutoTruncate.
	Truncate *bool `json:"truncate"`
	// TruncationDirection is "Right" (default) or "Left".
	TruncationDirection *string `json:"truncation_direction"`
	RawScores           *bool   `json:"raw_scores"`
	// Parameters are the Inference API's (clientParameters); TEI has none.
	Parameters json.RawMessage `json:"parameters"`
}

// teiFields names the fields of the request only TEI has, in order.
func (r *predictRequest) teiFields() []string {
	var names []string
	if r.Truncate != nil {
		names = append(names, "truncate")
	}
	if r.TruncationDirection != nil {
		names = append(names, "truncation_direction")
	}
	if r.RawScores != nil {
		names = append(names, "raw_scores")
	}
	return names
}

// tokenizeRequest is the body of POST /tokenize.
type tokenizeRequest struct {
	Inputs           json.RawMessage `json:"inputs"`
	AddSpecialTokens *bool           `json:"add_special_tokens"`
}

// prediction is one label with its score in a /predict answer.
type prediction struct {
	Score float32 `json:"score"`
	Label string  `json:"label"`
}

const predictInputsWant = "a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]"

// parsePredictInputs reads "inputs" as TEI does: "text" is one input,
// ["text"] or ["text", "pair"] one input (a pair), and a list of lists of one
// or two strings a batch.
func parsePredictInputs(raw json.RawMessage) (inputs []textclf.Input, batch bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, errors.New("missing field `inputs`")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("inputs: %w", err)
		}
		return []textclf.Input{{Text: s}}, false, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, false, fmt.Errorf("inputs: want %s", predictInputsWant)
	}
	if len(items) == 0 {
		return nil, false, fmt.Errorf("inputs: empty list; want %s", predictInputsWant)
	}
	if t := bytes.TrimSpace(items[0]); len(t) > 0 && t[0] == '"' {
		var seq []string
		if err := json.Unmarshal(raw, &seq); err != nil {
			return nil, false, fmt.Errorf("inputs: want %s", predictInputsWant)
		}
		in, err := sequence(seq)
		if err != nil {
			return nil, false, fmt.Errorf("inputs: %w", err)
		}
		return []textclf.Input{in}, false, nil
	}
	inputs = make([]textclf.Input, len(items))
	for i, it := range items {
		var seq []string
		if err := json.Unmarshal(it, &seq); err != nil {
			return nil, false, fmt.Errorf("inputs[%d]: want [string] or [string, string]", i)
		}
		if inputs[i], err = sequence(seq); err != nil {
			return nil, false, fmt.Errorf("inputs[%d]: %w", i, err)
		}
	}
	return inputs, true, nil
}

func sequence(seq []string) (textclf.Input, error) {
	switch len(seq) {
	case 1:
		return textclf.Input{Text: seq[0]}, nil
	case 2:
		pair := seq[1]
		return textclf.Input{Text: seq[0], Pair: &pair}, nil
	}
	return textclf.Input{}, fmt.Errorf("%d strings; an input is one string or a pair of two", len(seq))
}

// parseTokenizeInputs reads "inputs" of /tokenize: a string or a list of
// strings.
func parseTokenizeInputs(raw json.RawMessage) (texts []string, batch bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, errors.New("missing field `inputs`")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("inputs: %w", err)
		}
		return []string{s}, false, nil
	}
	if err := json.Unmarshal(raw, &texts); err != nil {
		return nil, false, errors.New("inputs: want a string or a list of strings")
	}
	return texts, true, nil
}
