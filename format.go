package textclf

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The output formats of a PredictionWriter.
const (
	FormatJSONL = "jsonl"
	FormatText  = "text"
	FormatCSV   = "csv"
)

// WriteOptions say how a PredictionWriter writes predictions.
type WriteOptions struct {
	// Format is FormatJSONL (default), FormatText or FormatCSV.
	Format string
	// TopK is how many labels, best first, a line shows with their scores
	// (0: one); All shows every label. For a multi-label prediction, text
	// and csv lines show its chosen labels (Prediction.Labels) unless TopK
	// or All is set.
	TopK int
	All  bool
}

// PredictionWriter writes predictions, one line per input:
//
//   - jsonl: {"text","label","score","labels","scores":[{"label","score"}…],"logits","windows"},
//     "labels" (the chosen labels) for multi-label predictions only, "logits"
//     for models whose outputs are not their scores, "windows" for inputs
//     read in windows;
//   - text: labels<TAB>scores<TAB>text, labels and scores (4 decimals) joined by commas;
//   - csv: a header text,label,score, then the same three fields per line
//     (scores with 6 decimals).
type PredictionWriter struct {
	opt WriteOptions
	buf *bufio.Writer
	enc *json.Encoder
	csv *csv.Writer
}

// NewPredictionWriter writes predictions to w in opt.Format. Flush must be
// called at the end.
func NewPredictionWriter(w io.Writer, opt WriteOptions) (*PredictionWriter, error) {
	p := &PredictionWriter{opt: opt, buf: bufio.NewWriter(w)}
	switch opt.Format {
	case "", FormatJSONL:
		p.opt.Format = FormatJSONL
		p.enc = json.NewEncoder(p.buf)
		p.enc.SetEscapeHTML(false)
	case FormatText:
	case FormatCSV:
		p.csv = csv.NewWriter(p.buf)
		if err := p.csv.Write([]string{"text", "label", "score"}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("format must be jsonl, text or csv, got %q", opt.Format)
	}
	if opt.TopK < 0 {
		return nil, fmt.Errorf("top-k must not be negative, got %d", opt.TopK)
	}
	return p, nil
}

// jsonLine is one line of the jsonl format.
type jsonLine struct {
	Text    string       `json:"text"`
	Label   string       `json:"label"`
	Score   float32      `json:"score"`
	Labels  any          `json:"labels,omitempty"`
	Scores  []LabelScore `json:"scores"`
	Logits  []float32    `json:"logits,omitempty"`
	Windows int          `json:"windows,omitempty"`
}

// topK is the number of best labels a line shows.
func (p *PredictionWriter) topK(n int) int {
	switch {
	case p.opt.All:
		return n
	case p.opt.TopK > 0:
		return min(p.opt.TopK, n)
	}
	return min(1, n)
}

// Write writes the prediction of one input text.
func (p *PredictionWriter) Write(text string, pr Prediction) error {
	top := pr.Scores[:p.topK(len(pr.Scores))]
	if p.enc != nil {
		line := jsonLine{Text: text, Label: pr.Label, Score: pr.Score, Scores: top, Logits: pr.Logits, Windows: pr.Windows}
		if pr.Labels != nil {
			line.Labels = pr.Labels
		}
		return p.enc.Encode(line)
	}
	shown := top
	if pr.Labels != nil && !p.opt.All && p.opt.TopK == 0 {
		shown = pr.Scores[:len(pr.Labels)] // the chosen labels are the best ones
	}
	digits := 4
	if p.csv != nil {
		digits = 6
	}
	labels, scores := make([]string, len(shown)), make([]string, len(shown))
	for i, s := range shown {
		labels[i], scores[i] = s.Label, strconv.FormatFloat(float64(s.Score), 'f', digits, 32)
	}
	if p.csv != nil {
		return p.csv.Write([]string{text, strings.Join(labels, ","), strings.Join(scores, ",")})
	}
	_, err := fmt.Fprintf(p.buf, "%s\t%s\t%s\n", strings.Join(labels, ","), strings.Join(scores, ","), text)
	return err
}

// Flush writes out what is buffered.
func (p *PredictionWriter) Flush() error {
	if p.csv != nil {
		p.csv.Flush()
		if err := p.csv.Error(); err != nil {
			return err
		}
	}
	return p.buf.Flush()
}
