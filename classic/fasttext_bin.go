package classic

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/textclf/textclf/nn"
)

// fastText's model files (.bin, and .ftz for quantized models) as
// src/fasttext.cc saveModel writes them: magic and version, the arguments,
// the dictionary (with the pruned n-gram index of quantized models), then
// the input matrix and the output matrix, each behind a byte saying whether
// it is quantized (src/quantmatrix.cc, src/productquantizer.cc).
const (
	fastTextMagic   = 793712314
	fastTextVersion = 12
	fastTextLabel   = "__label__"
)

// fastText's model and loss numbers (src/args.h).
const (
	ftModelCBOW = 1
	ftModelSG   = 2
	ftModelSup  = 3
	ftLossHS    = 1
	ftLossNS    = 2
	ftLossSM    = 3
	ftLossOVA   = 4
)

// ftArgs are the arguments a fastText model file keeps (Args::save).
type ftArgs struct {
	dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate int32
	t                                                                                        float64
}

// ftEntry is a dictionary entry: a word (type 0) or a label (type 1).
type ftEntry struct {
	word  string
	count int64
	label bool
}

// ftFile is a fastText model file in memory.
type ftFile struct {
	args    ftArgs
	ntokens int64
	words   []ftEntry // the words, then the labels
	nwords  int
	pruned  map[int32]int32 // nil: not pruned
	in, out *nn.Param       // dense matrices
	qin     *quantMatrix    // quantized input (in is nil)
	qout    *quantMatrix    // quantized output (out is nil)
}

// binReader reads fastText's little-endian binary fields, keeping the first
// error.
type binReader struct {
	r   *bufio.Reader
	err error
	// left is how many bytes may still be read: no field may claim more.
	left int64
}

func (b *binReader) read(v any) {
	if b.err == nil {
		b.err = binary.Read(b.r, binary.LittleEndian, v)
		b.left -= int64(binary.Size(v))
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
	b.left -= int64(len(s))
	if len(s) > 1<<16 {
		b.err = errors.New("word longer than 64 KiB")
	}
	return s[:len(s)-1]
}

// fits checks that n items of size bytes each can still be in the file.
func (b *binReader) fits(what string, n, size int64) bool {
	if b.err == nil && (n < 0 || (n > 0 && n > b.left/size)) {
		b.err = fmt.Errorf("%s: %d items do not fit in the %d bytes left", what, n, b.left)
	}
	return b.err == nil
}

// bytes reads n bytes.
func (b *binReader) bytes(what string, n int64) []byte {
	if !b.fits(what, n, 1) {
		return nil
	}
	p := make([]byte, n)
	_, b.err = io.ReadFull(b.r, p)
	b.left -= n
	return p
}

// floats reads n float32 values.
func (b *binReader) floats(what string, n int64) []float32 {
	if !b.fits(what, n, 4) {
		return nil
	}
	x := make([]float32, n)
	b.err = readFloats(b.r, x)
	b.left -= 4 * n
	return x
}

// matrix reads a dense fastText matrix [m, n] as the parameter name.
func (b *binReader) matrix(name string) *nn.Param {
	m, n := b.i64(), b.i64()
	if b.err != nil {
		return nil
	}
	if m < 0 || n < 0 || (n > 0 && m > math.MaxInt32) {
		b.err = fmt.Errorf("%s matrix: bad shape %d × %d", name, m, n)
		return nil
	}
	if !b.fits(name+" matrix", m*n, 4) {
		return nil
	}
	w := b.floats(name+" matrix", m*n)
	return &nn.Param{Name: name, Shape: []int{int(m), int(n)}, W: w}
}

// pq reads a product quantizer of wantDim-value vectors.
func (b *binReader) pq(what string, wantDim int) *productQuantizer {
	dim, nsubq, dsub, lastdsub := b.i32(), b.i32(), b.i32(), b.i32()
	if b.err != nil {
		return nil
	}
	if int(dim) != wantDim || dsub < 1 {
		b.err = fmt.Errorf("%s: product quantizer of %d-value vectors in %d-value parts, want %d-value vectors", what, dim, dsub, wantDim)
		return nil
	}
	p, err := newProductQuantizer(int(dim), int(dsub))
	if err != nil || int(nsubq) != p.nsubq || int(lastdsub) != p.lastdsub {
		b.err = fmt.Errorf("%s: bad product quantizer (dim %d, %d sub-vectors of %d, last %d)", what, dim, nsubq, dsub, lastdsub)
		return nil
	}
	p.centroids = b.floats(what+" centroids", int64(dim)*pqKsub)
	return p
}

// quantMatrix reads a QuantMatrix.
func (b *binReader) quantMatrix(name string) *quantMatrix {
	q := &quantMatrix{qnorm: b.u8() != 0}
	m, n, codesize := b.i64(), b.i64(), b.i32()
	if b.err != nil {
		return nil
	}
	if m < 0 || m > math.MaxInt32 || n < 1 || n > 1<<16 {
		b.err = fmt.Errorf("quantized %s matrix: bad shape %d × %d", name, m, n)
		return nil
	}
	q.rows, q.cols = int(m), int(n)
	q.codes = b.bytes("quantized "+name+" matrix codes", int64(codesize))
	q.pq = b.pq("quantized "+name+" matrix", q.cols)
	if b.err == nil && int64(len(q.codes)) != m*int64(q.pq.nsubq) {
		b.err = fmt.Errorf("quantized %s matrix: %d codes for %d rows of %d sub-vectors", name, len(q.codes), m, q.pq.nsubq)
	}
	if q.qnorm {
		q.normCodes = b.bytes("quantized "+name+" matrix norm codes", m)
		q.npq = b.pq("quantized "+name+" matrix norms", 1)
	}
	if b.err != nil {
		return nil
	}
	return q
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

// writeFloats writes x as little-endian float32 data.
func writeFloats(w io.Writer, x []float32) error {
	if !littleEndian {
		return binary.Write(w, binary.LittleEndian, x)
	}
	if len(x) == 0 {
		return nil
	}
	_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)))
	return err
}

// readFastTextFile reads a fastText model file of fileSize bytes.
func readFastTextFile(r *bufio.Reader, fileSize int64) (*ftFile, error) {
	b := &binReader{r: r, left: fileSize}
	magic, version := b.i32(), b.i32()
	if b.err == nil && (magic != fastTextMagic || version < 11 || version > fastTextVersion) {
		return nil, fmt.Errorf("not a fastText model of format version 11 or %d (magic %d, version %d)", fastTextVersion, magic, version)
	}
	f := &ftFile{}
	a := &f.args
	a.dim, a.ws, a.epoch, a.minCount, a.neg = b.i32(), b.i32(), b.i32(), b.i32(), b.i32()
	a.wordNgrams, a.loss, a.model, a.bucket, a.minn, a.maxn, a.lrUpdateRate = b.i32(), b.i32(), b.i32(), b.i32(), b.i32(), b.i32(), b.i32()
	a.t = b.f64()
	size, nwords, nlabels := b.i32(), b.i32(), b.i32()
	f.ntokens = b.i64()
	pruneSize := b.i64()
	if b.err != nil {
		return nil, b.err
	}
	if version == 11 && a.model == ftModelSup {
		a.maxn = 0 // as fastText: old supervised models have no char n-grams
	}
	switch {
	case a.model < ftModelCBOW || a.model > ftModelSup:
		return nil, fmt.Errorf("unknown model type %d", a.model)
	case a.dim < 1 || a.dim > 1<<16:
		return nil, fmt.Errorf("bad dimension %d", a.dim)
	case a.bucket < 0 || a.minn < 0 || a.maxn < 0 || a.wordNgrams < 0:
		return nil, fmt.Errorf("bad n-gram settings (bucket %d, minn %d, maxn %d, wordNgrams %d)", a.bucket, a.minn, a.maxn, a.wordNgrams)
	case size < 0 || nwords < 0 || nlabels < 0 || size != nwords+nlabels || !b.fits("dictionary", int64(size), 10):
		return nil, fmt.Errorf("bad dictionary sizes: %d entries, %d words, %d labels", size, nwords, nlabels)
	case pruneSize >= 0 && !b.fits("pruned n-gram index", pruneSize, 8):
		return nil, b.err
	}
	f.nwords = int(nwords)
	for i := int32(0); i < size; i++ {
		w := b.cstring()
		count := b.i64()
		typ := b.u8()
		if b.err != nil {
			return nil, fmt.Errorf("dictionary entry %d: %w", i, unexpectedEOF(b.err))
		}
		if (typ == 0) != (i < nwords) || typ > 1 {
			return nil, fmt.Errorf("dictionary entry %d (%q): unexpected type %d", i, w, typ)
		}
		f.words = append(f.words, ftEntry{word: w, count: count, label: typ == 1})
	}
	if pruneSize >= 0 {
		f.pruned = make(map[int32]int32, pruneSize)
		for i := int64(0); i < pruneSize; i++ {
			from, to := b.i32(), b.i32()
			if b.err == nil && (from < 0 || from >= a.bucket || to < 0 || to >= int32(pruneSize)) {
				return nil, fmt.Errorf("pruned n-gram index: entry %d maps bucket %d to row %d (%d buckets, %d kept)", i, from, to, a.bucket, pruneSize)
			}
			f.pruned[from] = to
		}
	}
	if b.u8() != 0 {
		f.qin = b.quantMatrix("input")
	} else {
		f.in = b.matrix("input")
	}
	if b.err == nil && f.qin == nil && f.pruned != nil {
		return nil, errors.New("a pruned dictionary with a dense input matrix (fastText refuses such files too)")
	}
	if b.u8() != 0 {
		if f.qin == nil && b.err == nil {
			return nil, errors.New("a quantized output matrix with a dense input matrix")
		}
		f.qout = b.quantMatrix("output")
	} else {
		f.out = b.matrix("output")
	}
	if b.err != nil {
		return nil, unexpectedEOF(b.err)
	}
	// The matrices' shapes against the dictionary.
	inRows, inCols := rowsCols(f.in, f.qin)
	wantIn := int(nwords) + int(a.bucket)
	if f.pruned != nil {
		wantIn = int(nwords) + len(f.pruned)
	}
	if inRows != wantIn || inCols != int(a.dim) {
		return nil, fmt.Errorf("input matrix is %d × %d, want %d × %d", inRows, inCols, wantIn, a.dim)
	}
	outRows, outCols := rowsCols(f.out, f.qout)
	wantOut := int(nlabels)
	if a.model != ftModelSup {
		wantOut = int(nwords)
	}
	if outRows != wantOut || outCols != int(a.dim) {
		return nil, fmt.Errorf("output matrix is %d × %d, want %d × %d", outRows, outCols, wantOut, a.dim)
	}
	return f, nil
}

func rowsCols(p *nn.Param, q *quantMatrix) (int, int) {
	if q != nil {
		return q.rows, q.cols
	}
	return p.Shape[0], p.Shape[1]
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// write writes f in fastText's format.
func (f *ftFile) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	put := func(v any) { binary.Write(bw, binary.LittleEndian, v) }
	a := f.args
	put([]int32{fastTextMagic, fastTextVersion, a.dim, a.ws, a.epoch, a.minCount, a.neg, a.wordNgrams, a.loss, a.model, a.bucket, a.minn, a.maxn, a.lrUpdateRate})
	put(a.t)
	nlabels := len(f.words) - f.nwords
	put([]int32{int32(len(f.words)), int32(f.nwords), int32(nlabels)})
	put(f.ntokens)
	pruneSize := int64(-1)
	if f.pruned != nil {
		pruneSize = int64(len(f.pruned))
	}
	put(pruneSize)
	for _, e := range f.words {
		if e.word == "" || strings.ContainsAny(e.word, "\x00 \t\n\r\v\f") {
			return fmt.Errorf("dictionary entry %q cannot be written to a fastText model (empty, or has whitespace or NUL)", e.word)
		}
		bw.WriteString(e.word)
		bw.WriteByte(0)
		put(e.count)
		if e.label {
			bw.WriteByte(1)
		} else {
			bw.WriteByte(0)
		}
	}
	if f.pruned != nil {
		keys := make([]int32, 0, len(f.pruned))
		for k := range f.pruned {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			put([]int32{k, f.pruned[k]})
		}
	}
	writeMatrix := func(p *nn.Param, q *quantMatrix) {
		if q != nil {
			bw.WriteByte(1)
			q.write(bw, put)
			return
		}
		bw.WriteByte(0)
		put([]int64{int64(p.Shape[0]), int64(p.Shape[1])})
		writeFloats(bw, p.W)
	}
	writeMatrix(f.in, f.qin)
	writeMatrix(f.out, f.qout)
	return bw.Flush()
}

// write writes q as QuantMatrix::save does (after the "quantized" byte).
func (q *quantMatrix) write(bw *bufio.Writer, put func(any)) {
	if q.qnorm {
		bw.WriteByte(1)
	} else {
		bw.WriteByte(0)
	}
	put([]int64{int64(q.rows), int64(q.cols)})
	put(int32(len(q.codes)))
	bw.Write(q.codes)
	writePQ := func(p *productQuantizer) {
		put([]int32{int32(p.dim), int32(p.nsubq), int32(p.dsub), int32(p.lastdsub)})
		writeFloats(bw, p.centroids)
	}
	writePQ(q.pq)
	if q.qnorm {
		bw.Write(q.normCodes)
		writePQ(q.npq)
	}
}

// openFastTextFile reads the fastText model file at path.
func openFastTextFile(path string) (*ftFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	f, err := readFastTextFile(bufio.NewReaderSize(fh, 1<<20), st.Size())
	if err != nil {
		return nil, fmt.Errorf("read fastText model %s: %w", path, err)
	}
	return f, nil
}

// ReadFastTextBin reads a supervised model saved by fastText (its .bin
// file, or a quantized .ftz file) as a Classifier that segments on
// whitespace as fastText does. Its predictions are fastText's.
func ReadFastTextBin(path string) (*Classifier, error) {
	f, err := openFastTextFile(path)
	if err != nil {
		return nil, err
	}
	c, err := f.classifier()
	if err != nil {
		return nil, fmt.Errorf("read fastText model %s: %w", path, err)
	}
	return c, nil
}

func readFastTextBin(r *bufio.Reader, fileSize int64) (*Classifier, error) {
	f, err := readFastTextFile(r, fileSize)
	if err != nil {
		return nil, err
	}
	return f.classifier()
}

// lossNames are fastText's supervised losses by number.
var lossNames = map[int32]string{ftLossHS: LossHS, ftLossSM: LossSoftmax, ftLossOVA: LossOVA}

// classifier turns a supervised model file into a Classifier.
func (f *ftFile) classifier() (*Classifier, error) {
	a := f.args
	if a.model != ftModelSup {
		return nil, fmt.Errorf("model type %d is not supervised (a %s model holds word vectors: read it with the vector tools)", a.model, map[int32]string{ftModelCBOW: "cbow", ftModelSG: "skipgram"}[a.model])
	}
	lossName := lossNames[a.loss]
	if lossName == "" {
		return nil, fmt.Errorf("loss %d is not supported (softmax, hs, ova)", a.loss)
	}
	if len(f.words) == f.nwords {
		return nil, errors.New("no labels")
	}
	cfg := FastTextConfig{Dim: int(a.dim), WordNgrams: int(a.wordNgrams), Minn: int(a.minn), Maxn: int(a.maxn), Bucket: int(a.bucket), MinCount: int(a.minCount), Loss: lossName, LRUpdateRate: int(a.lrUpdateRate)}
	if cfg.WordNgrams < 1 {
		cfg.WordNgrams = 1
	}
	if cfg.MinCount < 1 {
		cfg.MinCount = 1
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	m := &FastText{Config: cfg, In: f.in, Out: f.out, qin: f.qin, qout: f.qout, pruned: f.pruned, epochs: int(a.epoch)}
	for _, e := range f.words {
		if e.label {
			m.LabelNames = append(m.LabelNames, strings.TrimPrefix(e.word, fastTextLabel))
			m.LabelCounts = append(m.LabelCounts, e.count)
		} else {
			m.Words = append(m.Words, e.word)
			m.WordCounts = append(m.WordCounts, e.count)
		}
	}
	if m.In != nil {
		m.In.Name = "input"
	}
	if m.Out != nil {
		m.Out.Name = "output"
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return &Classifier{
		Config: Config{Arch: ArchFastText, Labels: m.LabelNames, MultiLabel: lossName == LossOVA, Threshold: 0.5, Segmenter: Segmenter{Mode: SegmentWhitespace}},
		ft:     m,
	}, nil
}

// file is the model as a fastText model file.
func (m *FastText) file() *ftFile {
	cfg := m.Config
	loss := map[string]int32{LossHS: ftLossHS, LossSoftmax: ftLossSM, LossOVA: ftLossOVA}[cfg.Loss]
	epochs := m.epochs
	if epochs == 0 {
		epochs = 5
	}
	f := &ftFile{
		args: ftArgs{dim: int32(cfg.Dim), ws: 5, epoch: int32(epochs), minCount: int32(cfg.MinCount), neg: 5,
			wordNgrams: int32(cfg.WordNgrams), loss: loss, model: ftModelSup, bucket: int32(cfg.Bucket),
			minn: int32(cfg.Minn), maxn: int32(cfg.Maxn), lrUpdateRate: int32(cfg.LRUpdateRate), t: 1e-4},
		nwords: len(m.Words), pruned: m.pruned, in: m.In, out: m.Out, qin: m.qin, qout: m.qout,
	}
	for i, w := range m.Words {
		count := int64(1)
		if m.WordCounts != nil {
			count = m.WordCounts[i]
		}
		f.ntokens += count
		f.words = append(f.words, ftEntry{word: w, count: count})
	}
	for i, l := range m.LabelNames {
		f.ntokens += m.LabelCounts[i]
		f.words = append(f.words, ftEntry{word: fastTextLabel + l, count: m.LabelCounts[i], label: true})
	}
	return f
}

// WriteFastText writes a fastText-style model as a fastText model file: a
// .bin, or a .ftz when the model is quantized, which fastText's predict,
// test and quantize read. fastText splits text on whitespace only, so it
// predicts as textclf does when the model was trained with --segment
// whitespace (or on text segmented beforehand). Word counts the model does
// not know (a model saved by an older textclf) are written as 1.
func (c *Classifier) WriteFastText(path string) error {
	if c.ft == nil {
		return fmt.Errorf("write %s: only fastText-style models can be written as fastText files (this is %s)", path, c.Config.Arch)
	}
	f := c.ft.file()
	return writeFileAtomic(path, f.write)
}
