package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
)

func newInfoCmd() *cobra.Command {
	var model, revision, format string
	var tensors bool
	cmd := &cobra.Command{
		Use:   "info --model DIR|HUB_ID",
		Short: "Inspect a model: architecture, labels, sizes, parameter count, weights",
		Long: `Inspect a model — a checkpoint directory or hub model, a classic model directory or a
fastText .bin file: architecture, model type, labels, hidden size, layers, heads, vocabulary
size, max positions, parameter count and where the weights came from. A transformer is read
from its checkpoint alone, so an architecture textclf cannot run is described too (and says
so). With --tensors, every stored tensor's HF name, dtype in the file, shape and the float64
sum of its values (after conversion to float32).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, not %q", format)
			}
			rep, err := textclf.Describe(commandContext(cmd), model, revision, tensors)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeInfoText(cmd.OutOrStdout(), rep, tensors)
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model directory or hub id (ORG/NAME), classic model directory or fastText .bin file")
	cmd.Flags().StringVar(&revision, "revision", "main", "hub revision (branch, tag or commit) when --model is a hub id")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&tensors, "tensors", false, "list every stored tensor with dtype, shape and sum")
	cmd.MarkFlagRequired("model")
	return cmd
}

func writeInfoText(out io.Writer, d *textclf.Description, withTensors bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "architecture:\t%s\n", orNone(d.Architecture))
	fmt.Fprintf(tw, "model type:\t%s\n", orNone(d.ModelType))
	if d.Unsupported != "" {
		fmt.Fprintf(tw, "unsupported:\t%s\n", d.Unsupported)
	}
	fmt.Fprintf(tw, "labels:\t%d (%s)\n", len(d.Labels), strings.Join(d.Labels, ", "))
	if d.ProblemType != "" {
		fmt.Fprintf(tw, "problem type:\t%s\n", d.ProblemType)
	}
	for _, size := range []struct {
		name string
		v    int
	}{{"hidden size", d.HiddenSize}, {"layers", d.Layers}, {"heads", d.Heads}, {"vocab size", d.VocabSize}, {"max positions", d.MaxPositions}} {
		if size.v > 0 {
			fmt.Fprintf(tw, "%s:\t%d\n", size.name, size.v)
		}
	}
	fmt.Fprintf(tw, "parameters:\t%d\n", d.Parameters)
	if d.Hub != "" {
		fmt.Fprintf(tw, "hub:\t%s\n", d.Hub)
	}
	fmt.Fprintf(tw, "weights:\t%s: %s in %s\n", d.Format, strings.Join(d.Files, ", "), d.Source)
	if err := tw.Flush(); err != nil {
		return err
	}
	if !withTensors {
		return nil
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tdtype\tshape\tsum")
	for _, t := range d.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%.9g\n", t.Name, t.DType, t.Shape, t.Sum)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
