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
	var parts []*Classic
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
		parts = append(parts, c)
	}
	switch m.Arch {
	case builtin.ArchByScript:
		if len(parts) != 2 {
			return nil, fmt.Errorf("built-in model %q: a by-script model needs 2 parts, has %d", m.Name, len(parts))
		}
		return &ByScript{name: m.Name, model: m, parts: parts}, nil
	case builtin.ArchAverage:
		return &Average{name: m.Name, model: m, parts: parts}, nil
	}
	return nil, fmt.Errorf("built-in model %q: unknown composite architecture %q", m.Name, m.Arch)
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

// Average is a built-in model that gives each text to all of its parts,
// classic models with the same labels (and possibly different
// segmentations), and averages their label probabilities.
type Average struct {
	name  string
	model builtin.Model
	parts []*Classic
}

// Parts are the averaged models, in the order of builtin.Model.Parts.
func (a *Average) Parts() []*Classic { return a.parts }

// Info implements Model.
func (a *Average) Info() ModelInfo {
	info := a.parts[0].Info()
	info.Kind = builtin.ArchAverage
	var names []string
	info.Parameters, info.VocabSize = 0, 0
	for i, p := range a.parts {
		pi := p.Info()
		names = append(names, fmt.Sprintf("%s (%s)", a.model.Parts[i], pi.Architecture))
		info.Parameters += pi.Parameters
		info.VocabSize += pi.VocabSize
		info.MaxLength = max(info.MaxLength, pi.MaxLength)
	}
	info.Architecture = "mean probabilities of " + strings.Join(names, ", ")
	info.Source = BuiltinPrefix + a.name
	return info
}

// Encode implements Model: the parts' encodings one after the other, each
// token's TypeID the index of the part that reads it (Logits splits them
// again), and, for a text without a pair, each token's rune offsets in the
// text. Each part truncates its own tokens to its own length; an average
// reads one window, so opt.Windows is an error.
func (a *Average) Encode(in Input, opt EncodeOptions) (Encoding, error) {
	if opt.Windows {
		return Encoding{}, fmt.Errorf("built-in model %q averages models of different segmentations and reads one window per text: windows are not supported", a.name)
	}
	var out Encoding
	for p, part := range a.parts {
		e, err := part.Encode(in, opt)
		if err != nil {
			return Encoding{}, err
		}
		out.Tokens = append(out.Tokens, e.Tokens...)
		out.IDs = append(out.IDs, e.IDs...)
		for range e.Tokens {
			out.TypeIDs = append(out.TypeIDs, p)
		}
		if in.Pair == nil {
			out.Offsets = append(out.Offsets, locateWords(in.Text, e.Tokens)...)
		}
	}
	return out, nil
}

// Logits implements Model: the mean of the parts' probabilities, each part
// scoring the tokens Encode marked with its index. An encoding without
// TypeIDs (tokens put together by a caller) is an error.
func (a *Average) Logits(ctx context.Context, batch []Encoding) ([][]float32, error) {
	subs := make([][]Encoding, len(a.parts))
	for i, e := range batch {
		if len(e.TypeIDs) != len(e.Tokens) {
			return nil, fmt.Errorf("input %d: %d type ids for %d tokens: built-in model %q reads the encodings of its Encode", i+1, len(e.TypeIDs), len(e.Tokens), a.name)
		}
		split := make([]Encoding, len(a.parts))
		for j, p := range e.TypeIDs {
			if p < 0 || p >= len(a.parts) {
				return nil, fmt.Errorf("input %d: type id %d names no part of built-in model %q", i+1, p, a.name)
			}
			split[p].Tokens = append(split[p].Tokens, e.Tokens[j])
		}
		for p := range a.parts {
			subs[p] = append(subs[p], split[p])
		}
	}
	out := make([][]float32, len(batch))
	for p, part := range a.parts {
		o, err := part.Logits(ctx, subs[p])
		if err != nil {
			return nil, err
		}
		for i, scores := range o {
			if out[i] == nil {
				out[i] = make([]float32, len(scores))
			}
			for k, s := range scores {
				out[i][k] += s / float32(len(a.parts))
			}
		}
	}
	return out, nil
}
