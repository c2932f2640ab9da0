package tokenizer

// Token is one piece produced by a Model: its vocabulary id, its string, and
// its byte offsets [start, end) in the sequence the model was given.
type Token struct {
	ID      int
	Value   string
	Offsets [2]int
}

// Model turns one pre-tokenized word (a sequence without further splits) into
// tokens. WordPiece, BPE and Unigram implement it.
type Model interface {
	// Tokenize splits sequence into tokens whose offsets are byte offsets
	// into sequence.
	Tokenize(sequence string) ([]Token, error)
	// TokenToID returns the id of a token of the vocabulary.
	TokenToID(token string) (int, bool)
	// IDToToken returns the token with the given id.
	IDToToken(id int) (string, bool)
	// VocabSize is the number of tokens in the model's vocabulary.
	VocabSize() int
}

// Decoder turns tokens back into text pieces, as HF's decoders do. Decoders
// compose through DecodeChain; the decoded text is the concatenation of the
// returned pieces.
type Decoder interface {
	DecodeChain(tokens []string) ([]string, error)
}
