package safetensors

import (
	"slices"
	"strings"
	"testing"
)

// TestBFloat16Bits: a BF16 tensor's bits come back as written, aliasing the
// data when it is aligned (little-endian) and copied when it is not; another
// dtype or a short buffer is an error naming the tensor.
func TestBFloat16Bits(t *testing.T) {
	want := []uint16{0x3f80, 0xbf80, 0x0001, 0x7f7f, 0x8000}
	raw := make([]byte, 1+2*len(want))
	for i, h := range want {
		raw[1+2*i], raw[2+2*i] = byte(h), byte(h>>8)
	}
	for _, off := range []int{0, 1} {
		data := raw[1:]
		if off == 0 { // an aligned copy
			data = append(make([]byte, 0, len(raw)), raw[1:]...)
		}
		got, err := Tensor{Name: "w", DType: BF16, Shape: []int{5}, Data: data}.BFloat16Bits()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("offset %d: bits %x, want %x", off, got, want)
		}
		if off == 0 && littleEndian {
			data[0] = 0x81
			if got[0] != 0x3f81 {
				t.Errorf("aligned data was copied, not aliased")
			}
		}
	}
	for _, bad := range []Tensor{
		{Name: "w", DType: F16, Shape: []int{2}, Data: make([]byte, 4)},
		{Name: "w", DType: BF16, Shape: []int{3}, Data: make([]byte, 4)},
	} {
		if _, err := bad.BFloat16Bits(); err == nil || !strings.Contains(err.Error(), `"w"`) {
			t.Errorf("%s %v: err = %v", bad.DType, bad.Shape, err)
		}
	}
}
