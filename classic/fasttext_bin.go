package classic

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/textclf/textclf/nn"
)

const (
	fastTextMagic   = 793712314
	fastTextVersion = 12
)

// binReader reads fastText's little-endian binary fields, keeping the first
// error.
type binReader struct {
	r   *bufio.Reader
	err error
}

func (b *binReader) read(v any) {
	if b.err == nil {
		b.err = binary.Read(b.r, binary.LittleEndian, v)
	}
}

func (b *binReader) i32() int32   { var v int32; b.read(&v); return v }
func (b *binReader) i64() int64   { var v int64; b.read(&v); return v }
func (b *binReader) f64() float64 { var v float64; b.read(&v); return v }
func (b *binReader) u8() uint8    { var v uint8; b.read(&v); return v }

func (b *binReader) cstring() string {
	if b.err != nil {
		return ""
	}
	s, err := b.r.ReadString(0)
	if err != nil {
		b.err = err
		return ""
	}
	if len(s) > 1<<16 {
		b.err = errors.New("word longer than 64 KiB")
	}
	return s[:len(s)-1]
}

// matrix reads a dense fastText matrix [m, n] as the parameter name.
func (b *binReader) matrix(name string, maxSize int64) *nn.Param {
	m, n := b.i64(), b.i64()
	if b.err != nil {
		return nil
	}
	if m < 0 || n < 0 || (n > 0 && m > maxSize/n) {
		b.err = fmt.Errorf("%s matrix: bad shape %d × %d", name, m, n)
		return nil
	}
	p := &nn.Param{Name: name, Shape: []int{int(m), int(n)}, W: make([]float32, m*n)}
	b.err = readFloats(b.r, p.W)
	return p
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// readFloats fills x from little-endian float32 data (fastText's and
// word2vec's binary files), straight into x's memory on little-endian
// machines.
func readFloats(r io.Reader, x []float32) error {
	if !littleEndian {
		return binary.Read(r, binary.LittleEndian, x)
	}
	if len(x) == 0 {
		return nil
	}
	_, err := io.ReadFull(r, unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)))
	return err
}

// ReadFastTextBin reads a supervised model saved by fastText (its .bin file,
// format version 12, not quantized) as a Classifier that segments on
// whitespace as fastText does. Its predictions are fastText's.
func ReadFastTextBin(path string) (*Classifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	c, err := readFastTextBin(bufio.NewReaderSize(f, 1<<20), st.Size())
	if err != nil {
		return nil, fmt.Errorf("read fastText model %s: %w", path, err)
	}
	return c, nil
}

func readFastTextBin(r *bufio.Reader, fileSize int64) (*Classifier, error) {
	b := &binReader{r: r}
	if magic, version := b.i32(), b.i32(); b.err == nil && (magic != fastTextMagic || version != fastTextVersion) {
		return nil, fmt.Errorf("not a fastText version-%d model (magic %d, version %d)", fastTextVersion, magic, version)
	}
	dim, _, _, _, _ := b.i32(), b.i32(), b.i32(), b.i32(), b.i32() // dim ws epoch minCount neg
	wordNgrams, loss, model, bucket, minn, maxn, lrUpdate := b.i32(), b.i32(), b.i32(), b.i32(), b.i32(), b.i32(), b.i32()
	b.f64() // t
	size, nwords, nlabels := b.i32(), b.i32(), b.i32()
	b.i64() // ntokens
	pruneSize := b.i64()
	if b.err != nil {
		return nil, b.err
	}
	if model != 3 {
		return nil, fmt.Errorf("model type %d is not supervised", model)
	}
	if pruneSize > 0 {
		return nil, errors.New("pruned (quantized) models are not supported")
	}
	lossName := map[int32]string{1: LossHS, 3: LossSoftmax, 4: LossOVA}[loss]
	if lossName == "" {
		return nil, fmt.Errorf("loss %d is not supported (softmax, hs, ova)", loss)
	}
	if size < 0 || nwords < 0 || nlabels < 1 || size != nwords+nlabels || int64(size) > fileSize {
		return nil, fmt.Errorf("bad dictionary sizes: %d entries, %d words, %d labels", size, nwords, nlabels)
	}
	cfg := FastTextConfig{Dim: int(dim), WordNgrams: int(wordNgrams), Minn: int(minn), Maxn: int(maxn), Bucket: int(bucket), MinCount: 1, Loss: lossName, LRUpdateRate: int(lrUpdate)}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	m := &FastText{Config: cfg}
	for i := int32(0); i < size; i++ {
		w := b.cstring()
		count := b.i64()
		typ := b.u8()
		if b.err != nil {
			return nil, fmt.Errorf("dictionary entry %d: %w", i, b.err)
		}
		switch {
		case typ == 0 && i < nwords:
			m.Words = append(m.Words, w)
		case typ == 1 && i >= nwords:
			m.LabelNames = append(m.LabelNames, strings.TrimPrefix(w, "__label__"))
			m.LabelCounts = append(m.LabelCounts, count)
		default:
			return nil, fmt.Errorf("dictionary entry %d (%q): unexpected type %d", i, w, typ)
		}
	}
	if q := b.u8(); b.err == nil && q != 0 {
		return nil, errors.New("quantized models are not supported")
	}
	m.In = b.matrix("input", fileSize/4)
	if want := []int{int(nwords) + int(bucket), int(dim)}; b.err == nil && !slices.Equal(m.In.Shape, want) {
		return nil, fmt.Errorf("input matrix is %d × %d, want %d × %d", m.In.Shape[0], m.In.Shape[1], want[0], want[1])
	}
	if q := b.u8(); b.err == nil && q != 0 {
		return nil, errors.New("quantized models are not supported")
	}
	m.Out = b.matrix("output", fileSize/4)
	if b.err != nil {
		if b.err == io.EOF {
			b.err = io.ErrUnexpectedEOF
		}
		return nil, b.err
	}
	if want := []int{m.outRows(), int(dim)}; !slices.Equal(m.Out.Shape, want) {
		return nil, fmt.Errorf("output matrix is %d × %d, want %d × %d", m.Out.Shape[0], m.Out.Shape[1], want[0], want[1])
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return &Classifier{
		Config: Config{Arch: ArchFastText, Labels: m.LabelNames, MultiLabel: lossName == LossOVA, Threshold: 0.5, Segmenter: Segmenter{Mode: SegmentWhitespace}},
		ft:     m,
	}, nil
}
