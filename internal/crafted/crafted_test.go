package crafted

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
)

// The repeated deflate blocks inflate to the zeros they claim.
func TestDeflatedZeros(t *testing.T) {
	e := deflatedZeros(8 << 20)
	r := flate.NewReader(bytes.NewReader(e.data))
	n, err := io.Copy(io.Discard, r)
	if err != nil || uint64(n) != e.uncompressed || n != 8<<20+32<<10 {
		t.Fatalf("inflated %d bytes (declared %d): %v", n, e.uncompressed, err)
	}
	if len(e.data) > 16<<10 {
		t.Errorf("8 MiB of zeros deflate to %d bytes", len(e.data))
	}
}

func TestWrite(t *testing.T) {
	cases, err := Write(t.TempDir(), "../../testdata/tiny-bert")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 14 {
		t.Fatalf("%d cases", len(cases))
	}
}
