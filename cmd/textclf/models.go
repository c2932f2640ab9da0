package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/builtin"
)

// modelEntry is one line of `textclf models --json`.
type modelEntry struct {
	Name        string   `json:"name"`
	Arch        string   `json:"arch"`
	Labels      []string `json:"labels"`
	DevAccuracy float64  `json:"dev_accuracy,omitempty"`
	DevExamples int      `json:"dev_examples,omitempty"`
	Data        string   `json:"data,omitempty"`
	DataLicence string   `json:"data_licence,omitempty"`
	Parts       []string `json:"parts,omitempty"`
	Bytes       int      `json:"archive_bytes,omitempty"`
	Description string   `json:"description"`
}

func newModelsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models [--json]",
		Short: "List the built-in models (builtin:NAME) with their accuracy",
		Long: `Lists the models shipped inside textclf, which --model builtin:NAME names in predict, eval,
explain, serve and textclf.Open: name, architecture, labels, accuracy on the evaluation split of their
data (the dev split for the sentiment models, THUCNews' test.txt for the news-zh ones; measured on the
shipped model by scripts/builtin/build.sh and build-news-zh.sh) with its size, compressed size,
description, data and the data's licence (which the model inherits). A "by-script" model sends each
text to one of its parts (sentiment: Han characters to sentiment-zh, everything else to
sentiment-en); an "average" model gives each text to all its parts and averages their probabilities
(news-zh). --json writes one JSON object per model (dev_accuracy: that accuracy).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var entries []modelEntry
			for _, m := range builtin.Models() {
				b, err := m.Archive()
				if err != nil {
					return err
				}
				entries = append(entries, modelEntry{Name: m.Name, Arch: m.Arch, Labels: m.Labels, DevAccuracy: m.DevAccuracy,
					DevExamples: m.DevExamples, Data: m.Data, DataLicence: m.DataLicence, Parts: m.Parts, Bytes: len(b), Description: m.Description})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				for _, e := range entries {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tARCH\tLABELS\tACCURACY\tSIZE\tDESCRIPTION")
			for _, e := range entries {
				acc, size := "-", "-"
				if e.DevAccuracy > 0 {
					acc = fmt.Sprintf("%.4f (%d)", e.DevAccuracy, e.DevExamples)
				}
				if e.Bytes > 0 {
					size = fmt.Sprintf("%.1f MB", float64(e.Bytes)/1e6)
				}
				desc := e.Description
				if e.Data != "" {
					desc += "; data: " + e.Data + "; licence: " + e.DataLicence
				}
				fmt.Fprintf(tw, "builtin:%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Arch, strings.Join(e.Labels, ","), acc, size, desc)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per model")
	return cmd
}
