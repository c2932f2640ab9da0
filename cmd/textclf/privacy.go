package main

import (
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/privacy"
)

func newPrivacyCmd() *cobra.Command {
	var (
		sigma, epsilon, q, delta, epochs, tolerance float64
		steps                                       int
	)
	cmd := &cobra.Command{
		Use:   "privacy --sample-rate Q (--steps N | --epochs E) --delta D (--noise-multiplier S | --epsilon E)",
		Short: "Plan a DP-SGD budget: the ε a noise multiplier spends, or the noise multiplier an ε allows",
		Long: `Accounts for DP-SGD as Opacus' RDP accountant does (the sampled Gaussian mechanism over the
orders 1.1…10.9 and 12…63, converted to (ε, δ) as Balle et al. 2020). With --noise-multiplier it
prints {"epsilon": …, "order": …}: the ε that --steps steps at --sample-rate spend at --delta. With
--epsilon it prints {"noise_multiplier": …}: the smallest noise multiplier found (Opacus' search, to
--tolerance) that spends at most ε and at least ε - tolerance. --epochs E stands for E / sample rate
steps, as Opacus counts them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			switch {
			case fs.Changed("steps") == fs.Changed("epochs"):
				return errors.New("give --steps or --epochs (one of them)")
			case fs.Changed("noise-multiplier") == fs.Changed("epsilon"):
				return errors.New("give --noise-multiplier (to get ε) or --epsilon (to get the noise multiplier)")
			}
			if fs.Changed("epochs") {
				if !(epochs > 0) || !(q > 0) {
					return errors.New("--epochs and --sample-rate must be positive")
				}
				steps = int(epochs / q)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			if fs.Changed("noise-multiplier") {
				if err := privacy.CheckParams(q, sigma, delta, steps); err != nil {
					return err
				}
				eps, order := privacy.Epsilon(privacy.DefaultOrders, privacy.RDP(q, sigma, steps, privacy.DefaultOrders), delta)
				return enc.Encode(map[string]float64{"epsilon": eps, "order": order})
			}
			s, err := privacy.NoiseMultiplier(epsilon, delta, q, steps, tolerance)
			if err != nil {
				return err
			}
			return enc.Encode(map[string]float64{"noise_multiplier": s})
		},
	}
	fs := cmd.Flags()
	fs.Float64Var(&sigma, "noise-multiplier", 0, "noise standard deviation over the clipping norm")
	fs.Float64Var(&epsilon, "epsilon", 0, "target ε")
	fs.Float64Var(&q, "sample-rate", 0, "probability of each example in a batch (batch size / examples)")
	fs.IntVar(&steps, "steps", 0, "DP-SGD steps")
	fs.Float64Var(&epochs, "epochs", 0, "epochs, as steps = epochs / sample rate")
	fs.Float64Var(&delta, "delta", 1e-5, "target δ")
	fs.Float64Var(&tolerance, "tolerance", 0.01, "precision of the noise multiplier search, in ε")
	return cmd
}
