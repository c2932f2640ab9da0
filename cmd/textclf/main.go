// Command textclf classifies text with pretrained transformers: tokenize,
// inspect checkpoints, fine-tune, evaluate, predict and serve.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "textclf",
		Short:         "Text classification with pretrained transformers, in pure Go",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	setVersionFlag(root)
	root.AddCommand(newVersionCmd())
	root.AddCommand(newTokenizeCmd())
	root.AddCommand(newTokenizerCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newCVCmd())
	root.AddCommand(newInfoCmd())
	root.AddCommand(newDownloadCmd())
	root.AddCommand(newTrainCmd())
	root.AddCommand(newPretrainCmd())
	root.AddCommand(newEvalCmd())
	root.AddCommand(newPredictCmd())
	root.AddCommand(newModelsCmd())
	root.AddCommand(newDistillCmd())
	root.AddCommand(newExplainCmd())
	root.AddCommand(newWord2VecCmd())
	root.AddCommand(newQuantizeCmd())
	root.AddCommand(newVectorsCmd())
	root.AddCommand(newServeCmd())
	root.AddCommand(newPrivacyCmd())
	root.AddCommand(newTuneCmd())
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "textclf:", err)
		os.Exit(1)
	}
}
