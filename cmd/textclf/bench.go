package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/internal/atomicfile"
	"github.com/textclf/textclf/model"
	"github.com/textclf/textclf/tensor"
	"github.com/textclf/textclf/train"
)

func newBenchCmd() *cobra.Command {
	var (
		modelDir, preset string
		saveConfig       string
		batch, seq       int
		trainMode        bool
		threads          int
		iters            int
		minSeconds       float64
		dtype            string
	)
	cmd := &cobra.Command{
		Use:   "bench --model DIR | --config bert-base|minilm|gpt2|qwen2-0.5b|modernbert-base",
		Short: "Measure forward (or training step) throughput on random token ids",
		Long: `Runs forward passes (with --train: forward, backward and an AdamW step) on random token ids
and prints {"seq_per_s": ...}. With --config the weights are random, of the named shape.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (modelDir == "") == (preset == "") {
				return fmt.Errorf("give exactly one of --model and --config")
			}
			if batch <= 0 || seq <= 0 {
				return fmt.Errorf("--batch and --seq must be positive")
			}
			if err := model.CheckDtype(dtype); err != nil {
				return err
			}
			if threads > 0 {
				tensor.SetThreads(threads)
			}
			var m *model.Model
			if preset != "" {
				cfg, err := model.PresetConfig(preset)
				if err != nil {
					return err
				}
				if saveConfig != "" {
					// The preset's config.json, for exporting the same shape elsewhere (bench/model/arch_export.py).
					b, err := cfg.MarshalJSON()
					if err != nil {
						return err
					}
					return atomicfile.WriteBytes(saveConfig, b)
				}
				if m, err = model.New(cfg, 1); err != nil {
					return err
				}
			} else {
				dir, err := resolveModelDir(commandContext(cmd), modelDir)
				if err != nil {
					return err
				}
				if trainMode { // float32 weights to train
					m, _, err = model.Load(dir, 1)
				} else {
					m, _, err = model.LoadInference(dir, dtype, 1)
				}
				if err != nil {
					return err
				}
			}
			switch {
			case trainMode && dtype == model.DtypeInt8:
				return fmt.Errorf("--train times a training step: int8 is for inference only")
			case trainMode && dtype == model.DtypeBF16:
				// A mixed-precision step (train --bf16): float32 master
				// weights, bf16 products.
				if err := m.SetMixedBF16(true); err != nil {
					return err
				}
			case !trainMode && preset != "": // LoadInference did it for --model
				if err := m.RunIn(dtype); err != nil {
					return err
				}
			}
			in := model.RandomBatch(m.Config.VocabSize, batch, seq, 2)
			labels := &model.Labels{Classes: make([]int, batch)}
			var opt *train.AdamW
			if trainMode {
				opt = train.NewAdamW(m.Params(), train.AdamWConfig{LR: 1e-5, WeightDecay: 0.01})
			}
			step := func() error {
				if !trainMode {
					_, err := m.Forward(in)
					return err
				}
				if _, _, err := m.ForwardTrain(in, labels); err != nil {
					return err
				}
				m.ZeroGrad()
				if err := m.Backward(nil); err != nil {
					return err
				}
				opt.Step()
				return nil
			}
			if err := step(); err != nil { // warm-up
				return err
			}
			start := time.Now()
			n := 0
			for n < iters || time.Since(start).Seconds() < minSeconds {
				if err := step(); err != nil {
					return err
				}
				n++
			}
			elapsed := time.Since(start).Seconds()
			out := map[string]any{
				"seq_per_s":    float64(n*batch) / elapsed,
				"ms_per_batch": 1000 * elapsed / float64(n),
				"batch":        batch, "seq": seq, "train": trainMode, "threads": tensor.Threads(),
				"kernel": tensor.KernelName(), "int8_kernel": tensor.Int8KernelName(), "bf16_kernel": tensor.BF16KernelName(), "iterations": n, "dtype": m.Dtype(), "mixed_bf16": m.MixedBF16(),
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
		},
	}
	cmd.Flags().StringVar(&modelDir, "model", "", "model directory or hub id")
	cmd.Flags().StringVar(&preset, "config", "", "random weights of a preset shape: "+strings.Join(model.PresetNames, ", "))
	cmd.Flags().StringVar(&saveConfig, "save-config", "", "write the --config preset's config.json to this file and exit")
	cmd.Flags().IntVar(&batch, "batch", 8, "sequences per batch")
	cmd.Flags().IntVar(&seq, "seq", 128, "tokens per sequence")
	cmd.Flags().BoolVar(&trainMode, "train", false, "measure forward + backward + AdamW steps")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads (default: all cores)")
	registerDtype(cmd.Flags(), &dtype)
	cmd.Flags().IntVar(&iters, "iterations", 3, "minimum number of timed steps")
	cmd.Flags().Float64Var(&minSeconds, "min-seconds", 3, "minimum timed duration")
	return cmd
}
