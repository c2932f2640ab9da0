package textclf

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/textclf/textclf/builtin"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/hub"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/metrics"
	"github.com/textclf/textclf/nn"
	"github.com/textclf/textclf/train"
)

// DistillConfig configures Distill.
type DistillConfig struct {
	// Teacher is any model Open loads (a directory, a hub id, a fastText
	// .bin file, builtin:NAME); it must be a single-label classifier.
	Teacher string
	// Teachers, when not empty, are more teachers (any model Open loads)
	// making an ensemble with Teacher: the soft targets are then the mean of
	// all the teachers' label probabilities, whose logarithms serve as the
	// logits. Every teacher must have Teacher's labels, in the same order.
	Teachers []string
	// TeacherOptions are the teacher's Open options (threads, max length).
	TeacherOptions Options
	// Train holds labelled examples; every label must be one of the
	// teacher's.
	Train *data.Dataset
	// Unlabeled, when not nil, holds more texts (labels ignored): the
	// teacher's logits are their soft targets and its best label their
	// hard one.
	Unlabeled *data.Dataset
	// Student is the student's training (Arch fasttext, textcnn or
	// bilstm, with its hyper-parameters); its Train.Distill is set here.
	// It is ignored when Transformer is set.
	Student classic.TrainConfig
	// Transformer, when not nil, makes the student a transformer trained
	// by package train (AdamW, schedule, checkpoints, metrics.jsonl in
	// Output): a pretrained checkpoint (Model), a new model of ModelConfig
	// (a preset or a config.json, with the tokenizer of Tokenizer, else of
	// a transformer teacher), or with EveryOtherLayer a DistilBERT-style
	// student of the teacher, which must then be a BERT-family transformer
	// (Model and Tokenizer are set to the teacher's directory). Its
	// Distill is set here; Train and Eval data come from this config.
	Transformer *train.Config
	// Eval, for a transformer student, is evaluated at each epoch (the
	// best model is kept, as textclf train does); its labels must be the
	// teacher's.
	Eval *data.Dataset
	// Loss is classic.DistillKL (the default) or classic.DistillMSE.
	Loss string
	// Temperature is the KL loss's T (classic.DefaultTemperature when 0).
	Temperature float64
	// Alpha weighs the soft targets, 1−Alpha the hard labels.
	Alpha float64
	// Cache, when not empty, is the file of the teacher's logits: read
	// when it was written for the same teacher and texts, else computed
	// and written there (atomically).
	Cache string
	// Progress, when set, hears of the teacher's forward passes.
	Progress func(done, total int)
}

// DistillResult is what Distill made.
type DistillResult struct {
	// Student is the trained classic student, labelled as the teacher
	// (nil for a transformer student).
	Student *classic.Classifier
	// Trained is the run of a transformer student, saved in
	// DistillConfig.Transformer.Output.
	Trained *train.Result
	// Examples is the number of training examples (labelled + unlabelled).
	Examples int
	// CacheHit says the teacher's logits came from DistillConfig.Cache.
	CacheHit bool
	// TeacherAgreement is the fraction of the labelled examples whose
	// label is the teacher's best one.
	TeacherAgreement float64
}

// Distill trains a student on a teacher's soft targets (knowledge
// distillation, see nn.SoftTargets): the teacher's logits of every
// training text are computed once (or read from cfg.Cache), and the student
// learns from them mixed with the hard labels. The student is classic
// (cfg.Student) or, with cfg.Transformer, a transformer. A classic teacher gives
// probabilities; their logarithms serve as its logits.
func Distill(ctx context.Context, cfg DistillConfig) (*DistillResult, error) {
	if cfg.Train == nil || len(cfg.Train.Examples) == 0 {
		return nil, errors.New("distill: no training examples")
	}
	if cfg.Loss == "" {
		cfg.Loss = classic.DistillKL
	}
	if cfg.Student.DP != nil || (cfg.Transformer != nil && cfg.Transformer.DP != nil) {
		return nil, errors.New("distill: distillation and DP-SGD cannot be combined")
	}
	names := append([]string{cfg.Teacher}, cfg.Teachers...)
	teachers := make([]*Classifier, len(names))
	for i, name := range names {
		t, err := Open(ctx, name, cfg.TeacherOptions)
		if err != nil {
			return nil, fmt.Errorf("distill: teacher %s: %w", name, err)
		}
		ti := t.Info()
		if ti.ProblemType != SingleLabel {
			return nil, fmt.Errorf("distill: teacher %s is a %s model; distillation needs a single-label classifier", name, ti.ProblemType)
		}
		if i > 0 && !slices.Equal(ti.Labels, teachers[0].Info().Labels) {
			return nil, fmt.Errorf("distill: teacher %s has the labels %q, teacher %s %q: an ensemble's teachers need the same labels in the same order", name, ti.Labels, cfg.Teacher, teachers[0].Info().Labels)
		}
		teachers[i] = t
	}
	labels := teachers[0].Info().Labels
	ds := &data.Dataset{Path: cfg.Train.Path, LabelNames: labels}
	labelled := cfg.Train
	if cfg.Transformer != nil {
		// MaxTrainSamples keeps the first labelled examples, and all the
		// unlabelled ones, as for a classic student.
		labelled = labelled.Head(cfg.Transformer.MaxTrainSamples)
	}
	for _, ex := range labelled.Examples {
		if len(ex.Labels) != 1 {
			return nil, fmt.Errorf("%s:%d: %d labels; distillation trains single-label students", cfg.Train.Path, ex.Line, len(ex.Labels))
		}
		if !slices.Contains(labels, ex.Labels[0]) {
			return nil, fmt.Errorf("%s:%d: label %q is not one of the teacher's (%s)", cfg.Train.Path, ex.Line, ex.Labels[0], strings.Join(labels, ", "))
		}
		ds.Examples = append(ds.Examples, ex)
	}
	nLabelled := len(ds.Examples)
	if cfg.Unlabeled != nil {
		for _, ex := range cfg.Unlabeled.Examples {
			ex.Labels = nil
			ds.Examples = append(ds.Examples, ex)
		}
	}
	var tc train.Config
	var err error
	if cfg.Transformer != nil {
		// The student's tokenizer and config are checked before the teacher
		// runs: a bad student writes nothing, the teacher's logits neither.
		if tc, err = transformerStudent(ctx, cfg); err != nil {
			return nil, err
		}
	}
	inputs := InputsOf(ds.Examples)
	key, err := distillKey(ctx, names, teachers[0].Info(), inputs)
	if err != nil {
		return nil, err
	}
	res := &DistillResult{Examples: len(ds.Examples)}
	var logits [][]float32
	if cfg.Cache != "" {
		logits, res.CacheHit = readLogitCache(cfg.Cache, key, len(inputs), len(labels))
	}
	if !res.CacheHit {
		if logits, err = ensembleLogits(ctx, teachers, names, inputs, cfg.Progress); err != nil {
			return nil, err
		}
		if cfg.Cache != "" {
			if err := writeLogitCache(cfg.Cache, key, logits, len(labels)); err != nil {
				return nil, err
			}
		}
	}
	agree := 0
	for i := range ds.Examples {
		best := labels[metrics.Argmax(logits[i])]
		if i >= nLabelled {
			ds.Examples[i].Labels = []string{best}
		} else if ds.Examples[i].Labels[0] == best {
			agree++
		}
	}
	res.TeacherAgreement = float64(agree) / float64(nLabelled)
	if cfg.Transformer != nil {
		tc.Distill = &train.Distillation{Loss: nn.SoftTargets{Loss: cfg.Loss, Temperature: cfg.Temperature, Alpha: cfg.Alpha}, Labels: labels, Teacher: logits}
		if res.Trained, err = train.TrainData(ctx, tc, ds, cfg.Eval); err != nil {
			return nil, fmt.Errorf("distill: student: %w", err)
		}
		return res, nil
	}
	st := cfg.Student
	st.Train.Distill = &classic.Distillation{Loss: cfg.Loss, Temperature: cfg.Temperature, Alpha: cfg.Alpha, Teacher: logits}
	if res.Student, err = classic.Train(ds, st); err != nil {
		return nil, fmt.Errorf("distill: student: %w", err)
	}
	// MSE's gradient is not bounded, and SGD at a high rate can diverge.
	for _, ex := range ds.Examples[:min(len(ds.Examples), 16)] {
		s, err := res.Student.Scores(ex.Text, ex.TextPair)
		if err != nil {
			return nil, err
		}
		var sum float64
		for _, v := range s {
			sum += float64(v)
		}
		if !(math.Abs(sum-1) < 1e-3) { // NaN logits give NaN or zero probabilities
			return nil, fmt.Errorf("distill: the student diverged (its probabilities are %v on %s:%d): lower the learning rate (%g) or use --distill-loss kl", s, ds.Path, ex.Line, st.Train.LR)
		}
	}
	return res, nil
}

// teacherOutputs are a teacher's outputs for the inputs: logits, or a
// classic teacher's probabilities (its Function is None).
func teacherOutputs(ctx context.Context, teacher *Classifier, name string, inputs []Input, progress func(done, total int)) ([][]float32, error) {
	enc := make([]Encoding, len(inputs))
	var err error
	for i, in := range inputs {
		if enc[i], err = teacher.Model.Encode(in, EncodeOptions{Truncate: true}); err != nil {
			return nil, fmt.Errorf("distill: teacher %s: input %d: %w", name, i+1, err)
		}
	}
	out, err := teacher.LogitsOfEncodings(ctx, enc, progress)
	if err != nil {
		return nil, fmt.Errorf("distill: teacher %s: %w", name, err)
	}
	return out, nil
}

// ensembleLogits are the soft targets' logits: one teacher's logits (a
// classic teacher's log-probabilities, which softmax gives back), or for
// several the logarithms of the mean of their probabilities.
func ensembleLogits(ctx context.Context, teachers []*Classifier, names []string, inputs []Input, progress func(done, total int)) ([][]float32, error) {
	var mean [][]float64
	for t, teacher := range teachers {
		outputs, err := teacherOutputs(ctx, teacher, names[t], inputs, progress)
		if err != nil {
			return nil, err
		}
		probs := teacher.Info().Function == None
		if len(teachers) == 1 && !probs {
			return outputs, nil
		}
		if mean == nil {
			mean = make([][]float64, len(outputs))
		}
		for i, o := range outputs {
			if !probs {
				o = ApplyFunction(o, Softmax)
			}
			if mean[i] == nil {
				mean[i] = make([]float64, len(o))
			}
			for j, p := range o {
				mean[i][j] += float64(p) / float64(len(teachers))
			}
		}
	}
	out := make([][]float32, len(mean))
	for i, m := range mean {
		out[i] = make([]float32, len(m))
		for j, p := range m {
			out[i][j] = float32(math.Log(math.Max(p, 1e-30)))
		}
	}
	return out, nil
}

// transformerStudent is the training configuration of a transformer
// student: the teacher's directory as the model of an every-other-layer
// student, and as the tokenizer of a student without one; checked by
// train.CheckModel.
func transformerStudent(ctx context.Context, cfg DistillConfig) (train.Config, error) {
	tc := *cfg.Transformer
	tc.MaxTrainSamples = 0 // applied to the labelled examples by Distill
	dir, err := transformerDir(ctx, cfg.Teacher)
	if err != nil {
		return tc, err
	}
	if tc.EveryOtherLayer {
		if dir == "" {
			return tc, fmt.Errorf("distill: a student initialised from every other layer of the teacher needs a transformer teacher; %s is not one", cfg.Teacher)
		}
		if tc.Model != "" || tc.ModelConfig != "" {
			return tc, errors.New("distill: a student initialised from the teacher takes no model or config of its own")
		}
		tc.Model = dir
	}
	if tc.Tokenizer == "" && tc.Model == "" {
		if dir == "" {
			return tc, fmt.Errorf("distill: the teacher %s is not a transformer: give the student's tokenizer", cfg.Teacher)
		}
		tc.Tokenizer = dir
	}
	for _, ref := range []*string{&tc.Model, &tc.Tokenizer} {
		if *ref != "" {
			if *ref, _, err = hub.ResolveModel(ctx, *ref, "", hub.FromEnv()); err != nil {
				return tc, err
			}
		}
	}
	if err := train.CheckModel(tc); err != nil {
		return tc, fmt.Errorf("distill: student: %w", err)
	}
	return tc, nil
}

// transformerDir is the checkpoint directory of a transformer teacher
// (a directory, a hub id or a built-in transformer), "" for another.
func transformerDir(ctx context.Context, teacher string) (string, error) {
	loc, err := Locate(ctx, teacher, "")
	if err != nil {
		return "", err
	}
	switch {
	case loc.Kind == SourceTransformer:
		return loc.Path, nil
	case loc.Kind == SourceBuiltin && loc.Path != "":
		if kind, err := directoryKind(loc.Path); err == nil && kind == SourceTransformer {
			return loc.Path, nil
		}
	}
	return "", nil
}

// distillKey identifies the teachers and the texts they run on: each
// teacher's name and files (name, size and modification time of each file
// of its directory, or the archive of a built-in model), the labels, and
// every text.
func distillKey(ctx context.Context, teachers []string, info ModelInfo, inputs []Input) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "textclf distill v1\x00%s\x00%q\x00", teachers[0], info.Labels)
	for i, teacher := range teachers {
		if i > 0 {
			fmt.Fprintf(h, "teacher %s\x00", teacher)
		}
		if err := hashTeacher(ctx, h, teacher); err != nil {
			return "", err
		}
	}
	for _, in := range inputs {
		pair := "\x01"
		if in.Pair != nil {
			pair = *in.Pair
		}
		fmt.Fprintf(h, "%d:%s%d:%s", len(in.Text), in.Text, len(pair), pair)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTeacher writes a teacher's files to h: the archives of a built-in
// model and its parts, else the name, size and modification time of each
// file of its directory.
func hashTeacher(ctx context.Context, h io.Writer, teacher string) error {
	loc, err := Locate(ctx, teacher, "")
	if err != nil {
		return err
	}
	if loc.Kind == SourceBuiltin {
		m, err := builtin.Lookup(loc.Builtin)
		if err != nil {
			return err
		}
		for _, name := range append([]string{m.Name}, m.Parts...) {
			part, _ := builtin.Lookup(name)
			b, err := part.Archive()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %x\x00", name, sha256.Sum256(b))
		}
	} else if err := filepath.WalkDir(loc.Path, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %d\x00", path, st.Size(), st.ModTime().UnixNano())
		return nil
	}); err != nil {
		return fmt.Errorf("distill: teacher %s: %w", teacher, err)
	}
	return nil
}

// The logit cache: a line "textclf-teacher-logits KEY N K", then N·K
// little-endian float32.
const logitCacheMagic = "textclf-teacher-logits"

// readLogitCache reads the cache at path when it holds n×k logits under
// key; any mismatch or damage is a miss.
func readLogitCache(path, key string, n, k int) ([][]float32, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	r := bufio.NewReader(f)
	head, err := r.ReadString('\n')
	if err != nil || head != fmt.Sprintf("%s %s %d %d\n", logitCacheMagic, key, n, k) {
		return nil, false
	}
	flat := make([]float32, n*k)
	if err := binary.Read(r, binary.LittleEndian, flat); err != nil {
		return nil, false
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, false
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k]
	}
	return out, true
}

// writeLogitCache writes the logits to path through a temporary file.
func writeLogitCache(path, key string, logits [][]float32, k int) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, "%s %s %d %d\n", logitCacheMagic, key, len(logits), k)
		for _, l := range logits {
			if err := binary.Write(bw, binary.LittleEndian, l); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("distill: teacher logit cache %s: %w", path, err)
	}
	return nil
}
