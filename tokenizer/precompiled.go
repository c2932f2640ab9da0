package tokenizer

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiledNormalizer is SentencePiece's precompiled normalization map
// (HF's "Precompiled" normalizer, used by XLM-R and ALBERT): a darts-clone
// double-array trie over UTF-8 byte strings whose values point into a pool
// of NUL-terminated replacements.
type precompiledNormalizer struct {
	trie       []uint32
	normalized []byte
}

// newPrecompiled parses a precompiled_charsmap: a little-endian uint32 byte
// size of the trie, the trie's units, then the replacement pool.
func newPrecompiled(charsmapBase64 string) (*precompiledNormalizer, error) {
	b, err := base64.StdEncoding.DecodeString(charsmapBase64)
	if err != nil {
		return nil, fmt.Errorf("Precompiled: precompiled_charsmap is not base64: %w", err)
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("Precompiled: precompiled_charsmap of %d bytes is too short", len(b))
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size%4 != 0 || size > len(b)-4 || size == 0 {
		return nil, fmt.Errorf("Precompiled: trie size %d does not fit the %d-byte charsmap", size, len(b))
	}
	p := &precompiledNormalizer{trie: make([]uint32, size/4), normalized: b[4+size:]}
	for i := range p.trie {
		p.trie[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	return p, nil
}

// Darts-clone unit fields.
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// transform returns the replacement of the shortest prefix of s found in the
// trie, as spm_precompiled's transform does (it takes the first result of a
// common-prefix search).
func (p *precompiledNormalizer) transform(s string) (string, bool) {
	if len(p.trie) == 0 {
		return "", false
	}
	pos := unitOffset(p.trie[0])
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(p.trie) {
			return "", false
		}
		u := p.trie[pos]
		if unitLabel(u) != uint32(c) {
			return "", false
		}
		pos ^= unitOffset(u)
		if int(pos) >= len(p.trie) {
			return "", false
		}
		if unitHasLeaf(u) {
			start := int(unitValue(p.trie[pos]))
			if start >= len(p.normalized) {
				return "", false
			}
			end := start
			for end < len(p.normalized) && p.normalized[end] != 0 {
				end++
			}
			return string(p.normalized[start:end]), true
		}
	}
	return "", false
}

// normalize replaces each grapheme cluster (shorter than 6 bytes) found in
// the map, else each of its runes found in the map, with alignments as HF's
// Precompiled normalizer gives them.
func (p *precompiledNormalizer) normalize(ctx context.Context, ns *normalizedString) error {
	var dest []change
	modified := false
	replace := func(old, repl string) {
		oldCount, newCount := utf8.RuneCountInString(old), utf8.RuneCountInString(repl)
		for _, r := range repl {
			dest = append(dest, change{r, 0})
		}
		switch diff := newCount - oldCount; {
		case diff > 0:
			for i := len(dest) - diff; i < len(dest); i++ {
				dest[i].n = 1
			}
		case diff < 0 && len(dest) > 0:
			dest[len(dest)-1].n += diff
		}
	}
	rest, state := ns.normalized, -1
	for len(rest) > 0 {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if repl, ok := p.transform(g); ok {
				modified = true
				replace(g, repl)
				continue
			}
		}
		for i, r := range g {
			part := g[i : i+utf8.RuneLen(r)]
			if r == utf8.RuneError {
				_, n := utf8.DecodeRuneInString(g[i:])
				part = g[i : i+n]
			}
			if repl, ok := p.transform(part); ok {
				modified = true
				replace(part, repl)
			} else {
				dest = append(dest, change{r, 0})
			}
		}
	}
	if modified {
		ns.transform(dest, 0)
	}
	return nil
}
