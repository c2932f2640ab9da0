package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// expected is the expected.json written by scripts/checkpoint/gen.py with torch.
type expected struct {
	Tensors map[string]struct {
		DType  string    `json:"dtype"`
		Shape  []int     `json:"shape"`
		Sum    float64   `json:"sum"`
		Values []float64 `json:"values"`
	} `json:"tensors"`
}

func loadExpected(t *testing.T, dir string) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

const golden = "../testdata/checkpoint"

func TestReadGolden(t *testing.T) {
	for _, name := range []string{"bert_f32", "bert_f16", "bert_bf16", "distilbert_f32", "bert_base_model"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(golden, name)
			exp := loadExpected(t, dir)
			f, err := Open(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Metadata()["format"]; got != "pt" {
				t.Errorf("metadata format = %q, want pt", got)
			}
			if len(f.Names()) != len(exp.Tensors) {
				t.Fatalf("%d tensors, want %d", len(f.Names()), len(exp.Tensors))
			}
			for tn, e := range exp.Tensors {
				ten, err := f.Tensor(tn)
				if err != nil {
					t.Fatal(err)
				}
				if string(ten.DType) != e.DType {
					t.Errorf("%s: dtype %s, want %s", tn, ten.DType, e.DType)
				}
				if !equalInts(ten.Shape, e.Shape) {
					t.Errorf("%s: shape %v, want %v", tn, ten.Shape, e.Shape)
				}
				vals, err := ten.Float32()
				if err != nil {
					t.Fatal(err)
				}
				if len(vals) != len(e.Values) {
					t.Fatalf("%s: %d values, want %d", tn, len(vals), len(e.Values))
				}
				for i, v := range vals {
					if math.Float32bits(v) != math.Float32bits(float32(e.Values[i])) {
						t.Fatalf("%s[%d] = %v, want %v", tn, i, v, e.Values[i])
					}
				}
				if ten.DType == F32 && &vals[0] != (*float32)(unsafe.Pointer(&ten.Data[0])) {
					t.Errorf("%s: F32 data was copied, want a zero-copy view", tn)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWriteMatchesReference rebuilds each golden file from torch's values and
// checks the bytes equal those written by the generator: same layout, same
// header, and F16/BF16 rounding identical to torch's.
func TestWriteMatchesReference(t *testing.T) {
	src := loadExpected(t, filepath.Join(golden, "bert_f32"))
	for _, c := range []struct {
		dir string
		dt  DType
	}{{"bert_f32", F32}, {"bert_f16", F16}, {"bert_bf16", BF16}} {
		t.Run(c.dir, func(t *testing.T) {
			var ts []Tensor
			for name, e := range src.Tensors {
				v := make([]float32, len(e.Values))
				for i, x := range e.Values {
					v[i] = float32(x)
				}
				tt, err := Convert(name, e.Shape, v, c.dt)
				if err != nil {
					t.Fatal(err)
				}
				ts = append(ts, tt)
			}
			var buf bytes.Buffer
			if err := Write(&buf, ts, map[string]string{"format": "pt"}); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(golden, c.dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				n := binary.LittleEndian.Uint64(want)
				t.Fatalf("written file differs from the reference (%d vs %d bytes)\n got header %.300s\nwant header %.300s",
					buf.Len(), len(want), buf.Bytes()[8:], want[8:8+n])
			}
		})
	}
}

func TestWriteFileRoundTripAndAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	ts := []Tensor{
		FromFloat32("b", []int{2, 2}, []float32{1, 2, 3, 4}),
		{Name: "a.ids", DType: I64, Shape: []int{3}, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		FromFloat32("scalar", []int{}, []float32{7}),
		FromFloat32("empty", []int{0, 3}, nil),
	}
	if err := WriteFile(p, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// I64 ranks above F32, so it comes first in the data section.
	if got := strings.Join(f.Names(), ","); got != "a.ids,b,empty,scalar" {
		t.Errorf("order %s", got)
	}
	ids, _ := f.Tensor("a.ids")
	iv, err := ids.Int64()
	if err != nil || iv[0] != 1 || iv[1] != 2 || iv[2] != -1 {
		t.Errorf("ids = %v, %v", iv, err)
	}
	fv, _ := ids.Float32()
	if fv[2] != -1 {
		t.Errorf("ids as float = %v", fv)
	}
	b, _ := f.Tensor("b")
	bv, _ := b.Float32()
	if bv[3] != 4 {
		t.Errorf("b = %v", bv)
	}
	s, _ := f.Tensor("scalar")
	sv, _ := s.Float32()
	if len(sv) != 1 || sv[0] != 7 {
		t.Errorf("scalar = %v", sv)
	}
	// A failing write leaves the old file intact and no temporary file.
	bad := []Tensor{{Name: "x", DType: F32, Shape: []int{3}, Data: make([]byte, 4)}}
	if err := WriteFile(p, bad, nil); err == nil {
		t.Fatal("want an error for a short tensor")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries after a failed write, want 1", len(entries))
	}
	if _, err := Open(p); err != nil {
		t.Errorf("old file damaged: %v", err)
	}
}

func header(h string, data int) []byte {
	b := make([]byte, 8, 8+len(h)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, data)...)
}

func TestHeaderValidation(t *testing.T) {
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"lying length", huge, "exceeds"},
		{"not object", header(`[1]`, 0), "start with '{'"},
		{"bad json", header(`{"a":`, 0), "header"},
		{"unknown dtype", header(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, 1), `unsupported dtype "Q8"`},
		{"offset out of range", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 2), "out of range"},
		{"shape mismatch", header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "needs 8 bytes"},
		{"overlap", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, 6), "overlap"},
		{"gap", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "gap"},
		{"trailing data", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "cover 4"},
		{"duplicate", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), "duplicate"},
		{"negative dim", header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "negative"},
		{"huge shape", header(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4), "too large"},
		{"missing field", header(`{"a":{"dtype":"F32","shape":[1]}}`, 4), "required"},
		{"unknown field", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), "unknown field"},
		{"bad metadata", header(`{"__metadata__":{"a":1}}`, 0), "__metadata__"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	// The tensor name is in the message.
	_, err := Parse(header(`{"bert.x":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}`, 4))
	if err == nil || !strings.Contains(err.Error(), `"bert.x"`) {
		t.Errorf("error %v does not name the tensor", err)
	}
}

func TestOpenErrorsNameFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(p, header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), 0o644)
	_, err := Open(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want it to name %s", err, p)
	}
}

func TestHalfConversions(t *testing.T) {
	// Every finite half survives half→float32→half; float32→half rounds to nearest even.
	for h := 0; h < 1<<16; h++ {
		f := Float16ToFloat32(uint16(h))
		if f != f {
			continue
		}
		if back := Float32ToFloat16(f); back != uint16(h) {
			t.Fatalf("half %#04x → %v → %#04x", h, f, back)
		}
		if bf := BFloat16ToFloat32(uint16(h)); bf == bf && Float32ToBFloat16(bf) != uint16(h) {
			t.Fatalf("bf16 %#04x round trip", h)
		}
	}
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0},
		{5.960464477539063e-08, 0x0001}, {1 + 1.0/2048, 0x3c00}, {1 + 3.0/2048, 0x3c02},
	}
	for _, c := range cases {
		if got := Float32ToFloat16(c.f); got != c.want {
			t.Errorf("Float32ToFloat16(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	if got := Float32ToBFloat16(1 + 1.0/256); got != 0x3f80 {
		t.Errorf("bf16 tie rounds to even: %#04x", got)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, name := range []string{"bert_f16", "bert_sharded/model-00002-of-00002"} {
		p := filepath.Join(golden, name)
		if !strings.HasSuffix(p, "00002") {
			p = filepath.Join(p, "model")
		}
		if b, err := os.ReadFile(p + ".safetensors"); err == nil {
			f.Add(b)
		}
	}
	f.Add(header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add(header(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}`, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		for _, n := range file.Names() {
			ten, err := file.Tensor(n)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ten.Float32()
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != ten.NumElements() {
				t.Fatalf("%d values for shape %v", len(v), ten.Shape)
			}
		}
	})
}

func TestViewFloat32(t *testing.T) {
	values := []float32{1.5, -2, 3e-7, 65504}
	view := ViewFloat32("w", []int{2, 2}, values)
	copied := FromFloat32("w", []int{2, 2}, values)
	var a, b bytes.Buffer
	if err := Write(&a, []Tensor{view}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, []Tensor{copied}, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("a file written from ViewFloat32 differs from one written from FromFloat32")
	}
	if littleEndian {
		values[0] = 7
		got, _ := view.Float32()
		if got[0] != 7 {
			t.Errorf("ViewFloat32 copied its values on a little-endian machine (first value %g)", got[0])
		}
	}
	if v := ViewFloat32("e", []int{0}, nil); v.NumElements() != 0 || len(v.Data) != 0 {
		t.Errorf("empty view: %+v", v)
	}
}
