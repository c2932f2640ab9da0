package tune

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// State is how a trial ended.
type State string

// States of a finished trial, as Optuna's COMPLETE, PRUNED and FAIL.
const (
	// Complete: the objective has a value.
	Complete State = "complete"
	// Pruned: stopped early by the pruner or the time budget.
	Pruned State = "pruned"
	// Failed: training or evaluation failed, or the objective is not a number.
	Failed State = "failed"
)

// Direction says whether the objective is minimised or maximised.
type Direction string

// Directions of an objective.
const (
	Minimize Direction = "minimize"
	Maximize Direction = "maximize"
)

// better reports whether a beats b in direction d.
func (d Direction) better(a, b float64) bool {
	if d == Maximize {
		return a > b
	}
	return a < b
}

// Step is one intermediate evaluation of a trial.
type Step struct {
	// Step is the evaluation's position: the epoch, or the evaluation's
	// number with evaluations every N steps.
	Step int `json:"step"`
	// Value is the objective computed from Metrics (NaN is written null).
	Value float64 `json:"value"`
	// Metrics are the evaluation's scores.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// MarshalJSON writes a NaN value as null.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain struct {
		Step    int                `json:"step"`
		Value   *float64           `json:"value"`
		Metrics map[string]float64 `json:"metrics,omitempty"`
	}
	p := plain{Step: s.Step, Metrics: finite(s.Metrics)}
	if !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0) {
		p.Value = &s.Value
	}
	return json.Marshal(p)
}

// UnmarshalJSON reads null as NaN.
func (s *Step) UnmarshalJSON(b []byte) error {
	var p struct {
		Step    int                `json:"step"`
		Value   *float64           `json:"value"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Step{Step: p.Step, Value: math.NaN(), Metrics: p.Metrics}
	if p.Value != nil {
		s.Value = *p.Value
	}
	return nil
}

// finite drops the values JSON cannot hold (NaN, ±Inf).
func finite(m map[string]float64) map[string]float64 {
	for _, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out := make(map[string]float64, len(m))
			for k, v := range m {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					out[k] = v
				}
			}
			return out
		}
	}
	return m
}

// Trial is the record of one finished trial: one line of trials.jsonl.
type Trial struct {
	// Number counts the trials of a study from 0.
	Number int `json:"number"`
	// State is complete, pruned or failed.
	State State `json:"state"`
	// Params are the trial's parameter values.
	Params map[string]any `json:"params"`
	// Value is the objective (complete trials only).
	Value *float64 `json:"value,omitempty"`
	// Metrics are the final evaluation's scores (complete trials).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Intermediate are the evaluations made during training, in order.
	Intermediate []Step `json:"intermediate,omitempty"`
	// Start is when the trial started; Seconds how long it ran.
	Start   time.Time `json:"start"`
	Seconds float64   `json:"seconds"`
	// Sampler is what chose the parameters: "enqueued", "random" or "tpe".
	Sampler string `json:"sampler"`
	// Error says why a trial failed or was stopped.
	Error string `json:"error,omitempty"`
}

// Log is an append-only trials.jsonl file: one Trial a line, each line
// written whole and synced to disk before the next trial starts.
type Log struct {
	f *os.File
}

// OpenLog opens (creating it if needed) the trial log at path and returns
// the trials it already holds, in order, each checked against space. A
// last line cut short (a crash while writing it) is dropped; any other
// bad line is an error naming the file and line.
func OpenLog(path string, space Space) ([]Trial, *Log, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	trials, keep, err := parseTrials(b, path, space)
	if err != nil {
		return nil, nil, err
	}
	if keep < len(b) {
		if err := os.Truncate(path, int64(keep)); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return trials, &Log{f: f}, nil
}

// ReadTrials reads a trial log without opening it for writing.
func ReadTrials(path string, space Space) ([]Trial, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	trials, _, err := parseTrials(b, path, space)
	return trials, err
}

// parseTrials reads the lines of a trial log; keep is the length of the
// complete lines.
func parseTrials(b []byte, path string, space Space) (trials []Trial, keep int, err error) {
	line := 0
	for off := 0; off < len(b); {
		line++
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			// No newline: the write of this line never finished.
			return trials, off, nil
		}
		text := b[off : off+end]
		off += end + 1
		if len(bytes.TrimSpace(text)) == 0 {
			keep = off
			continue
		}
		var t Trial
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := t.check(space, len(trials)); err != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		trials = append(trials, t)
		keep = off
	}
	return trials, keep, nil
}

// check validates a trial read back: its number, state, value and
// parameters (turned into the space's types).
func (t *Trial) check(space Space, number int) error {
	if t.Number != number {
		return fmt.Errorf("trial number %d, want %d (trials are numbered from 0, one a line)", t.Number, number)
	}
	switch t.State {
	case Complete:
		if t.Value == nil {
			return fmt.Errorf("trial %d is complete but has no value", t.Number)
		}
	case Pruned, Failed:
	default:
		return fmt.Errorf("trial %d: unknown state %q (want complete, pruned or failed)", t.Number, t.State)
	}
	if t.Seconds < 0 || math.IsNaN(t.Seconds) {
		return fmt.Errorf("trial %d: negative duration", t.Number)
	}
	for name, v := range t.Params {
		p := space.Lookup(name)
		if p == nil {
			return fmt.Errorf("trial %d: parameter %q is not in the search space %v", t.Number, name, space.Names())
		}
		nv, ok := p.Value(v)
		if !ok {
			return fmt.Errorf("trial %d: %s = %v is outside the search space (%s)", t.Number, name, v, p)
		}
		t.Params[name] = nv
	}
	if len(t.Params) != len(space) && t.State != Failed {
		return fmt.Errorf("trial %d has %d parameters, the search space %d", t.Number, len(t.Params), len(space))
	}
	return nil
}

// Append writes a trial as one line and syncs the file.
func (l *Log) Append(t Trial) error {
	t.Metrics = finite(t.Metrics)
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("trial %d: %w", t.Number, err)
	}
	w := bufio.NewWriter(l.f)
	w.Write(b)
	w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		return err
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// WriteTrials writes trials as JSON lines to w.
func WriteTrials(w io.Writer, trials []Trial) error {
	enc := json.NewEncoder(w)
	for _, t := range trials {
		t.Metrics = finite(t.Metrics)
		if err := enc.Encode(t); err != nil {
			return err
		}
	}
	return nil
}
