//go:build unix

package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kill test runs the trainer in a child process: the test binary run
// again with crashChildEnv set to the JSON of a crashChild.
const crashChildEnv = "TEXTCLF_TRAIN_CRASH_CHILD"

// crashChild is what a child process trains, and where it kills itself.
type crashChild struct {
	Config Config
	// KillStage and KillStep, when set, make the child kill itself with
	// SIGKILL when the save at that step reaches that stage.
	KillStage string
	KillStep  int
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		os.Exit(runCrashChild(spec))
	}
	os.Exit(m.Run())
}

// runCrashChild trains as the parent asked and returns the exit code.
func runCrashChild(spec string) int {
	var c crashChild
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	step := 0
	progress := &childProgress{step: &step}
	c.Config.Progress = progress
	saveHook = func(stage string) error {
		if stage == c.KillStage && step == c.KillStep {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
		return nil
	}
	if _, err := Train(context.Background(), c.Config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type childProgress struct{ step *int }

func (p *childProgress) Warning(msg string) { fmt.Fprintln(os.Stderr, "warning:", msg) }
func (p *childProgress) Step(s StepInfo)    { *p.step = s.Step }
func (p *childProgress) Evaluated(EvalInfo) {}
func (p *childProgress) Saved(string)       {}

// metricsLines reads metrics.jsonl without the elapsed times.
func metricsLines(t *testing.T, out string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, metricsName))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var e LogEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("metrics.jsonl line %q: %v", l, err)
		}
		e.Seconds = 0
		j, _ := json.Marshal(e)
		lines = append(lines, string(j))
	}
	return lines
}

// Training killed with SIGKILL at random instants, inside saves and
// between them, and resumed each time from the newest complete checkpoint
// (`--resume latest`), ends with the weights, metrics.jsonl and tokenizer of
// a run that was never interrupted; no partial checkpoint is ever taken for
// a complete one, and none is left behind.
func TestKilledTrainingResumesToSameWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the trainer some 25 times")
	}
	data := writeData(t, 6) // 12 examples: 3 steps an epoch
	drop := 0.1
	base := Config{Model: tinyBERT, Train: data, Epochs: 5, BatchSize: 4, LR: 1e-3, Seed: 5, Dropout: &drop,
		WarmupSteps: 2, WeightDecay: 0.01, LogSteps: 1, SaveSteps: 1, SaveTotalLimit: 2}
	straight := base
	straight.Output = t.TempDir()
	res, err := Train(context.Background(), straight)
	if err != nil {
		t.Fatal(err)
	}
	maxSteps := res.State.MaxSteps

	out := t.TempDir()
	rng := rand.New(rand.NewPCG(12, 0))
	stages := []string{"model", "optimizer", "rename", "saved"}
	const wantKills = 24
	kills, inSave := 0, 0
	var runTime time.Duration = 300 * time.Millisecond
	for run := 0; ; run++ {
		if run > 4*wantKills {
			t.Fatalf("%d runs without finishing", run)
		}
		child := crashChild{Config: base}
		child.Config.Output = out
		if LatestCheckpoint(out) != "" {
			child.Config.Resume = ResumeLatest
		}
		done := kills >= wantKills
		randomKill := time.Duration(0)
		if !done {
			if kills%2 == 0 {
				// A kill at a stage of a save a few steps ahead, or of the final save.
				from := 1
				if ck := LatestCheckpoint(out); ck != "" {
					from, _ = strconv.Atoi(strings.TrimPrefix(filepath.Base(ck), "checkpoint-"))
					from++
				}
				child.KillStep = min(from+rng.IntN(3), maxSteps)
				child.KillStage = stages[rng.IntN(len(stages))]
				if child.KillStep == maxSteps {
					child.KillStage = "final"
				}
			} else {
				// A kill at a random instant of the run.
				randomKill = time.Duration(rng.Int64N(int64(runTime)))
			}
		}
		spec, _ := json.Marshal(child)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+string(spec))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if randomKill > 0 {
			timer := time.AfterFunc(randomKill, func() { cmd.Process.Kill() })
			defer timer.Stop()
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			if !done && child.KillStage != "" {
				t.Fatalf("run %d finished without reaching the save stage %s of step %d", run, child.KillStage, child.KillStep)
			}
			runTime = (runTime + time.Since(start)) / 2
			if done {
				t.Logf("%d kills (%d inside saves), %d runs; a whole run takes ~%v", kills, inSave, run+1, runTime.Round(time.Millisecond))
				goto finished
			}
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			kills++
			if child.KillStage != "" {
				inSave++
			}
		default:
			t.Fatalf("run %d (%s): %v\n%s", run, spec, err, stderr.String())
		}
		// Whatever instant the kill hit, what resuming will take is complete.
		if ck := LatestCheckpoint(out); ck != "" {
			if err := CheckCheckpoint(ck); err != nil {
				t.Fatalf("after kill %d: %v", kills, err)
			}
		}
		for _, ck := range Checkpoints(out) {
			if err := CheckCheckpoint(ck); err != nil {
				t.Fatalf("after kill %d the checkpoint %s is visible but incomplete: %v", kills, ck, err)
			}
		}
	}
finished:
	want, got := readWeights(t, straight.Output), readWeights(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%s[%d]: %g after kills and resumes, %g straight", name, i, g[i], w[i])
			}
		}
	}
	if w, g := metricsLines(t, straight.Output), metricsLines(t, out); strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("metrics.jsonl after kills and resumes:\n%s\nstraight:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	wantTok, _ := os.ReadFile(filepath.Join(tinyBERT, "tokenizer.json"))
	for _, dir := range append(Checkpoints(out), out) {
		if b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err != nil || !bytes.Equal(b, wantTok) {
			t.Errorf("%s: tokenizer.json missing or different (%v)", dir, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".*")); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}
