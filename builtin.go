package textclf

import (
	"context"
	"fmt"
	"strings"

	"github.com/textclf/textclf/builtin"
	"github.com/textclf/textclf/classic"
)

// openBuiltin loads the built-in model loc names: a classic model, or a
// ByScript model over its parts.
func openBuiltin(loc Location, maxLength int) (Model, error) {
	m, err := builtin.Lookup(loc.Builtin)
	if err != nil {
		return nil, err
	}
	if !m.Routed() {
		c, err := classic.Load(loc.Path)
		if err != nil {
			return nil, fmt.Errorf("built-in model %q: %w", m.Name, err)
		}
		return NewClassic(c, maxLength, BuiltinPrefix+m.Name), nil
	}
	r := &ByScript{name: m.Name, model: m}
	for _, part := range m.Parts {
		pl, err := Locate(context.Background(), BuiltinPrefix+part, "")
		if err != nil {
			return nil, err
		}
		pm, err := openBuiltin(pl, maxLength)
		if err != nil {
			return nil, err
		}
		c, ok := pm.(*Classic)
		if !ok {
			return nil, fmt.Errorf("built-in model %q: part %q is not a classic model", m.Name, part)
		}
		if fmt.Sprint(c.Info().Labels) != fmt.Sprint(m.Labels) {
			return nil, fmt.Errorf("built-in model %q: part %q has labels %q, want %q", m.Name, part, c.Info().Labels, m.Labels)
		}
		r.parts = append(r.parts, c)
	}
	return r, nil
}

// ByScript is a built-in model that sends each text to one of two classic
// models by its script: texts with a Han character to the first (Chinese),
// the others to the second. Both have the same labels.
type ByScript struct {
	name  string
	model builtin.Model
	parts []*Classic
}

// Parts are the two models, Chinese first.
func (r *ByScript) Parts() []*Classic { return r.parts }

// Info implements Model.
func (r *ByScript) Info() ModelInfo {
	info := r.parts[1].Info()
	info.Kind = "by-script"
	info.Architecture = fmt.Sprintf("%s (Han script) / %s (otherwise)", r.model.Parts[0], r.model.Parts[1])
	info.Source = BuiltinPrefix + r.name
	info.Parameters = r.parts[0].Info().Parameters + r.parts[1].Info().Parameters
	info.VocabSize = r.parts[0].Info().VocabSize + r.parts[1].Info().VocabSize
	return info
}

// Encode implements Model: the encoding of the part the text's script
// picks (the text and its pair together). Its TypeIDs (and those of its
// windows) hold the part's index, which Logits reads.
func (r *ByScript) Encode(in Input, opt EncodeOptions) (Encoding, error) {
	text := in.Text
	if in.Pair != nil {
		text += " " + *in.Pair
	}
	p := r.pick(text)
	e, err := r.parts[p].Encode(in, opt)
	if err != nil {
		return e, err
	}
	mark := func(e *Encoding) {
		e.TypeIDs = make([]int, len(e.Tokens))
		for i := range e.TypeIDs {
			e.TypeIDs[i] = p
		}
	}
	mark(&e)
	for i := range e.Overflowing {
		mark(&e.Overflowing[i])
	}
	return e, nil
}

func (r *ByScript) pick(text string) int {
	if builtin.HasHan(text) {
		return 0
	}
	return 1
}

// Logits implements Model. Each encoding goes to the part Encode marked
// in its TypeIDs; an encoding without them (tokens put together by a
// caller) goes by its tokens' script, as both parts keep Han characters
// as tokens.
func (r *ByScript) Logits(ctx context.Context, batch []Encoding) ([][]float32, error) {
	var groups [2][]int
	for i, e := range batch {
		p := 0
		if len(e.TypeIDs) > 0 {
			p = e.TypeIDs[0]
		} else {
			p = r.pick(strings.Join(e.Tokens, " "))
		}
		if p != 0 && p != 1 {
			return nil, fmt.Errorf("input %d: type id %d names no part of built-in model %q", i+1, p, r.name)
		}
		groups[p] = append(groups[p], i)
	}
	out := make([][]float32, len(batch))
	for p, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		sub := make([]Encoding, len(idx))
		for j, i := range idx {
			sub[j] = batch[i]
		}
		o, err := r.parts[p].Logits(ctx, sub)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = o[j]
		}
	}
	return out, nil
}
