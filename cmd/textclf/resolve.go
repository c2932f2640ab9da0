package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/textclf/textclf/hub"
)

// commandContext is the command's context, or a background one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// resolveModelDir turns a --model argument (directory or hub id) into a
// local directory, downloading into the HF cache when needed.
func resolveModelDir(ctx context.Context, arg string) (string, error) {
	dir, _, err := hub.ResolveModel(ctx, arg, "", hub.FromEnv())
	return dir, err
}
