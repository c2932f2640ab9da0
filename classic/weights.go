package classic

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/textclf/textclf/internal/atomicfile"
	"io"
	"os"
	"sort"
	"unsafe"
)

// Weights are named float32 tensors, stored in the safetensors layout
// (8-byte little-endian header length, JSON header, raw little-endian data)
// so that other tools can read a saved classic model.
type Weights map[string]Tensor

// Tensor is a float32 array with its shape.
type Tensor struct {
	// Shape lists the dimensions, outermost first.
	Shape []int
	// Data holds the values in row-major order.
	Data []float32
}

type stEntry struct {
	Dtype       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

func floatBytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

// writeFloats writes x as little-endian float32.
func writeFloats(w io.Writer, x []float32) error {
	if littleEndian {
		_, err := w.Write(floatBytes(x))
		return err
	}
	return binary.Write(w, binary.LittleEndian, x)
}

// readFloats fills x from little-endian float32 data.
func readFloats(r io.Reader, x []float32) error {
	if littleEndian {
		_, err := io.ReadFull(r, floatBytes(x))
		return err
	}
	return binary.Read(r, binary.LittleEndian, x)
}

// WriteWeights writes the tensors to path through a temporary file.
func WriteWeights(path string, ws Weights) error {
	names := make([]string, 0, len(ws))
	for n := range ws {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]stEntry{}
	off := 0
	for _, n := range names {
		t := ws[n]
		size := 1
		for _, s := range t.Shape {
			size *= s
		}
		if size != len(t.Data) {
			return fmt.Errorf("write %s: tensor %q: shape %v holds %d values, data has %d", path, n, t.Shape, size, len(t.Data))
		}
		header[n] = stEntry{Dtype: "F32", Shape: t.Shape, DataOffsets: [2]int{off, off + 4*len(t.Data)}}
		off += 4 * len(t.Data)
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var lenb [8]byte
		binary.LittleEndian.PutUint64(lenb[:], uint64(len(hb)))
		if _, err := bw.Write(lenb[:]); err != nil {
			return err
		}
		if _, err := bw.Write(hb); err != nil {
			return err
		}
		for _, n := range names {
			if err := writeFloats(bw, ws[n].Data); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// ReadWeights reads a file written by WriteWeights (any safetensors file of
// F32 tensors).
func ReadWeights(path string) (Weights, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var lenb [8]byte
	if _, err := io.ReadFull(f, lenb[:]); err != nil {
		return nil, fmt.Errorf("read %s: header length: %w", path, err)
	}
	hlen := binary.LittleEndian.Uint64(lenb[:])
	if hlen > 100<<20 || int64(hlen)+8 > st.Size() {
		return nil, fmt.Errorf("read %s: header length %d does not fit a %d-byte file", path, hlen, st.Size())
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(f, hb); err != nil {
		return nil, fmt.Errorf("read %s: header: %w", path, err)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, fmt.Errorf("read %s: header: %w", path, err)
	}
	dataLen := st.Size() - 8 - int64(hlen)
	type item struct {
		name string
		e    stEntry
	}
	var items []item
	for n, raw := range header {
		if n == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("read %s: tensor %q: %w", path, n, err)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("read %s: tensor %q: dtype %s, want F32", path, n, e.Dtype)
		}
		size := int64(1)
		for _, s := range e.Shape {
			if s < 0 || (s > 0 && size > (1<<40)/int64(s)) {
				return nil, fmt.Errorf("read %s: tensor %q: bad shape %v", path, n, e.Shape)
			}
			size *= int64(s)
		}
		if e.DataOffsets[0] < 0 || int64(e.DataOffsets[1]) > dataLen || int64(e.DataOffsets[1]-e.DataOffsets[0]) != 4*size {
			return nil, fmt.Errorf("read %s: tensor %q: offsets %v do not match shape %v in %d data bytes", path, n, e.DataOffsets, e.Shape, dataLen)
		}
		items = append(items, item{n, e})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].e.DataOffsets[0] < items[j].e.DataOffsets[0] })
	ws := Weights{}
	br := bufio.NewReaderSize(f, 1<<20)
	pos := 0
	for _, it := range items {
		if it.e.DataOffsets[0] != pos {
			if it.e.DataOffsets[0] < pos {
				return nil, fmt.Errorf("read %s: tensor %q overlaps another", path, it.name)
			}
			if _, err := br.Discard(it.e.DataOffsets[0] - pos); err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
		}
		x := make([]float32, (it.e.DataOffsets[1]-it.e.DataOffsets[0])/4)
		if err := readFloats(br, x); err != nil {
			return nil, fmt.Errorf("read %s: tensor %q: %w", path, it.name, err)
		}
		pos = it.e.DataOffsets[1]
		ws[it.name] = Tensor{Shape: it.e.Shape, Data: x}
	}
	return ws, nil
}

// get returns a tensor that must exist with the given number of values.
func (ws Weights) get(path, name string, size int) ([]float32, error) {
	t, ok := ws[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", path, name)
	}
	if len(t.Data) != size {
		return nil, fmt.Errorf("%s: tensor %q has %d values, want %d", path, name, len(t.Data), size)
	}
	return t.Data, nil
}

// writeFileAtomic writes path through a temporary file in its directory
// renamed into place, so a failure leaves no half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
