package tokenizer

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/textclf/textclf/internal/atomicfile"
)

// WordPieceTrainerConfig configures WordPieceTrainer. The zero value is not
// usable (VocabSize must be positive); DefaultWordPieceTrainerConfig gives
// the defaults of HF's BertWordPieceTokenizer.train.
type WordPieceTrainerConfig struct {
	// VocabSize is the size the vocabulary grows to, special tokens and
	// alphabet included (HF: vocab_size).
	VocabSize int
	// MinFrequency stops the merges at the first pair seen fewer times
	// (HF: min_frequency; the trainer's own default is 0,
	// BertWordPieceTokenizer.train's is 2).
	MinFrequency int
	// SpecialTokens come first in the vocabulary, in this order, and are
	// added to the tokenizer as special added tokens.
	SpecialTokens []string
	// LimitAlphabet keeps at most this many characters in the initial
	// alphabet, the most frequent ones (0: no limit; HF: limit_alphabet,
	// 1000 in BertWordPieceTokenizer.train).
	LimitAlphabet int
	// InitialAlphabet holds characters kept in the alphabet even if the
	// corpus lacks them (HF: initial_alphabet).
	InitialAlphabet []rune
	// ContinuingSubwordPrefix marks pieces that continue a word ("##").
	ContinuingSubwordPrefix string
	// UnkToken is the WordPiece model's unknown token ("" is "[UNK]"). If
	// it is not one of SpecialTokens, the trained tokenizer fails on words
	// it cannot split, as HF's does.
	UnkToken string
	// Lowercase, StripAccents, HandleChineseChars and CleanText are the
	// options of the BertNormalizer that runs before counting words (and is
	// written to tokenizer.json). StripAccents nil follows Lowercase, as in
	// HF.
	Lowercase          bool
	StripAccents       *bool
	HandleChineseChars bool
	CleanText          bool
}

// DefaultWordPieceTrainerConfig returns the defaults of HF's
// BertWordPieceTokenizer (constructor and train): vocabulary size 30000,
// min_frequency 2, limit_alphabet 1000, special tokens [PAD] [UNK] [CLS]
// [SEP] [MASK], prefix "##", lower-casing (and so accent stripping), CJK
// characters split, text cleaned.
func DefaultWordPieceTrainerConfig() WordPieceTrainerConfig {
	return WordPieceTrainerConfig{
		VocabSize:               30000,
		MinFrequency:            2,
		SpecialTokens:           []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"},
		LimitAlphabet:           1000,
		ContinuingSubwordPrefix: "##",
		UnkToken:                "[UNK]",
		Lowercase:               true,
		HandleChineseChars:      true,
		CleanText:               true,
	}
}

// WordPieceTrainer learns a WordPiece vocabulary as HF tokenizers'
// WordPieceTrainer does (the BPE trainer's merge loop with a continuing
// subword prefix), from words counted by a BERT normalizer and
// pre-tokenizer. Feed it text, then call Train.
type WordPieceTrainer struct {
	cfg    WordPieceTrainerConfig
	tok    *Tokenizer // normalizer and pre-tokenizer of the trained tokenizer
	counts map[string]uint64
	// contOrder, when set, gives the ids of the one-character continuing
	// tokens ("##c") in this order; tests use it to replay an HF run, whose
	// order comes from a randomly seeded hash map.
	contOrder []string
	// mergeCounts records the pair count of each merge (tests).
	mergeCounts []int64
}

// NewWordPieceTrainer checks cfg and returns a trainer with no words yet.
func NewWordPieceTrainer(cfg WordPieceTrainerConfig) (*WordPieceTrainer, error) {
	if cfg.VocabSize <= 0 {
		return nil, fmt.Errorf("wordpiece trainer: vocabulary size must be positive, got %d", cfg.VocabSize)
	}
	if cfg.MinFrequency < 0 {
		return nil, fmt.Errorf("wordpiece trainer: min frequency must not be negative, got %d", cfg.MinFrequency)
	}
	if cfg.LimitAlphabet < 0 {
		return nil, fmt.Errorf("wordpiece trainer: alphabet limit must not be negative, got %d", cfg.LimitAlphabet)
	}
	if cfg.ContinuingSubwordPrefix == "" {
		return nil, errors.New("wordpiece trainer: the continuing subword prefix must not be empty")
	}
	seen := map[string]bool{}
	for _, s := range cfg.SpecialTokens {
		if s == "" {
			return nil, errors.New("wordpiece trainer: empty special token")
		}
		if strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("wordpiece trainer: special token %q holds a line break (vocab.txt has one token a line)", s)
		}
		if seen[s] {
			return nil, fmt.Errorf("wordpiece trainer: special token %q given twice", s)
		}
		seen[s] = true
	}
	if cfg.UnkToken == "" {
		cfg.UnkToken = "[UNK]"
	}
	tj, err := json.Marshal(map[string]any{
		"version": "1.0", "added_tokens": []any{},
		"normalizer":    cfg.normalizerJSON(),
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"model":         map[string]any{"type": "WordPiece", "unk_token": cfg.UnkToken, "continuing_subword_prefix": cfg.ContinuingSubwordPrefix, "max_input_chars_per_word": 100, "vocab": map[string]int{}},
	})
	if err != nil {
		return nil, err
	}
	tok, err := FromJSON(tj)
	if err != nil {
		return nil, fmt.Errorf("wordpiece trainer: %w", err)
	}
	return &WordPieceTrainer{cfg: cfg, tok: tok, counts: map[string]uint64{}}, nil
}

func (c WordPieceTrainerConfig) normalizerJSON() map[string]any {
	var strip any
	if c.StripAccents != nil {
		strip = *c.StripAccents
	}
	return map[string]any{"type": "BertNormalizer", "clean_text": c.CleanText, "handle_chinese_chars": c.HandleChineseChars,
		"strip_accents": strip, "lowercase": c.Lowercase}
}

// FeedText counts the words of one text (normalized and pre-tokenized as
// the trained tokenizer will).
func (t *WordPieceTrainer) FeedText(text string) error {
	return t.feed(context.Background(), text)
}

func (t *WordPieceTrainer) feed(ctx context.Context, text string) error {
	p := newPreTokenizedString(ctx, text)
	if t.tok.normalizer != nil {
		if err := t.tok.normalizer.normalize(ctx, &p.splits[0].ns); err != nil {
			return err
		}
	}
	if err := t.tok.preTokenizer.preTokenize(p); err != nil {
		return err
	}
	for i := range p.splits {
		if w := p.splits[i].ns.normalized; w != "" {
			t.counts[w]++
		}
	}
	return nil
}

// maxPiece is the longest space-separated piece of a line whose words are
// cached (longer pieces, such as Chinese sentences, are normalized at once).
const maxPiece = 64

// feedPieces counts the words of line, as feed does, except that the
// pieces between ASCII spaces up to maxPiece bytes are only counted in
// pieces, to be normalized once each by feedCounted. The words of a line
// are the words of its pieces: a space is a word boundary that every step
// of BertNormalizer keeps (each works rune by rune, and Unicode
// decomposition does not reorder across a space) and BertPreTokenizer
// splits on.
func (t *WordPieceTrainer) feedPieces(ctx context.Context, line string, pieces map[string]uint64) error {
	for line != "" {
		piece, rest, _ := strings.Cut(line, " ")
		line = rest
		switch {
		case piece == "":
		case len(piece) <= maxPiece:
			if _, ok := pieces[piece]; ok {
				pieces[piece]++
			} else {
				pieces[strings.Clone(piece)] = 1
			}
		default:
			if err := t.feed(ctx, piece); err != nil {
				return err
			}
		}
	}
	return nil
}

// feedCounted counts the words of each piece, count times.
func (t *WordPieceTrainer) feedCounted(ctx context.Context, pieces map[string]uint64) error {
	one := &WordPieceTrainer{tok: t.tok, counts: map[string]uint64{}}
	for piece, n := range pieces {
		clear(one.counts)
		if err := one.feed(ctx, piece); err != nil {
			return err
		}
		for w, c := range one.counts {
			t.counts[w] += c * n
		}
	}
	return nil
}

// Feed counts the words of every line read from r, as HF's
// Tokenizer.train(files) does, on all cores (GOMAXPROCS goroutines). name
// labels errors; a line that is not valid UTF-8 is an error (HF fails on it
// too), and on any error no word of r is counted.
func (t *WordPieceTrainer) Feed(ctx context.Context, r io.Reader, name string) error {
	workers := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type chunk struct {
		first int // line number of lines[0]
		lines []string
	}
	chunks := make(chan chunk, 2*workers)
	maps := make([]map[string]uint64, workers)
	errs := make([]error, workers+1)
	var wg sync.WaitGroup
	for w := range workers {
		maps[w] = map[string]uint64{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := &WordPieceTrainer{tok: t.tok, counts: maps[w]}
			pieces := map[string]uint64{}
			for c := range chunks {
				if errs[w] != nil {
					continue
				}
				for i, line := range c.lines {
					if err := local.feedPieces(ctx, line, pieces); err != nil {
						errs[w] = fmt.Errorf("%s:%d: %w", name, c.first+i, err)
						cancel()
						break
					}
				}
			}
			if errs[w] == nil {
				errs[w] = local.feedCounted(ctx, pieces)
			}
		}()
	}
	errs[workers] = func() error {
		defer close(chunks)
		br := bufio.NewReaderSize(r, 1<<16)
		const chunkLines = 512
		c := chunk{first: 1}
		for lineNo := 1; ; lineNo++ {
			line, err := br.ReadString('\n')
			if line != "" {
				if !utf8.ValidString(line) {
					return fmt.Errorf("%s:%d: not valid UTF-8", name, lineNo)
				}
				c.lines = append(c.lines, line)
			}
			if err != nil && err != io.EOF {
				return fmt.Errorf("%s: %w", name, err)
			}
			if len(c.lines) == chunkLines || (err == io.EOF && len(c.lines) > 0) {
				select {
				case chunks <- c:
				case <-ctx.Done():
					return ctx.Err()
				}
				c = chunk{first: lineNo + 1}
			}
			if err == io.EOF {
				return nil
			}
		}
	}()
	wg.Wait()
	// The reader's error first: it names the line, a worker's follows it.
	for _, err := range append([]error{errs[workers]}, errs[:workers]...) {
		if err != nil {
			return err
		}
	}
	for _, m := range maps {
		for w, c := range m {
			t.counts[w] += c
		}
	}
	return nil
}

// FeedFile counts the words of every line of the file at path.
func (t *WordPieceTrainer) FeedFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	return t.Feed(ctx, f, path)
}

// Words returns the number of distinct words counted so far.
func (t *WordPieceTrainer) Words() int { return len(t.counts) }

// TrainedWordPiece is the result of WordPieceTrainer.Train.
type TrainedWordPiece struct {
	// Vocab lists the tokens by id.
	Vocab []string
	// Merges is the number of merges done.
	Merges int
	cfg    WordPieceTrainerConfig
}

// wpWord is a word being merged: its symbols' token ids.
type wpWord []int32

// merge replaces each non-overlapping a b (left to right) by repl and
// returns the pair count changes, as HF's bpe::Word::merge.
func (w *wpWord) merge(a, b, repl int32, changes []pairChange) []pairChange {
	s := *w
	for i := 0; i < len(s); i++ {
		if s[i] != a || i+1 >= len(s) || s[i+1] != b {
			continue
		}
		if i > 0 {
			changes = append(changes, pairChange{mkPair(s[i-1], a), -1}, pairChange{mkPair(s[i-1], repl), 1})
		}
		s[i] = repl
		s = append(s[:i+1], s[i+2:]...)
		if i < len(s)-1 {
			changes = append(changes, pairChange{mkPair(b, s[i+1]), -1}, pairChange{mkPair(repl, s[i+1]), 1})
		}
	}
	*w = s
	return changes
}

type wpPair uint64

func mkPair(a, b int32) wpPair       { return wpPair(uint64(uint32(a))<<32 | uint64(uint32(b))) }
func (p wpPair) parts() (a, b int32) { return int32(uint32(p >> 32)), int32(uint32(p)) }

type pairChange struct {
	pair   wpPair
	change int64
}

// wpMerge is an entry of the merge queue: a pair, its count when queued and
// the words it was seen in since, as HF's bpe trainer Merge.
type wpMerge struct {
	pair  wpPair
	count int64
	pos   []int32
	seq   uint64
}

// mergeQueue pops the highest count first, then the smallest pair (first
// id, then second), as HF's Merge ordering; equal entries of one pair pop
// in the order they were queued.
type mergeQueue []*wpMerge

func (q mergeQueue) Len() int { return len(q) }
func (q mergeQueue) Less(i, j int) bool {
	if q[i].count != q[j].count {
		return q[i].count > q[j].count
	}
	if q[i].pair != q[j].pair {
		return q[i].pair < q[j].pair
	}
	return q[i].seq < q[j].seq
}
func (q mergeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *mergeQueue) Push(x any)   { *q = append(*q, x.(*wpMerge)) }
func (q *mergeQueue) Pop() any {
	old := *q
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	return x
}

// Train learns the vocabulary from the words fed so far: special tokens,
// then the alphabet (by code point), then the one-character continuing
// tokens, then one token per merge, the most frequent pair first (ties: the
// pair of smaller ids), until VocabSize tokens, no pair is left, or the best
// pair occurs fewer than MinFrequency times.
//
// HF gives the continuing tokens ids in the order of a randomly seeded hash
// map, so its vocabulary changes from run to run; here they come in the
// order of the words by count (descending), then by bytes, so the result
// does not depend on the order of the corpus lines. An initial vocabulary
// (special tokens + alphabet + continuing tokens) larger than VocabSize is
// an error here, where HF returns it silently.
func (t *WordPieceTrainer) Train(ctx context.Context) (*TrainedWordPiece, error) {
	cfg := t.cfg
	if len(t.counts) == 0 {
		return nil, errors.New("wordpiece trainer: the corpus has no words")
	}
	w2id := make(map[string]int32, min(cfg.VocabSize, 1<<16))
	var id2w []string
	add := func(s string) int32 {
		if id, ok := w2id[s]; ok {
			return id
		}
		id := int32(len(id2w))
		id2w = append(id2w, s)
		w2id[s] = id
		return id
	}
	for _, s := range cfg.SpecialTokens {
		add(s)
	}
	nSpecial := len(id2w)

	// Words in a fixed order: count descending, then bytes.
	words := make([]string, 0, len(t.counts))
	for w := range t.counts {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		ci, cj := t.counts[words[i]], t.counts[words[j]]
		if ci != cj {
			return ci > cj
		}
		return words[i] < words[j]
	})

	// The alphabet: characters by count, the initial alphabet always kept.
	const maxCount = ^uint64(0)
	alpha := map[rune]uint64{}
	for _, w := range words {
		c := t.counts[w]
		for _, r := range w {
			if alpha[r] != maxCount {
				alpha[r] += c
			}
		}
	}
	for _, r := range cfg.InitialAlphabet {
		alpha[r] = maxCount
	}
	kept := make([]rune, 0, len(alpha))
	for r := range alpha {
		kept = append(kept, r)
	}
	if cfg.LimitAlphabet > 0 && len(kept) > cfg.LimitAlphabet {
		// Drop the least frequent; HF breaks ties by hash order, here the
		// larger code point goes first.
		slices.SortFunc(kept, func(a, b rune) int {
			if alpha[a] != alpha[b] {
				if alpha[a] < alpha[b] {
					return -1
				}
				return 1
			}
			return int(b) - int(a)
		})
		kept = kept[len(kept)-cfg.LimitAlphabet:]
	}
	slices.Sort(kept)
	for _, r := range kept {
		add(string(r))
	}
	nAlpha := len(id2w) - nSpecial

	// The words as token ids; characters out of the alphabet are skipped.
	for _, s := range t.contOrder {
		add(s)
	}
	prefix := cfg.ContinuingSubwordPrefix
	syms := make([]wpWord, len(words))
	counts := make([]int64, len(words))
	var buf []byte
	for i, w := range words {
		counts[i] = int64(t.counts[w])
		ws := make(wpWord, 0, utf8.RuneCountInString(w))
		first := true
		for _, r := range w {
			buf = utf8.AppendRune(buf[:0], r)
			if _, ok := w2id[string(buf)]; ok {
				if !first {
					buf = append(append(buf[:0], prefix...), string(r)...)
				}
				ws = append(ws, add(string(buf)))
			}
			first = false
		}
		syms[i] = ws
	}
	if len(id2w) > cfg.VocabSize {
		return nil, fmt.Errorf("wordpiece trainer: vocabulary size %d is smaller than the %d special tokens + %d characters + %d continuing characters (%sc) the corpus needs (%d); raise the vocabulary size or limit the alphabet",
			cfg.VocabSize, nSpecial, nAlpha, len(id2w)-nSpecial-nAlpha, prefix, len(id2w))
	}

	// Pair counts and where each pair occurs.
	pairCounts := map[wpPair]int64{}
	where := map[wpPair][]int32{}
	for i, ws := range syms {
		for j := 0; j+1 < len(ws); j++ {
			p := mkPair(ws[j], ws[j+1])
			pairCounts[p] += counts[i]
			if l := where[p]; len(l) == 0 || l[len(l)-1] != int32(i) {
				where[p] = append(l, int32(i))
			}
		}
	}
	var q mergeQueue
	var seq uint64
	push := func(m *wpMerge) {
		m.seq = seq
		seq++
		heap.Push(&q, m)
	}
	// pending returns the queue entries of the pairs seen since the last
	// call, in pair order (HF pushes them in hash order).
	pending := func() []*wpMerge {
		out := make([]*wpMerge, 0, len(where))
		for p, pos := range where {
			if c := pairCounts[p]; c > 0 {
				out = append(out, &wpMerge{pair: p, count: c, pos: pos})
			}
		}
		clear(where)
		slices.SortFunc(out, func(x, y *wpMerge) int {
			if x.count != y.count {
				if x.count > y.count {
					return -1
				}
				return 1
			}
			if x.pair < y.pair {
				return -1
			}
			return 1
		})
		return out
	}
	for _, m := range pending() {
		m.seq = seq
		seq++
		q = append(q, m)
	}
	heap.Init(&q)

	minFreq := int64(cfg.MinFrequency)
	var changes []pairChange
	merges := 0
	t.mergeCounts = t.mergeCounts[:0]
	for len(id2w) < cfg.VocabSize && q.Len() > 0 {
		if merges%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		top := heap.Pop(&q).(*wpMerge)
		if c := pairCounts[top.pair]; top.count != c {
			top.count = c
			push(top)
			continue
		}
		if top.count < 1 || minFreq > top.count {
			break
		}
		a, b := top.pair.parts()
		partB := strings.TrimPrefix(id2w[b], prefix)
		newID := add(id2w[a] + partB)
		merges++
		t.mergeCounts = append(t.mergeCounts, top.count)

		// HF merges the words in parallel and applies the changes in word
		// order; the sums do not depend on it.
		slices.Sort(top.pos)
		for _, iw := range top.pos {
			changes = syms[iw].merge(a, b, newID, changes[:0])
			for _, ch := range changes {
				pairCounts[ch.pair] += ch.change * counts[iw]
				if ch.change > 0 {
					if l := where[ch.pair]; len(l) == 0 || l[len(l)-1] != iw {
						where[ch.pair] = append(l, iw)
					}
				}
			}
		}
		for _, m := range pending() {
			push(m)
		}
	}
	return &TrainedWordPiece{Vocab: id2w, Merges: merges, cfg: cfg}, nil
}

// TokenizerJSON returns the trained tokenizer as a tokenizer.json document
// with BertWordPieceTokenizer's pipeline: the special tokens as added
// tokens, BertNormalizer, BertPreTokenizer, TemplateProcessing "[CLS] $A
// [SEP]" (pairs: "[CLS] $A [SEP] $B:1 [SEP]:1", when both tokens are
// special tokens), the WordPiece model and decoder.
func (r *TrainedWordPiece) TokenizerJSON() ([]byte, error) {
	cfg := r.cfg
	type addedJSON struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	added := make([]addedJSON, 0, len(cfg.SpecialTokens))
	for i, s := range cfg.SpecialTokens {
		added = append(added, addedJSON{ID: i, Content: s, Special: true})
	}
	var post any
	if slices.Contains(cfg.SpecialTokens, "[CLS]") && slices.Contains(cfg.SpecialTokens, "[SEP]") {
		cls, sep := slices.Index(cfg.SpecialTokens, "[CLS]"), slices.Index(cfg.SpecialTokens, "[SEP]")
		spec := func(tok string, typeID int) map[string]any {
			return map[string]any{"SpecialToken": map[string]any{"id": tok, "type_id": typeID}}
		}
		seq := func(id string, typeID int) map[string]any {
			return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typeID}}
		}
		post = map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{spec("[CLS]", 0), seq("A", 0), spec("[SEP]", 0)},
			"pair":   []any{spec("[CLS]", 0), seq("A", 0), spec("[SEP]", 0), seq("B", 1), spec("[SEP]", 1)},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{cls}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{sep}, "tokens": []string{"[SEP]"}},
			},
		}
	}
	vocab := make(orderedVocab, len(r.Vocab))
	copy(vocab, r.Vocab)
	doc := struct {
		Version       string      `json:"version"`
		Truncation    any         `json:"truncation"`
		Padding       any         `json:"padding"`
		AddedTokens   []addedJSON `json:"added_tokens"`
		Normalizer    any         `json:"normalizer"`
		PreTokenizer  any         `json:"pre_tokenizer"`
		PostProcessor any         `json:"post_processor"`
		Decoder       any         `json:"decoder"`
		Model         any         `json:"model"`
	}{
		Version: "1.0", AddedTokens: added,
		Normalizer:    cfg.normalizerJSON(),
		PreTokenizer:  map[string]any{"type": "BertPreTokenizer"},
		PostProcessor: post,
		Decoder:       map[string]any{"type": "WordPiece", "prefix": cfg.ContinuingSubwordPrefix, "cleanup": true},
		Model: struct {
			Type                    string       `json:"type"`
			UnkToken                string       `json:"unk_token"`
			ContinuingSubwordPrefix string       `json:"continuing_subword_prefix"`
			MaxInputCharsPerWord    int          `json:"max_input_chars_per_word"`
			Vocab                   orderedVocab `json:"vocab"`
		}{"WordPiece", cfg.UnkToken, cfg.ContinuingSubwordPrefix, 100, vocab},
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return []byte(sb.String()), nil
}

// orderedVocab marshals a vocabulary as a JSON object in id order, as HF
// writes it.
type orderedVocab []string

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, tok := range v {
		if i > 0 {
			sb.WriteByte(',')
		}
		k, err := marshalNoEscape(tok)
		if err != nil {
			return nil, err
		}
		sb.Write(k)
		fmt.Fprintf(&sb, ":%d", i)
	}
	sb.WriteByte('}')
	return []byte(sb.String()), nil
}

func marshalNoEscape(s string) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// Tokenizer loads the trained tokenizer, as FromJSON(TokenizerJSON()).
func (r *TrainedWordPiece) Tokenizer() (*Tokenizer, error) {
	data, err := r.TokenizerJSON()
	if err != nil {
		return nil, err
	}
	return FromJSON(data)
}

// Save writes tokenizer.json, vocab.txt (one token a line, in id order),
// and transformers' tokenizer_config.json and special_tokens_map.json into
// dir, creating it if needed; each file is written to a temporary file and
// renamed.
func (r *TrainedWordPiece) Save(dir string) error {
	data, err := r.TokenizerJSON()
	if err != nil {
		return err
	}
	for _, tok := range r.Vocab {
		if strings.ContainsAny(tok, "\r\n") {
			return fmt.Errorf("save tokenizer: token %q holds a line break and cannot go into vocab.txt", tok)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "vocab.txt"), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, tok := range r.Vocab {
			bw.WriteString(tok)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	cfgJSON, mapJSON, err := r.transformersConfig()
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"tokenizer_config.json", cfgJSON}, {"special_tokens_map.json", mapJSON}, {"tokenizer.json", data}} {
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("save tokenizer: %w", err)
		}
	}
	return nil
}

// bertSpecialKeys maps BERT's special tokens to transformers' names.
var bertSpecialKeys = []struct{ key, token string }{
	{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}, {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"},
}

// transformersConfig returns the tokenizer_config.json and
// special_tokens_map.json that transformers' BertTokenizerFast needs to
// keep the trained normalizer (it rebuilds the normalizer from
// do_lower_case, strip_accents and tokenize_chinese_chars, whose defaults
// lower-case) and to know its special tokens.
func (r *TrainedWordPiece) transformersConfig() (cfgJSON, mapJSON []byte, err error) {
	cfg := r.cfg
	specials := map[string]string{}
	for _, k := range bertSpecialKeys {
		if slices.Contains(cfg.SpecialTokens, k.token) {
			specials[k.key] = k.token
		}
	}
	specials["unk_token"] = cfg.UnkToken
	tc := map[string]any{
		"tokenizer_class":              "BertTokenizer",
		"do_lower_case":                cfg.Lowercase,
		"strip_accents":                cfg.StripAccents,
		"tokenize_chinese_chars":       cfg.HandleChineseChars,
		"clean_up_tokenization_spaces": true,
	}
	for k, v := range specials {
		tc[k] = v
	}
	if cfgJSON, err = json.MarshalIndent(tc, "", "  "); err != nil {
		return nil, nil, err
	}
	if mapJSON, err = json.MarshalIndent(specials, "", "  "); err != nil {
		return nil, nil, err
	}
	return append(cfgJSON, '\n'), append(mapJSON, '\n'), nil
}
