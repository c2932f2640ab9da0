package tokenizer

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"unicode/utf8"
)

// TruncationStrategy says which sequence of a pair truncation shortens.
type TruncationStrategy string

// The truncation strategies of HF tokenizers.
const (
	LongestFirst TruncationStrategy = "longest_first"
	OnlyFirst    TruncationStrategy = "only_first"
	OnlySecond   TruncationStrategy = "only_second"
)

// Truncation limits the length of encodings. MaxLength counts the special
// tokens the post-processor adds.
type Truncation struct {
	MaxLength int
	Strategy  TruncationStrategy
	Stride    int
	Direction TruncationDirection
	// DropOverflow leaves Encoding.Overflowing empty: the tokens beyond
	// MaxLength are dropped (HF computes them always). A single text
	// truncated on the right is then tokenized only until MaxLength tokens
	// are certain: the words after them are not run through the model.
	DropOverflow bool
}

// Padding pads encodings to a common length: the longest of the batch when
// Length is 0, else Length; then up to a multiple of PadToMultipleOf.
type Padding struct {
	Length          int
	PadToMultipleOf int
	Direction       PaddingDirection
	PadID           int
	PadTypeID       int
	PadToken        string
}

// Tokenizer encodes texts into token ids as HF tokenizers does. A Tokenizer
// is safe for concurrent use once configured.
type Tokenizer struct {
	normalizer    normalizer
	preTokenizer  preTokenizer
	model         Model
	postProcessor postProcessor
	decoder       Decoder
	added         *addedVocabulary

	// Truncation, when set, applies to every encoding.
	Truncation *Truncation
	// Padding, when set, applies to every encoding (and across a batch).
	Padding *Padding
}

// Model returns the tokenizer's model (WordPiece, BPE or Unigram).
func (t *Tokenizer) Model() Model { return t.model }

// TokenToID returns the id of a token, added tokens included.
func (t *Tokenizer) TokenToID(token string) (int, bool) {
	if id, ok := t.added.byText[token]; ok {
		return id, true
	}
	return t.model.TokenToID(token)
}

// IDToToken returns the token of an id, added tokens included (in their
// normalized form when they match normalized text, as HF returns them).
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if tok, ok := t.added.decodeAs[id]; ok {
		return tok, true
	}
	return t.model.IDToToken(id)
}

// VocabSize is the size of the vocabulary including added tokens.
func (t *Tokenizer) VocabSize() int {
	n := t.model.VocabSize()
	for _, tok := range t.added.tokens {
		if _, inModel := t.model.IDToToken(tok.ID); !inModel {
			n++
		}
	}
	return n
}

// NumSpecialTokensToAdd is the number of special tokens the
// post-processor adds to a text (or, with pair, a pair of texts), as HF's
// num_special_tokens_to_add.
func (t *Tokenizer) NumSpecialTokensToAdd(pair bool) int {
	if t.postProcessor == nil {
		return 0
	}
	return t.postProcessor.addedTokens(pair)
}

// AddedTokens returns the added tokens, in the order of the file.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added.tokens...) }

// Encode encodes one text. With addSpecialTokens the post-processor adds the
// model's special tokens ([CLS] … [SEP], <s> … </s>).
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) (Encoding, error) {
	return t.encode(context.Background(), text, nil, addSpecialTokens)
}

// EncodePair encodes a pair of texts (for sentence-pair tasks).
func (t *Tokenizer) EncodePair(text, pair string, addSpecialTokens bool) (Encoding, error) {
	return t.encode(context.Background(), text, &pair, addSpecialTokens)
}

// EncodeInput encodes a text or a pair of texts as Encode and EncodePair
// do, until ctx is done: the regular expressions of the pipeline stop
// between matches (and each match within MatchTimeout), and the error is
// then ctx's.
func (t *Tokenizer) EncodeInput(ctx context.Context, in Input, addSpecialTokens bool) (Encoding, error) {
	return t.encode(ctx, in.Text, in.Pair, addSpecialTokens)
}

// Input is one input of a batch: a text and, for pair tasks, a second text.
type Input struct {
	Text string
	Pair *string
}

// EncodeBatch encodes inputs in parallel and pads them together.
func (t *Tokenizer) EncodeBatch(inputs []Input, addSpecialTokens bool) ([]Encoding, error) {
	out := make([]Encoding, len(inputs))
	errs := make([]error, len(inputs))
	workers := min(runtime.GOMAXPROCS(0), len(inputs))
	var wg sync.WaitGroup
	var next int
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(inputs) {
					return
				}
				out[i], errs[i] = t.encode(context.Background(), inputs[i].Text, inputs[i].Pair, addSpecialTokens)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
	}
	if t.Padding != nil {
		padEncodings(out, t.Padding)
	}
	return out, nil
}

func (t *Tokenizer) encode(ctx context.Context, text string, pair *string, addSpecial bool) (Encoding, error) {
	// A single text truncated on the right without overflowing pieces needs
	// its first tokens only.
	limit := -1
	if tr := t.Truncation; tr != nil && tr.DropOverflow && pair == nil && tr.Direction != TruncateLeft && tr.MaxLength > 0 {
		limit = tr.MaxLength
		if addSpecial && t.postProcessor != nil {
			limit = max(limit-t.postProcessor.addedTokens(false), 0)
		}
	}
	enc, err := t.encodeSequence(ctx, text, 0, limit)
	if err != nil {
		return Encoding{}, err
	}
	var pairEnc *Encoding
	if pair != nil {
		p, err := t.encodeSequence(ctx, *pair, 1, -1)
		if err != nil {
			return Encoding{}, err
		}
		pairEnc = &p
	}
	return t.postProcess(enc, pairEnc, addSpecial)
}

// encodeSequence runs added-token extraction, normalization,
// pre-tokenization and the model on one text. With limit >= 0 the model
// stops once the splits before hold limit tokens (the later splits get
// none): the first limit tokens are those of the whole text, since the
// model tokenizes each split on its own.
func (t *Tokenizer) encodeSequence(ctx context.Context, text string, typeID, limit int) (Encoding, error) {
	text = ToValidUTF8(text)
	p, err := t.added.extractAndNormalize(ctx, t.normalizer, text)
	if err != nil {
		return Encoding{}, err
	}
	if t.preTokenizer != nil {
		if err := t.preTokenizer.preTokenize(p); err != nil {
			return Encoding{}, err
		}
	}
	if err := p.tokenize(t.model, limit); err != nil {
		return Encoding{}, err
	}
	return p.intoEncoding(typeID), nil
}

// intoEncoding gathers the tokens of every split, with code point offsets
// into the original text, as PreTokenizedString::into_encoding.
func (p *preTokenizedString) intoEncoding(typeID int) Encoding {
	n := 0
	for _, s := range p.splits {
		n += len(s.tokens)
	}
	e := Encoding{IDs: make([]int, 0, n), TypeIDs: make([]int, 0, n), Tokens: make([]string, 0, n),
		Offsets: make([][2]int, 0, n), AttentionMask: make([]int, 0, n), SpecialTokensMask: make([]int, 0, n),
		WordIDs: make([]int, 0, n)}
	conv := newCharOffsets(p.original)
	for word := range p.splits {
		s := &p.splits[word]
		for _, tok := range s.tokens {
			start, end := tok.Offsets[0], tok.Offsets[1]
			if os, oe, ok := s.ns.originalRange(start, end); ok {
				start, end = s.ns.originalShift+os, s.ns.originalShift+oe
			}
			start, end = conv.convert(start, end)
			e.IDs = append(e.IDs, tok.ID)
			e.TypeIDs = append(e.TypeIDs, typeID)
			e.Tokens = append(e.Tokens, tok.Value)
			e.Offsets = append(e.Offsets, [2]int{start, end})
			e.AttentionMask = append(e.AttentionMask, 1)
			e.SpecialTokensMask = append(e.SpecialTokensMask, 0)
			e.WordIDs = append(e.WordIDs, word)
		}
	}
	return e
}

// charOffsets converts byte offsets of a string into code point offsets, as
// BytesToCharOffsetConverter.
type charOffsets struct {
	s     string
	ascii bool
	index []int // byte -> code point index; nil when ascii
}

func newCharOffsets(s string) charOffsets {
	c := charOffsets{s: s, ascii: true}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			c.ascii = false
			break
		}
	}
	if !c.ascii {
		c.index = make([]int, len(s))
		ci := 0
		for i := range s {
			_, n := utf8.DecodeRuneInString(s[i:])
			for j := 0; j < n; j++ {
				c.index[i+j] = ci
			}
			ci++
		}
	}
	return c
}

func (c charOffsets) convert(start, end int) (int, int) {
	if c.ascii {
		return start, end
	}
	if start < 0 || start >= len(c.index) {
		return start, end // HF leaves offsets it cannot map as bytes
	}
	s := c.index[start]
	switch {
	case end < len(c.index) && end >= 0:
		return s, c.index[end]
	case end-1 < len(c.index) && end-1 >= 0:
		return s, c.index[end-1] + 1
	}
	return s, s + 1
}

// postProcess truncates, adds special tokens, merges a pair and pads, as
// TokenizerImpl::post_process.
func (t *Tokenizer) postProcess(enc Encoding, pair *Encoding, addSpecial bool) (Encoding, error) {
	if t.Truncation != nil {
		tr := *t.Truncation
		if addSpecial && t.postProcessor != nil {
			n := t.postProcessor.addedTokens(pair != nil)
			if n > tr.MaxLength {
				return Encoding{}, fmt.Errorf("truncation: max length %d is less than the %d special tokens added", tr.MaxLength, n)
			}
			tr.MaxLength -= n
		}
		if err := truncateEncodings(&enc, pair, tr); err != nil {
			return Encoding{}, err
		}
	}
	encs := []Encoding{enc}
	if pair != nil {
		encs = append(encs, *pair)
	}
	var final Encoding
	if t.postProcessor != nil {
		processed, err := t.postProcessor.process(encs, addSpecial)
		if err != nil {
			return Encoding{}, err
		}
		final = mergeEncodings(processed)
	} else if pair == nil {
		final = enc
	} else {
		final = mergeEncodings(encs)
	}
	if t.Padding != nil {
		one := []Encoding{final}
		padEncodings(one, t.Padding)
		final = one[0]
	}
	return final, nil
}

// truncateEncodings shortens a sequence or a pair to tr.MaxLength tokens, as
// HF's truncate_encodings.
func truncateEncodings(enc, pair *Encoding, tr Truncation) error {
	dir := tr.Direction
	if dir == "" {
		dir = TruncateRight
	}
	if tr.MaxLength == 0 {
		if err := enc.truncate(0, tr.Stride, dir, tr.DropOverflow); err != nil {
			return err
		}
		if pair != nil {
			return pair.truncate(0, tr.Stride, dir, tr.DropOverflow)
		}
		return nil
	}
	total := enc.Len()
	if pair != nil {
		total += pair.Len()
	}
	if total <= tr.MaxLength {
		return nil
	}
	toRemove := total - tr.MaxLength
	switch tr.Strategy {
	case LongestFirst, "":
		if pair == nil {
			return enc.truncate(total-toRemove, tr.Stride, dir, tr.DropOverflow)
		}
		n1, n2 := enc.Len(), pair.Len()
		swap := n1 > n2
		if swap {
			n1, n2 = n2, n1
		}
		if n1 > tr.MaxLength {
			n2 = n1
		} else {
			n2 = max(n1, tr.MaxLength-n1)
		}
		if n1+n2 > tr.MaxLength {
			n1 = tr.MaxLength / 2
			n2 = n1 + tr.MaxLength%2
		}
		if swap {
			n1, n2 = n2, n1
		}
		if err := enc.truncate(n1, tr.Stride, dir, tr.DropOverflow); err != nil {
			return err
		}
		return pair.truncate(n2, tr.Stride, dir, tr.DropOverflow)
	case OnlyFirst, OnlySecond:
		target := enc
		if tr.Strategy == OnlySecond {
			if pair == nil {
				return fmt.Errorf("truncation only_second needs a pair of sequences")
			}
			target = pair
		}
		if target.Len() <= toRemove {
			return fmt.Errorf("truncation %s: the sequence to truncate has %d tokens, fewer than the %d to remove", tr.Strategy, target.Len(), toRemove)
		}
		return target.truncate(target.Len()-toRemove, tr.Stride, dir, tr.DropOverflow)
	}
	return fmt.Errorf("unknown truncation strategy %q", tr.Strategy)
}

// padEncodings pads every encoding to the same length, as pad_encodings.
func padEncodings(encs []Encoding, p *Padding) {
	if len(encs) == 0 {
		return
	}
	length := p.Length
	if length == 0 {
		for i := range encs {
			length = max(length, encs[i].Len())
		}
	}
	if m := p.PadToMultipleOf; m > 0 && length%m > 0 {
		length += m - length%m
	}
	dir := p.Direction
	if dir == "" {
		dir = PadRight
	}
	for i := range encs {
		encs[i].pad(length, p.PadID, p.PadTypeID, p.PadToken, dir)
	}
}

// Decode turns ids back into text, dropping special tokens when
// skipSpecialTokens is set.
func (t *Tokenizer) Decode(ids []int, skipSpecialTokens bool) (string, error) {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		tok, ok := t.IDToToken(id)
		if !ok {
			continue
		}
		if skipSpecialTokens && t.added.special[tok] {
			continue
		}
		tokens = append(tokens, tok)
	}
	return decodeTokens(t.decoder, tokens)
}
