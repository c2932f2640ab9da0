package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of textclf",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "textclf %s %s/%s %s\n",
				textclf.Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
			return err
		},
	}
}
