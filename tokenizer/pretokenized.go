package tokenizer

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
}

func newPreTokenizedString(s string) *preTokenizedString {
	return &preTokenizedString{original: s, splits: []split{{ns: newNormalizedString(s)}}}
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

// tokenize runs the model on every untokenized split.
func (p *preTokenizedString) tokenize(m Model) error {
	for i := range p.splits {
		s := &p.splits[i]
		if s.tokens != nil {
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
