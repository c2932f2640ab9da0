package tokenizer

import (
	"fmt"
	"slices"
)

// Encoding is the result of encoding a text or a pair of texts (HF's Encoding).
// Offsets are Unicode code point offsets [start, end) into the input text the
// token came from; special and padding tokens have (0, 0). WordIDs holds -1
// where a token belongs to no word.
type Encoding struct {
	IDs               []int    `json:"ids"`
	TypeIDs           []int    `json:"type_ids"`
	Tokens            []string `json:"tokens"`
	Offsets           [][2]int `json:"offsets"`
	AttentionMask     []int    `json:"attention_mask"`
	SpecialTokensMask []int    `json:"special_tokens_mask"`
	WordIDs           []int    `json:"word_ids"`
	// Overflowing holds the pieces cut off by truncation, each a full
	// encoding (with special tokens and padding, as HF makes them).
	Overflowing []Encoding `json:"overflowing,omitempty"`
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

func (e *Encoding) clone() Encoding {
	c := Encoding{
		IDs:               slices.Clone(e.IDs),
		TypeIDs:           slices.Clone(e.TypeIDs),
		Tokens:            slices.Clone(e.Tokens),
		Offsets:           slices.Clone(e.Offsets),
		AttentionMask:     slices.Clone(e.AttentionMask),
		SpecialTokensMask: slices.Clone(e.SpecialTokensMask),
		WordIDs:           slices.Clone(e.WordIDs),
	}
	for i := range e.Overflowing {
		c.Overflowing = append(c.Overflowing, e.Overflowing[i].clone())
	}
	return c
}

// slice returns tokens [start, stop) without overflowing pieces.
func (e *Encoding) slice(start, stop int) Encoding {
	return Encoding{
		IDs:               slices.Clone(e.IDs[start:stop]),
		TypeIDs:           slices.Clone(e.TypeIDs[start:stop]),
		Tokens:            slices.Clone(e.Tokens[start:stop]),
		Offsets:           slices.Clone(e.Offsets[start:stop]),
		AttentionMask:     slices.Clone(e.AttentionMask[start:stop]),
		SpecialTokensMask: slices.Clone(e.SpecialTokensMask[start:stop]),
		WordIDs:           slices.Clone(e.WordIDs[start:stop]),
	}
}

// TruncationDirection says which end of a sequence truncation cuts.
type TruncationDirection string

// The truncation directions.
const (
	TruncateRight TruncationDirection = "right"
	TruncateLeft  TruncationDirection = "left"
)

// truncate keeps maxLen tokens and moves the rest into overflowing pieces of
// maxLen tokens that overlap by stride, as Encoding::truncate; with drop,
// the rest is dropped.
func (e *Encoding) truncate(maxLen, stride int, dir TruncationDirection, drop bool) error {
	n := e.Len()
	if maxLen >= n {
		return nil
	}
	if maxLen == 0 {
		whole := *e
		*e = Encoding{Overflowing: []Encoding{whole}}
		if drop {
			*e = Encoding{}
		}
		return nil
	}
	if stride >= maxLen {
		return fmt.Errorf("truncation stride %d must be less than the max length %d (after removing the special tokens)", stride, maxLen)
	}
	if drop {
		start := 0
		if dir == TruncateLeft {
			start = n - maxLen
		}
		*e = e.slice(start, start+maxLen)
		return nil
	}
	step := maxLen - stride
	var parts [][2]int
	if dir == TruncateLeft {
		for stop := n; stop > 0; stop -= step {
			start := max(stop-maxLen, 0)
			parts = append(parts, [2]int{start, stop})
			if start == 0 {
				break
			}
		}
	} else {
		for start := 0; start < n; start += step {
			stop := min(start+maxLen, n)
			parts = append(parts, [2]int{start, stop})
			if stop == n {
				break
			}
		}
	}
	first := e.slice(parts[0][0], parts[0][1])
	for _, p := range parts[1:] {
		first.Overflowing = append(first.Overflowing, e.slice(p[0], p[1]))
	}
	*e = first
	return nil
}

// mergeWith appends pair to e, combining their overflowing pieces as
// Encoding::merge_with does.
func (e *Encoding) mergeWith(pair Encoding, growingOffsets bool) {
	var overflowing []Encoding
	for i := range e.Overflowing {
		o := e.Overflowing[i].clone()
		o.mergeWith(pair.clone(), growingOffsets)
		overflowing = append(overflowing, o)
		for j := range pair.Overflowing {
			o := e.Overflowing[i].clone()
			o.mergeWith(pair.Overflowing[j].clone(), growingOffsets)
			overflowing = append(overflowing, o)
		}
	}
	for j := range pair.Overflowing {
		o := e.clone()
		o.mergeWith(pair.Overflowing[j].clone(), growingOffsets)
		overflowing = append(overflowing, o)
	}
	shift := 0
	if growingOffsets && len(e.Offsets) > 0 {
		shift = e.Offsets[len(e.Offsets)-1][1]
	}
	e.IDs = append(e.IDs, pair.IDs...)
	e.TypeIDs = append(e.TypeIDs, pair.TypeIDs...)
	e.Tokens = append(e.Tokens, pair.Tokens...)
	e.WordIDs = append(e.WordIDs, pair.WordIDs...)
	for _, o := range pair.Offsets {
		e.Offsets = append(e.Offsets, [2]int{o[0] + shift, o[1] + shift})
	}
	e.SpecialTokensMask = append(e.SpecialTokensMask, pair.SpecialTokensMask...)
	e.AttentionMask = append(e.AttentionMask, pair.AttentionMask...)
	e.Overflowing = overflowing
}

// mergeEncodings merges a list of encodings in order. Without overflowing
// pieces it allocates each field once.
func mergeEncodings(encs []Encoding) Encoding {
	total := 0
	for i := range encs {
		if len(encs[i].Overflowing) > 0 {
			var out Encoding
			for _, e := range encs {
				out.mergeWith(e, false)
			}
			return out
		}
		total += encs[i].Len()
	}
	out := Encoding{IDs: make([]int, 0, total), TypeIDs: make([]int, 0, total), Tokens: make([]string, 0, total),
		Offsets: make([][2]int, 0, total), AttentionMask: make([]int, 0, total), SpecialTokensMask: make([]int, 0, total),
		WordIDs: make([]int, 0, total)}
	for i := range encs {
		e := &encs[i]
		out.IDs = append(out.IDs, e.IDs...)
		out.TypeIDs = append(out.TypeIDs, e.TypeIDs...)
		out.Tokens = append(out.Tokens, e.Tokens...)
		out.Offsets = append(out.Offsets, e.Offsets...)
		out.AttentionMask = append(out.AttentionMask, e.AttentionMask...)
		out.SpecialTokensMask = append(out.SpecialTokensMask, e.SpecialTokensMask...)
		out.WordIDs = append(out.WordIDs, e.WordIDs...)
	}
	return out
}

// PaddingDirection says on which side padding goes.
type PaddingDirection string

// The padding directions.
const (
	PadRight PaddingDirection = "right"
	PadLeft  PaddingDirection = "left"
)

// pad extends e (and its overflowing pieces) to length with padding tokens.
func (e *Encoding) pad(length, padID, padTypeID int, padToken string, dir PaddingDirection) {
	for i := range e.Overflowing {
		e.Overflowing[i].pad(length, padID, padTypeID, padToken, dir)
	}
	n := length - e.Len()
	if n <= 0 {
		return
	}
	fill := func(s []int, v int) []int {
		p := make([]int, n)
		for i := range p {
			p[i] = v
		}
		if dir == PadLeft {
			return append(p, s...)
		}
		return append(s, p...)
	}
	e.IDs = fill(e.IDs, padID)
	e.TypeIDs = fill(e.TypeIDs, padTypeID)
	e.AttentionMask = fill(e.AttentionMask, 0)
	e.SpecialTokensMask = fill(e.SpecialTokensMask, 1)
	e.WordIDs = fill(e.WordIDs, -1)
	toks := make([]string, n)
	offs := make([][2]int, n)
	for i := range toks {
		toks[i] = padToken
	}
	if dir == PadLeft {
		e.Tokens = append(toks, e.Tokens...)
		e.Offsets = append(offs, e.Offsets...)
	} else {
		e.Tokens = append(e.Tokens, toks...)
		e.Offsets = append(e.Offsets, offs...)
	}
}
