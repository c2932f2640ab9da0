package checkpoint_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/internal/crafted"
)

func craftedCase(t *testing.T, name string) crafted.Case {
	t.Helper()
	cases, err := crafted.Write(t.TempDir(), "../testdata/tiny-bert")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no crafted case %s", name)
	return crafted.Case{}
}

// Of a storage that declares a GiB of deflated zeros, only the bytes its
// view reaches are inflated; tensors not selected are not read at all; every
// tensor is listed in Infos from the pickle alone.
func TestTorchZipBombsReadOnlyWhatIsNeeded(t *testing.T) {
	for _, name := range []string{"bin-storage-bomb", "bin-unused-bombs"} {
		c := craftedCase(t, name)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w, err := checkpoint.LoadWeightsWith(c.Dir, checkpoint.LoadOptions{Select: func(infos []checkpoint.TensorInfo) (map[string]bool, error) {
			read := map[string]bool{}
			for _, t := range infos {
				read[t.Name] = !strings.HasPrefix(t.Name, "junk.")
			}
			return read, nil
		}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
			t.Errorf("%s: %d MB allocated", name, got>>20)
		}
		emb := w.Get("bert.embeddings.word_embeddings.weight")
		if emb == nil || len(emb.Data) != emb.NumElements() {
			t.Fatalf("%s: embeddings %v", name, emb)
		}
		junk := 0
		for _, in := range w.Infos {
			if strings.HasPrefix(in.Name, "junk.") {
				junk++
				if w.Get(in.Name) != nil || in.NumElements() != crafted.GiB/4 || in.File != filepath.Base(checkpoint.TorchName) {
					t.Errorf("%s: %+v read or misdescribed", name, in)
				}
			}
		}
		if name == "bin-unused-bombs" && junk != 6 {
			t.Errorf("%d junk tensors listed", junk)
		}
		w.Close()
	}
}
