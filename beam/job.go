package textclfbeam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/textclf/textclf"
)

func init() {
	register.Function4x0[string, PredictionResult, func(string), func(string, DeadLetter)](formatPrediction)
	register.Emitter1[string]()
	register.Function2x1[string, DeadLetter, string](formatDeadLetter)
}

// Job is the batch classification cmd/textclf-beam runs: read the texts of
// Input, classify them, write the predictions as JSONL shards
// Output-SSSSS-of-NNNNN.jsonl and the dead letters as
// DeadLetters-SSSSS-of-NNNNN.jsonl.
type Job struct {
	// Input is a glob of text, JSONL, CSV or TSV files (any filesystem
	// Beam has: local paths, gs://, s3:// when imported).
	Input string
	// Output is the prefix of the prediction shards.
	Output string
	// DeadLetters is the prefix of the dead-letter shards (default
	// Output + ".failed").
	DeadLetters string
	// NumShards is the number of prediction shards (default 1); the dead
	// letters go to one shard.
	NumShards int
	// Read says how lines are read.
	Read ReadOptions
	// Classify is the model and how it runs.
	Classify Config
}

// withDefaults fills the zero fields and checks the others.
func (j Job) withDefaults() (Job, error) {
	switch {
	case j.Input == "":
		return j, fmt.Errorf("no input given")
	case j.Output == "":
		return j, fmt.Errorf("no output prefix given")
	case j.NumShards < 0:
		return j, fmt.Errorf("number of shards must not be negative, got %d", j.NumShards)
	}
	if j.NumShards == 0 {
		j.NumShards = 1
	}
	if j.DeadLetters == "" {
		j.DeadLetters = j.Output + ".failed"
	}
	if _, err := j.Read.dataOptions(); err != nil {
		return j, err
	}
	if _, err := j.Read.formatOf(""); err != nil {
		return j, err
	}
	c, err := j.Classify.withDefaults()
	j.Classify = c
	return j, err
}

// Check finds the errors of a job before it runs: options, a glob that
// matches nothing, a CSV/TSV file without the text column, a model that
// cannot be loaded (it is loaded into the process cache, where the workers
// of an in-process runner find it). It returns the input files.
func (j Job) Check(ctx context.Context) ([]string, error) {
	j, err := j.withDefaults()
	if err != nil {
		return nil, err
	}
	files, err := CheckInputs(ctx, j.Input, j.Read)
	if err != nil {
		return nil, err
	}
	clf, err := LoadModel(ctx, j.Classify)
	if err != nil {
		return nil, err
	}
	if fn := textclf.Function(j.Classify.Function); fn != "" && clf.Info().Function == textclf.None {
		return nil, fmt.Errorf("function %s: %s models give probabilities; it applies to transformers only", fn, clf.Info().Kind)
	}
	return files, nil
}

// Build adds the job's transforms to the pipeline of s.
func (j Job) Build(s beam.Scope) error {
	j, err := j.withDefaults()
	if err != nil {
		return err
	}
	texts, badLines := ReadTexts(s, j.Input, j.Read)
	preds, badTexts, err := TryClassifyKeyed(s, j.Classify, texts)
	if err != nil {
		return err
	}
	lines, badOutputs := beam.ParDo2(s, formatPrediction, preds)
	WriteShards(s, j.Output, ".jsonl", j.NumShards, lines)
	dead := beam.Flatten(s, badLines, badTexts, badOutputs)
	WriteShards(s, j.DeadLetters, ".jsonl", 1, beam.ParDo(s, formatDeadLetter, dead))
	return nil
}

// formatPrediction writes a prediction as textclf predict --format jsonl
// --all writes it: {"text","label","score","labels","scores","logits"}.
func formatPrediction(file string, r PredictionResult, emit func(string), dead func(string, DeadLetter)) {
	line, err := PredictionLine(r)
	if err != nil {
		dead(file, DeadLetter{Input: r.Input, Error: "write the prediction: " + err.Error()})
		return
	}
	emit(line)
}

// PredictionLine is the line textclf predict --format jsonl --all writes
// for r, without the newline.
func PredictionLine(r PredictionResult) (string, error) {
	var b bytes.Buffer
	w, err := textclf.NewPredictionWriter(&b, textclf.WriteOptions{Format: textclf.FormatJSONL, All: true})
	if err != nil {
		return "", err
	}
	if err := w.Write(r.Input, r.Prediction); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// deadLine is one line of the dead-letter shards.
type deadLine struct {
	File  string `json:"file,omitempty"`
	Input string `json:"input"`
	// InputBytes holds the input's bytes when it is not valid UTF-8 (JSON
	// strings cannot hold them), base64-encoded.
	InputBytes []byte `json:"input_bytes,omitempty"`
	Error      string `json:"error"`
}

// formatDeadLetter writes a dead letter of file as one JSON object.
func formatDeadLetter(file string, d DeadLetter) string {
	l := deadLine{File: file, Input: d.Input, Error: d.Error}
	if !utf8.ValidString(d.Input) {
		l.InputBytes = []byte(d.Input)
	}
	b, _ := json.Marshal(l) // strings and bytes only: cannot fail
	return string(b)
}
