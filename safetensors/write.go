package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/textclf/textclf/internal/atomicfile"
	"io"
	"math"
	"sort"
	"strconv"
	"unsafe"
)

// FromFloat32 builds an F32 tensor from values (copied, little-endian).
func FromFloat32(name string, shape []int, values []float32) Tensor {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int(nil), shape...), Data: b}
}

// FromInt8 builds an I8 tensor from values (copied).
func FromInt8(name string, shape []int, values []int8) Tensor {
	b := make([]byte, len(values))
	for i, v := range values {
		b[i] = byte(v)
	}
	return Tensor{Name: name, DType: I8, Shape: append([]int(nil), shape...), Data: b}
}

// ViewFloat32 is FromFloat32 without the copy where the machine is
// little-endian: Data then aliases values, which must not change until the
// tensor has been written. It is meant for writing large weights (a
// fastText input matrix of millions of rows) without holding them twice.
func ViewFloat32(name string, shape []int, values []float32) Tensor {
	if !littleEndian || len(values) == 0 {
		return FromFloat32(name, shape, values)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&values[0])), 4*len(values))
	return Tensor{Name: name, DType: F32, Shape: append([]int(nil), shape...), Data: b}
}

// Convert returns values encoded as dtype d (F32, F16, BF16 or F64), rounding
// to nearest even as torch does.
func Convert(name string, shape []int, values []float32, d DType) (Tensor, error) {
	t := Tensor{Name: name, DType: d, Shape: append([]int(nil), shape...)}
	le := binary.LittleEndian
	switch d {
	case F32:
		return FromFloat32(name, shape, values), nil
	case F16:
		t.Data = make([]byte, 2*len(values))
		for i, v := range values {
			le.PutUint16(t.Data[2*i:], Float32ToFloat16(v))
		}
	case BF16:
		t.Data = make([]byte, 2*len(values))
		for i, v := range values {
			le.PutUint16(t.Data[2*i:], Float32ToBFloat16(v))
		}
	case F64:
		t.Data = make([]byte, 8*len(values))
		for i, v := range values {
			le.PutUint64(t.Data[8*i:], math.Float64bits(float64(v)))
		}
	default:
		return Tensor{}, fmt.Errorf("tensor %q: cannot encode float32 as %s", name, d)
	}
	return t, nil
}

// Write writes tensors in the safetensors format as the reference implementation
// does: "__metadata__" first, tensors ordered by descending dtype rank then name,
// compact JSON padded with spaces to a multiple of 8 bytes so that data is aligned.
// Transformers' save_pretrained passes metadata {"format": "pt"}.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ts := append([]Tensor(nil), tensors...)
	seen := map[string]bool{}
	for _, t := range ts {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		seen[t.Name] = true
		if t.DType.Size() == 0 {
			return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		if len(t.Data) != t.NumElements()*t.DType.Size() {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool {
		ri, rj := ts[i].DType.rank(), ts[j].DType.rank()
		if ri != rj {
			return ri > rj
		}
		return ts[i].Name < ts[j].Name
	})
	var hb bytes.Buffer
	hb.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hb.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				hb.WriteByte(',')
			}
			writeJSONString(&hb, k)
			hb.WriteByte(':')
			writeJSONString(&hb, metadata[k])
		}
		hb.WriteByte('}')
		first = false
	}
	var off int64
	for _, t := range ts {
		if !first {
			hb.WriteByte(',')
		}
		first = false
		writeJSONString(&hb, t.Name)
		hb.WriteString(`:{"dtype":"`)
		hb.WriteString(string(t.DType))
		hb.WriteString(`","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				hb.WriteByte(',')
			}
			hb.WriteString(strconv.Itoa(d))
		}
		end := off + int64(len(t.Data))
		fmt.Fprintf(&hb, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	hb.WriteByte('}')
	for hb.Len()%8 != 0 {
		hb.WriteByte(' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(hb.Len()))
	bw.Write(n[:])
	bw.Write(hb.Bytes())
	for _, t := range ts {
		if _, err := bw.Write(t.Data); err != nil {
			return fmt.Errorf("safetensors: write %q: %w", t.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// writeJSONString writes s as a JSON string without HTML escaping, as serde_json does.
func writeJSONString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
}

// WriteFile writes tensors to path atomically: the data goes to a temporary
// file in the same directory, which is synced and renamed over path only when
// complete, so an interrupted write never leaves a half-written file.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
}
