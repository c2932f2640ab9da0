package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestEncodeVDPBF16PS: the bytes emitted for VDPBF16PS, which Go's
// assembler does not know, are those GNU as gives it
// (testdata/gen_vdpbf16ps.sh), for registers that set every extension bit.
func TestEncodeVDPBF16PS(t *testing.T) {
	f, err := os.Open("testdata/vdpbf16ps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	cases := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		var dst, src1, src2 int
		if _, err := fmt.Sscan(line, &dst, &src1, &src2); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		want := strings.Join(strings.Fields(line)[3:], " ")
		if got := fmt.Sprintf("% x", encodeVDPBF16PS(dst, src1, src2)); got != want {
			t.Errorf("VDPBF16PS Z%d, Z%d, Z%d: %s, GNU as gives %s", dst, src1, src2, got, want)
		}
		cases++
	}
	if cases < 8 {
		t.Fatalf("%d cases read", cases)
	}
}
