//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/textclf/textclf/internal/crafted"
)

// cliChildEnv makes the test binary run the textclf command line with the
// JSON list of arguments it holds, so that a test can measure a command in
// a process of its own.
const cliChildEnv = "TEXTCLF_CLI_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(cliChildEnv); spec != "" {
		var args []string
		if err := json.Unmarshal([]byte(spec), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		root := newRootCmd()
		root.SetArgs(args)
		err := root.Execute()
		// The peak resident memory of this process (ru_maxrss of a child
		// counts its parent's memory before the exec).
		if status, rerr := os.ReadFile("/proc/self/status"); rerr == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					fmt.Fprintln(os.Stderr, line)
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "textclf:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs textclf args in a child process and returns its stderr,
// exit error, peak resident memory (bytes) and wall time.
func runChild(t *testing.T, args ...string) (string, error, int64, time.Duration) {
	t.Helper()
	spec, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliChildEnv+"="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if cmd.ProcessState == nil {
		t.Fatalf("textclf %q did not run: %v", args, err)
	}
	var kb int64 = -1
	for _, line := range strings.Split(stderr.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
		}
	}
	if kb < 0 {
		t.Errorf("textclf %q reported no VmHWM: %v\n%s", args, err, stderr.String())
	}
	return stderr.String(), err, kb << 10, took
}

// Every crafted model directory (lying config.json sizes, zip bombs in
// pytorch_model.bin, NaN weights, catastrophic tokenizer regexes; see
// internal/crafted) gets a clear error from info and predict — or, when the
// crafted part need not be read, an answer — within 5 s and 512 MB of
// peak resident memory.
func TestCraftedFilesAreBounded(t *testing.T) {
	cases, err := crafted.Write(t.TempDir(), tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, cmd := range []struct {
			args    []string
			wantErr string
		}{
			{[]string{"info", "--model", c.Dir}, c.InfoErr},
			{[]string{"predict", "--model", c.Dir, crafted.ReDoSText}, c.PredictErr},
		} {
			stderr, err, rss, took := runChild(t, cmd.args...)
			name := c.Name + " " + cmd.args[0]
			t.Logf("%-36s %4d MB %6.2f s", name, rss>>20, took.Seconds())
			switch {
			case cmd.wantErr == "" && err != nil:
				t.Errorf("%s: %v\n%s", name, err, stderr)
			case cmd.wantErr != "" && (err == nil || !strings.Contains(stderr, cmd.wantErr)):
				t.Errorf("%s: want an error with %q, got %v\n%s", name, cmd.wantErr, err, stderr)
			}
			if rss > 512<<20 {
				t.Errorf("%s: peak RSS %d MB", name, rss>>20)
			}
			if took > 5*time.Second {
				t.Errorf("%s: took %v", name, took)
			}
		}
	}
}
