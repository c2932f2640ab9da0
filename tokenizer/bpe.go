package tokenizer

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// BPEConfig configures a BPE model, with the fields of HF's BPE model.
type BPEConfig struct {
	// Vocab maps each token to its id.
	Vocab map[string]int
	// Merges lists the merge rules, highest priority first.
	Merges [][2]string
	// UnkToken replaces characters missing from the vocabulary; "" means
	// such characters are dropped.
	UnkToken string
	// ContinuingSubwordPrefix is prepended to every character but the first
	// of a word before looking it up ("" for none).
	ContinuingSubwordPrefix string
	// EndOfWordSuffix is appended to the last character of a word before
	// looking it up ("" for none).
	EndOfWordSuffix string
	// FuseUnk fuses consecutive unknown characters into one unknown token.
	FuseUnk bool
	// ByteFallback turns an unknown character into its <0xAB> byte tokens
	// when the vocabulary has them all.
	ByteFallback bool
	// IgnoreMerges returns a word found whole in the vocabulary as one token
	// without applying merges.
	IgnoreMerges bool
	// Dropout must lie in [0, 1]; it is accepted for compatibility but not
	// applied: the model always runs as at inference, without dropout.
	Dropout float32
}

// bpeCacheCapacity bounds the number of words the BPE cache holds, as HF's
// DEFAULT_CACHE_CAPACITY; words of bpeCacheMaxLen bytes or more are not cached.
const (
	bpeCacheCapacity = 10000
	bpeCacheMaxLen   = 256
)

type bpeMerge struct {
	rank  int32
	newID int32
}

// BPE is the byte-pair-encoding model of HF tokenizers (models::bpe::BPE),
// used by GPT-2, RoBERTa and many SentencePiece-converted tokenizers.
type BPE struct {
	vocab  map[string]int
	vocabR []string       // id -> token; "" for holes; nil when ids are sparse
	sparse map[int]string // id -> token when ids are too sparse for vocabR
	merges mergeTable
	runeID [runeTableSize]int32 // id of each single-rune token below runeTableSize, -1 if none

	unk          string
	unkID        int
	prefix       string
	suffix       string
	fuseUnk      bool
	ignoreMerges bool
	byteIDs      *[256]int32 // byte-fallback ids (-1: missing), nil when off

	byteFallback bool
	cache        wordCache[[]bpeSym] // word -> merged symbols
	pool         sync.Pool
}

// NewBPE builds a BPE model from cfg. Every token of a merge, and the token it
// produces, must be in the vocabulary. As in HF, an UnkToken missing from the
// vocabulary is only an error when a word needs it.
func NewBPE(cfg BPEConfig) (*BPE, error) {
	if cfg.Dropout < 0 || cfg.Dropout > 1 {
		return nil, fmt.Errorf("bpe: dropout %g must be between 0 and 1", cfg.Dropout)
	}
	m := &BPE{
		vocab:        make(map[string]int, len(cfg.Vocab)),
		unk:          cfg.UnkToken,
		unkID:        -1,
		prefix:       cfg.ContinuingSubwordPrefix,
		suffix:       cfg.EndOfWordSuffix,
		fuseUnk:      cfg.FuseUnk,
		ignoreMerges: cfg.IgnoreMerges,
		byteFallback: cfg.ByteFallback,
	}
	maxID := -1
	for tok, id := range cfg.Vocab {
		if id < 0 || id > 1<<31-1 {
			return nil, fmt.Errorf("bpe: token %q has id %d out of range", tok, id)
		}
		m.vocab[tok] = id
		if id > maxID {
			maxID = id
		}
	}
	m.vocabR, m.sparse = reverseVocab(m.vocab, maxID)
	if m.unk != "" {
		if id, ok := m.vocab[m.unk]; ok {
			m.unkID = id
		}
	}
	m.merges.init(len(cfg.Merges))
	for r := range m.runeID {
		m.runeID[r] = -1
		if id, ok := m.vocab[string(rune(r))]; ok {
			m.runeID[r] = int32(id)
		}
	}
	for i, mg := range cfg.Merges {
		a, b := mg[0], mg[1]
		aID, ok := m.vocab[a]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d (%q %q): token %q not in the vocabulary", i+1, a, b, a)
		}
		bID, ok := m.vocab[b]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d (%q %q): token %q not in the vocabulary", i+1, a, b, b)
		}
		if len(b) < len(m.prefix) {
			return nil, fmt.Errorf("bpe: merge %d (%q %q): token %q is shorter than the continuing subword prefix %q", i+1, a, b, b, m.prefix)
		}
		newTok := a + b[len(m.prefix):]
		newID, ok := m.vocab[newTok]
		if !ok {
			return nil, fmt.Errorf("bpe: merge %d (%q %q): merged token %q not in the vocabulary", i+1, a, b, newTok)
		}
		// A repeated pair keeps its last rank, as HF's HashMap collect does.
		m.merges.put(pairKey(int32(aID), int32(bID)), bpeMerge{rank: int32(i), newID: int32(newID)})
	}
	if m.byteFallback {
		var ids [256]int32
		for b := 0; b < 256; b++ {
			ids[b] = -1
			if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
				ids[b] = int32(id)
			}
		}
		m.byteIDs = &ids
	}
	m.pool.New = func() any { return new(bpeWork) }
	m.cache.capacity = bpeCacheCapacity
	return m, nil
}

// reverseVocab maps ids back to tokens: a slice when the ids are dense
// enough, a map otherwise. Of several tokens sharing an id it keeps the
// smallest, to be deterministic.
func reverseVocab(vocab map[string]int, maxID int) ([]string, map[int]string) {
	if maxID < 4*len(vocab)+1024 {
		r := make([]string, maxID+1)
		set := make([]bool, maxID+1)
		for tok, id := range vocab {
			if !set[id] || tok < r[id] {
				r[id], set[id] = tok, true
			}
		}
		return r, nil
	}
	r := make(map[int]string, len(vocab))
	for tok, id := range vocab {
		if old, ok := r[id]; !ok || tok < old {
			r[id] = tok
		}
	}
	return nil, r
}

func (m *BPE) token(id int32) string {
	if m.vocabR != nil {
		return m.vocabR[id]
	}
	return m.sparse[int(id)]
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// runeTableSize bounds the runes whose single-character token ids are kept in
// an array (it covers GPT-2's byte alphabet).
const runeTableSize = 1024

// mergeTable is an open-addressing hash table from a pair key to its merge;
// much faster than a Go map for the few lookups per symbol of mergeAll.
type mergeTable struct {
	slots []mergeSlot // key emptyKey for a free slot
	shift uint
	n     int
}

// mergeSlot keeps a key beside its value: one cache line read per probe.
type mergeSlot struct {
	key uint64
	val bpeMerge
}

const emptyKey = ^uint64(0) // never a pair key: ids are below 1<<31

func (t *mergeTable) init(n int) {
	size, shift := 8, uint(61)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	t.slots = make([]mergeSlot, size)
	for i := range t.slots {
		t.slots[i].key = emptyKey
	}
	t.shift = shift
}

func (t *mergeTable) slot(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> t.shift) }

// put sets the merge of k, replacing an earlier one.
func (t *mergeTable) put(k uint64, v bpeMerge) {
	mask := len(t.slots) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case k:
			t.slots[i].val = v
			return
		case emptyKey:
			t.slots[i] = mergeSlot{key: k, val: v}
			t.n++
			return
		}
	}
}

func (t *mergeTable) get(k uint64) (bpeMerge, bool) {
	mask := len(t.slots) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == k {
			return s.val, true
		}
		if s.key == emptyKey {
			return bpeMerge{}, false
		}
	}
}

// bpeSym is one symbol of a word being merged: a token id, its byte length
// and its neighbours in the linked list (-1 for none).
type bpeSym struct {
	id         int32
	prev, next int32
	len        int32
}

// bpeCand is a candidate merge of the symbol at pos with its next symbol.
type bpeCand struct {
	rank  int32
	pos   int32
	newID int32
}

func (c bpeCand) less(o bpeCand) bool {
	if c.rank != o.rank {
		return c.rank < o.rank
	}
	return c.pos < o.pos
}

// bpeWork holds the scratch buffers of one Tokenize call.
type bpeWork struct {
	syms []bpeSym
	heap []bpeCand
	buf  []byte
}

func (w *bpeWork) push(c bpeCand) {
	h := append(w.heap, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	w.heap = h
}

func (w *bpeWork) pop() bpeCand {
	h := w.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		s := l
		if r := l + 1; r < n && h[r].less(h[l]) {
			s = r
		}
		if !h[s].less(h[i]) {
			break
		}
		h[i], h[s] = h[s], h[i]
		i = s
	}
	w.heap = h
	return top
}

func (w *bpeWork) add(id int32, n int) {
	i := int32(len(w.syms))
	prev := i - 1
	if i > 0 {
		w.syms[i-1].next = i
	}
	w.syms = append(w.syms, bpeSym{id: id, prev: prev, next: -1, len: int32(n)})
}

// UnkToken returns the unknown token, "" if the model has none.
func (m *BPE) UnkToken() string { return m.unk }

// ContinuingSubwordPrefix returns the prefix of non-initial pieces ("" for none).
func (m *BPE) ContinuingSubwordPrefix() string { return m.prefix }

// EndOfWordSuffix returns the suffix of word-final pieces ("" for none).
func (m *BPE) EndOfWordSuffix() string { return m.suffix }

// Tokenize splits one word into characters, maps them to vocabulary ids (or
// the unknown token or byte tokens) and applies the merges by rank, lowest
// first and leftmost first among equal ranks, as HF's Word::merge_all.
//
// Offsets are byte offsets into sequence. HF computes them by adding up the
// length of each piece; in the rare cases where that overruns the word (byte
// fallback combined with a prefix or suffix) they are clamped to the word.
func (m *BPE) Tokenize(sequence string) ([]Token, error) {
	if sequence == "" {
		return nil, nil
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[sequence]; ok {
			return []Token{{ID: id, Value: sequence, Offsets: [2]int{0, len(sequence)}}}, nil
		}
	}
	if syms, ok := m.cache.get(sequence); ok {
		return m.symsToTokens(syms, len(sequence)), nil
	}
	w := m.pool.Get().(*bpeWork)
	defer m.pool.Put(w)
	if err := m.mergeWord(w, sequence); err != nil {
		return nil, err
	}
	toks := m.symsToTokens(w.syms, len(sequence))
	if len(sequence) < bpeCacheMaxLen && m.cache.room() {
		m.cache.put(sequence, append([]bpeSym(nil), w.syms...))
	}
	return toks, nil
}

func (m *BPE) symsToTokens(syms []bpeSym, n int) []Token {
	out := make([]Token, len(syms))
	pos := 0
	for i, s := range syms {
		end := pos + int(s.len)
		a, b := min(pos, n), min(end, n)
		out[i] = Token{ID: int(s.id), Value: m.token(s.id), Offsets: [2]int{a, b}}
		pos = end
	}
	return out
}

// mergeWord fills w.syms with the merged symbols of word.
func (m *BPE) mergeWord(w *bpeWork, word string) error {
	w.syms = w.syms[:0]
	w.heap = w.heap[:0]
	unkID, unkLen := int32(-1), 0
	for i := 0; i < len(word); {
		r, size := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+size]
		first, last := i == 0, i+size == len(word)
		i += size
		var id int
		var ok bool
		var key []byte // ch with its prefix and suffix, when it has any
		if (!first && m.prefix != "") || (last && m.suffix != "") {
			w.buf = w.buf[:0]
			if !first {
				w.buf = append(w.buf, m.prefix...)
			}
			w.buf = append(w.buf, ch...)
			if last {
				w.buf = append(w.buf, m.suffix...)
			}
			key = w.buf
			id, ok = m.vocab[string(key)]
		} else if r < runeTableSize {
			// Single-rune tokens below runeTableSize come from an array.
			if v := m.runeID[r]; v >= 0 {
				id, ok = int(v), true
			}
		} else {
			id, ok = m.vocab[ch]
		}
		if ok {
			if unkID >= 0 {
				w.add(unkID, unkLen)
				unkID = -1
			}
			w.add(int32(id), size)
			continue
		}
		if m.byteIDs != nil && m.addBytes(w, ch, key) {
			// HF adds the byte tokens before a pending unknown token.
			continue
		}
		if m.unk == "" {
			continue
		}
		if m.unkID < 0 {
			return fmt.Errorf("bpe: unk token %q not in the vocabulary", m.unk)
		}
		switch {
		case unkID >= 0 && m.fuseUnk:
			unkLen += size
		case unkID >= 0:
			w.add(unkID, unkLen)
			unkID, unkLen = int32(m.unkID), size
		default:
			unkID, unkLen = int32(m.unkID), size
		}
	}
	if unkID >= 0 {
		w.add(unkID, unkLen)
	}
	m.mergeAll(w)
	return nil
}

// addBytes appends the byte tokens of the looked-up string (key, or ch when
// key is nil) if the vocabulary has them all. Like HF it uses the bytes of
// the prefixed/suffixed string, each counted as one byte of the word.
func (m *BPE) addBytes(w *bpeWork, ch string, key []byte) bool {
	if key == nil {
		key = []byte(ch) // ch is at most 4 bytes: does not escape
	}
	for _, b := range key {
		if m.byteIDs[b] < 0 {
			return false
		}
	}
	for _, b := range key {
		w.add(m.byteIDs[b], 1)
	}
	return true
}

// mergeAll applies the merges to w.syms with a priority queue of candidate
// pairs, skipping entries made stale by earlier merges, then compacts the
// symbols.
func (m *BPE) mergeAll(w *bpeWork) {
	syms := w.syms
	if len(syms) < 2 || m.merges.n == 0 {
		return
	}
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges.get(pairKey(syms[i].id, syms[i+1].id)); ok {
			w.push(bpeCand{rank: mg.rank, pos: int32(i), newID: mg.newID})
		}
	}
	for len(w.heap) > 0 {
		top := w.pop()
		cur := &syms[top.pos]
		if cur.len == 0 || cur.next < 0 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if mg, ok := m.merges.get(pairKey(cur.id, right.id)); !ok || mg.newID != top.newID {
			continue
		}
		cur.id = top.newID
		cur.len += right.len
		cur.next = right.next
		syms[nextPos].len = 0
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mg, ok := m.merges.get(pairKey(syms[cur.prev].id, cur.id)); ok {
				w.push(bpeCand{rank: mg.rank, pos: cur.prev, newID: mg.newID})
			}
		}
		if cur.next >= 0 {
			if mg, ok := m.merges.get(pairKey(cur.id, syms[cur.next].id)); ok {
				w.push(bpeCand{rank: mg.rank, pos: top.pos, newID: mg.newID})
			}
		}
	}
	j := 0
	for _, s := range syms {
		if s.len != 0 {
			syms[j] = s
			j++
		}
	}
	w.syms = syms[:j]
}

// TokenToID returns the id of token.
func (m *BPE) TokenToID(token string) (int, bool) {
	id, ok := m.vocab[token]
	return id, ok
}

// IDToToken returns the token with the given id.
func (m *BPE) IDToToken(id int) (string, bool) {
	if m.vocabR == nil {
		t, ok := m.sparse[id]
		return t, ok
	}
	if id < 0 || id >= len(m.vocabR) {
		return "", false
	}
	t := m.vocabR[id]
	if t == "" {
		// A hole, unless "" is itself the token of id.
		if v, ok := m.vocab[""]; !ok || v != id {
			return "", false
		}
	}
	return t, true
}

// VocabSize returns the number of entries of the vocabulary.
func (m *BPE) VocabSize() int { return len(m.vocab) }

// wordCache is a bounded, concurrency-safe map from words to results. Like
// HF's Cache it keeps the first capacity words it is given and then stops
// growing, which keeps the frequent words of a corpus.
type wordCache[T any] struct {
	m        sync.Map
	mu       sync.Mutex
	n        int
	full     atomic.Bool
	capacity int
}

func (c *wordCache[T]) get(k string) (T, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// room reports whether the cache may still grow.
func (c *wordCache[T]) room() bool { return c.capacity > 0 && !c.full.Load() }

func (c *wordCache[T]) put(k string, v T) {
	c.mu.Lock()
	if c.n < c.capacity {
		if _, loaded := c.m.LoadOrStore(k, v); !loaded {
			c.n++
		}
	}
	if c.n >= c.capacity {
		c.full.Store(true)
	}
	c.mu.Unlock()
}
