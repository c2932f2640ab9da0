package classic

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/textclf/textclf/data"
)

// TestSavedModelsLoad loads models saved by an earlier version of this
// package (scripts/classic/gen_saved) and checks that they predict the
// scores they predicted when saved, to float rounding, and that saving them
// again writes the same files byte for byte.
func TestSavedModelsLoad(t *testing.T) {
	test, err := data.ReadFile("../testdata/classic/fasttext/test.txt", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fasttext", "fasttext-hs", "textcnn", "bilstm"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("../testdata/classic/saved", name)
			c, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "scores.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want [][]float32
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if len(want) != len(test.Examples) {
				t.Fatalf("%d score lists for %d examples", len(want), len(test.Examples))
			}
			for i, ex := range test.Examples {
				got, err := c.Scores(ex.Text, ex.TextPair)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want[i]) {
					t.Fatalf("example %d: %d scores, want %d", i, len(got), len(want[i]))
				}
				for k := range got {
					if math.Abs(float64(got[k]-want[i][k])) > 1e-6 {
						t.Fatalf("example %d: scores %v, saved with %v", i, got, want[i])
					}
				}
			}
			out := t.TempDir()
			if err := c.Save(out); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{ConfigFile, VocabFile, WeightsFile} {
				a, _ := os.ReadFile(filepath.Join(dir, f))
				b, _ := os.ReadFile(filepath.Join(out, f))
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Errorf("%s saved again differs from the loaded one (%d vs %d bytes)", f, len(b), len(a))
				}
			}
		})
	}
}
