package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// pk assembles a pickle from opcodes and raw strings.
func pk(parts ...string) []byte { return []byte(strings.Join(parts, "")) }

func binunicode(s string) string {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	return "X" + string(n[:]) + s
}

// stateDict is the pickle of OrderedDict({"w": tensor}) as torch writes it,
// with a 2x3 view of a 6-element FloatStorage "0" at offset off and the given strides.
func stateDict(off, s0, s1, numel byte) []byte {
	return pk("\x80\x02", "ccollections\nOrderedDict\n", ")R(",
		binunicode("w"),
		"ctorch._utils\n_rebuild_tensor_v2\n",
		"((", binunicode("storage"), "ctorch\nFloatStorage\n", binunicode("0"), binunicode("cpu"), "K"+string(rune(numel)), "tQ",
		"K"+string(rune(off)), "K\x02K\x03\x86", "K"+string(rune(s0))+"K"+string(rune(s1))+"\x86", "\x89",
		"ccollections\nOrderedDict\n)R", "tR", "u.")
}

func TestUnpickleStateDict(t *testing.T) {
	v, err := unpickle(stateDict(0, 3, 1, 6))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*pyDict)
	tt := d.vals["w"].(*torchTensor)
	if tt.storage.dtype != "F32" || tt.storage.numel != 6 || tt.shape[0] != 2 || tt.shape[1] != 3 || tt.stride[0] != 3 {
		t.Errorf("tensor %+v", tt)
	}
}

func TestUnpickleRefusesCode(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"os.system", pk("\x80\x02cos\nsystem\n", binunicode("echo hi"), "\x85R."), "os.system is not allowed"},
		{"builtins.eval via STACK_GLOBAL", pk("\x80\x04", binunicode("builtins"), binunicode("eval"), "\x93."), "builtins.eval is not allowed"},
		{"INST", pk("(ios\nsystem\n."), "opcode 0x69 is not allowed"},
		{"OBJ", pk("(o."), "opcode 0x6f is not allowed"},
		{"NEWOBJ", pk("\x81."), "opcode 0x81 is not allowed"},
		{"EXT1", pk("\x82\x01."), "opcode 0x82 is not allowed"},
		{"BUILD of attributes on the state dict is ignored", pk(string(stateDict(0, 3, 1, 6)[:len(stateDict(0, 3, 1, 6))-1]), "}b."), ""},
		{"BUILD on a tensor", pk(string(stateDict(0, 3, 1, 6)[:len(stateDict(0, 3, 1, 6))-2]), "\x94}b."), "BUILD on *checkpoint.torchTensor"},
		{"truncated", pk("\x80\x02X\xff\xff\x00\x00abc"), "truncated"},
		{"underflow", pk("R."), "underflow"},
		{"missing memo", pk("h\x05."), "memo key 5"},
		{"view past storage", stateDict(1, 3, 1, 6), "exceeds storage"},
		{"stride past storage", stateDict(0, 4, 1, 6), "exceeds storage"},
		{"unknown storage", pk("(", binunicode("storage"), "ctorch\nFloatStorage\n", binunicode("0"), binunicode("cpu"), "J\xff\xff\xff\xfftQ."), "non-negative"},
		{"reduce a storage type", pk("ctorch\nFloatStorage\n)R."), "not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := unpickle(c.data)
			if err == nil {
				if c.want == "" {
					return // accepted and ignored (BUILD with a dict state on a dict)
				}
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestDecodeLong(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want int64
	}{{nil, 0}, {[]byte{0xff}, -1}, {[]byte{0x00, 0x01}, 256}, {[]byte{0xff, 0x7f}, 32767},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, -1 << 63}, {[]byte{1, 0, 0, 0, 0, 0, 0, 0, 0}, 1}} {
		got, err := decodeLong(c.b)
		if err != nil || got != c.want {
			t.Errorf("decodeLong(%x) = %d, %v; want %d", c.b, got, err, c.want)
		}
	}
	if _, err := decodeLong([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1}); err == nil {
		t.Error("2^64 accepted")
	}
}

// torchZip writes a torch-style zip with the given data.pkl and storages.
func torchZip(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	add("archive/data.pkl", pkl)
	for k, v := range storages {
		add("archive/data/"+k, v)
	}
	add("archive/version", []byte("3\n"))
	zw.Close()
	return buf.Bytes()
}

func readZipBytes(b []byte) ([]*Tensor, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return readTorchZip(zr, b, false)
}

func TestTorchZipStridedAndShortStorage(t *testing.T) {
	storage := make([]byte, 24)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint32(storage[4*i:], uint32(0x3f800000+i<<20)) // distinct floats
	}
	// A transposed view: shape (2,3) with strides (1,2) over storage [a b c d e f] → [[a c e] [b d f]].
	ts, err := readZipBytes(torchZip(t, stateDict(0, 1, 2, 6), map[string][]byte{"0": storage}))
	if err != nil {
		t.Fatal(err)
	}
	full, _ := readZipBytes(torchZip(t, stateDict(0, 3, 1, 6), map[string][]byte{"0": storage}))
	a, b := ts[0].Data, full[0].Data
	want := []float32{b[0], b[2], b[4], b[1], b[3], b[5]}
	for i := range want {
		if a[i] != want[i] {
			t.Fatalf("strided view %v, want %v", a, want)
		}
	}
	// The storage file is shorter than the pickle claims.
	_, err = readZipBytes(torchZip(t, stateDict(0, 3, 1, 6), map[string][]byte{"0": storage[:20]}))
	if err == nil || !strings.Contains(err.Error(), `tensor "w"`) {
		t.Errorf("short storage: %v", err)
	}
	// The storage is missing.
	_, err = readZipBytes(torchZip(t, stateDict(0, 3, 1, 6), nil))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing storage: %v", err)
	}
	// Not a state dict.
	_, err = readZipBytes(torchZip(t, pk("\x80\x02K\x05."), nil))
	if err == nil || !strings.Contains(err.Error(), "not a state dict") {
		t.Errorf("int pickle: %v", err)
	}
}

func FuzzUnpickle(f *testing.F) {
	f.Add(stateDict(0, 3, 1, 6))
	f.Add(pk("\x80\x02cos\nsystem\n", binunicode("x"), "\x85R."))
	for _, dir := range []string{"bert_bin", "bert_pretraining_legacy", "roberta_bin_f16"} {
		zr, err := zip.OpenReader(filepath.Join(golden, dir, TorchName))
		if err != nil {
			continue
		}
		for _, zf := range zr.File {
			if strings.HasSuffix(zf.Name, "data.pkl") {
				if b, err := readZipEntry(zf, zf.UncompressedSize64); err == nil {
					f.Add(b)
				}
			}
		}
		zr.Close()
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		unpickle(b)
	})
}

func FuzzTorchZip(f *testing.F) {
	for _, dir := range []string{"bert_bin", "roberta_bin_f16"} {
		if b, err := os.ReadFile(filepath.Join(golden, dir, TorchName)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := readZipBytes(b)
		if err != nil {
			return
		}
		for _, tt := range ts {
			if tt.NumElements() != len(tt.Data) {
				t.Fatalf("%s: %d values for shape %v", tt.Name, len(tt.Data), tt.Shape)
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, dir := range []string{"bert_f32", "distilbert_f32", "roberta_bin_f16", "bert_base_model"} {
		if b, err := os.ReadFile(filepath.Join(golden, dir, ConfigName)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model_type":"distilbert","num_labels":3}`))
	// The decoders and ModernBERT (scripts/model/gen_decoders.py).
	seeds, _ := filepath.Glob("../testdata/model/*/config.json")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if c2.HiddenSize != c.HiddenSize || c2.NumLabels() != c.NumLabels() || c2.ModelType != c.ModelType ||
			c2.IntermediateSize != c.IntermediateSize || c2.LayerNormEps != c.LayerNormEps || !reflect.DeepEqual(c2.ArchFields, c.ArchFields) {
			t.Fatalf("round trip changed the config: %+v vs %+v", c, c2)
		}
	})
}

func TestTorchZipStorageSizeLies(t *testing.T) {
	// Two tensors name storage "0", the second with a larger size than the first.
	one := stateDict(0, 3, 1, 6)
	pkl := pk(string(one[:len(one)-2]),
		binunicode("v"), "ctorch._utils\n_rebuild_tensor_v2\n",
		"((", binunicode("storage"), "ctorch\nFloatStorage\n", binunicode("0"), binunicode("cpu"), "K\x60", "tQ",
		"K\x00", "K\x08K\x0c\x86", "K\x0cK\x01\x86", "\x89", "ccollections\nOrderedDict\n)R", "tR", "u.")
	_, err := readZipBytes(torchZip(t, pkl, map[string][]byte{"0": make([]byte, 24)}))
	if err == nil || !strings.Contains(err.Error(), "different sizes") {
		t.Fatalf("err = %v", err)
	}
}
