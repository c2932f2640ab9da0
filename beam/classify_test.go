package textclfbeam

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/textclf/textclf"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
)

// tinyBERT is the test model of the core module: 3 labels, 40 positions.
const tinyBERT = "../testdata/tiny-bert"

func TestMain(m *testing.M) {
	os.Setenv("HF_HUB_OFFLINE", "1") // a path that does not exist is never looked up on the hub
	ptest.MainWithDefault(m, "prism")
}

func init() {
	register.Function2x1[string, PredictionResult, string](keyedResultString)
	register.Function1x1[PredictionResult, string](resultString)
	register.Function1x1[DeadLetter, string](deadInput)
	register.Function2x1[string, DeadLetter, string](keyedDeadString)
}

// resetCache empties the process's model cache and counters.
func resetCache() {
	models.Lock()
	models.m = map[string]*loaded{}
	models.Unlock()
	loads.Store(0)
	setups.Store(0)
	bundles.Store(0)
}

// corpus returns n distinct texts of 1 to ~60 tokens: the lines of the
// tokenizer corpus, numbered.
func corpus(t *testing.T, n int) []string {
	t.Helper()
	b, err := os.ReadFile("../testdata/tokenizer/corpus-small.txt")
	if err != nil {
		t.Fatal(err)
	}
	var base []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			base = append(base, l)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", base[i%len(base)], i)
	}
	return out
}

// predictLines are the lines textclf predict --format jsonl --all writes
// for texts: the model opened as predict opens it, the texts classified in
// one call and written by the same PredictionWriter.
func predictLines(t *testing.T, model string, texts []string, opt textclf.ClassifyOptions) []string {
	t.Helper()
	clf, err := textclf.Open(context.Background(), model, textclf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]textclf.Input, len(texts))
	for i, s := range texts {
		inputs[i] = textclf.Input{Text: s}
	}
	preds, err := clf.ClassifyInputs(context.Background(), inputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w, err := textclf.NewPredictionWriter(&b, textclf.WriteOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range preds {
		if err := w.Write(texts[i], p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	sort.Strings(lines)
	return lines
}

// readShards reads the lines of the files matching glob, sorted.
func readShards(t *testing.T, glob string) (lines []string, files int) {
	t.Helper()
	names, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<16), 1<<24)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(lines)
	return lines, len(names)
}

// sameLine compares two lines of textclf predict's JSONL: the same text,
// labels and keys, and numbers within 1e-5. (Forward passes that group
// inputs differently round differently, by ~1e-7: predict sorts the whole
// file by length, a Beam worker each batch it gathers.)
func sameLine(got, want string) error {
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return err
	}
	return sameJSON(g, w, "")
}

func sameJSON(g, w any, at string) error {
	switch w := w.(type) {
	case float64:
		if g, ok := g.(float64); !ok || math.Abs(g-w) > 1e-5 {
			return fmt.Errorf("%s: %v, want %v", at, g, w)
		}
	case []any:
		g, ok := g.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: %v, want %v", at, g, w)
		}
		for i := range w {
			if err := sameJSON(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case map[string]any:
		g, ok := g.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: %v, want %v", at, g, w)
		}
		for k := range w {
			if err := sameJSON(g[k], w[k], at+"."+k); err != nil {
				return err
			}
		}
	default:
		if g != w {
			return fmt.Errorf("%s: %v, want %v", at, g, w)
		}
	}
	return nil
}

// metric finds a counter's value, or a distribution's count and sum.
func metric(t *testing.T, pr beam.PipelineResult, name string) (count, sum int64) {
	t.Helper()
	res := pr.Metrics().Query(func(r metrics.SingleResult) bool {
		return r.Namespace() == DefaultMetricsNamespace && r.Name() == name
	})
	for _, c := range res.Counters() {
		count += c.Result()
	}
	for _, d := range res.Distributions() {
		v := d.Result()
		count += v.Count
		sum += v.Sum
	}
	return count, sum
}

// TestJobMatchesPredict runs cmd/textclf-beam's pipeline on Prism over
// several thousand lines in two files with a few bad ones: the
// predictions equal textclf predict's lines for the good lines, the
// dead letters hold exactly the bad lines, and the metrics count them.
func TestJobMatchesPredict(t *testing.T) {
	resetCache()
	dir := t.TempDir()
	texts := corpus(t, 3000)
	bad := []string{"caf\xe9 au lait", "\xff\xfe broken", "ok until \xc3"}
	files := [][]string{append(slices.Clone(texts[:1700]), bad[0]), append(append([]string{bad[1]}, texts[1700:]...), bad[2])}
	for i, lines := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%d.txt", i)), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	job := Job{Input: filepath.Join(dir, "in-*.txt"), Output: filepath.Join(dir, "out", "pred"), NumShards: 3,
		Classify: Config{Model: tinyBERT, MinBatchSize: 8, MaxBatchSize: 64}}
	if _, err := job.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	if err := job.Build(s); err != nil {
		t.Fatal(err)
	}
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}

	got, shards := readShards(t, filepath.Join(dir, "out", "pred-*"))
	if shards != 3 {
		t.Errorf("%d prediction shards, want 3", shards)
	}
	want := predictLines(t, tinyBERT, texts, textclf.ClassifyOptions{})
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	for i := range want {
		if err := sameLine(got[i], want[i]); err != nil {
			t.Fatalf("prediction differs from textclf predict's: %v\n got %s\nwant %s", err, got[i], want[i])
		}
	}

	dead, _ := readShards(t, filepath.Join(dir, "out", "pred.failed-*"))
	var deadInputs []string
	for _, l := range dead {
		if !strings.Contains(l, `"error":"text is not valid UTF-8"`) || !strings.Contains(l, `"file":"`+dir) {
			t.Errorf("dead letter %s: want the file and the reason", l)
		}
		var d deadLine
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		deadInputs = append(deadInputs, string(d.InputBytes))
	}
	sort.Strings(deadInputs)
	wantDead := slices.Clone(bad)
	sort.Strings(wantDead)
	if !slices.Equal(deadInputs, wantDead) {
		t.Errorf("dead letters %q, want exactly the bad lines %q", deadInputs, wantDead)
	}

	if n, _ := metric(t, pr, "num_inferences"); n != int64(len(texts)) {
		t.Errorf("num_inferences %d, want %d", n, len(texts))
	}
	batches, sum := metric(t, pr, "inference_request_batch_size")
	if sum != int64(len(texts)) || batches < int64(len(texts))/64 {
		t.Errorf("inference_request_batch_size: %d batches of %d inputs in all; want all %d inputs in batches of at most 64", batches, sum, len(texts))
	}
	if n, _ := metric(t, pr, "inference_batch_latency_micro_secs"); n != batches {
		t.Errorf("inference_batch_latency_micro_secs has %d values, want one per batch (%d)", n, batches)
	}
	if n, _ := metric(t, pr, "load_model_latency_milli_secs"); n != 1 {
		t.Errorf("load_model_latency_milli_secs has %d values, want 1 (one load)", n)
	}
	if n, _ := metric(t, pr, "failed_batches_counter"); n != 0 {
		t.Errorf("failed_batches_counter %d, want 0", n)
	}
	if loads.Load() != 1 {
		t.Errorf("%d model loads, want 1", loads.Load())
	}
}

func resultString(r PredictionResult) string {
	return fmt.Sprintf("%s|%s|%s", r.ModelID, r.Input, r.Prediction.Label)
}

func keyedResultString(k string, r PredictionResult) string { return k + "=" + resultString(r) }

func deadInput(d DeadLetter) string { return d.Input }

func keyedDeadString(k string, d DeadLetter) string { return k + "=" + d.Input }

// TestModelLoadedOncePerProcess runs two Classify transforms (keyed and
// not) in one pipeline, then a second pipeline: every DoFn instance and
// bundle shares one load. It also checks LongText Reject: too-long texts and
// invalid UTF-8 go to the dead letters, keys kept.
func TestModelLoadedOncePerProcess(t *testing.T) {
	resetCache()
	clf, err := textclf.Open(context.Background(), tinyBERT, textclf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string // the texts within tiny-bert's 40 tokens
	for _, s := range corpus(t, 700) {
		if e, err := clf.Model.Encode(textclf.Input{Text: s}, textclf.EncodeOptions{}); err == nil && e.Len() <= clf.MaxLength() {
			texts = append(texts, s)
		}
	}
	if len(texts) < 400 {
		t.Fatalf("only %d short texts", len(texts))
	}
	long := strings.Repeat("a very long text ", 30)
	bad := []string{long, "bad \xff"}
	inputs := append(slices.Clone(texts), bad...)
	cfg := Config{Model: tinyBERT, ModelID: "tiny", LongText: Reject, MinBatchSize: 4, MaxBatchSize: 32}

	preds, err := clf.Classify(context.Background(), texts...)
	if err != nil {
		t.Fatal(err)
	}
	var want, wantKeyed []any
	for i, p := range preds {
		want = append(want, fmt.Sprintf("tiny|%s|%s", texts[i], p.Label))
		wantKeyed = append(wantKeyed, fmt.Sprintf("k%d=tiny|%s|%s", i%7, texts[i], p.Label))
	}
	var keyed []any
	for i, s := range inputs {
		keyed = append(keyed, kv{fmt.Sprintf("k%d", i%7), s})
	}
	var wantKeyedDead []any
	for i := len(texts); i < len(inputs); i++ {
		wantKeyedDead = append(wantKeyedDead, fmt.Sprintf("k%d=%s", i%7, inputs[i]))
	}

	p, s := beam.NewPipelineWithRoot()
	col := beam.CreateList(s, inputs)
	res, dead := Classify(s, cfg, col)
	passert.Equals(s, beam.ParDo(s, resultString, res), want...)
	passert.Equals(s, beam.ParDo(s, deadInput, dead), bad[0], bad[1])
	kres, kdead := ClassifyKeyed(s, cfg, beam.ParDo(s, splitKV, beam.CreateList(s, keyed)))
	passert.Equals(s, beam.ParDo(s, keyedResultString, kres), wantKeyed...)
	passert.Equals(s, beam.ParDo(s, keyedDeadString, kdead), wantKeyedDead...)
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := metric(t, pr, "num_inferences"); n != 2*int64(len(texts)) {
		t.Errorf("num_inferences %d, want %d", n, 2*len(texts))
	}
	if n, _ := metric(t, pr, "load_model_latency_milli_secs"); n != 1 {
		t.Errorf("load_model_latency_milli_secs has %d values, want 1", n)
	}

	p2, s2 := beam.NewPipelineWithRoot()
	res2, _ := Classify(s2, cfg, beam.CreateList(s2, texts))
	passert.Count(s2, res2, "predictions", len(texts))
	pr2, err := ptest.RunWithMetrics(p2)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := metric(t, pr2, "load_model_latency_milli_secs"); n != 0 {
		t.Errorf("second pipeline: load_model_latency_milli_secs has %d values, want 0 (the model is loaded)", n)
	}
	t.Logf("%d DoFn setups, %d bundles, %d loads", setups.Load(), bundles.Load(), loads.Load())
	if setups.Load() < 3 || bundles.Load() < 3 {
		t.Errorf("%d setups and %d bundles; want at least 3 of each (three Classify transforms)", setups.Load(), bundles.Load())
	}
	if loads.Load() != 1 {
		t.Errorf("%d model loads for %d DoFn setups and %d bundles, want 1", loads.Load(), setups.Load(), bundles.Load())
	}
}

// kv is a key and a text, turned into a Beam KV by splitKV.
type kv struct{ K, V string }

func splitKV(e kv) (string, string) { return e.K, e.V }

func init() {
	register.Function1x2[kv, string, string](splitKV)
	beam.RegisterType(reflect.TypeOf(kv{}))
}

// failingModel is tiny-bert except that a batch holding a text with "BOOM"
// fails.
type failingModel struct{ textclf.Model }

// boom marks the encoding of a text with "boom" in its type ids.
const boom = -7

func (m failingModel) Encode(in textclf.Input, opt textclf.EncodeOptions) (textclf.Encoding, error) {
	e, err := m.Model.Encode(in, opt)
	if err == nil && strings.Contains(in.Text, "boom") {
		e.TypeIDs = slices.Clone(e.TypeIDs)
		e.TypeIDs[0] = boom
	}
	return e, err
}

func (m failingModel) Logits(ctx context.Context, batch []textclf.Encoding) ([][]float32, error) {
	for _, e := range batch {
		if e.TypeIDs[0] == boom {
			return nil, errors.New("the model failed")
		}
	}
	return m.Model.Logits(ctx, batch)
}

// TestFailedBatchIsolatesBadInputs checks that when the model fails on a
// batch, the batch is counted as failed and only the inputs the model
// fails on alone become dead letters.
func TestFailedBatchIsolatesBadInputs(t *testing.T) {
	resetCache()
	clf, err := textclf.Open(context.Background(), tinyBERT, textclf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config{Model: "failing", MinBatchSize: 50, MaxBatchSize: 50}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	models.m[cfg.cacheKey()] = &loaded{clf: textclf.NewClassifier(failingModel{clf.Model}, textclf.Options{})}
	texts := corpus(t, 200)
	texts[10], texts[120] = "boom one", "two boom"
	p, s := beam.NewPipelineWithRoot()
	res, dead := Classify(s, cfg, beam.CreateList(s, texts))
	passert.Count(s, res, "predictions", len(texts)-2)
	passert.Equals(s, beam.ParDo(s, deadInput, dead), "boom one", "two boom")
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := metric(t, pr, "failed_batches_counter"); n != 2 {
		t.Errorf("failed_batches_counter %d, want 2", n)
	}
	if n, _ := metric(t, pr, "num_inferences"); n != int64(len(texts)-2) {
		t.Errorf("num_inferences %d, want %d", n, len(texts)-2)
	}
}

// TestJobErrorsBeforeWork checks that a glob matching nothing, a model that
// cannot be read and a CSV file without its text column are errors of
// Check, before any pipeline runs.
func TestJobErrorsBeforeWork(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("a text\n"), 0o644)
	badModel := filepath.Join(dir, "model")
	os.Mkdir(badModel, 0o755)
	os.WriteFile(filepath.Join(badModel, "config.json"), []byte(`{"model_type": "bert", "num_labels": `), 0o644)
	csv := filepath.Join(dir, "in.csv")
	os.WriteFile(csv, []byte("review,stars\ngood,5\n"), 0o644)
	cases := []struct {
		name string
		job  Job
		want string
	}{
		{"glob matches nothing", Job{Input: filepath.Join(dir, "nothing-*.txt"), Output: dir + "/o", Classify: Config{Model: tinyBERT}}, "no file matches"},
		{"unreadable model", Job{Input: in, Output: dir + "/o", Classify: Config{Model: badModel}}, badModel},
		{"missing model", Job{Input: in, Output: dir + "/o", Classify: Config{Model: filepath.Join(dir, "none")}}, "none"},
		{"no text column", Job{Input: csv, Output: dir + "/o", Read: ReadOptions{Header: "yes"}, Classify: Config{Model: tinyBERT}}, "no text column"},
		{"headerless two columns", Job{Input: csv, Output: dir + "/o", Classify: Config{Model: tinyBERT}}, "give the text column's 0-based index"},
		{"bad long text", Job{Input: in, Output: dir + "/o", Classify: Config{Model: tinyBERT, LongText: "cut"}}, "long text must be"},
		{"bad format", Job{Input: in, Output: dir + "/o", Read: ReadOptions{Format: "xml"}, Classify: Config{Model: tinyBERT}}, "format must be"},
		{"batch sizes", Job{Input: in, Output: dir + "/o", Classify: Config{Model: tinyBERT, MinBatchSize: 9, MaxBatchSize: 8}}, "min batch size 9 > max batch size 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.job.Check(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
