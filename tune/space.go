package tune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Kind is the type of a parameter's values.
type Kind string

// Kinds of parameters, as Optuna's FloatDistribution, IntDistribution and
// CategoricalDistribution.
const (
	Float       Kind = "float"
	Int         Kind = "int"
	Categorical Kind = "categorical"
)

// Param is one dimension of a search space. Float and Int parameters take
// values in [Low, High], uniformly or, with Log, uniformly in log scale;
// a Step makes them discrete (low, low+step, …, high; Int's step is 1
// when zero). A Categorical parameter takes one of its Choices: numbers
// (float64) or strings.
type Param struct {
	// Name is the parameter's name (for training, the train flag it sets:
	// "lr", "epochs", …).
	Name string
	// Kind is Float, Int or Categorical.
	Kind Kind
	// Low and High bound a Float or Int parameter (inclusive).
	Low, High float64
	// Log samples in log scale (Low must be positive).
	Log bool
	// Step, when positive, makes the values Low, Low+Step, …, High.
	Step float64
	// Choices are a Categorical parameter's values: float64s or strings.
	Choices []any
}

// Space is a search space: its parameters in a fixed order (the order of
// its file or flags), which is the order they are sampled and shown in.
type Space []Param

var paramName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// step returns the parameter's step (Int: at least 1; Float: 0 when continuous).
func (p *Param) step() float64 {
	if p.Kind == Int && p.Step == 0 {
		return 1
	}
	return p.Step
}

// Check validates the parameter: its name, a known kind, a range with
// Low ≤ High (a positive Low in log scale, whole numbers for Int, a step
// that divides the range), or distinct choices.
func (p *Param) Check() error {
	if !paramName.MatchString(p.Name) {
		return fmt.Errorf("parameter name %q: want a letter then letters, digits, '-', '_' or '.'", p.Name)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("parameter %q: %s", p.Name, fmt.Sprintf(format, args...))
	}
	switch p.Kind {
	case Float, Int:
		if len(p.Choices) > 0 {
			return bad("choices belong to a categorical parameter, not a %s one", p.Kind)
		}
		for _, v := range []float64{p.Low, p.High, p.Step} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad("bounds and step must be finite numbers")
			}
		}
		if p.Low > p.High {
			return bad("bad range: low %g is above high %g", p.Low, p.High)
		}
		if p.Step < 0 {
			return bad("step %g is negative", p.Step)
		}
		if p.Log && p.Low <= 0 {
			return bad("a log-scale range must start above 0, got low %g", p.Low)
		}
		if p.Kind == Int {
			for _, v := range []float64{p.Low, p.High, p.Step} {
				if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
					return bad("int bounds and step must be whole numbers, got low %g high %g step %g", p.Low, p.High, p.Step)
				}
			}
		}
		if s := p.step(); s > 0 {
			if p.Log && (p.Kind == Float || s != 1) {
				return bad("log scale and a step exclude each other (as in Optuna)")
			}
			n := (p.High - p.Low) / s
			if math.Abs(n-math.Round(n)) > 1e-9*max(1, n) {
				return bad("high − low (%g) is not a multiple of step %g", p.High-p.Low, s)
			}
		}
	case Categorical:
		if p.Low != 0 || p.High != 0 || p.Log || p.Step != 0 {
			return bad("a categorical parameter has choices, not low, high, log or step")
		}
		if len(p.Choices) == 0 {
			return bad("no choices")
		}
		for i, c := range p.Choices {
			switch v := c.(type) {
			case float64:
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return bad("choice %d is not a finite number", i)
				}
			case string:
			default:
				return bad("choice %d (%v) is neither a number nor a string", i, c)
			}
			for _, d := range p.Choices[:i] {
				if d == c {
					return bad("choice %v appears twice", c)
				}
			}
		}
	case "":
		return bad("no type (want float, int or categorical)")
	default:
		return bad("unknown type %q (want float, int or categorical)", p.Kind)
	}
	return nil
}

// Check validates the space: at least one parameter, distinct names, and
// each parameter's Check.
func (s Space) Check() error {
	if len(s) == 0 {
		return errors.New("empty search space: give at least one parameter")
	}
	for i := range s {
		if err := s[i].Check(); err != nil {
			return err
		}
		for _, q := range s[:i] {
			if q.Name == s[i].Name {
				return fmt.Errorf("parameter %q appears twice in the search space", q.Name)
			}
		}
	}
	return nil
}

// Lookup returns the parameter of that name, or nil.
func (s Space) Lookup(name string) *Param {
	for i := range s {
		if s[i].Name == name {
			return &s[i]
		}
	}
	return nil
}

// Names lists the parameter names in order.
func (s Space) Names() []string {
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = p.Name
	}
	return out
}

// single reports whether the parameter has one value only.
func (p *Param) single() bool {
	if p.Kind == Categorical {
		return len(p.Choices) == 1
	}
	return p.Low == p.High
}

// Value returns v as a value of the parameter (int for Int, float64 for
// Float, the matching choice for Categorical) and whether it is one:
// numbers decoded from JSON (float64) become ints for Int parameters.
func (p *Param) Value(v any) (any, bool) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case int:
		x = float64(n)
	case string:
		if p.Kind != Categorical {
			return nil, false
		}
	default:
		return nil, false
	}
	switch p.Kind {
	case Categorical:
		for _, c := range p.Choices {
			if c == v || (isNumber(v) && c == any(x)) {
				return c, true
			}
		}
		return nil, false
	case Int:
		if x != math.Trunc(x) || x < p.Low || x > p.High {
			return nil, false
		}
		if s := p.step(); math.Mod(x-p.Low, s) != 0 {
			return nil, false
		}
		return int(x), true
	case Float:
		if math.IsNaN(x) || x < p.Low || x > p.High {
			return nil, false
		}
		return x, true
	}
	return nil, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, int:
		return true
	}
	return false
}

// internal is Optuna's internal representation of a value: the number
// itself for Float and Int, the choice's index for Categorical.
func (p *Param) internal(v any) (float64, bool) {
	v, ok := p.Value(v)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		if p.Kind == Float {
			return x, true
		}
	}
	for i, c := range p.Choices {
		if c == v {
			return float64(i), true
		}
	}
	return 0, false
}

// external turns an internal representation back into a value.
func (p *Param) external(x float64) any {
	switch p.Kind {
	case Int:
		return int(math.Round(x))
	case Categorical:
		return p.Choices[int(x)]
	}
	return x
}

// paramJSON is a parameter in a space file.
type paramJSON struct {
	Type    Kind     `json:"type"`
	Low     *float64 `json:"low,omitempty"`
	High    *float64 `json:"high,omitempty"`
	Log     bool     `json:"log,omitempty"`
	Step    *float64 `json:"step,omitempty"`
	Choices []any    `json:"choices,omitempty"`
}

// MarshalJSON writes the space as a space file reads it: one member per
// parameter, in order.
func (s Space) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(p.Name)
		b.Write(name)
		b.WriteByte(':')
		pj := paramJSON{Type: p.Kind, Log: p.Log, Choices: p.Choices}
		if p.Kind != Categorical {
			low, high := p.Low, p.High
			pj.Low, pj.High = &low, &high
			if p.Step != 0 {
				step := p.Step
				pj.Step = &step
			}
		}
		v, err := json.Marshal(pj)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a space as ParseSpace does.
func (s *Space) UnmarshalJSON(b []byte) error {
	sp, err := ParseSpace(b, "search space")
	if err != nil {
		return err
	}
	*s = sp
	return nil
}

// ParseSpace reads a search space from JSON: an object whose members are
// the parameters, in order, each {"type": "float"|"int", "low": L, "high":
// H, "log": true?, "step": S?} or {"type": "categorical", "choices": [...]}.
// Errors name source and the line of the parameter.
func ParseSpace(b []byte, source string) (Space, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	// lineAt is the line of the next token after offset off.
	lineAt := func(off int64) int {
		i := min(int(off), len(b))
		for i < len(b) && bytes.IndexByte([]byte(" \t\r\n,"), b[i]) >= 0 {
			i++
		}
		return 1 + bytes.Count(b[:i], []byte("\n"))
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: a search space is a JSON object of parameters, as {\"lr\": {\"type\": \"float\", \"low\": 1e-5, \"high\": 1e-3, \"log\": true}}", source)
	}
	var s Space
	for dec.More() {
		line := lineAt(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s:%d: parameter %q: %w", source, line, name, err)
		}
		p, err := paramFromJSON(name, raw)
		if err == nil {
			err = p.Check()
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		s = append(s, p)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s:%d: text after the search space", source, lineAt(dec.InputOffset()))
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%s:%d: text after the search space", source, lineAt(dec.InputOffset()))
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return s, nil
}

func paramFromJSON(name string, raw []byte) (Param, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var pj paramJSON
	if err := dec.Decode(&pj); err != nil {
		return Param{}, fmt.Errorf("parameter %q: %w", name, err)
	}
	p := Param{Name: name, Kind: pj.Type, Log: pj.Log, Choices: pj.Choices}
	if pj.Type == Float || pj.Type == Int {
		if pj.Low == nil || pj.High == nil {
			return Param{}, fmt.Errorf("parameter %q: a %s parameter needs \"low\" and \"high\"", name, pj.Type)
		}
		p.Low, p.High = *pj.Low, *pj.High
	} else if pj.Low != nil || pj.High != nil {
		p.Low, p.High = 1, 1 // rejected by Check
	}
	if pj.Step != nil {
		p.Step = *pj.Step
		if p.Step == 0 {
			return Param{}, fmt.Errorf("parameter %q: step 0 (leave it out for a continuous range)", name)
		}
	}
	return p, nil
}

// ReadSpace reads a search space file (see ParseSpace).
func ReadSpace(path string) (Space, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSpace(b, path)
}

// ParseParam reads one parameter from its flag form:
//
//	NAME=float:LOW:HIGH[:log|:step=S]
//	NAME=int:LOW:HIGH[:log|:step=S]
//	NAME=categorical:A,B,C     (choices that parse as numbers are numbers)
func ParseParam(spec string) (Param, error) {
	name, def, ok := strings.Cut(spec, "=")
	if !ok || def == "" {
		return Param{}, fmt.Errorf("parameter %q: want NAME=float:LOW:HIGH[:log], NAME=int:LOW:HIGH[:log] or NAME=categorical:A,B,...", spec)
	}
	name = strings.TrimSpace(name)
	kind, rest, _ := strings.Cut(def, ":")
	p := Param{Name: name, Kind: Kind(kind)}
	switch p.Kind {
	case Float, Int:
		parts := strings.Split(rest, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return Param{}, fmt.Errorf("parameter %q: want %s:LOW:HIGH[:log|:step=S], got %q", name, kind, def)
		}
		var err error
		if p.Low, err = strconv.ParseFloat(parts[0], 64); err != nil {
			return Param{}, fmt.Errorf("parameter %q: low %q is not a number", name, parts[0])
		}
		if p.High, err = strconv.ParseFloat(parts[1], 64); err != nil {
			return Param{}, fmt.Errorf("parameter %q: high %q is not a number", name, parts[1])
		}
		if len(parts) == 3 {
			switch opt := parts[2]; {
			case opt == "log":
				p.Log = true
			case strings.HasPrefix(opt, "step="):
				if p.Step, err = strconv.ParseFloat(strings.TrimPrefix(opt, "step="), 64); err != nil || p.Step <= 0 {
					return Param{}, fmt.Errorf("parameter %q: %q is not a positive step", name, opt)
				}
			default:
				return Param{}, fmt.Errorf("parameter %q: unknown option %q (want log or step=S)", name, opt)
			}
		}
	case Categorical, "choice":
		p.Kind = Categorical
		if rest == "" {
			return Param{}, fmt.Errorf("parameter %q: no choices", name)
		}
		for _, c := range strings.Split(rest, ",") {
			if v, err := strconv.ParseFloat(c, 64); err == nil {
				p.Choices = append(p.Choices, v)
			} else {
				p.Choices = append(p.Choices, c)
			}
		}
	}
	if err := p.Check(); err != nil {
		return Param{}, err
	}
	return p, nil
}

// String is the parameter in its flag form (see ParseParam).
func (p Param) String() string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch p.Kind {
	case Categorical:
		parts := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			parts[i] = FormatValue(c)
		}
		return p.Name + "=categorical:" + strings.Join(parts, ",")
	default:
		s := fmt.Sprintf("%s=%s:%s:%s", p.Name, p.Kind, g(p.Low), g(p.High))
		if p.Log {
			s += ":log"
		} else if p.Step != 0 {
			s += ":step=" + g(p.Step)
		}
		return s
	}
}

// FormatValue writes a parameter value as a flag value: numbers in their
// shortest form, strings as they are.
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
