package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf"
)

// versionLine is what `textclf version` and `textclf --version` print:
// the version of textclf, the platform and the Go release it was built with.
func versionLine() string {
	return fmt.Sprintf("textclf %s %s/%s %s", textclf.Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// setVersionFlag gives root the --version (-v) flag, printing versionLine.
func setVersionFlag(root *cobra.Command) {
	root.Version = textclf.Version
	root.SetVersionTemplate(versionLine() + "\n")
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of textclf",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return err
		},
	}
}
