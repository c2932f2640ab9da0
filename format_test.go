package textclf

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestPredictionWriter(t *testing.T) {
	single := Prediction{Label: "pos", Score: 0.7, Logits: []float32{1, 2, 0.5},
		Scores: []LabelScore{{"pos", 0.7}, {"neg", 0.2}, {"mid", 0.1}}}
	multi := Prediction{Label: "sport", Score: 0.9, Labels: []string{"sport", "news"},
		Scores: []LabelScore{{"sport", 0.9}, {"news", 0.6}, {"tech", 0.3}}}
	none := Prediction{Label: "tech", Score: 0.4, Labels: []string{},
		Scores: []LabelScore{{"tech", 0.4}, {"news", 0.2}}}
	for _, tc := range []struct {
		name string
		opt  WriteOptions
		want string
	}{
		{"text", WriteOptions{Format: FormatText},
			"pos\t0.7000\ta, b\nsport,news\t0.9000,0.6000\tm\n\t\tn\n"},
		{"text top-2", WriteOptions{Format: FormatText, TopK: 2},
			"pos,neg\t0.7000,0.2000\ta, b\nsport,news\t0.9000,0.6000\tm\ntech,news\t0.4000,0.2000\tn\n"},
		{"text all", WriteOptions{Format: FormatText, All: true},
			"pos,neg,mid\t0.7000,0.2000,0.1000\ta, b\nsport,news,tech\t0.9000,0.6000,0.3000\tm\ntech,news\t0.4000,0.2000\tn\n"},
		{"csv", WriteOptions{Format: FormatCSV},
			"text,label,score\n\"a, b\",pos,0.700000\nm,\"sport,news\",\"0.900000,0.600000\"\nn,,\n"},
		{"csv top-2", WriteOptions{Format: FormatCSV, TopK: 2},
			"text,label,score\n\"a, b\",\"pos,neg\",\"0.700000,0.200000\"\nm,\"sport,news\",\"0.900000,0.600000\"\nn,\"tech,news\",\"0.400000,0.200000\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewPredictionWriter(&buf, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				text string
				pr   Prediction
			}{{"a, b", single}, {"m", multi}, {"n", none}} {
				if err := w.Write(p.text, p.pr); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", buf.String(), tc.want)
			}
		})
	}

	// jsonl: the k best scores, the chosen labels of multi-label predictions
	// (an empty list too), logits when the model has them.
	var buf bytes.Buffer
	w, _ := NewPredictionWriter(&buf, WriteOptions{TopK: 2})
	w.Write("a", single)
	w.Write("n", none)
	w.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if len(first["scores"].([]any)) != 2 || first["labels"] != nil || len(first["logits"].([]any)) != 3 {
		t.Errorf("single-label line %s", lines[0])
	}
	if l, ok := second["labels"].([]any); !ok || len(l) != 0 || second["logits"] != nil {
		t.Errorf("multi-label line with no label chosen %s", lines[1])
	}

	if _, err := NewPredictionWriter(&buf, WriteOptions{Format: "xml"}); err == nil || !strings.Contains(err.Error(), "jsonl, text or csv") {
		t.Errorf("format xml: %v", err)
	}
}
