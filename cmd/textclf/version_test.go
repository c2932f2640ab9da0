package main

import (
	"runtime"
	"testing"

	"github.com/textclf/textclf"
)

// TestVersionFlag checks that --version and -v print the same line as the
// version subcommand: textclf's version, the platform and the Go release.
func TestVersionFlag(t *testing.T) {
	want := "textclf " + textclf.Version + " " + runtime.GOOS + "/" + runtime.GOARCH + " " + runtime.Version() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		out, err := run(t, args...)
		if err != nil {
			t.Errorf("textclf %v: %v", args, err)
			continue
		}
		if out != want {
			t.Errorf("textclf %v printed %q, want %q", args, out, want)
		}
	}
	if _, err := run(t, "version", "extra"); err == nil {
		t.Error("textclf version extra: no error for an unexpected argument")
	}
}
