package classic

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/textclf/textclf/tensor"
)

// What fastText's nn, analogies, print-word-vectors and
// print-sentence-vectors compute (src/fasttext.cc), over any vectors
// textclf reads: fastText model files (with vectors of unseen words from
// their char n-grams), .vec/.txt, word2vec binary and GloVe files.

// wordRows appends the input rows of a word's vector: its own row and its
// char n-grams' when it is in the vocabulary, its char n-grams' alone when
// it is not (fastText's getSubwords).
func (m *FastText) wordRows(w string, rows []int32) []int32 {
	if id, ok := m.wordIndex[w]; ok {
		return append(rows, m.subwords[id]...)
	}
	cfg := m.Config
	if cfg.Maxn > 0 && cfg.Bucket > 0 && w != EOS {
		charNgrams(w, cfg.Minn, cfg.Maxn, func(h uint32) {
			if r := m.ngramRow(uint64(h)); r >= 0 {
				rows = append(rows, r)
			}
		})
	}
	return rows
}

// wordVectors returns the vectors of the model's words (fastText's
// getWordVector: the mean of a word's rows), keeping the model for unseen
// words.
func (m *FastText) wordVectors() *Vectors {
	d := m.Config.Dim
	v := &Vectors{Words: m.Words, Dim: d, Data: make([]float32, len(m.Words)*d), index: make(map[string]int, len(m.Words)), model: m}
	for i, w := range m.Words {
		v.index[w] = i
		m.hidden(v.Data[i*d:(i+1)*d], m.subwords[i])
	}
	return v
}

// HasSubwords reports whether the vectors come from a model with char
// n-grams, which gives vectors to unseen words.
func (v *Vectors) HasSubwords() bool {
	return v.model != nil && v.model.Config.Maxn > 0 && v.model.Config.Bucket > 0
}

// WordVector returns a word's vector as fastText's print-word-vectors
// does: its vector when it is known; for an unseen word the mean of its
// char n-grams' rows when the vectors come from a model with char n-grams;
// else zeros.
func (v *Vectors) WordVector(w string) []float32 {
	out := make([]float32, v.Dim)
	if x := v.Vector(w); x != nil {
		copy(out, x)
	} else if v.model != nil {
		v.model.hidden(out, v.model.wordRows(w, nil))
	}
	return out
}

// SentenceVector returns fastText's print-sentence-vectors vector of a
// whitespace-split line: for a supervised model the mean of the input rows
// its classifier sees (words, char and word n-grams, EOS; labels dropped);
// otherwise the mean of the unit vectors of its words (words whose vector
// is zero left out).
func (v *Vectors) SentenceVector(tokens []string) []float32 {
	out := make([]float32, v.Dim)
	if v.model != nil && v.modelType == ftModelSup {
		words := slices.DeleteFunc(slices.Clone(tokens), func(t string) bool { return strings.HasPrefix(t, fastTextLabel) })
		ids := v.model.Features(words, nil)
		v.model.hidden(out, ids)
		return out
	}
	var n int
	for _, t := range tokens {
		x := v.WordVector(t)
		norm := l2norm(x)
		if norm > 0 {
			tensor.AxpySerial(float32(1/norm), x, out)
			n++
		}
	}
	if n > 0 {
		tensor.ScaleSerial(1/float32(n), out)
	}
	return out
}

// Neighbor is a word and its cosine similarity to a query.
type Neighbor struct {
	// Word is the neighbouring word.
	Word string
	// Similarity is the cosine similarity to the query.
	Similarity float32
}

// unit returns the vectors scaled to unit norm (zero vectors stay zero),
// computed once.
func (v *Vectors) unit() []float32 {
	v.unitOnce.Do(func() {
		d := v.Dim
		v.unitData = make([]float32, len(v.Data))
		for i := range v.Words {
			x := v.Data[i*d : (i+1)*d]
			if n := l2norm(x); n > 0 {
				tensor.AxpySerial(float32(1/n), x, v.unitData[i*d:(i+1)*d])
			}
		}
	})
	return v.unitData
}

// Nearest returns the k words most similar (cosine) to the query vector,
// most similar first, leaving out the words of ban (fastText's getNN).
func (v *Vectors) Nearest(query []float32, k int, ban ...string) []Neighbor {
	if len(query) != v.Dim {
		return nil
	}
	qn := float32(l2norm(query))
	if math.Abs(float64(qn)) < 1e-8 {
		qn = 1
	}
	u := v.unit()
	d := v.Dim
	var best []Neighbor
	for i, w := range v.Words {
		if slices.Contains(ban, w) {
			continue
		}
		s := tensor.Dot(u[i*d:(i+1)*d], query) / qn
		if len(best) == k && s < best[k-1].Similarity {
			continue
		}
		// Insert in order; k is small.
		j, _ := slices.BinarySearchFunc(best, s, func(n Neighbor, s float32) int { return cmp.Compare(s, n.Similarity) })
		best = slices.Insert(best, j, Neighbor{Word: w, Similarity: s})
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}

// NearestWords returns the k nearest neighbours of a word (fastText's nn).
func (v *Vectors) NearestWords(word string, k int) []Neighbor {
	return v.Nearest(v.WordVector(word), k, word)
}

// Analogies returns the k words nearest to a − b + c, each vector scaled
// to unit norm, leaving out a, b and c (fastText's analogies: "berlin
// germany france" gives paris).
func (v *Vectors) Analogies(a, b, c string, k int) []Neighbor {
	q := make([]float32, v.Dim)
	for i, w := range []string{a, b, c} {
		x := v.WordVector(w)
		s := float32(1 / (l2norm(x) + 1e-8))
		if i == 1 {
			s = -s
		}
		tensor.AxpySerial(s, x, q)
	}
	return v.Nearest(q, k, a, b, c)
}

// ReadWordVectors reads the vectors of any file textclf supports: a model
// file saved by fastText (.bin, .ftz; supervised, skipgram or cbow), which
// keeps its char n-grams for unseen words and its sentence vectors, or a
// vector file ReadVectors reads.
func ReadWordVectors(path string) (*Vectors, error) {
	if !IsFastTextBin(path) {
		return ReadVectors(path)
	}
	f, err := openFastTextFile(path)
	if err != nil {
		return nil, err
	}
	var m *FastText
	if f.args.model == ftModelSup {
		c, err := f.classifier()
		if err != nil {
			return nil, fmt.Errorf("read fastText model %s: %w", path, err)
		}
		m = c.ft
	} else {
		if m, err = f.wordModel(); err != nil {
			return nil, fmt.Errorf("read fastText model %s: %w", path, err)
		}
	}
	v := m.wordVectors()
	v.modelType, v.args = f.args.model, f.args
	return v, nil
}

// wordModel turns a skipgram or cbow model file into its model.
func (f *ftFile) wordModel() (*FastText, error) {
	a := f.args
	if len(f.words) != f.nwords {
		return nil, fmt.Errorf("a %s model with labels", map[int32]string{ftModelCBOW: "cbow", ftModelSG: "skipgram"}[a.model])
	}
	cfg := FastTextConfig{Dim: int(a.dim), WordNgrams: 1, Minn: int(a.minn), Maxn: int(a.maxn), Bucket: int(a.bucket), MinCount: int(a.minCount), LRUpdateRate: int(a.lrUpdateRate)}
	if cfg.Maxn > 0 && (cfg.Minn < 1 || cfg.Minn > cfg.Maxn) {
		return nil, fmt.Errorf("bad char n-gram range minn %d maxn %d", cfg.Minn, cfg.Maxn)
	}
	m := &FastText{Config: cfg, In: f.in, Out: f.out, qin: f.qin, qout: f.qout, pruned: f.pruned, epochs: int(a.epoch)}
	for _, e := range f.words {
		m.Words = append(m.Words, e.word)
		m.WordCounts = append(m.WordCounts, e.count)
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// WriteFastText writes vectors trained by TrainWord2Vec, or read from a
// fastText model file, as a fastText model file (.bin) that fastText's nn,
// analogies and print-word-vectors read.
func (v *Vectors) WriteFastText(path string) error {
	if v.model == nil {
		return fmt.Errorf("write %s: these vectors have no fastText model (only vectors trained by textclf word2vec or read from a fastText file can be written as one)", path)
	}
	f := v.model.file()
	if v.modelType != ftModelSup {
		f.args.model, f.args.loss = v.modelType, ftLossNS
		f.args.ws, f.args.neg, f.args.t = v.args.ws, v.args.neg, v.args.t
		f.words = f.words[:f.nwords]
	}
	return writeFileAtomic(path, f.write)
}
