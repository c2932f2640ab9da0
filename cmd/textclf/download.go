package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/textclf/textclf/hub"
)

// hubOptions reads the hub settings from the environment (HF_ENDPOINT,
// HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE).
func hubOptions() hub.Options { return hub.FromEnv() }

func newDownloadCmd() *cobra.Command {
	var revision string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "download ORG/NAME",
		Short: "Download a model from the Hugging Face hub into the HF cache",
		Long: `Download what a model needs (config.json, tokenizer files, weights — safetensors
when present, else pytorch_model.bin, with all shards) into the Hugging Face cache
shared with Python ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub), and
print the snapshot directory. Honours HF_ENDPOINT (mirrors), HF_TOKEN,
HF_HUB_OFFLINE, HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT (seconds a
server may keep a request waiting, default 10); interrupted or stalled
downloads resume, and every file is checked against its sha256 or git-sha1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := hubOptions()
			if !quiet {
				o.Progress = progressBars(cmd.ErrOrStderr())
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			dir, err := hub.New(o).DownloadModel(ctx, args[0], revision)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), dir)
			return err
		},
	}
	cmd.Flags().StringVar(&revision, "revision", "main", "branch, tag or commit")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bars")
	return cmd
}

// progressBars returns a hub progress callback drawing one bar per file.
func progressBars(w io.Writer) func(file string, done, total int64) {
	var mu sync.Mutex
	bars := map[string]*progressbar.ProgressBar{}
	return func(file string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		bar, ok := bars[file]
		if !ok {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(file),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100_000_000),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
			bars[file] = bar
		}
		bar.Set64(done)
	}
}
