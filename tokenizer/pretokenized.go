package tokenizer

import "context"

// split is one piece of a pre-tokenized string; tokens is set once a model
// (or the added vocabulary) has tokenized it, and such splits are left alone
// by later steps.
type split struct {
	ns     normalizedString
	tokens []Token
}

// preTokenizedString is the input text cut into splits, as HF's
// PreTokenizedString.
type preTokenizedString struct {
	original string
	splits   []split
	// ctx cancels the work on the string: regular expressions check it
	// between matches.
	ctx context.Context
}

func newPreTokenizedString(ctx context.Context, s string) *preTokenizedString {
	return &preTokenizedString{original: s, splits: []split{{ns: newNormalizedString(s)}}, ctx: ctx}
}

// splitWith replaces every untokenized split by the splits f appends to
// out for it; f must append only non-empty splits.
func (p *preTokenizedString) splitWith(f func(i int, ns *normalizedString, out []split) ([]split, error)) error {
	out := make([]split, 0, len(p.splits)+4)
	var err error
	for i := range p.splits {
		s := &p.splits[i]
		if s.tokens != nil {
			out = append(out, *s)
			continue
		}
		if out, err = f(i, &s.ns, out); err != nil {
			return err
		}
	}
	p.splits = out
	return nil
}

// tokenize runs the model on every untokenized split; with limit >= 0,
// only until the splits before hold limit tokens (the later ones get no
// tokens). It stops when p's context is done.
func (p *preTokenizedString) tokenize(m Model, limit int) error {
	count := 0
	for i := range p.splits {
		s := &p.splits[i]
		if limit >= 0 && count >= limit {
			if s.tokens == nil {
				s.tokens = []Token{}
			}
			continue
		}
		if i%256 == 255 {
			if err := p.ctx.Err(); err != nil {
				return err
			}
		}
		if s.tokens != nil {
			count += len(s.tokens)
			continue
		}
		toks, err := m.Tokenize(s.ns.normalized)
		if err != nil {
			return err
		}
		if toks == nil {
			toks = []Token{}
		}
		s.tokens = toks
		count += len(toks)
	}
	return nil
}

// appendNonEmpty appends ns as an untokenized split unless it is empty.
func appendNonEmpty(out []split, ns normalizedString) []split {
	if ns.normalized == "" {
		return out
	}
	return append(out, split{ns: ns})
}
