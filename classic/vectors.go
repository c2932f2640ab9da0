package classic

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Vectors is a table of word vectors.
type Vectors struct {
	// Words are the words in file order.
	Words []string
	// Dim is the vector size.
	Dim int
	// Data holds the vectors [len(Words), Dim].
	Data  []float32
	index map[string]int

	// model is the fastText-style model the vectors come from (a fastText
	// model file, or TrainWord2Vec), of fastText's type modelType with the
	// training arguments args: it gives unseen words vectors from their
	// char n-grams and writes fastText .bin files.
	model     *FastText
	modelType int32
	args      ftArgs

	unitOnce sync.Once
	unitData []float32 // Data with rows scaled to unit norm (Nearest)
}

// Vector returns the vector of a word, or nil.
func (v *Vectors) Vector(w string) []float32 {
	i, ok := v.index[w]
	if !ok {
		return nil
	}
	return v.Data[i*v.Dim : (i+1)*v.Dim]
}

func (v *Vectors) add(path string, line int, w string, vec []float32) error {
	if w == "" {
		return fmt.Errorf("%s:%d: empty word", path, line)
	}
	if _, dup := v.index[w]; dup {
		return nil // keep the first, as gensim does
	}
	v.index[w] = len(v.Words)
	v.Words = append(v.Words, w)
	v.Data = append(v.Data, vec...)
	return nil
}

// ReadVectors reads word vectors: word2vec binary (a "count dim" header
// line, then each word, a space and dim little-endian float32), word2vec
// and fastText .vec text (the same header, then "word v1 … vdim" lines) and
// GloVe text (no header). The binary layout is recognised by its content.
func ReadVectors(path string) (*Vectors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := readVectors(bufio.NewReaderSize(f, 1<<20), path)
	if err != nil {
		return nil, err
	}
	if len(v.Words) == 0 {
		return nil, fmt.Errorf("%s: no vectors", path)
	}
	return v, nil
}

func readVectors(r *bufio.Reader, path string) (*Vectors, error) {
	v := &Vectors{index: map[string]int{}}
	first, err := r.ReadString('\n')
	if err != nil && (err != io.EOF || first == "") {
		return nil, fmt.Errorf("%s:1: %v", path, err)
	}
	fields := strings.Fields(first)
	count, dim := -1, 0
	if len(fields) == 2 {
		n, e1 := strconv.Atoi(fields[0])
		d, e2 := strconv.Atoi(fields[1])
		if e1 == nil && e2 == nil && n >= 0 && d > 0 && d <= 1<<16 {
			count, dim = n, d
		}
	}
	if count >= 0 {
		// A header: text or binary? Text lines are UTF-8 with dim+1 fields.
		peek, _ := r.Peek(min(r.Buffered()+4096, 4096))
		if isBinaryVectors(peek, dim) {
			return v, readBinaryVectors(r, path, v, count, dim)
		}
		v.Dim = dim
		return v, readTextVectors(r, path, v, 2)
	}
	// GloVe: no header; the first line is a vector.
	if err := parseTextVector(path, 1, first, v); err != nil {
		return nil, fmt.Errorf("%s: unknown vector file format: the first line is neither a \"count dim\" header nor a word and its numbers (%v); textclf reads fastText .bin/.ftz files, .vec/.txt text (word2vec, fastText, GloVe) and word2vec binary files", path, err)
	}
	return v, readTextVectors(r, path, v, 2)
}

// isBinaryVectors tells word2vec binary data from text: a text line holds
// dim+1 fields before its newline.
func isBinaryVectors(peek []byte, dim int) bool {
	nl := bytes.IndexByte(peek, '\n')
	if nl < 0 {
		return len(peek) > 0 && bytes.IndexByte(peek, 0) >= 0 || len(peek) >= 4096
	}
	return len(strings.Fields(string(peek[:nl]))) != dim+1
}

func parseTextVector(path string, line int, s string, v *Vectors) error {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return nil
	}
	if v.Dim == 0 {
		v.Dim = len(fs) - 1
		if v.Dim < 1 {
			return fmt.Errorf("%s:%d: a word without a vector", path, line)
		}
	}
	if len(fs) != v.Dim+1 {
		return fmt.Errorf("%s:%d: %d values, want %d", path, line, len(fs)-1, v.Dim)
	}
	vec := make([]float32, v.Dim)
	for i, x := range fs[1:] {
		f, err := strconv.ParseFloat(x, 32)
		if err != nil {
			return fmt.Errorf("%s:%d: value %d: %q is not a number", path, line, i+1, x)
		}
		vec[i] = float32(f)
	}
	return v.add(path, line, fs[0], vec)
}

func readTextVectors(r *bufio.Reader, path string, v *Vectors, line int) error {
	for ; ; line++ {
		s, err := r.ReadString('\n')
		if s != "" {
			if perr := parseTextVector(path, line, s, v); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
}

func readBinaryVectors(r *bufio.Reader, path string, v *Vectors, count, dim int) error {
	v.Dim = dim
	vec := make([]float32, dim)
	for i := 0; i < count; i++ {
		w, err := r.ReadString(' ')
		if err != nil {
			return fmt.Errorf("%s: vector %d of %d: %v", path, i+1, count, err)
		}
		w = strings.TrimLeft(strings.TrimSuffix(w, " "), "\n")
		if len(w) > 1<<12 {
			return fmt.Errorf("%s: vector %d: word longer than 4 KiB", path, i+1)
		}
		if err := readFloats(r, vec); err != nil {
			return fmt.Errorf("%s: vector %d (%q): %v", path, i+1, w, err)
		}
		if err := v.add(path, i+1, w, vec); err != nil {
			return fmt.Errorf("%s: vector %d: empty word", path, i+1)
		}
	}
	return nil
}

// WriteVectorsText writes vectors in word2vec/fastText .vec text format.
func WriteVectorsText(path string, v *Vectors) error {
	return writeFileAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		fmt.Fprintf(bw, "%d %d\n", len(v.Words), v.Dim)
		for i, word := range v.Words {
			bw.WriteString(word)
			for _, x := range v.Data[i*v.Dim : (i+1)*v.Dim] {
				bw.WriteByte(' ')
				bw.WriteString(strconv.FormatFloat(float64(x), 'g', 6, 32))
			}
			bw.WriteByte('\n')
		}
		return bw.Flush()
	})
}
