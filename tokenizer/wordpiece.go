package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// WordPieceConfig configures a WordPiece model. Zero values take HF's
// defaults: UnkToken "[UNK]", ContinuingSubwordPrefix "##",
// MaxInputCharsPerWord 100.
type WordPieceConfig struct {
	// Vocab maps each token to its id.
	Vocab map[string]int
	// UnkToken replaces a word that cannot be split into vocabulary pieces.
	UnkToken string
	// ContinuingSubwordPrefix marks pieces that do not start a word.
	ContinuingSubwordPrefix string
	// MaxInputCharsPerWord is the length in characters above which a word
	// becomes UnkToken without being split.
	MaxInputCharsPerWord int
}

// WordPiece is the greedy longest-match-first subword model of BERT, as HF
// tokenizers' models::wordpiece::WordPiece.
type WordPiece struct {
	vocab    map[string]int
	vocabR   map[int]string
	cont     map[string]wpPiece // continuing pieces keyed without their prefix
	maxLen   int                // longest piece in bytes, prefix excluded
	unk      string
	prefix   string
	maxChars int
}

type wpPiece struct {
	id  int
	tok string
}

// NewWordPiece builds a WordPiece model from cfg. The vocabulary need not
// contain the unknown token, but tokenizing a word that needs it then fails,
// as in HF.
func NewWordPiece(cfg WordPieceConfig) (*WordPiece, error) {
	if cfg.UnkToken == "" {
		cfg.UnkToken = "[UNK]"
	}
	if cfg.ContinuingSubwordPrefix == "" {
		cfg.ContinuingSubwordPrefix = "##"
	}
	if cfg.MaxInputCharsPerWord == 0 {
		cfg.MaxInputCharsPerWord = 100
	}
	return buildWordPiece(cfg)
}

// buildWordPiece builds a WordPiece model from cfg as it is, without defaults.
func buildWordPiece(cfg WordPieceConfig) (*WordPiece, error) {
	if cfg.MaxInputCharsPerWord < 0 {
		return nil, fmt.Errorf("wordpiece: max_input_chars_per_word %d is negative", cfg.MaxInputCharsPerWord)
	}
	m := &WordPiece{
		vocab:    make(map[string]int, len(cfg.Vocab)),
		vocabR:   make(map[int]string, len(cfg.Vocab)),
		cont:     make(map[string]wpPiece),
		unk:      cfg.UnkToken,
		prefix:   cfg.ContinuingSubwordPrefix,
		maxChars: cfg.MaxInputCharsPerWord,
	}
	for tok, id := range cfg.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("wordpiece: token %q has negative id %d", tok, id)
		}
		m.vocab[tok] = id
		m.vocabR[id] = tok
		n := len(tok)
		if len(tok) >= len(m.prefix) && tok[:len(m.prefix)] == m.prefix {
			m.cont[tok[len(m.prefix):]] = wpPiece{id: id, tok: tok}
			n -= len(m.prefix)
		}
		if n > m.maxLen {
			m.maxLen = n
		}
	}
	return m, nil
}

// UnkToken returns the model's unknown token.
func (m *WordPiece) UnkToken() string { return m.unk }

// ContinuingSubwordPrefix returns the prefix of pieces that continue a word.
func (m *WordPiece) ContinuingSubwordPrefix() string { return m.prefix }

// Tokenize splits one word into the longest vocabulary pieces from the left.
// A word of more than MaxInputCharsPerWord characters, or one that cannot be
// covered by pieces, becomes a single unknown token spanning the word.
func (m *WordPiece) Tokenize(sequence string) ([]Token, error) {
	if utf8.RuneCountInString(sequence) > m.maxChars {
		return m.unkWord(sequence)
	}
	out := make([]Token, 0, min(len(sequence), 4))
	start := 0
	for start < len(sequence) {
		// Pieces longer than the longest vocabulary entry cannot match; a
		// word-initial token may itself begin with the prefix.
		end := start + m.maxLen
		if start == 0 {
			end += len(m.prefix)
		}
		if end >= len(sequence) {
			end = len(sequence)
		} else {
			for end > start && !utf8.RuneStart(sequence[end]) {
				end--
			}
		}
		found := false
		for end > start {
			if start == 0 {
				if id, ok := m.vocab[sequence[:end]]; ok {
					out = append(out, Token{ID: id, Value: sequence[:end], Offsets: [2]int{0, end}})
					found = true
					break
				}
			} else if p, ok := m.cont[sequence[start:end]]; ok {
				out = append(out, Token{ID: p.id, Value: p.tok, Offsets: [2]int{start, end}})
				found = true
				break
			}
			_, size := utf8.DecodeLastRuneInString(sequence[start:end])
			end -= size
		}
		if !found {
			return m.unkWord(sequence)
		}
		start = end
	}
	return out, nil
}

func (m *WordPiece) unkWord(sequence string) ([]Token, error) {
	id, ok := m.vocab[m.unk]
	if !ok {
		return nil, fmt.Errorf("wordpiece: missing unk token %q from the vocabulary", m.unk)
	}
	return []Token{{ID: id, Value: m.unk, Offsets: [2]int{0, len(sequence)}}}, nil
}

// TokenToID returns the id of token.
func (m *WordPiece) TokenToID(token string) (int, bool) {
	id, ok := m.vocab[token]
	return id, ok
}

// IDToToken returns the token with the given id.
func (m *WordPiece) IDToToken(id int) (string, bool) {
	t, ok := m.vocabR[id]
	return t, ok
}

// VocabSize returns the number of entries of the vocabulary.
func (m *WordPiece) VocabSize() int { return len(m.vocab) }
