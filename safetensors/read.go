package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"sort"
	"unsafe"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation does,
// so that a lying length prefix cannot force a huge allocation.
const MaxHeaderSize = 100_000_000

// Tensor is one tensor of a safetensors file: its name, element type, shape and
// raw little-endian bytes. For a tensor read from a File, Data aliases the file
// mapping and is valid until the File is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32 returns the values as float32, converting F16, BF16, F64 and integer
// types. For F32 data that is 4-byte aligned on a little-endian machine the
// returned slice aliases Data (zero copy); writing to it does not change the
// file on disk (mappings are private, copy-on-write) but is seen by later calls.
func (t Tensor) Float32() ([]float32, error) {
	n := t.NumElements()
	if t.DType.Size() == 0 {
		return nil, fmt.Errorf("tensor %q: unsupported dtype %q", t.Name, t.DType)
	}
	if len(t.Data) != n*t.DType.Size() {
		return nil, fmt.Errorf("tensor %q: %d bytes for %d elements of %s", t.Name, len(t.Data), n, t.DType)
	}
	if n == 0 {
		return []float32{}, nil
	}
	if t.DType == F32 && littleEndian && uintptr(unsafe.Pointer(&t.Data[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&t.Data[0])), n), nil
	}
	out := make([]float32, n)
	if err := decodeFloat32(out, t.DType, t.Data); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// Int64 returns the values of an integer tensor as int64.
func (t Tensor) Int64() ([]int64, error) {
	n := t.NumElements()
	if t.DType.Size() == 0 || len(t.Data) != n*t.DType.Size() {
		return nil, fmt.Errorf("tensor %q: bad data for dtype %q", t.Name, t.DType)
	}
	out := make([]int64, n)
	if err := decodeInt64(out, t.DType, t.Data); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// BFloat16Bits returns the values of a BF16 tensor as their bits, without
// converting them: for 2-byte aligned data on a little-endian machine the
// returned slice aliases Data (zero copy; see Float32), else it is a copy.
// A tensor of another dtype, or whose data does not match its shape, is an
// error naming it.
func (t Tensor) BFloat16Bits() ([]uint16, error) {
	if t.DType != BF16 {
		return nil, fmt.Errorf("tensor %q: dtype %s, not BF16", t.Name, t.DType)
	}
	n := t.NumElements()
	if len(t.Data) != 2*n {
		return nil, fmt.Errorf("tensor %q: %d bytes for %d elements of BF16", t.Name, len(t.Data), n)
	}
	if n == 0 {
		return []uint16{}, nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&t.Data[0]))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&t.Data[0])), n), nil
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(t.Data[2*i:])
	}
	return out, nil
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Info describes one tensor in the header.
type Info struct {
	DType DType
	Shape []int
	// Begin and End are byte offsets into the data section (after the header).
	Begin, End int64
}

// Header is the parsed, validated header of a safetensors file.
type Header struct {
	// Metadata is the free-form "__metadata__" map (nil if absent).
	Metadata map[string]string
	// Tensors maps each tensor name to its description.
	Tensors map[string]Info
	// Names lists the tensor names in the order of their data offsets.
	Names []string
	// DataStart is the offset of the data section in the file (8 + header length).
	DataStart int64
}

type rawInfo struct {
	DType       *DType   `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader parses and validates the header of a safetensors file whose first
// bytes are prefix (at least 8 + header length bytes) and whose total size is
// fileSize. It checks that the header is a JSON object with known dtypes, that
// every tensor's byte range matches its shape and dtype, and that the ranges
// cover the data section exactly, without gaps or overlap.
func ParseHeader(prefix []byte, fileSize int64) (*Header, error) {
	if len(prefix) < 8 || fileSize < 8 {
		return nil, errors.New("file too short for a safetensors header")
	}
	n := binary.LittleEndian.Uint64(prefix[:8])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if int64(n) > fileSize-8 {
		return nil, fmt.Errorf("header length %d exceeds the file size %d", n, fileSize)
	}
	if uint64(len(prefix)) < 8+n {
		return nil, fmt.Errorf("header length %d: only %d bytes available", n, len(prefix)-8)
	}
	raw := prefix[8 : 8+n]
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("header does not start with '{'")
	}
	entries, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	h := &Header{Tensors: make(map[string]Info, len(entries)), DataStart: int64(8 + n)}
	dataLen := fileSize - h.DataStart
	for _, e := range entries {
		if e.key == "__metadata__" {
			if err := json.Unmarshal(e.value, &h.Metadata); err != nil {
				return nil, fmt.Errorf("header: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var ri rawInfo
		dec := json.NewDecoder(bytes.NewReader(e.value))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ri); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", e.key, err)
		}
		if ri.DType == nil || ri.Shape == nil || ri.DataOffsets == nil {
			return nil, fmt.Errorf("tensor %q: dtype, shape and data_offsets are required", e.key)
		}
		size := ri.DType.Size()
		if size == 0 {
			return nil, fmt.Errorf("tensor %q: unsupported dtype %q", e.key, *ri.DType)
		}
		offs := *ri.DataOffsets
		if len(offs) != 2 {
			return nil, fmt.Errorf("tensor %q: data_offsets must have 2 entries, has %d", e.key, len(offs))
		}
		begin, end := offs[0], offs[1]
		if begin < 0 || end < begin || end > dataLen {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range of the %d-byte data section", e.key, begin, end, dataLen)
		}
		shape := make([]int, len(*ri.Shape))
		numel := uint64(1)
		for i, d := range *ri.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension %d", e.key, d)
			}
			hi, lo := bits.Mul64(numel, uint64(d))
			if hi != 0 || lo > math.MaxInt32*uint64(1<<20) {
				return nil, fmt.Errorf("tensor %q: shape %v too large", e.key, *ri.Shape)
			}
			numel = lo
			shape[i] = int(d)
		}
		if numel*uint64(size) != uint64(end-begin) {
			return nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", e.key, shape, *ri.DType, numel*uint64(size), end-begin)
		}
		h.Tensors[e.key] = Info{DType: *ri.DType, Shape: shape, Begin: begin, End: end}
		h.Names = append(h.Names, e.key)
	}
	sort.SliceStable(h.Names, func(i, j int) bool {
		a, b := h.Tensors[h.Names[i]], h.Tensors[h.Names[j]]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	var pos int64
	for _, name := range h.Names {
		t := h.Tensors[name]
		if t.Begin != pos {
			if t.Begin < pos {
				return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor", name, t.Begin, t.End)
			}
			return nil, fmt.Errorf("tensor %q: gap in the data section before offset %d", name, t.Begin)
		}
		pos = t.End
	}
	if pos != dataLen {
		return nil, fmt.Errorf("data section is %d bytes but the tensors cover %d", dataLen, pos)
	}
	return h, nil
}

type entry struct {
	key   string
	value json.RawMessage
}

// decodeObject decodes a JSON object into its entries in order, rejecting
// duplicate keys (which encoding/json would silently merge).
func decodeObject(raw []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	var out []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		out = append(out, entry{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	// Anything but trailing whitespace after the object is an error.
	rest := raw[dec.InputOffset():]
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("trailing data after the header object")
	}
	return out, nil
}

// File is an open safetensors file. Tensor data is read from a private,
// copy-on-write memory mapping where the platform supports it.
type File struct {
	// Path is the file the tensors were read from.
	Path string
	// Header is the validated header.
	Header *Header
	data   []byte
	unmap  func() error
}

// MapFile maps a whole file into memory privately (copy-on-write: writes to the
// slice never reach the file) where the platform supports it, else reads it.
// Call unmap when done; slices of data must not be used afterwards.
func MapFile(path string) (data []byte, unmap func() error, err error) {
	data, unmap, err = mapFile(path)
	if err != nil {
		return nil, nil, err
	}
	if unmap == nil {
		unmap = func() error { return nil }
	}
	return data, unmap, nil
}

// Open maps path into memory and validates its header.
func Open(path string) (*File, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	h, err := ParseHeader(data, int64(len(data)))
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return &File{Path: path, Header: h, data: data, unmap: unmap}, nil
}

// Parse validates an in-memory safetensors file. The tensors alias b.
func Parse(b []byte) (*File, error) {
	h, err := ParseHeader(b, int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return &File{Header: h, data: b}, nil
}

// Names returns the tensor names in file order.
func (f *File) Names() []string { return f.Header.Names }

// Metadata returns the "__metadata__" map (nil if absent).
func (f *File) Metadata() map[string]string { return f.Header.Metadata }

// Tensor returns the named tensor, aliasing the file's data.
func (f *File) Tensor(name string) (Tensor, error) {
	info, ok := f.Header.Tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("safetensors: %s: no tensor %q", f.Path, name)
	}
	start := f.Header.DataStart
	return Tensor{
		Name:  name,
		DType: info.DType,
		Shape: info.Shape,
		Data:  f.data[start+info.Begin : start+info.End : start+info.End],
	}, nil
}

// Release tells the system that the named tensor's bytes will not be read
// again soon: on Linux the pages of the mapping that hold only its bytes are
// dropped from the process (MADV_DONTNEED), so that they no longer count in
// its resident memory. Reading the tensor afterwards reads them from the
// file again: its values are those of the file, and changes made in place
// to them are lost. Elsewhere, and for a File made by Parse, it does
// nothing. A loader calls it once it has copied or packed a tensor, so that
// the whole file is never resident at once.
func (f *File) Release(name string) error {
	info, ok := f.Header.Tensors[name]
	if !ok {
		return fmt.Errorf("safetensors: %s: no tensor %q", f.Path, name)
	}
	if f.unmap == nil { // not mapped (Parse, an empty file), or closed
		return nil
	}
	page := int64(os.Getpagesize())
	lo := (f.Header.DataStart + info.Begin + page - 1) / page * page
	hi := (f.Header.DataStart + info.End) / page * page
	if hi <= lo {
		return nil
	}
	return releasePages(f.data[lo:hi])
}

// Close releases the mapping. Tensors obtained from f must not be used afterwards.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	f.data = nil
	return u()
}
