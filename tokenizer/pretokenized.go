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

// splitWith replaces every untokenized split by the splits f makes of it,
// dropping empty ones.
func (p *preTokenizedString) splitWith(f func(i int, ns *normalizedString) ([]split, error)) error {
	out := make([]split, 0, len(p.splits))
	for i := range p.splits {
		s := &p.splits[i]
		if s.tokens != nil {
			out = append(out, *s)
			continue
		}
		pieces, err := f(i, &s.ns)
		if err != nil {
			return err
		}
		for _, pc := range pieces {
			if pc.ns.normalized != "" {
				out = append(out, pc)
			}
		}
	}
	p.splits = out
	return nil
}

// splitNormalized is splitWith for functions returning plain pieces.
func (p *preTokenizedString) splitNormalized(f func(i int, ns *normalizedString) ([]normalizedString, error)) error {
	return p.splitWith(func(i int, ns *normalizedString) ([]split, error) {
		pieces, err := f(i, ns)
		if err != nil {
			return nil, err
		}
		out := make([]split, len(pieces))
		for j, pc := range pieces {
			out[j] = split{ns: pc}
		}
		return out, nil
	})
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
