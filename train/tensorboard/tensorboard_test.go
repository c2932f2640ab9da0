package tensorboard

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 500_000_000)
	if err := w.WriteScalars(50, at, []Scalar{{"train/loss", 0.6931}, {"train/learning_rate", 5e-5}}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteScalars(100, at.Add(time.Second), []Scalar{{"eval/accuracy", 0.875}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(w.Path()), "events.out.tfevents.") || filepath.Dir(w.Path()) != dir {
		t.Fatalf("event file %s", w.Path())
	}
	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].FileVersion != FileVersion || len(events[0].Scalars) != 0 {
		t.Fatalf("events %+v, want a file-version event and two of scalars", events)
	}
	e := events[1]
	if e.Step != 50 || e.WallTime != 1700000000.5 || len(e.Scalars) != 2 || e.Scalars[0].Tag != "train/loss" ||
		e.Scalars[0].Value != float64(float32(0.6931)) || e.Scalars[1].Value != float64(float32(5e-5)) {
		t.Fatalf("event %+v", e)
	}
	if e := events[2]; e.Step != 100 || len(e.Scalars) != 1 || e.Scalars[0] != (Scalar{"eval/accuracy", 0.875}) {
		t.Fatalf("event %+v", e)
	}
}

// Every TensorBoard event file starts with the same record header: the
// length 24 of the file-version event and its masked CRC, a3 7f 4b 22.
func TestRecordFramingMatchesTensorFlow(t *testing.T) {
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xe3069283 {
		t.Fatalf("CRC-32C check value %#x", got)
	}
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	b, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22}
	if !bytes.Equal(b[:12], want) || len(b) != 12+24+4 {
		t.Fatalf("file starts % x (%d bytes), want % x and 40 bytes", b[:12], len(b), want)
	}
	if v := math.Float64frombits(binary.LittleEndian.Uint64(b[13:21])); math.Abs(v-float64(time.Now().Unix())) > 60 {
		t.Fatalf("wall time %v", v)
	}
}

func TestReadRejectsCorruption(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.WriteScalars(1, time.Now(), []Scalar{{"x", 1}})
	w.Close()
	b, _ := os.ReadFile(w.Path())
	for _, c := range []struct {
		at   int
		want string
	}{{3, "length CRC"}, {len(b) - 10, "data CRC"}} {
		bad := append([]byte(nil), b...)
		bad[c.at] ^= 1
		p := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(p, bad, 0o644)
		if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("flipped byte %d: %v, want %q", c.at, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "short")
	os.WriteFile(p, b[:len(b)-2], 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "record at byte 40") {
		t.Errorf("truncated file: %v", err)
	}
}
