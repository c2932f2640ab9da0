package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"unsafe"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/checkpoint"
	"github.com/textclf/textclf/hub"
)

// infoTensor is one stored tensor in `textclf info --tensors`.
type infoTensor struct {
	Name  string  `json:"name"`
	DType string  `json:"dtype"`
	Shape []int   `json:"shape"`
	Sum   float64 `json:"sum"`
}

// infoReport is the JSON form of `textclf info`.
type infoReport struct {
	Architecture string       `json:"architecture"`
	ModelType    string       `json:"model_type"`
	Labels       []string     `json:"labels"`
	ProblemType  string       `json:"problem_type,omitempty"`
	Parameters   int64        `json:"parameters"`
	Source       string       `json:"source"`
	Hub          string       `json:"hub,omitempty"`
	Format       string       `json:"format"`
	Files        []string     `json:"files"`
	Tensors      []infoTensor `json:"tensors,omitempty"`
}

func newInfoCmd() *cobra.Command {
	var model, revision, format string
	var tensors bool
	cmd := &cobra.Command{
		Use:   "info --model DIR|HUB_ID",
		Short: "Inspect a checkpoint: architecture, labels, parameter count, weights",
		Long: `Inspect a checkpoint directory or hub model: architecture, model type, labels,
parameter count and where the weights came from. With --tensors, every stored
tensor's HF name, dtype in the file, shape and the float64 sum of its values
(after conversion to float32).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, not %q", format)
			}
			rep, err := inspect(cmd.Context(), model, revision, tensors)
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
	cmd.Flags().StringVar(&model, "model", "", "model directory or hub id (ORG/NAME)")
	cmd.Flags().StringVar(&revision, "revision", "main", "hub revision (branch, tag or commit) when --model is a hub id")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&tensors, "tensors", false, "list every stored tensor with dtype, shape and sum")
	cmd.MarkFlagRequired("model")
	return cmd
}

func inspect(ctx context.Context, model, revision string, withTensors bool) (*infoReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	dir, fromHub, err := hub.ResolveModel(ctx, model, revision, hubOptions())
	if err != nil {
		return nil, err
	}
	cfg, err := checkpoint.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	w, err := checkpoint.LoadWeights(dir)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	rep := &infoReport{
		ModelType:   cfg.ModelType,
		Labels:      cfg.Labels,
		ProblemType: cfg.ProblemType,
		Source:      dir,
		Format:      w.Format,
	}
	if fromHub {
		rep.Hub = model + "@" + revision
	}
	if len(cfg.Architectures) > 0 {
		rep.Architecture = strings.Join(cfg.Architectures, ",")
	}
	for _, f := range w.Files {
		rep.Files = append(rep.Files, filepath.Base(f))
	}
	// Parameters: elements of floating-point tensors, tied tensors counted once
	// (as model.num_parameters() does); integer buffers such as position_ids are not parameters.
	seen := map[*float32]bool{}
	for _, t := range w.Tensors {
		if t.DType != "F32" && t.DType != "F16" && t.DType != "BF16" && t.DType != "F64" {
			continue
		}
		if len(t.Data) > 0 {
			p := unsafe.SliceData(t.Data)
			if seen[p] {
				continue
			}
			seen[p] = true
		}
		rep.Parameters += int64(len(t.Data))
	}
	if withTensors {
		for _, t := range w.Tensors {
			var sum float64
			for _, v := range t.Data {
				sum += float64(v)
			}
			rep.Tensors = append(rep.Tensors, infoTensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Sum: sum})
		}
	}
	return rep, nil
}

func writeInfoText(out io.Writer, r *infoReport, withTensors bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "architecture:\t%s\n", orNone(r.Architecture))
	fmt.Fprintf(tw, "model type:\t%s\n", orNone(r.ModelType))
	fmt.Fprintf(tw, "labels:\t%d (%s)\n", len(r.Labels), strings.Join(r.Labels, ", "))
	if r.ProblemType != "" {
		fmt.Fprintf(tw, "problem type:\t%s\n", r.ProblemType)
	}
	fmt.Fprintf(tw, "parameters:\t%d\n", r.Parameters)
	if r.Hub != "" {
		fmt.Fprintf(tw, "hub:\t%s\n", r.Hub)
	}
	fmt.Fprintf(tw, "weights:\t%s: %s in %s\n", r.Format, strings.Join(r.Files, ", "), r.Source)
	if err := tw.Flush(); err != nil {
		return err
	}
	if !withTensors {
		return nil
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tdtype\tshape\tsum")
	for _, t := range r.Tensors {
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
