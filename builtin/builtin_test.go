package builtin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, name := range []string{"sentiment", "sentiment-en", "builtin:sentiment-zh"} {
		m, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(m.Labels, ",") != "NEGATIVE,POSITIVE" {
			t.Errorf("%s: labels %q", name, m.Labels)
		}
	}
	for _, name := range []string{"news-zh", "news-zh-cnn-chars", "news-zh-cnn-words", "builtin:news-zh-lstm-chars",
		"news-zh-cnn-words-cedict", "news-zh-lstm-words-cedict", "news-zh-fasttext-chars"} {
		m, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		// The names of THUCNews' class.txt, sorted.
		if strings.Join(m.Labels, ",") != "education,entertainment,finance,game,politics,realty,science,society,sports,stocks" {
			t.Errorf("%s: labels %q", name, m.Labels)
		}
		if m.DevAccuracy < 0.75 || m.DevExamples != 10000 || !strings.Contains(m.DataLicence, "THUCTC") {
			t.Errorf("%s: accuracy %v on %d, licence %q", name, m.DevAccuracy, m.DevExamples, m.DataLicence)
		}
	}
	if m, _ := Lookup("news-zh"); m.Arch != ArchAverage || !m.Routed() || len(m.Parts) != 6 {
		t.Errorf("news-zh: %+v", m)
	}
	_, err := Lookup("builtin:sentiment-fr")
	if err == nil || !strings.Contains(err.Error(), `unknown built-in model "sentiment-fr" (known: news-zh, news-zh-cnn-chars, news-zh-cnn-words, news-zh-cnn-words-cedict, news-zh-fasttext-chars, news-zh-lstm-chars, news-zh-lstm-words-cedict, sentiment, sentiment-en, sentiment-zh)`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Lookup("news"); err == nil {
		t.Error("news: no error")
	}
}

func TestPick(t *testing.T) {
	m, _ := Lookup(Default)
	for text, want := range map[string]string{
		"a great film":          "sentiment-en",
		"这是一个示例文本":              "sentiment-zh",
		"the 外卖 was late":       "sentiment-zh",
		"こんにちは":                 "sentiment-en", // kana, no Han
		"":                      "sentiment-en",
		"très bien, vraiment !": "sentiment-en",
	} {
		if got := m.Pick(text); got != want {
			t.Errorf("Pick(%q) = %s, want %s", text, got, want)
		}
	}
}

// Every shipped archive unpacks (through Dir, into the cache) into a
// classic model directory, and a second Dir reuses it.
func TestDirUnpacksOnce(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	for _, m := range Models() {
		if m.Routed() {
			if _, err := m.Dir(); err == nil || !strings.Contains(err.Error(), "has no directory of its own") {
				t.Errorf("%s: a composite model has no directory, got %v", m.Name, err)
			}
			continue
		}
		dir, err := m.Dir()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"config.json", "vocab.txt", "model.safetensors"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", m.Name, err)
			}
		}
		stamp := filepath.Join(dir, "config.json")
		st1, _ := os.Stat(stamp)
		again, err := m.Dir()
		if err != nil || again != dir {
			t.Fatalf("%s: second Dir %s, %v; want %s", m.Name, again, err, dir)
		}
		if st2, _ := os.Stat(stamp); !st2.ModTime().Equal(st1.ModTime()) {
			t.Errorf("%s: unpacked twice", m.Name)
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*tmp-*"))
		if len(left) > 0 {
			t.Errorf("temporary directories left: %v", left)
		}
	}
}

// A cache that cannot be written falls back to a folder of the temporary
// directory.
func TestDirFallsBackToTemp(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	t.Setenv("TEXTCLF_BUILTIN_CACHE", filepath.Join(file, "cache")) // under a file: not a directory
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	m, _ := Lookup("sentiment-zh")
	dir, err := m.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, tmp+string(filepath.Separator)) {
		t.Errorf("unpacked into %s, want a folder of %s", dir, tmp)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Error(err)
	}
}

func archive(t testing.TB, entries ...tar.Header) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		body := strings.Repeat("x", int(h.Size))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func TestUnpackRefusesOddEntries(t *testing.T) {
	for _, tc := range []struct {
		h    tar.Header
		want string
	}{
		{tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}, `entry "../evil": want plain files only`},
		{tar.Header{Name: "sub/file", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}, `entry "sub/file"`},
		{tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd", Mode: 0o644}, `entry "link"`},
	} {
		dir := t.TempDir()
		err := Unpack(archive(t, tc.h), dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.h.Name, err, tc.want)
		}
	}
	if err := Unpack([]byte("not gzip"), t.TempDir()); err == nil {
		t.Error("not gzip: no error")
	}
	if err := Unpack(archive(t), t.TempDir()); err == nil || !strings.Contains(err.Error(), "empty archive") {
		t.Errorf("empty archive: %v", err)
	}
	dir := t.TempDir()
	if err := Unpack(archive(t, tar.Header{Name: "config.json", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644}), dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(b) != "xxx" {
		t.Errorf("unpacked %q", b)
	}
}

// Unpack never panics and writes nothing outside its directory.
func FuzzUnpack(f *testing.F) {
	f.Add(archive(f, tar.Header{Name: "config.json", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644}))
	f.Add(archive(f, tar.Header{Name: "../x", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "in")
		os.Mkdir(dir, 0o755)
		Unpack(b, dir)
		entries, _ := os.ReadDir(root)
		if len(entries) != 1 {
			t.Fatalf("wrote beside its directory: %v", entries)
		}
		inside, _ := os.ReadDir(dir)
		for _, e := range inside {
			if e.IsDir() || e.Type()&os.ModeSymlink != 0 {
				t.Fatalf("unpacked %s", e.Name())
			}
		}
	})
}
