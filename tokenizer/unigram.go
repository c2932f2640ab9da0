package tokenizer

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"unicode/utf8"
)

// UnigramPiece is one entry of a Unigram vocabulary: a piece and its log
// probability.
type UnigramPiece struct {
	// Piece is the text of the piece.
	Piece string
	// Score is the piece's log probability; higher is more likely.
	Score float64
}

// UnigramConfig configures a Unigram model, with the fields of HF's Unigram
// model.
type UnigramConfig struct {
	// Vocab lists the pieces; a piece's id is its index.
	Vocab []UnigramPiece
	// UnkID is the id of the unknown piece, -1 for none.
	UnkID int
	// ByteFallback turns a piece missing from the vocabulary into its
	// <0xAB> byte tokens when the vocabulary has them all.
	ByteFallback bool
}

// unkPenalty is subtracted from the lowest piece score to score an unknown
// character, as HF's K_UNK_PENALTY.
const unkPenalty = 10.0

// Unigram is the SentencePiece unigram language model of HF tokenizers
// (models::unigram::Unigram): it picks the segmentation of highest total
// score with the Viterbi algorithm.
type Unigram struct {
	vocab        []UnigramPiece
	ids          map[string]int
	unkID        int
	byteFallback bool
	unkScore     float64
	trie         byteTrie

	cache wordCache[[]int32] // word -> end offsets of the pieces
	pool  sync.Pool
}

// NewUnigram builds a Unigram model from cfg.
func NewUnigram(cfg UnigramConfig) (*Unigram, error) {
	if cfg.UnkID < -1 {
		return nil, fmt.Errorf("unigram: unk_id %d is negative", cfg.UnkID)
	}
	if cfg.UnkID >= 0 {
		if len(cfg.Vocab) == 0 {
			return nil, fmt.Errorf("unigram: the vocabulary is empty but unk_id is %d", cfg.UnkID)
		}
		if cfg.UnkID >= len(cfg.Vocab) {
			return nil, fmt.Errorf("unigram: unk_id %d is not in the vocabulary of %d pieces", cfg.UnkID, len(cfg.Vocab))
		}
	}
	if len(cfg.Vocab) > math.MaxInt32 {
		return nil, fmt.Errorf("unigram: vocabulary of %d pieces is too large", len(cfg.Vocab))
	}
	m := &Unigram{
		vocab:        cfg.Vocab,
		ids:          make(map[string]int, len(cfg.Vocab)),
		unkID:        cfg.UnkID,
		byteFallback: cfg.ByteFallback,
	}
	minScore := math.Inf(1)
	for id, p := range cfg.Vocab {
		if math.IsNaN(p.Score) {
			return nil, fmt.Errorf("unigram: piece %d (%q) has a NaN score", id, p.Piece)
		}
		m.ids[p.Piece] = id
		if p.Score < minScore {
			minScore = p.Score
		}
	}
	m.unkScore = minScore - unkPenalty
	// A repeated piece maps to its last id, as HF's token_to_ids.
	m.trie.build(m.ids)
	m.pool.New = func() any { return new(unigramWork) }
	m.cache.capacity = bpeCacheCapacity
	return m, nil
}

// byteTrie is a trie over the bytes of the pieces, for common-prefix search.
type byteTrie struct {
	root   [256]int32 // child of the root for each byte, 0 for none
	nodes  []trieNode
	labels []byte
	kids   []int32
}

type trieNode struct {
	id    int32 // piece id ending here, -1 for none
	first int32 // index of the first edge in labels/kids
	n     int32 // number of edges, sorted by label
}

func (t *byteTrie) build(ids map[string]int) {
	// Insert the pieces in sorted order: the path of the previous piece
	// gives the nodes of the common prefix, and each node's children are
	// created in increasing byte order. No maps, no recursion.
	keys := make([]string, 0, len(ids))
	for k := range ids {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	type edge struct {
		parent, child int32
		label         byte
	}
	nodes := []trieNode{{id: -1}} // node 0: the root
	var edges []edge
	path := []int32{0} // path[d]: node of the first d bytes of prev
	prev := ""
	for _, k := range keys {
		l := 0
		for l < len(prev) && l < len(k) && prev[l] == k[l] {
			l++
		}
		path = path[:l+1]
		for d := l; d < len(k); d++ {
			child := int32(len(nodes))
			nodes = append(nodes, trieNode{id: -1})
			edges = append(edges, edge{parent: path[d], child: child, label: k[d]})
			path = append(path, child)
		}
		nodes[path[len(k)]].id = int32(ids[k])
		prev = k
	}
	// Group the edges by parent (a stable counting sort keeps the byte order).
	for _, e := range edges {
		nodes[e.parent].n++
	}
	first := int32(0)
	for i := range nodes {
		nodes[i].first = first
		first += nodes[i].n
	}
	t.labels = make([]byte, len(edges))
	t.kids = make([]int32, len(edges))
	fill := make([]int32, len(nodes))
	for _, e := range edges {
		at := nodes[e.parent].first + fill[e.parent]
		fill[e.parent]++
		t.labels[at], t.kids[at] = e.label, e.child
	}
	t.nodes = nodes
	for e := int32(0); e < nodes[0].n; e++ {
		t.root[t.labels[e]] = t.kids[e]
	}
}

// child returns the child of node n along byte b, or 0.
func (t *byteTrie) child(n int32, b byte) int32 {
	if n == 0 {
		return t.root[b]
	}
	nd := t.nodes[n]
	lo, hi := nd.first, nd.first+nd.n
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		switch l := t.labels[mid]; {
		case l == b:
			return t.kids[mid]
		case l < b:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0
}

type unigramNode struct {
	score float64
	start int32 // -1 while no path reaches here
	id    int32
}

type unigramWork struct {
	best []unigramNode
	ends []int32
}

// Tokenize segments one word into pieces of highest total score. Characters
// that no piece covers become the unknown piece (scored as the lowest piece
// score minus 10); consecutive unknown pieces are fused into one token whose
// value is the text it covers. With byte fallback, a token missing from the
// vocabulary becomes its byte tokens, all with the token's offsets.
func (m *Unigram) Tokenize(sequence string) ([]Token, error) {
	if sequence == "" {
		return nil, nil
	}
	ends, cached := m.cache.get(sequence)
	if !cached {
		w := m.pool.Get().(*unigramWork)
		defer m.pool.Put(w)
		if err := m.viterbi(w, sequence); err != nil {
			return nil, err
		}
		ends = w.ends
		if len(sequence) < bpeCacheMaxLen && m.cache.room() {
			m.cache.put(sequence, append([]int32(nil), ends...))
		}
	}
	out := make([]Token, 0, len(ends))
	start := 0
	for _, e := range ends {
		end := int(e)
		piece := sequence[start:end]
		if id, ok := m.ids[piece]; ok {
			out = append(out, Token{ID: id, Value: piece, Offsets: [2]int{start, end}})
		} else if m.byteFallback && m.allBytes(piece) {
			for j := 0; j < len(piece); j++ {
				bt := byteToken(piece[j])
				out = append(out, Token{ID: m.ids[bt], Value: bt, Offsets: [2]int{start, end}})
			}
		} else if m.unkID >= 0 {
			out = append(out, Token{ID: m.unkID, Value: piece, Offsets: [2]int{start, end}})
		} else {
			return nil, fmt.Errorf("unigram: encountered an unknown piece %q but the model has no unk_id", piece)
		}
		start = end
	}
	return out, nil
}

var byteTokens = func() (t [256]string) {
	for b := range t {
		t[b] = fmt.Sprintf("<0x%02X>", b)
	}
	return
}()

// byteToken returns the byte-fallback token of b, "<0xAB>".
func byteToken(b byte) string { return byteTokens[b] }

func (m *Unigram) allBytes(piece string) bool {
	for j := 0; j < len(piece); j++ {
		if _, ok := m.ids[byteToken(piece[j])]; !ok {
			return false
		}
	}
	return true
}

// viterbi fills w.ends with the end offsets of the best segmentation of s,
// with consecutive unknown pieces fused, as HF's encode_optimized.
func (m *Unigram) viterbi(w *unigramWork, s string) error {
	n := len(s)
	if cap(w.best) < n+1 {
		w.best = make([]unigramNode, n+1)
	}
	best := w.best[:n+1]
	for i := range best {
		best[i] = unigramNode{start: -1}
	}
	for pos := 0; pos < n; {
		_, mblen := utf8.DecodeRuneInString(s[pos:])
		here := best[pos].score
		single := false
		node := int32(0)
		for k := pos; k < n; k++ {
			node = m.trie.child(node, s[k])
			if node == 0 {
				break
			}
			id := m.trie.nodes[node].id
			if id < 0 {
				continue
			}
			end := k + 1
			cand := m.vocab[id].Score + here
			if t := &best[end]; t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(pos), id
			}
			if end-pos == mblen {
				single = true
			}
		}
		if !single {
			t := &best[pos+mblen]
			cand := m.unkScore + here
			if t.start < 0 || cand > t.score {
				if m.unkID < 0 {
					return fmt.Errorf("unigram: encountered an unknown character %q but the model has no unk_id", s[pos:pos+mblen])
				}
				t.score, t.start, t.id = cand, int32(pos), int32(m.unkID)
			}
		}
		pos += mblen
	}
	// Walk back from the end; fuse runs of unknown pieces.
	ends := w.ends[:0]
	inUnk := false
	for end := n; end > 0; {
		nd := best[end]
		if nd.start < 0 {
			return fmt.Errorf("unigram: no segmentation reaches byte %d of %q", end, s)
		}
		isUnk := m.unkID >= 0 && nd.id == int32(m.unkID)
		if !(isUnk && inUnk) {
			ends = append(ends, int32(end))
		}
		inUnk = isUnk
		end = int(nd.start)
	}
	for i, j := 0, len(ends)-1; i < j; i, j = i+1, j-1 {
		ends[i], ends[j] = ends[j], ends[i]
	}
	w.ends = ends
	return nil
}

// TokenToID returns the id of token.
func (m *Unigram) TokenToID(token string) (int, bool) {
	id, ok := m.ids[token]
	return id, ok
}

// IDToToken returns the piece with the given id.
func (m *Unigram) IDToToken(id int) (string, bool) {
	if id < 0 || id >= len(m.vocab) {
		return "", false
	}
	return m.vocab[id].Piece, true
}

// VocabSize returns the number of pieces.
func (m *Unigram) VocabSize() int { return len(m.vocab) }
