package textclf

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/textclf/textclf/internal/golden"
)

// fillMaskDir is the golden BertForMaskedLM of scripts/model/gen_mlm.py
// with the tiny-bert tokenizer, whose vocabulary its fill-mask cases use.
func fillMaskDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"testdata/model/bert-mlm/config.json", "testdata/model/bert-mlm/model.safetensors", "testdata/tiny-bert/tokenizer.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFillMaskGolden checks the fill-mask pipeline against the PyTorch
// reference's softmax and top 5 at each mask, and the shape of its
// proposals as transformers' FillMaskPipeline.postprocess makes them: the
// token decoded, and the sequence with that mask replaced, decoded without
// special tokens for one mask and with them (the other mask visible) for
// several.
func TestFillMaskGolden(t *testing.T) {
	fm, err := OpenFillMask(context.Background(), fillMaskDir(t))
	if err != nil {
		t.Fatal(err)
	}
	g := golden.Open(t, "testdata/model/bert-mlm/golden.safetensors")
	checked := 0
	for i, c := range []struct {
		text  string
		masks int
	}{{"the movie was [MASK] .", 1}, {"the [MASK] was [MASK] .", 2}} {
		enc, err := fm.Tokenizer.Encode(c.text, true)
		if err != nil {
			t.Fatal(err)
		}
		prefix := "fillmask." + string(rune('0'+i))
		wantIDs, _ := g.Ints(t, prefix+".input_ids")
		if !slices.Equal(enc.IDs, wantIDs) {
			t.Fatalf("%q encodes to %v, the golden input is %v", c.text, enc.IDs, wantIDs)
		}
		preds, err := fm.Fill(c.text, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(preds) != c.masks {
			t.Fatalf("%q: %d masks answered, want %d", c.text, len(preds), c.masks)
		}
		ids, _ := g.Ints(t, prefix+".ids")
		scores := g.Floats(t, prefix+".scores")
		for m, props := range preds {
			for k, p := range props {
				if p.Token != ids[m*5+k] || math.Abs(p.Score-float64(scores[m*5+k])) > 1e-5 {
					t.Errorf("%q mask %d top %d: %d (%.6f), PyTorch %d (%.6f)", c.text, m, k, p.Token, p.Score, ids[m*5+k], scores[m*5+k])
				}
				tok, _ := fm.Tokenizer.IDToToken(p.Token)
				if p.TokenStr != tok {
					t.Errorf("token_str %q, token %q", p.TokenStr, tok)
				}
				var want string
				if c.masks == 1 {
					want = "the movie was " + p.TokenStr + "."
				} else if m == 0 {
					want = "[CLS] the " + p.TokenStr + " was [MASK]. [SEP]"
				} else {
					want = "[CLS] the [MASK] was " + p.TokenStr + ". [SEP]"
				}
				if strings.HasPrefix(p.TokenStr, "##") || strings.ContainsAny(p.TokenStr, ".,!?'-") {
					continue // decoding joins these to their neighbour
				}
				checked++
				if p.Sequence != want {
					t.Errorf("sequence %q, want %q", p.Sequence, want)
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d sequences checked", checked)
	}
	if _, err := fm.Fill("no mask here", 5); err == nil || !strings.Contains(err.Error(), "no mask token") {
		t.Errorf("a text without a mask: %v", err)
	}
}
