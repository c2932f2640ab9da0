package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/safetensors"
)

// ResumeLatest is the Config.Resume that continues from the newest complete
// checkpoint-N directory of Config.Output (`--resume latest`).
const ResumeLatest = "latest"

// The files a checkpoint-N directory holds besides the model's, and the log
// of the run in the output directory.
const (
	trainerStateName = "trainer_state.json"
	optimizerName    = "optimizer.safetensors"
	metricsName      = "metrics.jsonl"
)

// A checkpoint is written into a hidden temporary directory (tmpInfix), which
// is renamed into place once complete; a checkpoint being deleted is first
// renamed aside (oldInfix). Both names are left behind only by a crash, and
// are removed when the next run starts.
const (
	tmpInfix = ".tmp-"
	oldInfix = ".old-"
)

// saveHook, when not nil, is called at each stage of a save (a test kills
// the process or fails the save there); its error fails the save.
var saveHook func(stage string) error

func hook(stage string) error {
	if saveHook == nil {
		return nil
	}
	return saveHook(stage)
}

// saveCheckpoint writes checkpoint-<step>: the model with its tokenizer
// files, the optimizer moments and the trainer state, then removes the
// checkpoints beyond SaveTotalLimit. The files are written into a temporary
// directory that is renamed into place (and the output directory synced)
// once every file is complete, so a crash or a full disk at any instant
// leaves either no checkpoint-<step> or a complete one.
func (r *run) saveCheckpoint() (err error) {
	st := r.state
	name := fmt.Sprintf("checkpoint-%d", st.GlobalStep)
	dir := filepath.Join(r.cfg.Output, name)
	tmp, err := os.MkdirTemp(r.cfg.Output, "."+name+tmpInfix)
	if err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := r.writeCheckpoint(tmp); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := hook("rename"); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if _, err := os.Lstat(dir); err == nil {
		// A directory of that name from an earlier run (complete or not) gives way.
		if err := removeDir(dir); err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := atomicfile.SyncDir(r.cfg.Output); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	r.lastSave = dir
	if err := hook("saved"); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := r.logSaved(name); err != nil {
		return err
	}
	if p := r.cfg.Progress; p != nil {
		p.Saved(dir)
	}
	for _, old := range checkpointsBeyondLimit(Checkpoints(r.cfg.Output), r.cfg.SaveTotalLimit, st.BestStep) {
		if err := removeDir(old); err != nil {
			return fmt.Errorf("save total limit: %w", err)
		}
	}
	return nil
}

// writeCheckpoint writes the files of a checkpoint into dir and syncs it.
func (r *run) writeCheckpoint(dir string) error {
	if err := r.saveModel(dir); err != nil {
		return err
	}
	if err := hook("model"); err != nil {
		return err
	}
	step, m, v := r.stepper.Optimizer.State()
	var tensors []safetensors.Tensor
	for i, p := range r.m.Params() {
		tensors = append(tensors, safetensors.FromFloat32("exp_avg."+p.Name, p.Shape, m[i]),
			safetensors.FromFloat32("exp_avg_sq."+p.Name, p.Shape, v[i]))
	}
	if err := safetensors.WriteFile(filepath.Join(dir, optimizerName), tensors, map[string]string{"step": strconv.Itoa(step)}); err != nil {
		return err
	}
	if err := hook("optimizer"); err != nil {
		return err
	}
	rng, err := r.m.RNGState()
	if err != nil {
		return err
	}
	st := *r.state
	st.RNG = rng
	if err := writeJSONAtomic(filepath.Join(dir, trainerStateName), &st); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// removeDir deletes a directory by renaming it aside first, so that a crash
// while deleting never leaves a half-deleted checkpoint under its own name.
func removeDir(dir string) error {
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	aside, err := os.MkdirTemp(parent, "."+base+oldInfix)
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(aside, base)); err != nil {
		os.Remove(aside)
		return err
	}
	return os.RemoveAll(aside)
}

// removeLeftovers deletes what saves and deletions that a crash
// interrupted leave in output: the temporary directories of checkpoints
// (.checkpoint-N.tmp-*), the checkpoints renamed aside to be deleted
// (.checkpoint-N.old-*) and the temporary files of the model's files
// (.config.json.tmp-*, …). It says which partial checkpoints it removed.
func removeLeftovers(output string) ([]string, error) {
	var notes []string
	for _, pattern := range []string{".*" + tmpInfix + "*", ".checkpoint-*" + oldInfix + "*"} {
		found, _ := filepath.Glob(filepath.Join(output, pattern))
		for _, p := range found {
			if err := os.RemoveAll(p); err != nil {
				return notes, fmt.Errorf("remove %s, left by an interrupted save: %w", p, err)
			}
			if strings.HasPrefix(filepath.Base(p), ".checkpoint-") && strings.Contains(p, tmpInfix) {
				notes = append(notes, fmt.Sprintf("removed %s, the partial checkpoint of a save that was interrupted", p))
			}
		}
	}
	return notes, nil
}

// checkpointsBeyondLimit are the checkpoints (oldest first) to delete to
// keep the limit most recent ones, and the best one (the checkpoint of
// bestStep) besides; limit 0 keeps all.
func checkpointsBeyondLimit(dirs []string, limit, bestStep int) []string {
	if limit <= 0 || len(dirs) <= limit {
		return nil
	}
	best := fmt.Sprintf("checkpoint-%d", bestStep)
	var out []string
	for _, d := range dirs[:len(dirs)-limit] {
		if filepath.Base(d) != best {
			out = append(out, d)
		}
	}
	return out
}

// CheckCheckpoint reports why dir is not a complete checkpoint to resume
// from (nil when it is): its trainer_state.json must parse, and its
// optimizer.safetensors, config.json and model weights must be whole
// (safetensors headers and sizes checked).
func CheckCheckpoint(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a checkpoint directory", dir)
	}
	if _, err := readState(dir); err != nil {
		return err
	}
	for _, name := range []string{optimizerName, checkpoint.ConfigName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: no %s", dir, name)
		}
	}
	if _, err := checkpoint.LoadConfig(dir); err != nil {
		return err
	}
	_, files, err := checkpoint.WeightFiles(dir)
	if err != nil {
		return err
	}
	files = append(files, optimizerName)
	for _, f := range files {
		if !strings.HasSuffix(f, ".safetensors") {
			continue
		}
		sf, err := safetensors.Open(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		sf.Close()
	}
	return nil
}

// readState reads the trainer_state.json of a checkpoint.
func readState(dir string) (*State, error) {
	p := filepath.Join(dir, trainerStateName)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s", dir, trainerStateName)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &st, nil
}

// latestComplete is the newest complete checkpoint of output ("" when there
// is none), and a note for each newer one that is incomplete and skipped.
func latestComplete(output string) (string, []string) {
	dirs := Checkpoints(output)
	var skipped []string
	for i := len(dirs) - 1; i >= 0; i-- {
		err := CheckCheckpoint(dirs[i])
		if err == nil {
			return dirs[i], skipped
		}
		skipped = append(skipped, fmt.Sprintf("skipping the incomplete checkpoint %s: %v", dirs[i], err))
	}
	return "", skipped
}

// resolveResume turns Config.Resume into a complete checkpoint directory:
// ResumeLatest is the newest complete one of Output (the incomplete ones
// newer than it are reported), a directory must be complete.
func (r *run) resolveResume() error {
	c := &r.cfg
	switch c.Resume {
	case "":
		return nil
	case ResumeLatest:
		dir, skipped := latestComplete(c.Output)
		for _, s := range skipped {
			r.warn(s)
		}
		if dir == "" {
			return fmt.Errorf("resume latest: no checkpoint to resume from in %s (no complete checkpoint-N directory)", c.Output)
		}
		c.Resume = dir
	default:
		if err := CheckCheckpoint(c.Resume); err != nil {
			return fmt.Errorf("resume: %s is not a complete checkpoint: %w", c.Resume, err)
		}
	}
	r.lastSave = c.Resume
	return nil
}

// restore continues from a checkpoint directory written by saveCheckpoint
// (the model weights were loaded from it already).
func (r *run) restore(dir string) error {
	st, err := readState(dir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if strings.Join(st.Labels, "\x00") != strings.Join(r.labels, "\x00") || st.ProblemType != r.problem {
		return fmt.Errorf("resume: %s was trained on labels %v (%s), the data has %v (%s)", dir, st.Labels, st.ProblemType, r.labels, r.problem)
	}
	if st.MaxSteps != r.state.MaxSteps {
		return fmt.Errorf("resume: %s was planned for %d steps, this run for %d: keep the same data and options", dir, st.MaxSteps, r.state.MaxSteps)
	}
	f, err := safetensors.Open(filepath.Join(dir, optimizerName))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer f.Close()
	step, err := strconv.Atoi(f.Metadata()["step"])
	if err != nil {
		return fmt.Errorf("resume: %s: no optimizer step count", f.Path)
	}
	params := r.m.Params()
	m, v := make([][]float32, len(params)), make([][]float32, len(params))
	for i, p := range params {
		for _, k := range []struct {
			name string
			dst  *[]float32
		}{{"exp_avg." + p.Name, &m[i]}, {"exp_avg_sq." + p.Name, &v[i]}} {
			t, err := f.Tensor(k.name)
			if err != nil {
				return fmt.Errorf("resume: %s: %w", f.Path, err)
			}
			if *k.dst, err = t.Float32(); err != nil {
				return fmt.Errorf("resume: %s: %w", f.Path, err)
			}
			if len(*k.dst) != p.Size() {
				return fmt.Errorf("resume: %s: tensor %s has %d values, the model %d", f.Path, k.name, len(*k.dst), p.Size())
			}
		}
	}
	r.stepper.Optimizer.SetState(step, m, v) // copies them out of the file's mapping
	if err := r.m.SetRNGState(st.RNG); err != nil {
		return fmt.Errorf("resume: random state: %w", err)
	}
	*r.state = *st
	return nil
}

// openLog opens metrics.jsonl for appending. A new run starts it empty. A
// resumed run rewrites it as the log history of the checkpoint it resumes
// from followed by the record of that checkpoint's save, so that the log
// holds nothing of what a crashed run did after that checkpoint (and which
// is done again).
func (r *run) openLog() error {
	p := filepath.Join(r.cfg.Output, metricsName)
	var buf bytes.Buffer
	if r.cfg.Resume != "" {
		st := r.state
		st.LogHistory = append(st.LogHistory, LogEntry{Step: st.GlobalStep, Epoch: st.Epoch, Saved: filepath.Base(r.cfg.Resume)})
		for _, e := range st.LogHistory {
			line, err := json.Marshal(e)
			if err != nil {
				return err
			}
			buf.Write(append(line, '\n'))
		}
	}
	if err := atomicfile.WriteBytes(p, buf.Bytes()); err != nil {
		return err
	}
	var err error
	r.log, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0o644)
	return err
}

// logSaved records that a save completed, in metrics.jsonl and the log
// history: name is the checkpoint-N directory, or "." for the model in the
// output directory. It is called only once the save is complete, so the
// log never claims a save that failed.
func (r *run) logSaved(name string) error {
	st := r.state
	return r.record(LogEntry{Step: st.GlobalStep, Epoch: st.Epoch, Saved: name})
}

// Checkpoints returns the checkpoint-N directories of output, by
// increasing N, complete or not (see CheckCheckpoint).
func Checkpoints(output string) []string {
	dirs, _ := filepath.Glob(filepath.Join(output, "checkpoint-*"))
	steps := map[string]int{}
	var out []string
	for _, d := range dirs {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "checkpoint-"))
		if st, serr := os.Stat(d); err == nil && serr == nil && st.IsDir() {
			steps[d] = n
			out = append(out, d)
		}
	}
	sort.Slice(out, func(a, b int) bool { return steps[out[a]] < steps[out[b]] })
	return out
}

// LatestCheckpoint returns the complete checkpoint-N directory of output
// with the largest N, or "" if there is none; incomplete ones (a crash of a
// version that wrote checkpoints in place, a copy cut short) are skipped.
func LatestCheckpoint(output string) string {
	dir, _ := latestComplete(output)
	return dir
}
