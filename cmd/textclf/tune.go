package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/textclf/textclf/classic"
	"github.com/textclf/textclf/data"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/plot"
	"github.com/textclf/textclf/tune"
)

const tuneLong = `Searches the hyper-parameters of textclf train for any --arch: each trial trains on --train with
parameters drawn from the search space and is scored on --eval (or a --validation-split of --train).
The space is --space FILE (JSON) and/or --param NAME=SPEC flags; by default it is transformers'
Optuna space for transformers (lr, epochs, seed, batch size) and the knobs fastText's autotune
searches for fasttext (lr, epochs, dim, word n-grams, minn/maxn, bucket); a training flag given on
the command line is fixed for every trial and left out of the default space, as fastText's
autotune does. Trials are drawn by TPE (random for the first --startup-trials) or at random,
pruned by the median rule on their per-epoch evaluations, and stop at --time-budget (a running
trial is stopped) or after --trials. OUTPUT receives study.json, trials.jsonl (one trial a line),
best.json (with the textclf train command that retrains the best configuration) and trials.png;
the table of trials is printed at the end. Running the same command again with the same --output
continues the search.`

// tuneFlags are the search's own flags; the training flags are a
// trainFlags.
type tuneFlags struct {
	train                        trainFlags
	space                        string
	params                       []string
	sampler, pruner              string
	multivariate, defaultsFirst  bool
	startupTrials, prunerStartup int
	prunerWarmup, trials         int
	budget                       time.Duration
	samplerSeed                  uint64
	maxMemoryGB                  float64
}

// tuneOwnFlags are the flags of tune that are not training flags (metric
// is the objective's, no longer only the best-model choice).
var tuneOwnFlags = map[string]bool{
	"space": true, "param": true, "sampler": true, "pruner": true, "multivariate": true, "defaults-first": true,
	"startup-trials": true, "pruner-startup-trials": true, "pruner-warmup-steps": true, "trials": true,
	"time-budget": true, "sampler-seed": true, "max-memory-gb": true, "metric": true, "help": true,
}

// trainFlagSet is the subset of fs holding the training flags (its Visit
// sees none: look at each flag's Changed).
func trainFlagSet(fs *pflag.FlagSet) *pflag.FlagSet {
	out := pflag.NewFlagSet("train", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if !tuneOwnFlags[f.Name] {
			out.AddFlag(f)
		}
	})
	return out
}

func newTuneCmd() *cobra.Command {
	f := &tuneFlags{}
	cmd := &cobra.Command{
		Use:   "tune [--arch ARCH] --train FILE --eval FILE --output DIR [--space FILE] [--param NAME=SPEC]...",
		Short: "Hyper-parameter search (TPE or random, median pruning, a time budget) for any --arch",
		Long:  tuneLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkArchFlags(cmd.Flags(), f.train.arch, "metric"); err != nil {
				return err
			}
			tfs := trainFlagSet(cmd.Flags())
			if err := applyArchDefaults(tfs, f.train.arch); err != nil {
				return err
			}
			return runTune(cmd, f, tfs)
		},
	}
	fs := cmd.Flags()
	f.train.registerCommon(fs, false)
	f.train.registerTransformer(fs, true)
	f.train.registerClassic(fs)
	fs.Lookup("output").Usage = "study directory: study.json, trials.jsonl, best.json, trials.png (run again with the same --output to continue)"
	fs.Lookup("metric").Usage = "objective: accuracy, f1 or loss (transformer), with its direction (loss minimised); default: transformers' default objective, the sum of accuracy and f1 (the loss for regression)"
	fs.StringVar(&f.space, "space", "", "search space file (JSON): {\"NAME\": {\"type\": \"float\"|\"int\", \"low\": L, \"high\": H, \"log\": true, \"step\": S} or {\"type\": \"categorical\", \"choices\": [...]}, ...}")
	fs.StringArrayVar(&f.params, "param", nil, "a parameter of the search space: NAME=float:LOW:HIGH[:log|:step=S], NAME=int:LOW:HIGH[:log|:step=S] or NAME=categorical:A,B,... (repeatable; NAME is a train flag)")
	fs.StringVar(&f.sampler, "sampler", "tpe", "sampler: tpe (Optuna's TPESampler), random, or autotune (fastText's autotune strategy: Gaussian steps around the best trial, narrowing over the budget)")
	fs.BoolVar(&f.multivariate, "multivariate", false, "TPE: one joint Parzen estimator over all parameters (Optuna's multivariate=True) instead of one per parameter")
	fs.IntVar(&f.startupTrials, "startup-trials", 10, "TPE: trials sampled at random before TPE takes over (Optuna's n_startup_trials)")
	fs.StringVar(&f.pruner, "pruner", "median", "pruner of trials on their per-epoch evaluations: median (Optuna's MedianPruner) or none")
	fs.IntVar(&f.prunerStartup, "pruner-startup-trials", 5, "median pruner: complete trials needed before pruning (n_startup_trials)")
	fs.IntVar(&f.prunerWarmup, "pruner-warmup-steps", 0, "median pruner: no pruning before this evaluation step (n_warmup_steps)")
	fs.DurationVar(&f.budget, "time-budget", 5*time.Minute, "time for all trials together (as fastText's -autotune-duration); a trial running past it is stopped")
	fs.IntVar(&f.trials, "trials", 0, "stop after this many trials (0: only the time budget stops the search)")
	fs.Uint64Var(&f.samplerSeed, "sampler-seed", 0, "seed of the sampler (0: drawn at random and kept in study.json)")
	fs.BoolVar(&f.defaultsFirst, "defaults-first", true, "trial 0 trains the arch's defaults (those inside the space), as fastText's autotune starts from them")
	fs.Float64Var(&f.maxMemoryGB, "max-memory-gb", 4, "fasttext: fail at once a trial whose input matrix (bucket × dim floats) would exceed this many GB (0: no limit)")
	if err := applyArchDefaults(trainFlagSet(fs), archTransformer); err != nil {
		panic(err) // the transformer's defaults are the program's own
	}
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		if err := applyArchDefaults(trainFlagSet(c.Flags()), f.train.arch); err != nil {
			fmt.Fprintln(c.ErrOrStderr(), err)
		}
		c.Long = tuneLong + fmt.Sprintf("\n\nThe training flags below are those of --arch %s, with its defaults; `textclf tune --arch ARCH --help` lists another arch's.", f.train.arch)
		if p := c.Parent(); p != nil {
			p.HelpFunc()(c, args)
		}
	})
	return cmd
}

// studyFile is OUTPUT/study.json: what a resumed search must share with
// the one it continues.
type studyFile struct {
	Arch      string          `json:"arch"`
	Space     tune.Space      `json:"space"`
	Metric    string          `json:"metric"`
	Direction tune.Direction  `json:"direction"`
	Seed      uint64          `json:"sampler_seed"`
	Train     string          `json:"train"`
	Eval      string          `json:"eval,omitempty"`
	Split     float64         `json:"validation_split,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// bestFile is OUTPUT/best.json.
type bestFile struct {
	Trial     int                `json:"trial"`
	Metric    string             `json:"metric"`
	Direction tune.Direction     `json:"direction"`
	Value     float64            `json:"value"`
	Metrics   map[string]float64 `json:"metrics"`
	Params    map[string]any     `json:"params"`
	Model     string             `json:"model,omitempty"`
	Command   []string           `json:"command"`
	Shell     string             `json:"shell"`
}

// searchSpace builds the space from --space and --param, or the arch's
// default space less the parameters given as flags.
func searchSpace(f *tuneFlags, tfs *pflag.FlagSet, stderr io.Writer) (tune.Space, error) {
	var space tune.Space
	if f.space != "" {
		s, err := tune.ReadSpace(f.space)
		if err != nil {
			return nil, fmt.Errorf("--space: %w", err)
		}
		space = s
	}
	for _, spec := range f.params {
		p, err := tune.ParseParam(spec)
		if err != nil {
			return nil, fmt.Errorf("--param: %w", err)
		}
		if space.Lookup(p.Name) != nil {
			return nil, fmt.Errorf("--param %s: parameter %q is already in the search space", spec, p.Name)
		}
		space = append(space, p)
	}
	arch := f.train.arch
	if f.space != "" || len(f.params) > 0 {
		for _, p := range space {
			if fl := tfs.Lookup(p.Name); fl != nil && fl.Changed {
				return nil, fmt.Errorf("--%s is given as a flag and searched in the space: give one or the other", p.Name)
			}
		}
		if len(space) == 0 {
			return nil, errors.New("empty search space")
		}
		return space, tune.CheckSpace(arch, space)
	}
	def, err := tune.DefaultSpace(arch)
	if err != nil {
		return nil, err
	}
	var fixed []string
	for _, p := range def {
		fl := tfs.Lookup(p.Name)
		switch {
		case fl != nil && fl.Changed:
			fixed = append(fixed, "--"+p.Name)
		case p.Name == "dim" && f.train.vectors != "":
			fixed = append(fixed, "--dim (from --vectors)")
		case p.Name == "minn" && tfs.Lookup("maxn").Changed && f.train.maxn == 0:
			fixed = append(fixed, "--minn (--maxn 0: no char n-grams)")
		default:
			space = append(space, p)
		}
	}
	if len(fixed) > 0 {
		fmt.Fprintf(stderr, "not searched, given on the command line: %s\n", strings.Join(fixed, ", "))
	}
	if len(space) == 0 {
		return nil, fmt.Errorf("empty search space: every parameter of --arch %s's default space is given as a flag; give --space or --param", arch)
	}
	return space, tune.CheckSpace(arch, space)
}

func runTune(cmd *cobra.Command, f *tuneFlags, tfs *pflag.FlagSet) error {
	stderr := cmd.ErrOrStderr()
	tf := &f.train
	arch := tf.arch
	switch {
	case tf.trainPath == "" || tf.output == "":
		return errors.New("--train and --output are required")
	case tf.evalPath == "" && tf.validationSplit <= 0:
		return errors.New("give evaluation data: --eval FILE or --validation-split F (the trials are scored on it)")
	case tf.evalPath != "" && tf.validationSplit > 0:
		return errors.New("give --eval or --validation-split, not both")
	case f.budget <= 0:
		return fmt.Errorf("--time-budget must be positive, got %s", f.budget)
	case f.trials < 0:
		return fmt.Errorf("--trials must not be negative, got %d", f.trials)
	case f.sampler != "tpe" && f.sampler != "random" && f.sampler != "autotune":
		return fmt.Errorf("--sampler must be tpe, random or autotune, got %q", f.sampler)
	case f.pruner != "median" && f.pruner != "none":
		return fmt.Errorf("--pruner must be median or none, got %q", f.pruner)
	case f.startupTrials < 0:
		return fmt.Errorf("--startup-trials must not be negative, got %d", f.startupTrials)
	case f.maxMemoryGB < 0:
		return fmt.Errorf("--max-memory-gb must not be negative, got %g", f.maxMemoryGB)
	}
	metric := tf.metric
	if !cmd.Flags().Lookup("metric").Changed {
		metric = ""
	}
	switch {
	case metric == "", metric == "accuracy", metric == "f1":
	case metric == "loss" && arch == archTransformer:
	case metric == "loss":
		return fmt.Errorf("--metric loss: --arch %s evaluations give accuracy and f1", arch)
	default:
		return fmt.Errorf("--metric must be accuracy, f1 or loss, got %q", metric)
	}
	space, err := searchSpace(f, tfs, stderr)
	if err != nil {
		return err
	}
	if tf.validationSplit > 0 && space.Lookup("seed") != nil {
		return errors.New("--validation-split splits with --seed, which the space searches: give --eval, or fix --seed")
	}
	pruner := tune.Pruner(nil)
	if f.pruner == "median" {
		p := tune.NewMedianPruner()
		p.NStartupTrials, p.NWarmupSteps = f.prunerStartup, f.prunerWarmup
		if err := p.Check(); err != nil {
			return err
		}
		pruner = p
	}

	// The data, read once for every trial.
	opt, err := tf.data.options(false)
	if err != nil {
		return err
	}
	trainSet, err := data.ReadFile(tf.trainPath, opt)
	if err != nil {
		return err
	}
	for _, w := range trainSet.Warnings() {
		fmt.Fprintln(stderr, "warning: "+w)
	}
	var evalSet *data.Dataset
	if tf.evalPath != "" {
		if evalSet, err = data.ReadFile(tf.evalPath, opt); err != nil {
			return err
		}
	} else if trainSet, evalSet, err = data.StratifiedSplit(trainSet, tf.validationSplit, tf.seed); err != nil {
		return fmt.Errorf("--validation-split: %w", err)
	}
	trainSet = trainSet.Head(tf.maxTrainSamples)

	var (
		objective tune.Objective
		defaults  map[string]any
		retrain   func(params map[string]any) map[string]string
		trialDir  func(n int) string
	)
	regression := false
	if arch == archTransformer {
		cfg, err := tf.transformerConfig(cmd)
		if err != nil {
			return err
		}
		regression = cfg.ProblemType == model.Regression
		if metric != "" {
			cfg.Metric = metric // the best checkpoint of each trial by the objective's metric
		}
		o := &tune.TransformerObjective{Base: cfg, Train: trainSet, Eval: evalSet, Dir: filepath.Join(tf.output, "trials")}
		if err := o.Check(space); err != nil {
			return err
		}
		warned := map[string]bool{}
		o.Warning = func(msg string) {
			if !warned[msg] {
				warned[msg] = true
				fmt.Fprintln(stderr, "warning: "+msg)
			}
		}
		objective, defaults, trialDir = o.Run, o.Defaults(space), o.TrialDir
		retrain = func(map[string]any) map[string]string { return nil }
	} else {
		cfg, err := tf.classicConfig(arch, tfs)
		if err != nil {
			return err
		}
		cfg.Valid = nil
		o := &tune.ClassicObjective{Base: cfg, Train: trainSet, Eval: evalSet, MaxMemory: int64(f.maxMemoryGB * 1e9),
			FixedMaxn: tfs.Lookup("maxn").Changed}
		if err := o.Check(space); err != nil {
			return err
		}
		objective, defaults = o.Run, o.Defaults(space)
		retrain = func(params map[string]any) map[string]string {
			// maxn follows a tuned minn: the command must say so.
			_, minn := params["minn"]
			_, maxn := params["maxn"]
			if c, err := o.Config(params); err == nil && arch == classic.ArchFastText && minn && !maxn && !o.FixedMaxn {
				return map[string]string{"maxn": fmt.Sprint(c.FastText.Maxn)}
			}
			return nil
		}
	}
	goal := tune.GoalFor(metric, regression)

	// The study directory: a new search, or the one to continue.
	if err := os.MkdirAll(tf.output, 0o755); err != nil {
		return err
	}
	sf := studyFile{Arch: arch, Space: space, Metric: metric, Direction: goal.Direction, Seed: f.samplerSeed, Train: tf.trainPath, Eval: tf.evalPath, Split: tf.validationSplit}
	if err := openStudy(filepath.Join(tf.output, "study.json"), &sf, cmd.Flags().Lookup("sampler-seed").Changed); err != nil {
		return err
	}
	trials, log, err := tune.OpenLog(filepath.Join(tf.output, "trials.jsonl"), space)
	if err != nil {
		return err
	}
	defer log.Close()
	var sampler tune.Sampler = tune.RandomSampler{}
	switch f.sampler {
	case "tpe":
		s := tune.NewTPESampler()
		s.NStartupTrials, s.Multivariate = f.startupTrials, f.multivariate
		sampler = s
	case "autotune":
		s := &tune.AutotuneSampler{Duration: f.budget}
		if arch == classic.ArchFastText {
			s.Sigmas = tune.FastTextSigmas
		}
		sampler = s
	}
	study := &tune.Study{Space: space, Goal: goal, Sampler: sampler, Pruner: pruner, Seed: sf.Seed,
		TimeBudget: f.budget, MaxTrials: f.trials, Trials: trials}
	if f.defaultsFirst {
		study.Enqueue = []map[string]any{defaults}
	}
	if len(trials) > 0 {
		fmt.Fprintf(stderr, "continuing the search in %s: %d trials done, %s of the %s budget used\n", tf.output, len(trials), study.Spent().Round(time.Second), f.budget)
	}
	command := func(t *tune.Trial) []string {
		return retrainCommand(cmd, tfs, arch, t.Params, retrain(t.Params), filepath.Join(tf.output, "best-model"))
	}
	study.Start = func(n int, params map[string]any, source string) {
		fmt.Fprintf(stderr, "trial %d (%s): %s\n", n, source, formatParams(space, params))
	}
	study.OnTrial = func(t tune.Trial) error {
		if err := log.Append(t); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "trial %d %s", t.Number, t.State)
		if t.Value != nil {
			fmt.Fprintf(stderr, "  %s %.4f", goal.Name(), *t.Value)
		}
		if t.Error != "" {
			fmt.Fprintf(stderr, "  (%s)", t.Error)
		}
		fmt.Fprintf(stderr, "  in %.1fs; %s of %s used\n", t.Seconds, study.Spent().Round(time.Second), f.budget)
		best := study.Best()
		if trialDir != nil {
			// Only the best transformer trial keeps its model.
			for _, old := range study.Trials {
				if best == nil || old.Number != best.Number {
					os.RemoveAll(trialDir(old.Number))
				}
			}
		}
		if best == nil || best.Number != t.Number {
			return nil
		}
		bf := bestFile{Trial: best.Number, Metric: goal.Name(), Direction: goal.Direction, Value: *best.Value, Metrics: best.Metrics, Params: best.Params, Command: command(best)}
		if trialDir != nil {
			bf.Model = trialDir(best.Number)
		}
		bf.Shell = shellJoin(bf.Command)
		b, err := json.MarshalIndent(bf, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.WriteBytes(filepath.Join(tf.output, "best.json"), append(b, '\n'))
	}

	ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the program at once
	}()
	runErr := study.Optimize(ctx, objective)
	if len(study.Trials) > 0 {
		if err := plot.Trials(filepath.Join(tf.output, "trials.png"), study.Trials, goal); err != nil {
			return err
		}
		printTrials(cmd.OutOrStdout(), space, study, goal, command)
	}
	if runErr != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted: %d trials are recorded in %s; run the same command to continue the search", len(study.Trials), filepath.Join(tf.output, "trials.jsonl"))
	}
	if runErr != nil {
		return runErr
	}
	if study.Best() == nil {
		return fmt.Errorf("no trial completed in the %s budget (%d trials): raise --time-budget, or see the errors in %s", f.budget, len(study.Trials), filepath.Join(tf.output, "trials.jsonl"))
	}
	return nil
}

// openStudy writes study.json for a new search, or checks that the search
// it describes is the one asked for and takes its sampler seed.
func openStudy(path string, sf *studyFile, seedGiven bool) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if sf.Seed == 0 {
			sf.Seed = uint64(time.Now().UnixNano())&(1<<53-1) | 1
		}
		out, err := json.MarshalIndent(sf, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.WriteBytes(path, append(out, '\n'))
	}
	if err != nil {
		return err
	}
	var old studyFile
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	same := func(a, b tune.Space) bool {
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		return bytes.Equal(x, y)
	}
	switch {
	case old.Arch != sf.Arch:
		return fmt.Errorf("%s holds a search of --arch %s, not %s: give another --output", filepath.Dir(path), old.Arch, sf.Arch)
	case !same(old.Space, sf.Space):
		x, _ := json.Marshal(old.Space)
		return fmt.Errorf("%s holds a search over another space (%s): give another --output, or the same space", filepath.Dir(path), x)
	case old.Metric != sf.Metric || old.Direction != sf.Direction:
		return fmt.Errorf("%s holds a search of another objective (%q, %s): give another --output, or the same --metric", filepath.Dir(path), old.Metric, old.Direction)
	case old.Train != sf.Train || old.Eval != sf.Eval || old.Split != sf.Split:
		return fmt.Errorf("%s holds a search on other data (--train %s, --eval %s, --validation-split %g): give another --output", filepath.Dir(path), old.Train, old.Eval, old.Split)
	case seedGiven && old.Seed != sf.Seed:
		return fmt.Errorf("%s holds a search with --sampler-seed %d, not %d", filepath.Dir(path), old.Seed, sf.Seed)
	}
	sf.Seed = old.Seed
	return nil
}

// retrainCommand is the textclf train command of a configuration: the
// training flags given to tune (less --output), the parameters, extra
// derived flags, and --output out.
func retrainCommand(cmd *cobra.Command, tfs *pflag.FlagSet, arch string, params map[string]any, extra map[string]string, out string) []string {
	args := []string{cmd.Root().Name(), "train", "--arch", arch}
	tfs.VisitAll(func(f *pflag.Flag) {
		if f.Changed && f.Name != "output" && f.Name != "arch" {
			args = append(args, flagArgs(f)...)
		}
	})
	names := make([]string, 0, len(params)+len(extra))
	for n := range params {
		names = append(names, n)
	}
	for n := range extra {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if v, ok := params[n]; ok {
			args = append(args, "--"+n, tune.FormatValue(v))
		} else {
			args = append(args, "--"+n, extra[n])
		}
	}
	return append(args, "--output", out)
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// formatParams writes params in the space's order.
func formatParams(space tune.Space, params map[string]any) string {
	parts := make([]string, 0, len(space))
	for _, p := range space {
		parts = append(parts, p.Name+"="+formatValue(params[p.Name]))
	}
	return strings.Join(parts, " ")
}

func formatValue(v any) string {
	if x, ok := v.(float64); ok && x != math.Trunc(x) {
		return fmt.Sprintf("%.4g", x)
	}
	return tune.FormatValue(v)
}

// printTrials writes the table of trials, the best one and the command
// that retrains it.
func printTrials(w io.Writer, space tune.Space, study *tune.Study, goal tune.Goal, command func(*tune.Trial) []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "trial\tstate\t%s\tseconds", goal.Name())
	for _, p := range space {
		fmt.Fprintf(tw, "\t%s", p.Name)
	}
	fmt.Fprintln(tw)
	best := study.Best()
	for _, t := range study.Trials {
		mark := ""
		if best != nil && t.Number == best.Number {
			mark = " *"
		}
		value := "-"
		if t.Value != nil {
			value = fmt.Sprintf("%.4f", *t.Value)
		} else if t.State == tune.Pruned && len(t.Intermediate) > 0 {
			value = fmt.Sprintf("(%.4f@%d)", t.Intermediate[len(t.Intermediate)-1].Value, t.Intermediate[len(t.Intermediate)-1].Step)
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%.1f", t.Number, mark, t.State, value, t.Seconds)
		for _, p := range space {
			fmt.Fprintf(tw, "\t%s", formatValue(t.Params[p.Name]))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if best == nil {
		return
	}
	fmt.Fprintf(w, "best: trial %d, %s %.4f", best.Number, goal.Name(), *best.Value)
	for _, k := range []string{"accuracy", "f1", "loss"} {
		if v, ok := best.Metrics[k]; ok && k != goal.Metric {
			fmt.Fprintf(w, ", %s %.4f", k, v)
		}
	}
	fmt.Fprintf(w, "\nretrain: %s\n", shellJoin(command(best)))
}
