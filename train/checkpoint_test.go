package train

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyDir copies the files of a directory (one level).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// --resume latest skips (and reports) checkpoints that a crash of a save
// or a full disk left incomplete, and resumes from the newest complete one;
// an incomplete checkpoint given by name is a clear error.
func TestResumeSkipsIncompleteCheckpoints(t *testing.T) {
	data := writeData(t, 4) // 2 steps an epoch
	out := t.TempDir()
	cfg := Config{Model: tinyBERT, Train: data, Output: out, Epochs: 3, BatchSize: 4, SaveSteps: 1}
	if _, err := Train(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// checkpoint-8: a save cut off before its trainer state; checkpoint-9:
	// its weights cut short.
	copyDir(t, filepath.Join(out, "checkpoint-5"), filepath.Join(out, "checkpoint-8"))
	os.Remove(filepath.Join(out, "checkpoint-8", "trainer_state.json"))
	copyDir(t, filepath.Join(out, "checkpoint-5"), filepath.Join(out, "checkpoint-9"))
	os.Truncate(filepath.Join(out, "checkpoint-9", "model.safetensors"), 1000)
	// The hidden directory of a save a crash interrupted is removed.
	os.Mkdir(filepath.Join(out, ".checkpoint-6.tmp-123"), 0o755)

	if got := LatestCheckpoint(out); got != filepath.Join(out, "checkpoint-5") {
		t.Fatalf("latest checkpoint %s, want checkpoint-5", got)
	}
	rec := &recorder{}
	resumed := cfg
	resumed.Resume, resumed.Progress = ResumeLatest, rec
	res, err := Train(context.Background(), resumed)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.GlobalStep != 6 {
		t.Fatalf("resumed run ended at step %d", res.State.GlobalStep)
	}
	warnings := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"skipping the incomplete checkpoint " + filepath.Join(out, "checkpoint-9"),
		"skipping the incomplete checkpoint " + filepath.Join(out, "checkpoint-8") + ": " + filepath.Join(out, "checkpoint-8") + ": no trainer_state.json",
		"removed " + filepath.Join(out, ".checkpoint-6.tmp-123")} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	if len(rec.saved) != 0 {
		t.Errorf("saved %q after the last checkpoint", rec.saved)
	}
	bad := cfg
	bad.Resume = filepath.Join(out, "checkpoint-8")
	if _, err := Train(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "checkpoint-8 is not a complete checkpoint") ||
		!strings.Contains(err.Error(), "no trainer_state.json") {
		t.Fatalf("resume from an incomplete checkpoint: %v", err)
	}
	none := cfg
	none.Output, none.Resume = t.TempDir(), ResumeLatest
	if _, err := Train(context.Background(), none); err == nil || !strings.Contains(err.Error(), "no checkpoint to resume from") {
		t.Fatalf("resume latest without checkpoints: %v", err)
	}
}

// A run resumed from a checkpoint that checkpoint rotation then deletes
// still saves the tokenizer files with every later checkpoint and the final
// model.
func TestResumedRunKeepsTokenizer(t *testing.T) {
	data := writeData(t, 4)
	out := t.TempDir()
	cfg := Config{Model: tinyBERT, Train: data, Output: out, Epochs: 3, BatchSize: 4, SaveSteps: 1}
	stop := cfg
	stop.MaxSteps = 0
	ctx, cancel := context.WithCancel(context.Background())
	stop.Progress = &recorder{onSave: func(dir string) {
		if strings.HasSuffix(dir, "checkpoint-2") {
			cancel()
		}
	}}
	if _, err := Train(ctx, stop); err == nil {
		t.Fatal("not interrupted")
	}
	resumed := cfg
	resumed.Resume, resumed.SaveTotalLimit = filepath.Join(out, "checkpoint-2"), 1
	if _, err := Train(context.Background(), resumed); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(resumed.Resume); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the resumed checkpoint was not rotated away: %v", err)
	}
	want, _ := os.ReadFile(filepath.Join(tinyBERT, "tokenizer.json"))
	for _, dir := range append(Checkpoints(out), out) {
		if b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: no tokenizer.json, or another one (%v)", dir, err)
		}
	}
}

// A save that fails (a full disk, say) leaves no checkpoint directory and
// no temporary one, and metrics.jsonl records only the saves that
// completed.
func TestFailedSaveIsNotRecorded(t *testing.T) {
	data := writeData(t, 4)
	for _, stage := range []string{"model", "optimizer", "rename"} {
		t.Run(stage, func(t *testing.T) {
			out := t.TempDir()
			saves := 0
			saveHook = func(s string) error {
				if s == "saved" {
					saves++
				}
				if s == stage && saves == 2 {
					return errors.New("no space left on device")
				}
				return nil
			}
			defer func() { saveHook = nil }()
			_, err := Train(context.Background(), Config{Model: tinyBERT, Train: data, Output: out, Epochs: 3, BatchSize: 4, SaveSteps: 1, LogSteps: 1})
			if err == nil || !strings.Contains(err.Error(), "save "+filepath.Join(out, "checkpoint-3")) || !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("error %v", err)
			}
			var names []string
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if want := []string{"checkpoint-1", "checkpoint-2", "metrics.jsonl"}; !slices.Equal(names, want) {
				t.Fatalf("output holds %q, want %q", names, want)
			}
			b, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
			if strings.Contains(string(b), `"saved":"checkpoint-3"`) || !strings.Contains(string(b), `"saved":"checkpoint-2"`) {
				t.Fatalf("metrics.jsonl:\n%s", b)
			}
		})
	}
}

// Evaluation data without examples is an error, not an accuracy of 0.
func TestEmptyEvalData(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "dev.tsv")
	os.WriteFile(empty, []byte("sentence\tlabel\n"), 0o644)
	_, err := Train(context.Background(), Config{Model: tinyBERT, Train: writeData(t, 4), Eval: empty, Output: t.TempDir(), Epochs: 1, BatchSize: 4})
	if err == nil || !strings.Contains(err.Error(), "dev.tsv: no evaluation examples") {
		t.Fatalf("empty eval data: %v", err)
	}
}
