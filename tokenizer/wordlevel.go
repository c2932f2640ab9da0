package tokenizer

import "fmt"

// WordLevel maps each word to its vocabulary id, or to the unknown token
// (HF's WordLevel model).
type WordLevel struct {
	vocab map[string]int
	byID  map[int]string
	unk   string
}

// NewWordLevel makes a WordLevel model; unk is the unknown token ("<unk>" in HF's default).
func NewWordLevel(vocab map[string]int, unk string) *WordLevel {
	m := &WordLevel{vocab: vocab, byID: make(map[int]string, len(vocab)), unk: unk}
	for tok, id := range vocab {
		if old, ok := m.byID[id]; !ok || tok < old {
			m.byID[id] = tok
		}
	}
	return m
}

// Tokenize returns the word's id, or the unknown token's.
func (m *WordLevel) Tokenize(s string) ([]Token, error) {
	if id, ok := m.vocab[s]; ok {
		return []Token{{ID: id, Value: s, Offsets: [2]int{0, len(s)}}}, nil
	}
	if id, ok := m.vocab[m.unk]; ok {
		return []Token{{ID: id, Value: m.unk, Offsets: [2]int{0, len(s)}}}, nil
	}
	return nil, fmt.Errorf("WordLevel: %q is not in the vocabulary, nor is the unknown token %q", s, m.unk)
}

// TokenToID returns the id of a token.
func (m *WordLevel) TokenToID(token string) (int, bool) {
	id, ok := m.vocab[token]
	return id, ok
}

// IDToToken returns the token of an id.
func (m *WordLevel) IDToToken(id int) (string, bool) {
	t, ok := m.byID[id]
	return t, ok
}

// VocabSize is the number of tokens.
func (m *WordLevel) VocabSize() int { return len(m.vocab) }
