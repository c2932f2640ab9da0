// Command beam-bench compares the throughput of textclf-beam on Prism (the
// beam module's command, Beam's Go runner in-process) with textclf predict
// on the same file: both classify LINES texts with the same model and
// write JSONL; the runs alternate, REPEATS times each, and the outputs are
// compared (labels, and the largest score difference).
//
// The model is a random MiniLM-shaped BERT (6 layers, hidden 384) with the
// bert-base-uncased tokenizer, built in a temporary directory (or -model
// DIR). The texts are the sentences of SST-2's train.tsv (-data), cycled
// to LINES. Run from the repository root:
//
//	go run ./bench/beam [-lines 20000] [-repeats 2] [-data ../shared/datasets/sst2/train.tsv]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/textclf/textclf/bench/internal/fixture"
)

func main() {
	lines := flag.Int("lines", 20000, "texts to classify")
	repeats := flag.Int("repeats", 2, "runs of each command")
	dataPath := flag.String("data", "../shared/datasets/sst2/train.tsv", "TSV with a header label<TAB>sentence")
	modelDir := flag.String("model", "", "model to use (default: a random MiniLM-shaped BERT)")
	flag.Parse()
	if err := run(*lines, *repeats, *dataPath, *modelDir); err != nil {
		fmt.Fprintln(os.Stderr, "beam-bench:", err)
		os.Exit(1)
	}
}

func run(lines, repeats int, dataPath, modelDir string) error {
	tmp, err := os.MkdirTemp("", "beam-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	textclfBin, beamBin := filepath.Join(tmp, "textclf"), filepath.Join(tmp, "textclf-beam")
	if err := sh("", "go", "build", "-o", textclfBin, "./cmd/textclf"); err != nil {
		return err
	}
	if err := sh("beam", "go", "build", "-o", beamBin, "./cmd/textclf-beam"); err != nil {
		return err
	}
	if modelDir == "" {
		modelDir = filepath.Join(tmp, "model")
		if err := fixture.SaveMiniLM(modelDir, "testdata/tokenizer/bert-base-uncased/tokenizer.json"); err != nil {
			return err
		}
	}
	input := filepath.Join(tmp, "input.txt")
	if err := writeInput(dataPath, input, lines); err != nil {
		return err
	}
	fmt.Printf("%d lines of %s, model %s, %d CPUs (GOMAXPROCS %d), load average %s\n",
		lines, dataPath, modelDir, runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg())
	var predictSecs, beamSecs []float64
	predictOut := filepath.Join(tmp, "predict.jsonl")
	for i := range repeats {
		start := time.Now()
		predictCPU, err := shTo(predictOut, input, textclfBin, "predict", "--model", modelDir, "--all")
		if err != nil {
			return err
		}
		predictSecs = append(predictSecs, time.Since(start).Seconds())
		out := filepath.Join(tmp, fmt.Sprintf("beam-%d", i), "pred")
		start = time.Now()
		beamCPU, err := shTo(os.DevNull, "", beamBin, "--input", input, "--output", out, "--model", modelDir, "--num-shards", "2")
		if err != nil {
			return err
		}
		beamSecs = append(beamSecs, time.Since(start).Seconds())
		// On a shared machine the wall time depends on the share of the
		// cores a process gets; the CPU time (user + system) is what the
		// work costs, and bounds the throughput on two idle cores.
		fmt.Printf("run %d: textclf predict %.1f s (%.1f texts/s; CPU %.1f s), textclf-beam %.1f s (%.1f texts/s; CPU %.1f s); ratio %.3f (CPU %.3f); load average %s\n",
			i+1, predictSecs[i], float64(lines)/predictSecs[i], predictCPU.Seconds(), beamSecs[i], float64(lines)/beamSecs[i], beamCPU.Seconds(),
			predictSecs[i]/beamSecs[i], predictCPU.Seconds()/beamCPU.Seconds(), loadavg())
		if i == 0 {
			same, maxDiff, err := compare(predictOut, out+"-*")
			if err != nil {
				return err
			}
			fmt.Printf("outputs: %d of %d lines with the same text, label and score order; largest score difference %.2g\n", same, lines, maxDiff)
		}
	}
	sort.Float64s(predictSecs)
	sort.Float64s(beamSecs)
	fmt.Printf("best: textclf predict %.1f texts/s, textclf-beam %.1f texts/s, ratio %.3f\n",
		float64(lines)/predictSecs[0], float64(lines)/beamSecs[0], predictSecs[0]/beamSecs[0])
	return nil
}

// writeInput writes lines texts: the sentence column of a TSV, cycled.
func writeInput(dataPath, out string, lines int) error {
	b, err := os.ReadFile(dataPath)
	if err != nil {
		return err
	}
	var texts []string
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Split(l, "\t"); i > 0 && len(f) == 2 && strings.TrimSpace(f[1]) != "" {
			texts = append(texts, f[1])
		}
	}
	if len(texts) == 0 {
		return fmt.Errorf("%s: no texts", dataPath)
	}
	var sb strings.Builder
	for i := range lines {
		sb.WriteString(texts[i%len(texts)])
		sb.WriteByte('\n')
	}
	return os.WriteFile(out, []byte(sb.String()), 0o644)
}

// line is what compare reads of an output line.
type line struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Scores []struct {
		Label string  `json:"label"`
		Score float64 `json:"score"`
	} `json:"scores"`
}

// compare matches the lines of predict's output and the beam shards by
// text (the shards are in no order) and counts those with the same label
// and score order, with the largest score difference.
func compare(predictOut, shardGlob string) (same int, maxDiff float64, err error) {
	want, err := readLines(predictOut)
	if err != nil {
		return 0, 0, err
	}
	shards, _ := filepath.Glob(shardGlob)
	byText := map[string][]line{}
	n := 0
	for _, s := range shards {
		if strings.Contains(s, ".failed-") {
			continue
		}
		got, err := readLines(s)
		if err != nil {
			return 0, 0, err
		}
		for _, l := range got {
			byText[l.Text] = append(byText[l.Text], l)
			n++
		}
	}
	if n != len(want) {
		return 0, 0, fmt.Errorf("textclf-beam wrote %d lines, textclf predict %d", n, len(want))
	}
	for _, w := range want {
		cands := byText[w.Text]
		if len(cands) == 0 {
			return 0, 0, fmt.Errorf("text %q missing from textclf-beam's output", w.Text)
		}
		g := cands[len(cands)-1]
		byText[w.Text] = cands[:len(cands)-1]
		ok := g.Label == w.Label && len(g.Scores) == len(w.Scores)
		for i := range w.Scores {
			if ok && g.Scores[i].Label != w.Scores[i].Label {
				ok = false
			}
			if i < len(g.Scores) {
				maxDiff = math.Max(maxDiff, math.Abs(g.Scores[i].Score-w.Scores[i].Score))
			}
		}
		if ok {
			same++
		}
	}
	return same, maxDiff, nil
}

func readLines(path string) ([]line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// sh runs a command in dir with the output on stderr.
func sh(dir string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	return cmd.Run()
}

// shTo runs a command with stdin from in (when not "") and stdout to out,
// and returns the CPU time it used (user + system); stderr is discarded
// unless it fails.
func shTo(out, in string, name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cmd.Stdout = f
	if in != "" {
		r, err := os.Open(in)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		cmd.Stdin = r
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// loadavg is the machine's load average (/proc/loadavg), or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " / ")
}
