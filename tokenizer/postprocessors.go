package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// postProcessor adds special tokens around encoded sequences (HF's
// PostProcessor::process_encodings); the tokenizer merges the result.
type postProcessor interface {
	// addedTokens is how many tokens process adds for one or two sequences.
	addedTokens(isPair bool) int
	process(encs []Encoding, addSpecial bool) ([]Encoding, error)
}

// specialTokenEncoding is an encoding made only of special tokens. Its int
// fields share one allocation (they are only ever read or appended from).
func specialTokenEncoding(ids []int, tokens []string, typeID int) Encoding {
	n := len(ids)
	ints := make([]int, 5*n)
	e := Encoding{IDs: ints[0:n:n], TypeIDs: ints[n : 2*n : 2*n], AttentionMask: ints[2*n : 3*n : 3*n],
		SpecialTokensMask: ints[3*n : 4*n : 4*n], WordIDs: ints[4*n : 5*n : 5*n],
		Tokens: tokens[:n:n], Offsets: make([][2]int, n)}
	copy(e.IDs, ids)
	for i := range n {
		e.TypeIDs[i] = typeID
		e.AttentionMask[i] = 1
		e.SpecialTokensMask[i] = 1
		e.WordIDs[i] = -1
	}
	return e
}

// wrap surrounds e (and each overflowing piece) with the given special
// tokens and sets every type id to typeID when setType is true.
func wrap(e Encoding, before, after []Encoding, typeID int, setType bool) Encoding {
	one := func(x Encoding) Encoding {
		if setType {
			for i := range x.TypeIDs {
				x.TypeIDs[i] = typeID
			}
		}
		x.Overflowing = nil
		parts := make([]Encoding, 0, len(before)+1+len(after))
		parts = append(append(append(parts, before...), x), after...)
		return mergeEncodings(parts)
	}
	overflow := e.Overflowing
	out := one(e)
	for _, o := range overflow {
		out.Overflowing = append(out.Overflowing, one(o))
	}
	return out
}

// bertProcessing is [CLS] A [SEP] (B [SEP]).
type bertProcessing struct {
	sep, cls tokenWithID
}

type tokenWithID struct {
	token string
	id    int
}

func (bertProcessing) addedTokens(isPair bool) int {
	if isPair {
		return 3
	}
	return 2
}

func (b bertProcessing) process(encs []Encoding, addSpecial bool) ([]Encoding, error) {
	if !addSpecial {
		return encs, nil
	}
	cls := specialTokenEncoding([]int{b.cls.id}, []string{b.cls.token}, 0)
	out := make([]Encoding, len(encs))
	for i, e := range encs {
		if i == 0 {
			sep := specialTokenEncoding([]int{b.sep.id}, []string{b.sep.token}, 0)
			out[i] = wrap(e, []Encoding{cls}, []Encoding{sep}, 0, false)
		} else {
			sep := specialTokenEncoding([]int{b.sep.id}, []string{b.sep.token}, 1)
			out[i] = wrap(e, nil, []Encoding{sep}, 1, false)
		}
	}
	return out, nil
}

// robertaProcessing is <s> A </s> (</s> B </s>), with byte-level offset trimming.
type robertaProcessing struct {
	sep, cls       tokenWithID
	trimOffsets    bool
	addPrefixSpace bool
}

func (robertaProcessing) addedTokens(isPair bool) int {
	if isPair {
		return 4
	}
	return 2
}

func (r robertaProcessing) process(encs []Encoding, addSpecial bool) ([]Encoding, error) {
	if r.trimOffsets {
		for i := range encs {
			trimByteLevelOffsets(&encs[i], r.addPrefixSpace)
			for j := range encs[i].Overflowing {
				trimByteLevelOffsets(&encs[i].Overflowing[j], r.addPrefixSpace)
			}
		}
	}
	if !addSpecial {
		return encs, nil
	}
	cls := specialTokenEncoding([]int{r.cls.id}, []string{r.cls.token}, 0)
	sep := specialTokenEncoding([]int{r.sep.id}, []string{r.sep.token}, 0)
	out := make([]Encoding, len(encs))
	for i, e := range encs {
		if i == 0 {
			out[i] = wrap(e, []Encoding{cls}, []Encoding{sep}, 0, true)
		} else {
			out[i] = wrap(e, []Encoding{sep}, []Encoding{sep}, 0, true)
		}
	}
	return out, nil
}

// byteLevelProcessing only trims the offsets of byte-level tokens.
type byteLevelProcessing struct {
	trimOffsets    bool
	addPrefixSpace bool
}

func (byteLevelProcessing) addedTokens(bool) int { return 0 }

func (b byteLevelProcessing) process(encs []Encoding, _ bool) ([]Encoding, error) {
	if b.trimOffsets {
		for i := range encs {
			trimByteLevelOffsets(&encs[i], b.addPrefixSpace)
			for j := range encs[i].Overflowing {
				trimByteLevelOffsets(&encs[i].Overflowing[j], b.addPrefixSpace)
			}
		}
	}
	return encs, nil
}

// trimByteLevelOffsets removes leading and trailing spaces (Ġ) from the
// offsets of byte-level tokens, as byte_level::process_offsets.
func trimByteLevelOffsets(e *Encoding, addPrefixSpace bool) {
	space := byteToRune[' ']
	isSpace := func(r rune) bool { return r == space || isWhitespace(r) }
	for i, tok := range e.Tokens {
		lead, trail := 0, 0
		rest := tok
		for len(rest) > 0 {
			r, n := utf8.DecodeRuneInString(rest)
			if !isSpace(r) {
				break
			}
			lead++
			rest = rest[n:]
		}
		for rest := tok; len(rest) > 0; {
			r, n := utf8.DecodeLastRuneInString(rest)
			if !isSpace(r) {
				break
			}
			trail++
			rest = rest[:len(rest)-n]
		}
		if lead == 0 && trail == 0 {
			continue
		}
		off := &e.Offsets[i]
		if lead > 0 {
			isFirst := i == 0 || off[0] == 0
			if isFirst && addPrefixSpace && lead == 1 {
				lead = 0
			}
			off[0] = min(off[0]+lead, off[1])
		}
		if trail > 0 && off[1] >= trail {
			off[1] = max(off[1]-trail, off[0])
		}
	}
}

// templatePiece is one piece of a template: a sequence ($A or $B) or a
// special token, with the type id it gets.
type templatePiece struct {
	sequence string // "A" or "B"; empty for a special token
	special  string // the special token's name
	typeID   int
}

type templateSpecial struct {
	ids    []int
	tokens []string
}

// templateProcessing applies HF's TemplateProcessing.
type templateProcessing struct {
	single, pair []templatePiece
	specials     map[string]templateSpecial
	// repeats is set when a template uses a sequence more than once, so
	// that its encoding must be copied before its type ids are set.
	repeats bool
}

func (t templateProcessing) addedTokens(isPair bool) int {
	tmpl := t.single
	if isPair {
		tmpl = t.pair
	}
	n := 0
	for _, p := range tmpl {
		if p.sequence == "" {
			n += len(t.specials[p.special].ids)
		}
	}
	return n
}

func (t templateProcessing) process(encs []Encoding, addSpecial bool) ([]Encoding, error) {
	tmpl := t.single
	if len(encs) == 2 {
		tmpl = t.pair
	}
	var out []Encoding
	for _, p := range tmpl {
		if p.sequence != "" {
			i := 0
			if p.sequence != "A" {
				i = 1
			}
			if i >= len(encs) {
				return nil, fmt.Errorf("template uses $%s but only %d sequence(s) given", p.sequence, len(encs))
			}
			e := encs[i]
			if t.repeats {
				e = e.clone()
			}
			for j := range e.TypeIDs {
				e.TypeIDs[j] = p.typeID
			}
			out = append(out, e)
		} else if addSpecial {
			sp := t.specials[p.special]
			out = append(out, specialTokenEncoding(sp.ids, sp.tokens, p.typeID))
		}
	}
	return out, nil
}

// sequenceProcessing runs processors one after the other.
type sequenceProcessing []postProcessor

func (s sequenceProcessing) addedTokens(isPair bool) int {
	n := 0
	for _, p := range s {
		n += p.addedTokens(isPair)
	}
	return n
}

func (s sequenceProcessing) process(encs []Encoding, addSpecial bool) ([]Encoding, error) {
	var err error
	for _, p := range s {
		if encs, err = p.process(encs, addSpecial); err != nil {
			return nil, err
		}
	}
	return encs, nil
}

func postProcessorFromJSON(raw json.RawMessage) (postProcessor, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c struct {
		Type           string                     `json:"type"`
		Sep            []json.RawMessage          `json:"sep"`
		Cls            []json.RawMessage          `json:"cls"`
		TrimOffsets    *bool                      `json:"trim_offsets"`
		AddPrefixSpace *bool                      `json:"add_prefix_space"`
		Single         json.RawMessage            `json:"single"`
		Pair           json.RawMessage            `json:"pair"`
		SpecialTokens  map[string]json.RawMessage `json:"special_tokens"`
		Processors     []json.RawMessage          `json:"processors"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	switch c.Type {
	case "BertProcessing", "RobertaProcessing":
		sep, err := parseTokenWithID(c.Sep)
		if err != nil {
			return nil, fmt.Errorf("%s: sep: %w", c.Type, err)
		}
		cls, err := parseTokenWithID(c.Cls)
		if err != nil {
			return nil, fmt.Errorf("%s: cls: %w", c.Type, err)
		}
		if c.Type == "BertProcessing" {
			return bertProcessing{sep: sep, cls: cls}, nil
		}
		return robertaProcessing{sep: sep, cls: cls, trimOffsets: orTrue(c.TrimOffsets), addPrefixSpace: orTrue(c.AddPrefixSpace)}, nil
	case "ByteLevel":
		return byteLevelProcessing{trimOffsets: orTrue(c.TrimOffsets), addPrefixSpace: orTrue(c.AddPrefixSpace)}, nil
	case "TemplateProcessing":
		t := templateProcessing{specials: map[string]templateSpecial{}}
		for name, rawSp := range c.SpecialTokens {
			var sp struct {
				ID     string   `json:"id"`
				IDs    []int    `json:"ids"`
				Tokens []string `json:"tokens"`
			}
			if err := json.Unmarshal(rawSp, &sp); err != nil {
				return nil, fmt.Errorf("TemplateProcessing: special token %q: %w", name, err)
			}
			if len(sp.IDs) != len(sp.Tokens) {
				return nil, fmt.Errorf("TemplateProcessing: special token %q has %d ids but %d tokens", name, len(sp.IDs), len(sp.Tokens))
			}
			t.specials[name] = templateSpecial{ids: sp.IDs, tokens: sp.Tokens}
		}
		var err error
		if t.single, err = parseTemplate(c.Single, t.specials); err != nil {
			return nil, fmt.Errorf("TemplateProcessing: single: %w", err)
		}
		if t.pair, err = parseTemplate(c.Pair, t.specials); err != nil {
			return nil, fmt.Errorf("TemplateProcessing: pair: %w", err)
		}
		t.repeats = repeatsSequence(t.single) || repeatsSequence(t.pair)
		return t, nil
	case "Sequence":
		var seq sequenceProcessing
		for i, r := range c.Processors {
			p, err := postProcessorFromJSON(r)
			if err != nil {
				return nil, fmt.Errorf("Sequence post_processor %d: %w", i, err)
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "":
		return nil, fmt.Errorf("post_processor without a type")
	}
	return nil, fmt.Errorf("unsupported post_processor type %q", c.Type)
}

func parseTokenWithID(raw []json.RawMessage) (tokenWithID, error) {
	var t tokenWithID
	if len(raw) != 2 {
		return t, fmt.Errorf("want [token, id]")
	}
	if err := json.Unmarshal(raw[0], &t.token); err != nil {
		return t, err
	}
	if err := json.Unmarshal(raw[1], &t.id); err != nil {
		return t, err
	}
	return t, nil
}

// parseTemplate reads a template: a list of {"Sequence": {"id": "A",
// "type_id": 0}} / {"SpecialToken": {"id": "[CLS]", "type_id": 0}}, or the
// string form "[CLS] $A [SEP]" / "$B:1".
func parseTemplate(raw json.RawMessage, specials map[string]templateSpecial) ([]templatePiece, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pieces []templatePiece
	var asString string
	if json.Unmarshal(raw, &asString) == nil {
		for _, f := range strings.Fields(asString) {
			p, err := parseTemplateWord(f)
			if err != nil {
				return nil, err
			}
			pieces = append(pieces, p)
		}
	} else {
		var list []struct {
			Sequence *struct {
				ID     string `json:"id"`
				TypeID int    `json:"type_id"`
			} `json:"Sequence"`
			SpecialToken *struct {
				ID     string `json:"id"`
				TypeID int    `json:"type_id"`
			} `json:"SpecialToken"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		for i, item := range list {
			switch {
			case item.Sequence != nil:
				if item.Sequence.ID != "A" && item.Sequence.ID != "B" {
					return nil, fmt.Errorf("piece %d: sequence id %q is not A or B", i, item.Sequence.ID)
				}
				pieces = append(pieces, templatePiece{sequence: item.Sequence.ID, typeID: item.Sequence.TypeID})
			case item.SpecialToken != nil:
				pieces = append(pieces, templatePiece{special: item.SpecialToken.ID, typeID: item.SpecialToken.TypeID})
			default:
				return nil, fmt.Errorf("piece %d is neither Sequence nor SpecialToken", i)
			}
		}
	}
	for _, p := range pieces {
		if p.sequence == "" {
			if _, ok := specials[p.special]; !ok {
				return nil, fmt.Errorf("special token %q is missing from special_tokens", p.special)
			}
		}
	}
	return pieces, nil
}

func parseTemplateWord(f string) (templatePiece, error) {
	name, typ, hasType := strings.Cut(f, ":")
	typeID := 0
	if hasType {
		if _, err := fmt.Sscanf(typ, "%d", &typeID); err != nil {
			return templatePiece{}, fmt.Errorf("bad type id in %q", f)
		}
	}
	switch name {
	case "$", "$A", "$a":
		return templatePiece{sequence: "A", typeID: typeID}, nil
	case "$B", "$b":
		return templatePiece{sequence: "B", typeID: typeID}, nil
	}
	if strings.HasPrefix(name, "$") {
		// "$1" means sequence A with type id 1.
		if _, err := fmt.Sscanf(name[1:], "%d", &typeID); err == nil {
			return templatePiece{sequence: "A", typeID: typeID}, nil
		}
		return templatePiece{}, fmt.Errorf("bad sequence %q", f)
	}
	return templatePiece{special: name, typeID: typeID}, nil
}

// repeatsSequence reports whether a template uses $A or $B twice.
func repeatsSequence(tmpl []templatePiece) bool {
	seen := map[string]bool{}
	for _, p := range tmpl {
		if p.sequence != "" {
			if seen[p.sequence] {
				return true
			}
			seen[p.sequence] = true
		}
	}
	return false
}
