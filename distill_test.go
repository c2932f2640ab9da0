package textclf

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/metrics"
)

// Short Chinese reviews, written for this test.
var distillTexts = []string{
	"太难吃了，再也不点了", "送餐太慢，菜都凉了", "味道很差，分量也少", "米饭是生的，差评", "等了两个小时，服务态度很差",
	"菜里有头发，恶心", "又咸又油，难以下咽", "包装破了，汤洒了一地", "价格贵，味道一般", "送错了，打电话也没人管",
	"非常好吃，下次还点", "送餐很快，味道不错", "分量足，价格实惠", "服务态度好，点赞", "很新鲜，好吃",
	"味道正宗，推荐", "包装很好，还是热的", "一如既往的好吃", "很满意，五星好评", "肉很多，吃得很饱",
}

// teacherLabels classifies the texts with the teacher.
func teacherLabels(t *testing.T, teacher string, texts []string) []string {
	clf, err := Open(context.Background(), teacher, Options{})
	if err != nil {
		t.Fatal(err)
	}
	preds, err := clf.Classify(context.Background(), texts...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(preds))
	for i, p := range preds {
		out[i] = p.Label
	}
	return out
}

func studentConfig() classic.TrainConfig {
	cfg, _ := classic.DefaultTrainConfig(classic.ArchFastText)
	cfg.FastText.Dim, cfg.FastText.Bucket = 16, 1000
	cfg.Train.Epochs, cfg.Train.LR, cfg.Train.Threads = 100, 0.1, 1
	return cfg
}

// agreement is the fraction of texts on which the student says want.
func agreement(t *testing.T, student *classic.Classifier, texts, want []string) float64 {
	ok := 0
	for i, text := range texts {
		s, err := student.Scores(text, "")
		if err != nil {
			t.Fatal(err)
		}
		if student.Config.Labels[metrics.Argmax(s)] == want[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(texts))
}

func dataset(texts, labels []string) *data.Dataset {
	ds := &data.Dataset{Path: "train.tsv"}
	for i, text := range texts {
		ex := data.Example{Text: text, Line: i + 2}
		if labels != nil {
			ex.Labels = []string{labels[i]}
		}
		ds.Examples = append(ds.Examples, ex)
	}
	return ds
}

// With alpha 1 the student learns the teacher's labels even when the hard
// labels say the opposite; with alpha 0 it learns the hard labels; for
// both losses.
func TestDistillFollowsTeacher(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	const teacher = "builtin:sentiment-zh"
	soft := teacherLabels(t, teacher, distillTexts)
	flipped := make([]string, len(soft))
	for i, l := range soft {
		flipped[i] = map[string]string{"NEGATIVE": "POSITIVE", "POSITIVE": "NEGATIVE"}[l]
	}
	ds := dataset(distillTexts, flipped)
	for _, loss := range []string{classic.DistillKL, classic.DistillMSE} {
		for _, tc := range []struct {
			alpha float64
			want  []string
		}{{1, soft}, {0, flipped}} {
			res, err := Distill(context.Background(), DistillConfig{Teacher: teacher, Train: ds, Student: studentConfig(), Loss: loss, Alpha: tc.alpha})
			if err != nil {
				t.Fatal(err)
			}
			if res.TeacherAgreement != 0 {
				t.Errorf("%s α=%g: the teacher agrees with %g of the flipped labels, want 0", loss, tc.alpha, res.TeacherAgreement)
			}
			if a := agreement(t, res.Student, distillTexts, tc.want); a < 0.9 {
				t.Errorf("%s α=%g: the student agrees with %.2f of the wanted labels, want ≥ 0.9", loss, tc.alpha, a)
			}
		}
	}
}

// The teacher's logits are cached beside the output and reused while the
// teacher and texts are the same; unlabelled texts get the teacher's
// labels; a label the teacher does not know is an error naming the line.
func TestDistillCacheAndUnlabeled(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	const teacher = "builtin:sentiment-zh"
	soft := teacherLabels(t, teacher, distillTexts)
	cache := filepath.Join(t.TempDir(), "student.teacher-logits")
	cfg := DistillConfig{Teacher: teacher, Train: dataset(distillTexts[:2], soft[:2]), Unlabeled: dataset(distillTexts[2:], nil),
		Student: studentConfig(), Alpha: 0, Cache: cache}
	res, err := Distill(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.CacheHit || res.Examples != len(distillTexts) {
		t.Errorf("first run: cache hit %t, %d examples", res.CacheHit, res.Examples)
	}
	// Hard labels only (α 0): what the student knows of the unlabelled
	// texts is the teacher's labels.
	if a := agreement(t, res.Student, distillTexts[2:], soft[2:]); a < 0.9 {
		t.Errorf("the student agrees with the teacher on %.2f of the unlabelled texts, want ≥ 0.9", a)
	}
	st, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(distillTexts) * 2 * 4); st.Size() < want {
		t.Errorf("cache %d bytes, want more than %d", st.Size(), want)
	}
	if res, err = Distill(ctx, cfg); err != nil || !res.CacheHit {
		t.Errorf("second run: cache hit %t, %v", res != nil && res.CacheHit, err)
	}
	cfg.Unlabeled = dataset(append(append([]string{}, distillTexts[2:]...), "还行吧"), nil)
	if res, err = Distill(ctx, cfg); err != nil || res.CacheHit {
		t.Errorf("other texts: cache hit %t, %v", res != nil && res.CacheHit, err)
	}
	os.WriteFile(cache, []byte("textclf-teacher-logits damaged"), 0o644)
	if res, err = Distill(ctx, cfg); err != nil || res.CacheHit {
		t.Errorf("damaged cache: cache hit %t, %v", res != nil && res.CacheHit, err)
	}

	cfg.Train = dataset([]string{"好吃", "难吃"}, []string{"POSITIVE", "BAD"})
	if _, err := Distill(ctx, cfg); err == nil || !strings.Contains(err.Error(), `train.tsv:3: label "BAD" is not one of the teacher's (NEGATIVE, POSITIVE)`) {
		t.Errorf("unknown label: %v", err)
	}
	// MSE's gradient is not bounded: at too high a rate the student
	// diverges, which is an error, not a model of NaNs.
	cfg.Train, cfg.Unlabeled, cfg.Loss, cfg.Alpha, cfg.Cache = dataset(distillTexts, soft), nil, classic.DistillMSE, 1, ""
	cfg.Student.Train.LR = 5
	if _, err := Distill(ctx, cfg); err == nil || !strings.Contains(err.Error(), "the student diverged") {
		t.Errorf("diverging student: %v", err)
	}
	cfg.Teacher = "builtin:nope"
	if _, err := Distill(ctx, cfg); err == nil || !strings.Contains(err.Error(), "unknown built-in model") {
		t.Errorf("unknown teacher: %v", err)
	}
}

// A damaged or foreign cache file is a miss, never a panic or a wrong
// shape.
func FuzzReadLogitCache(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good")
	if err := writeLogitCache(good, "k", [][]float32{{1, 2}, {3, 4}}, 2); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	f.Add(b)
	f.Add([]byte("textclf-teacher-logits k 2 2\n"))
	f.Add([]byte("textclf-teacher-logits k 1000000000 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "cache")
		os.WriteFile(path, b, 0o644)
		logits, ok := readLogitCache(path, "k", 2, 2)
		if ok && (len(logits) != 2 || len(logits[0]) != 2 || len(logits[1]) != 2) {
			t.Fatalf("hit with logits %v", logits)
		}
	})
}

// The soft targets are a transformer teacher's raw logits and a classic
// teacher's log-probabilities, exactly as the teacher computes them.
func TestDistillTeacherLogits(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	texts := []string{"a great film", "a dull film", "这是一个示例文本", "funny and warm", "too long by half"}
	for _, tc := range []struct {
		teacher string
		log     bool
	}{{tinyBERT, false}, {"builtin:sentiment", true}} {
		clf, err := Open(ctx, tc.teacher, Options{})
		if err != nil {
			t.Fatal(err)
		}
		preds, err := clf.Classify(ctx, texts...)
		if err != nil {
			t.Fatal(err)
		}
		labels := make([]string, len(texts))
		for i, p := range preds {
			labels[i] = p.Label
		}
		cache := filepath.Join(t.TempDir(), "logits")
		res, err := Distill(ctx, DistillConfig{Teacher: tc.teacher, Train: dataset(texts, labels), Student: studentConfig(), Alpha: 1, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(res.Student.Config.Labels, ","), strings.Join(clf.Labels(), ","); got != want {
			t.Errorf("%s: student labels %s, want the teacher's %s", tc.teacher, got, want)
		}
		if res.TeacherAgreement != 1 {
			t.Errorf("%s: teacher agreement %g with its own labels", tc.teacher, res.TeacherAgreement)
		}
		raw, err := clf.Logits(ctx, InputsOf(dataset(texts, nil).Examples))
		if err != nil {
			t.Fatal(err)
		}
		key, err := distillKey(ctx, []string{tc.teacher}, clf.Info(), InputsOf(dataset(texts, nil).Examples))
		if err != nil {
			t.Fatal(err)
		}
		cached, ok := readLogitCache(cache, key, len(texts), len(clf.Labels()))
		if !ok {
			t.Fatalf("%s: no cached logits", tc.teacher)
		}
		for i := range raw {
			for j, v := range raw[i] {
				want := float64(v)
				if tc.log {
					want = math.Log(want)
				}
				if math.Abs(float64(cached[i][j])-want) > 1e-6 {
					t.Errorf("%s: text %d logit %d: %g, want %g", tc.teacher, i, j, cached[i][j], want)
				}
			}
		}
	}
}

// English reviews for the tiny BERT teacher, written for this test.
var tinyTexts = []string{
	"great movie", "a good film", "i loved it", "the best story", "fun and funny", "very good acting",
	"bad movie", "an awful film", "i hated it", "the worst plot", "boring and sad", "very bad acting",
	"a great story", "good fun", "the best film", "i loved the acting", "very funny", "a good plot",
	"an awful plot", "the worst film", "bad acting", "boring movie", "i hated the story", "sad and bad",
}

// A transformer student of every other layer of the tiny BERT (labels
// negative, neutral, positive) learns from the teacher's cached logits:
// its distillation loss falls in metrics.jsonl, it is saved with the
// teacher's labels and half its layers, and it mostly says what the teacher
// says; a second run reads the cache.
func TestDistillTransformerStudent(t *testing.T) {
	ctx := context.Background()
	soft := teacherLabels(t, tinyBERT, tinyTexts)
	dir := t.TempDir()
	out, cache := filepath.Join(dir, "student"), filepath.Join(dir, "student.teacher-logits")
	cfg := DistillConfig{Teacher: tinyBERT, Train: dataset(tinyTexts, soft), Alpha: 1, Temperature: 2, Cache: cache,
		Transformer: &TrainConfig{EveryOtherLayer: true, Output: out, Epochs: 60, BatchSize: 8, LR: 1e-2, Seed: 1, LogSteps: 3}}
	res, err := Distill(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.CacheHit || res.Student != nil || res.Trained == nil || res.TeacherAgreement != 1 {
		t.Fatalf("cache hit %t, classic student %v, run %v, agreement %g", res.CacheHit, res.Student != nil, res.Trained != nil, res.TeacherAgreement)
	}
	var losses []float64
	for _, e := range res.Trained.State.LogHistory {
		if e.Loss != nil {
			losses = append(losses, *e.Loss)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"loss"`); n != len(losses) || len(losses) < 10 {
		t.Fatalf("metrics.jsonl has %d losses, the state %d", n, len(losses))
	}
	if !(losses[len(losses)-1] < losses[0]/4) {
		t.Fatalf("distillation losses %v, want a fall to under a quarter", losses)
	}
	student, err := Open(ctx, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info := student.Info(); strings.Join(info.Labels, ",") != "negative,neutral,positive" || info.Layers != 1 {
		t.Fatalf("student: labels %v, %d layers", info.Labels, info.Layers)
	}
	got := teacherLabels(t, out, tinyTexts)
	same := 0
	for i := range got {
		if got[i] == soft[i] {
			same++
		}
	}
	if same < len(got)*9/10 {
		t.Fatalf("the student agrees with the teacher on %d of %d texts (%v vs %v)", same, len(got), got, soft)
	}
	cfg.Transformer.Output = filepath.Join(dir, "again")
	cfg.Transformer.MaxSteps = 1
	if res, err = Distill(ctx, cfg); err != nil || !res.CacheHit {
		t.Fatalf("second run: %v, cache hit %t", err, res != nil && res.CacheHit)
	}
	// MaxTrainSamples keeps the first labelled examples and every
	// unlabelled text.
	cfg.Transformer.Output, cfg.Transformer.MaxTrainSamples = filepath.Join(dir, "head"), 4
	cfg.Unlabeled = dataset(tinyTexts[:3], nil)
	if res, err = Distill(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if res.Examples != 7 || res.Trained.State.GlobalStep != 1 {
		t.Fatalf("4 labelled and 3 unlabelled examples: %d examples, %d steps", res.Examples, res.Trained.State.GlobalStep)
	}
}

// A transformer student that cannot be made is refused before the teacher
// runs: no output, no cache.
func TestDistillTransformerStudentRefuses(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	smallVocab := filepath.Join(t.TempDir(), "config.json")
	b, err := os.ReadFile(filepath.Join(tinyBERT, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(smallVocab, []byte(strings.Replace(string(b), `"vocab_size": 99`, `"vocab_size": 60`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		teacher string
		labels  []string
		student TrainConfig
		want    string
	}{
		{"classic teacher, every other layer", "builtin:sentiment-zh", []string{"POSITIVE", "NEGATIVE"}, TrainConfig{EveryOtherLayer: true},
			"needs a transformer teacher; builtin:sentiment-zh is not one"},
		{"classic teacher, no tokenizer", "builtin:sentiment-zh", []string{"POSITIVE", "NEGATIVE"}, TrainConfig{ModelConfig: "bert-tiny"},
			"is not a transformer: give the student's tokenizer"},
		{"vocabulary", tinyBERT, []string{"positive", "negative"}, TrainConfig{ModelConfig: smallVocab},
			"vocab_size 60 is smaller than the tokenizer's 99 tokens"},
		{"labels", tinyBERT, []string{"positive", "bad"}, TrainConfig{EveryOtherLayer: true},
			`train.tsv:3: label "bad" is not one of the teacher's (negative, neutral, positive)`},
		{"every other layer and a config", tinyBERT, []string{"positive", "negative"}, TrainConfig{EveryOtherLayer: true, ModelConfig: "bert-tiny"},
			"takes no model or config of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := tc.student
			st.Output = filepath.Join(dir, "student")
			cache := filepath.Join(dir, "student.teacher-logits")
			_, err := Distill(ctx, DistillConfig{Teacher: tc.teacher, Train: dataset([]string{"good", "bad"}, tc.labels), Cache: cache, Transformer: &st})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error saying %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("%s holds %v", dir, entries)
			}
		})
	}
}

// An ensemble of teachers gives the logarithm of the mean of their
// probabilities as soft targets, and refuses teachers whose labels differ.
func TestDistillEnsemble(t *testing.T) {
	t.Setenv("TEXTCLF_BUILTIN_CACHE", t.TempDir())
	ctx := context.Background()
	texts := []string{"a great film", "a dull film", "funny and warm", "too long by half", "这是一个示例文本"}
	labels := []string{"POSITIVE", "NEGATIVE", "POSITIVE", "NEGATIVE", "POSITIVE"}
	names := []string{"builtin:sentiment-en", "builtin:sentiment-zh"}
	var probs [][][]float32
	for _, name := range names {
		clf, err := Open(ctx, name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := clf.Logits(ctx, InputsOf(dataset(texts, nil).Examples)) // a classic model's logits are probabilities
		if err != nil {
			t.Fatal(err)
		}
		probs = append(probs, p)
	}
	cache := filepath.Join(t.TempDir(), "logits")
	_, err := Distill(ctx, DistillConfig{Teacher: names[0], Teachers: names[1:], Train: dataset(texts, labels), Student: studentConfig(), Alpha: 1, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	clf, _ := Open(ctx, names[0], Options{})
	key, err := distillKey(ctx, names, clf.Info(), InputsOf(dataset(texts, labels).Examples))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := readLogitCache(cache, key, len(texts), 2)
	if !ok {
		t.Fatal("no cached ensemble logits under the ensemble's key")
	}
	differ := false
	for i := range texts {
		for j := range 2 {
			want := math.Log((float64(probs[0][i][j]) + float64(probs[1][i][j])) / 2)
			if math.Abs(float64(got[i][j])-want) > 1e-5 {
				t.Errorf("text %d label %d: soft target %g, want log of the mean probability %g", i, j, got[i][j], want)
			}
			differ = differ || math.Abs(float64(probs[0][i][j]-probs[1][i][j])) > 1e-3
		}
	}
	if !differ {
		t.Error("the two teachers agree to 1e-3 everywhere: the test does not tell a mean from either")
	}
	if single, _ := distillKey(ctx, names[:1], clf.Info(), InputsOf(dataset(texts, labels).Examples)); single == key {
		t.Error("one teacher and the ensemble share a cache key")
	}
	_, err = Distill(ctx, DistillConfig{Teacher: names[0], Teachers: []string{tinyBERT}, Train: dataset(texts, labels), Student: studentConfig(), Alpha: 1})
	if err == nil || !strings.Contains(err.Error(), "same labels") {
		t.Errorf("teachers with other labels: %v", err)
	}
}
